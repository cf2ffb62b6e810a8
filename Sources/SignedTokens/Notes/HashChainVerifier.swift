import Foundation

/// Why a hash chain failed verification: the first position where it stops being what it claims.
public struct ChainVerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The position of the first record that does not fit (or the size a checkpoint names).
    public let position: Int64
    /// What is wrong there.
    public let reason: String

    /// A failure at `position`.
    public init(position: Int64, reason: String) {
        self.position = position
        self.reason = reason
    }

    /// "position N: reason".
    public var description: String { "position \(position): \(reason)" }
}

/// Recomputes a ``HashChain`` record by record, as they are read in position order, and checks it
/// against the hashes stored with the records, the head the store reports, and signed checkpoints.
///
/// - A modified record: its recomputed hash differs from the stored one (and from every later
///   checkpoint, even when the stored hashes were recomputed too).
/// - A deleted record: a gap in the positions, or a chain shorter than the head or a checkpoint.
/// - An inserted or reordered record: its hash, computed at its position after its predecessor,
///   differs from the one stored.
public struct HashChainVerifier: Sendable {
    /// The chain's domain-separation prefix.
    public let domain: String
    /// How many records were checked.
    public private(set) var size: Int64 = 0
    /// The hash of the last record checked (``HashChain/genesis`` before the first).
    public private(set) var head: [UInt8] = HashChain.genesis
    /// The checkpoints still ahead, by size.
    private var checkpoints: [Checkpoint]
    /// How many checkpoints matched.
    public private(set) var checkpointsMatched = 0

    /// A verifier for a chain under `domain`, checking it against `checkpoints` (already opened
    /// with their signer's key) on the way.
    public init(domain: String, checkpoints: [Checkpoint] = []) {
        self.domain = domain
        self.checkpoints = checkpoints.sorted { $0.size < $1.size }
    }

    /// Checks the next record.
    /// - Throws: ``ChainVerificationFailure`` when the position is not the next one, the recomputed
    ///   hash differs from `storedHash`, or a checkpoint of this size names another hash.
    public mutating func append(position: Int64, fields: [String?], storedHash: [UInt8]) throws(ChainVerificationFailure) {
        try matchCheckpoints()
        guard position == size + 1 else {
            throw ChainVerificationFailure(position: size + 1, reason: position > size + 1
                ? "records \(size + 1)…\(position - 1) are missing (deleted?)"
                : "record \(position) appears again or out of order after \(size)")
        }
        let hash: [UInt8]
        do { hash = try HashChain.link(domain: domain, position: position, previous: head, fields: fields) } catch {
            throw ChainVerificationFailure(position: position, reason: error.reason)
        }
        guard hash == storedHash else {
            throw ChainVerificationFailure(position: position, reason: "the record does not hash to the hash stored with it: "
                + "it was modified, inserted or moved, or a record before it was")
        }
        size = position
        head = hash
        try matchCheckpoints()
    }

    /// Checks the end of the chain: the store's head and every checkpoint left.
    /// - Throws: ``ChainVerificationFailure`` when the records end before the head or a checkpoint,
    ///   or the head's hash is not the last record's.
    public mutating func finish(headSize: Int64, headHash: [UInt8]) throws(ChainVerificationFailure) {
        try matchCheckpoints()
        if let next = checkpoints.first {
            throw ChainVerificationFailure(position: next.size, reason: "a checkpoint says the chain held \(next.size) records, "
                + "but it ends at \(size): records were deleted")
        }
        guard headSize == size else {
            throw ChainVerificationFailure(position: min(headSize, size) + 1, reason: "the store's head says \(headSize) records, "
                + "the chain has \(size)")
        }
        guard headHash == head else {
            throw ChainVerificationFailure(position: size, reason: "the store's head hash is not the hash of the last record")
        }
    }

    private mutating func matchCheckpoints() throws(ChainVerificationFailure) {
        while let next = checkpoints.first, next.size <= size {
            guard next.size == size, next.hash == head else {
                throw ChainVerificationFailure(position: next.size, reason: "the chain does not match the signed checkpoint of size "
                    + "\(next.size): records up to it were rewritten")
            }
            checkpoints.removeFirst()
            checkpointsMatched += 1
        }
    }
}
