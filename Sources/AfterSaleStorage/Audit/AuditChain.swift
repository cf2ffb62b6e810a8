import AfterSaleDomain
import SignedTokens

/// How a trace record becomes a link of the audit chain: the fields it contributes, in order, and
/// the link hash (``SignedTokens/HashChain`` under the domain ``domain``). Every backend chains
/// with this, and the verifier (`aftersalectl audit verify`) recomputes the same from the wire.
public enum AuditChain {
    /// The domain-separation prefix of audit links.
    public static let domain = "aftersale.v1.audit-record"

    /// The record's fields in hashing order: case number, time (Unix ms, decimal), step, actor role,
    /// actor id, actor shop (optional), status before (optional), status after, outcome, details,
    /// refund id (optional), trace id.
    public static func fields(of record: TraceRecord) -> [String?] {
        [record.caseNumber.rawValue, String(record.at.millisecondsSinceEpoch), record.step.rawValue,
         record.actor.role.rawValue, record.actor.id, record.actor.shopID, record.from?.rawValue, record.to.rawValue,
         record.outcome.rawValue, record.details, record.refundID, record.traceID]
    }

    /// The hash of `record` at `position`, after the link whose hash is `previous`.
    /// - Throws: ``RepositoryError/storageFailure(_:)`` when SHA-256 fails.
    public static func link(_ record: TraceRecord, position: Int64, previous: [UInt8]) throws(RepositoryError) -> [UInt8] {
        do {
            return try HashChain.link(domain: domain, position: position, previous: previous, fields: fields(of: record))
        } catch {
            throw RepositoryError.storageFailure("cannot hash the audit record: \(error.reason)")
        }
    }

    /// `records` chained after `head`, and the new head.
    public static func extend(_ head: AuditHead, with records: [TraceRecord]) throws(RepositoryError) -> (entries: [AuditEntry], head: AuditHead) {
        var head = head
        var entries: [AuditEntry] = []
        entries.reserveCapacity(records.count)
        for record in records {
            let position = head.size + 1
            let hash = try link(record, position: position, previous: head.hash)
            entries.append(AuditEntry(position: position, record: record, hash: hash))
            head = AuditHead(size: position, hash: hash)
        }
        return (entries, head)
    }

    /// Verifies `entries` (read in position order) against `head`: what the conformance checks
    /// and the storage tests use. The RPC verifier does the same from the wire.
    /// - Throws: `ChainVerificationFailure` at the first record that does not fit.
    public static func verify(_ entries: [AuditEntry], head: AuditHead, checkpoints: [Checkpoint] = []) throws {
        var verifier = HashChainVerifier(domain: domain, checkpoints: checkpoints)
        for entry in entries { try verifier.append(position: entry.position, fields: fields(of: entry.record), storedHash: entry.hash) }
        try verifier.finish(headSize: head.size, headHash: head.hash)
    }
}
