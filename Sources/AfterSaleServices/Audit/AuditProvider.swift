import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

/// `aftersale.v1.Audit`: the audit chain and its signed checkpoints, for the platform to verify or
/// export. The authorization interceptor admits only the platform (``Operation/readAudit``).
public struct AuditProvider: AuditHandler {
    let store: any AuditRepository

    static let paging = Paging(defaultSize: 500, maximumSize: 1000)

    /// The audit trail of `store`.
    public init(store: any AuditRepository) {
        self.store = store
    }

    public func readAuditChain(_ request: ReadAuditChainRequest, context: ServerContext) async throws -> ReadAuditChainResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .readAudit)
            let size = try Fields.pageSize(request.pageSize, Self.paging)
            guard request.afterPosition >= 0 else {
                throw DomainError.invalidArgument(field: "after_position", message: "must not be negative, got \(request.afterPosition)")
            }
            // The head first: the records returned never reach past it, so a verifier that stops at
            // the head it was given never sees a record the head does not cover.
            let head = try await store.auditHead()
            var response = ReadAuditChainResponse()
            response.headSize = head.size
            response.headHash = head.hash
            guard request.afterPosition < head.size else { return response }
            let limit = Int(min(Int64(size), head.size - request.afterPosition))
            response.records = try await store.auditEntries(after: request.afterPosition, limit: limit).map(Self.wire)
            return response
        }
    }

    public func listAuditCheckpoints(_ request: ListAuditCheckpointsRequest, context: ServerContext) async throws -> ListAuditCheckpointsResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .readAudit)
            var response = ListAuditCheckpointsResponse()
            if request.latestOnly {
                response.checkpoints = try await store.latestAuditCheckpoint().map { [Self.wire($0)] } ?? []
                return response
            }
            let size = try Fields.pageSize(request.pageSize, Self.paging)
            guard request.afterSize >= 0 else {
                throw DomainError.invalidArgument(field: "after_size", message: "must not be negative, got \(request.afterSize)")
            }
            response.checkpoints = try await store.auditCheckpoints(after: request.afterSize, limit: size).map(Self.wire)
            return response
        }
    }

    /// The record as the wire carries it: exactly the values its hash covers.
    static func wire(_ entry: AuditEntry) -> AuditRecord {
        var record = AuditRecord()
        record.position = entry.position
        record.hash = entry.hash
        record.caseNumber = entry.record.caseNumber.rawValue
        record.atUnixMs = entry.record.at.millisecondsSinceEpoch
        record.step = entry.record.step.rawValue
        record.actorRole = entry.record.actor.role.rawValue
        record.actorId = entry.record.actor.id
        record.actorShopId = entry.record.actor.shopID
        record.fromStatus = entry.record.from?.rawValue
        record.toStatus = entry.record.to.rawValue
        record.outcome = entry.record.outcome.rawValue
        record.details = entry.record.details
        record.refundId = entry.record.refundID
        record.traceId = entry.record.traceID
        return record
    }

    static func wire(_ checkpoint: AfterSaleDomain.AuditCheckpoint) -> AfterSaleProto.AuditCheckpoint {
        var wire = AfterSaleProto.AuditCheckpoint()
        wire.size = checkpoint.size
        wire.hash = checkpoint.hash
        wire.note = checkpoint.note
        wire.signedAtUnixMs = checkpoint.signedAt.millisecondsSinceEpoch
        return wire
    }
}
