import AfterSaleProto
import RPCClient
import RPCWire
import SignedTokens

/// Why `aftersalectl audit verify` failed: the chain, a checkpoint, or the call.
public enum AuditVerificationError: Error, Sendable, CustomStringConvertible {
    /// The chain does not recompute: the first record that does not fit.
    case chain(ChainVerificationFailure)
    /// A checkpoint's signature does not verify with the key given, or it names another origin or
    /// other values than those stored beside it.
    case checkpoint(size: Int64, reason: String)
    /// A call failed.
    case call(RPCError)

    /// What went wrong, for people.
    public var description: String {
        switch self {
        case .chain(let failure): "the audit chain does not verify at \(failure)"
        case .checkpoint(let size, let reason): "the checkpoint of size \(size) does not verify: \(reason)"
        case .call(let error): "cannot read the audit chain: \(error)"
        }
    }
}

/// What a verification found.
public struct AuditVerificationReport: Sendable {
    /// Records recomputed.
    public var records: Int64
    /// The hash of the last.
    public var headHash: [UInt8]
    /// Checkpoints whose signature verified and whose head the chain reproduced.
    public var checkpointsMatched: Int
    /// The largest of them (to keep outside the database), nil when there was none.
    public var latestCheckpointNote: String?
}

/// Recomputes the audit chain read through `aftersale.v1.Audit` (the byte layout is in
/// docs/PROTOCOL.md): every record's hash after the one before, the positions without gaps, the
/// head, and every checkpoint, each checked first against the signer's verifier key.
public struct AuditVerifier: Sendable {
    /// The domain-separation prefix of audit links (the server's `AuditChain.domain`).
    public static let domain = "aftersale.v1.audit-record"

    /// The checkpoint signer's key.
    public let key: NoteVerifier
    /// Records per call.
    public var pageSize: Int32 = 1000

    /// A verifier trusting checkpoints signed with `key`.
    public init(key: NoteVerifier) {
        self.key = key
    }

    /// The fields of `record` in hashing order.
    public static func fields(of record: AuditRecord) -> [String?] {
        [record.caseNumber, String(record.atUnixMs), record.step, record.actorRole, record.actorId, record.actorShopId,
         record.fromStatus, record.toStatus, record.outcome, record.details, record.refundId, record.traceId]
    }

    /// Opens `note` with the key and checks its origin.
    public func open(_ note: String) throws(AuditVerificationError) -> Checkpoint {
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(note: note, verifier: key) } catch {
            throw .checkpoint(size: -1, reason: error.reason)
        }
        guard checkpoint.origin == key.name else {
            throw .checkpoint(size: checkpoint.size, reason: "its origin is \"\(checkpoint.origin)\", not the key's \"\(key.name)\"")
        }
        return checkpoint
    }

    /// Verifies the chain `audit` serves against its stored checkpoints and `external` ones (notes
    /// kept outside the database).
    /// - Throws: ``AuditVerificationError`` at the first problem.
    public func verify(_ audit: AuditClient, external: [String] = [], options: CallOptions = CallOptions()) async throws(AuditVerificationError) -> AuditVerificationReport {
        // Checkpoints first: each was signed over a head the chain had then, so all of them are
        // within the head read after.
        var checkpoints: [Checkpoint] = []
        var latestNote: String?
        var after: Int64 = 0
        while true {
            var request = ListAuditCheckpointsRequest()
            request.afterSize = after
            request.pageSize = pageSize
            let page: [AfterSaleProto.AuditCheckpoint]
            do { page = try await audit.listAuditCheckpoints(request, options: options).checkpoints } catch { throw .call(error) }
            for stored in page {
                let checkpoint: Checkpoint
                do { checkpoint = try open(stored.note) } catch {
                    if case .checkpoint(_, let reason) = error { throw .checkpoint(size: stored.size, reason: reason) }
                    throw error
                }
                guard checkpoint.size == stored.size, checkpoint.hash == stored.hash else {
                    throw .checkpoint(size: stored.size, reason: "the signed note names size \(checkpoint.size), not the size and hash stored with it")
                }
                checkpoints.append(checkpoint)
                latestNote = stored.note
            }
            guard let last = page.last, page.count == Int(pageSize) else { break }
            after = last.size
        }
        for note in external { checkpoints.append(try open(note)) }

        var chain = HashChainVerifier(domain: Self.domain, checkpoints: checkpoints)
        var headSize: Int64 = -1
        var headHash: [UInt8] = []
        do {
            repeat {
                var request = ReadAuditChainRequest()
                request.afterPosition = chain.size
                request.pageSize = pageSize
                let page: ReadAuditChainResponse
                do { page = try await audit.readAuditChain(request, options: options) } catch { throw AuditVerificationError.call(error) }
                if headSize < 0 {
                    headSize = page.headSize
                    headHash = page.headHash
                }
                let records = page.records.filter { $0.position <= headSize }
                for record in records {
                    try chain.append(position: record.position, fields: Self.fields(of: record), storedHash: record.hash)
                }
                if records.isEmpty { break }
            } while chain.size < headSize
            try chain.finish(headSize: headSize, headHash: headHash)
        } catch let error as ChainVerificationFailure {
            throw .chain(error)
        } catch let error as AuditVerificationError {
            throw error
        } catch {
            throw .call(RPCError(.internal, "\(error)"))
        }
        return AuditVerificationReport(records: chain.size, headHash: chain.head, checkpointsMatched: chain.checkpointsMatched,
                                       latestCheckpointNote: latestNote)
    }
}
