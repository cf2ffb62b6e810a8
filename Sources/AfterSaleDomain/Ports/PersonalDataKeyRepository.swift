/// Buyers' data keys, stored wrapped by the master key (the service wraps and unwraps them; a
/// backend only keeps the bytes). Destroying a buyer's keys is how their personal data is erased.
public protocol PersonalDataKeyRepository: Sendable {
    /// Every key generation of `buyerID`, oldest first (empty when none was made).
    func personalDataKeys(of buyerID: String) async throws -> [PersonalDataKeyRecord]

    /// Stores `record` unless `(buyerID, generation)` exists already; either way returns the stored
    /// row, so that two replicas making a buyer's first key at once both use the one that won.
    func insertPersonalDataKey(_ record: PersonalDataKeyRecord) async throws -> PersonalDataKeyRecord

    /// Destroys every live key of `buyerID` (the wrapped bytes are deleted, the row stays with
    /// `erasedAt`); returns how many were destroyed (0 when none was live).
    func erasePersonalDataKeys(of buyerID: String, at: Timestamp) async throws -> Int
}

/// One generation of a buyer's data key, as stored.
public struct PersonalDataKeyRecord: Sendable, Hashable {
    /// Whose key it is (an empty id names the store's own key-check record).
    public var buyerID: String
    /// 1 for the buyer's first key; a new generation follows an erasure.
    public var generation: Int
    /// The data key wrapped by the master key; nil once destroyed.
    public var wrappedKey: [UInt8]?
    /// When it was made.
    public var createdAt: Timestamp
    /// When it was destroyed.
    public var erasedAt: Timestamp?

    /// A record.
    public init(buyerID: String, generation: Int, wrappedKey: [UInt8]?, createdAt: Timestamp, erasedAt: Timestamp? = nil) {
        self.buyerID = buyerID
        self.generation = generation
        self.wrappedKey = wrappedKey
        self.createdAt = createdAt
        self.erasedAt = erasedAt
    }
}
