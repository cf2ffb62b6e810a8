/// The tamper-evident audit trail: every trace record has a position in one hash chain over all
/// cases, and signed checkpoints of the chain are kept with it (and, exported, outside it).
///
/// Positions count from 1 with no gaps, in an order every reader sees the same: the order the
/// records committed (SQLite's one writer), or the order a sequencer found them committed
/// (PostgreSQL, where a record is chained shortly after its commit; reads chain what has committed
/// first). Each record's hash covers the previous record's hash and its own fields (the layout is
/// in docs/PROTOCOL.md); a backend computes it, a verifier recomputes it.
public protocol AuditRepository: Sendable {
    /// Up to `limit` chained records after position `after`, in position order.
    func auditEntries(after position: Int64, limit: Int) async throws -> [AuditEntry]

    /// The chain's head: how many records it holds and the hash of the last.
    func auditHead() async throws -> AuditHead

    /// Stores a signed checkpoint; one of a size already stored is ignored (several replicas may
    /// sign the same head).
    func saveAuditCheckpoint(_ checkpoint: AuditCheckpoint) async throws

    /// Up to `limit` stored checkpoints of a size above `size`, smallest first.
    func auditCheckpoints(after size: Int64, limit: Int) async throws -> [AuditCheckpoint]

    /// The checkpoint of the largest size, nil when none was stored.
    func latestAuditCheckpoint() async throws -> AuditCheckpoint?
}

/// A trace record at its place in the audit chain.
public struct AuditEntry: Sendable, Hashable {
    /// Its position, from 1.
    public var position: Int64
    /// The record.
    public var record: TraceRecord
    /// The hash stored with it (32 bytes).
    public var hash: [UInt8]

    /// Creates an entry.
    public init(position: Int64, record: TraceRecord, hash: [UInt8]) {
        self.position = position
        self.record = record
        self.hash = hash
    }
}

/// The end of the audit chain.
public struct AuditHead: Sendable, Hashable {
    /// How many records the chain holds.
    public var size: Int64
    /// The hash of the last one (32 zero bytes when the chain is empty).
    public var hash: [UInt8]

    /// Creates a head.
    public init(size: Int64, hash: [UInt8]) {
        self.size = size
        self.hash = hash
    }

    /// The head of an empty chain.
    public static let empty = AuditHead(size: 0, hash: [UInt8](repeating: 0, count: 32))
}

/// A signed statement of the chain's head at some moment.
public struct AuditCheckpoint: Sendable, Hashable {
    /// How many records the chain held.
    public var size: Int64
    /// The hash of the record at position `size`.
    public var hash: [UInt8]
    /// The signed note (C2SP signed-note with a tlog-checkpoint text).
    public var note: String
    /// When it was signed.
    public var signedAt: Timestamp

    /// Creates a checkpoint.
    public init(size: Int64, hash: [UInt8], note: String, signedAt: Timestamp) {
        self.size = size
        self.hash = hash
        self.note = note
        self.signedAt = signedAt
    }
}
