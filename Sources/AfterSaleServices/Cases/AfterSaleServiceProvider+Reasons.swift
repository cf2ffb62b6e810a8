import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

// The reason catalog the back office manages.
extension AfterSaleServiceProvider {

    public func getReasonCatalog(_ request: GetReasonCatalogRequest, context: ServerContext) async throws -> GetReasonCatalogResponse {
        let principal = try context.principal
        return try await mapped {
            if request.includeInactive { try Permissions.require(principal, .listRetiredReasons) }
            let kind = try ProtoMapping.kind(request.kind, field: "kind")
            let stored = try await reasons.storedReasons()
                .filter { (request.includeInactive || $0.reason.isActive) && (kind.map($0.reason.kinds.contains) ?? true) }
                .sorted { ($0.reason.sortOrder, $0.reason.code) < ($1.reason.sortOrder, $1.reason.code) }
            var response = GetReasonCatalogResponse()
            response.reasons = stored.map(ProtoMapping.reason)
            return response
        }
    }

    public func upsertReason(_ request: UpsertReasonRequest, context: ServerContext) async throws -> UpsertReasonResponse {
        let caller = try context.caller
        return try await mapped {
            try Permissions.require(caller.principal, .editReasonCatalog)
            guard let wire = request.reason else {
                throw DomainError.invalidArgument(field: "reason", message: "is required")
            }
            let reason = try ProtoMapping.reason(wire, field: "reason")
            try reason.validate()
            if let expected = request.expectedVersion, expected < 0 {
                throw DomainError.invalidArgument(field: "expected_version", message: "must not be negative")
            }
            let respond: @Sendable (StoredReason) -> UpsertReasonResponse = { stored in
                var response = UpsertReasonResponse()
                response.reason = ProtoMapping.reason(stored)
                return response
            }
            guard let call = caller.idempotentCall(AfterSaleService.upsertReason.info, request) else {
                return respond(try await reasons.upsertReason(reason, expectedVersion: request.expectedVersion, at: clock.now()))
            }
            return try CaseWorkflow.decode(try await reasons.upsertReason(
                reason, expectedVersion: request.expectedVersion, at: clock.now(), call: call,
                respond: { respond($0).serializedBytes() }))
        }
    }
}
