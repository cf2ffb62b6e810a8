/// The reason catalog the back office manages.
public protocol ReasonCatalogRepository: Sendable {
    /// Every stored reason, active or retired, with its version.
    func storedReasons() async throws -> [StoredReason]

    /// Creates or replaces the reason with `reason.code`; validation is the caller's (``Reason/validate()``).
    /// - Parameter expectedVersion: the version the caller last saw: 0 means the code must not exist
    ///   yet, nil stores unconditionally.
    /// - Returns: the stored entry with its new version.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` (actual 0 when there is no entry).
    func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp) async throws -> StoredReason

    /// ``upsertReason(_:expectedVersion:at:)`` under an idempotency key: the response (what `respond`
    /// makes of the stored entry) is kept with the change, and an identical retry gets it back.
    /// - Returns: the encoded response, made now or stored by the identical call that spent the key.
    func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp, call: IdempotentCall,
                      respond: @escaping @Sendable (StoredReason) -> [UInt8]) async throws -> [UInt8]

    /// The stored reasons as a catalog (a repository may keep it built between changes).
    func reasonCatalog() async throws -> ReasonCatalog
}

extension ReasonCatalogRepository {
    /// The stored reasons as a catalog, built on every call.
    public func reasonCatalog() async throws -> ReasonCatalog {
        ReasonCatalog(try await storedReasons().map(\.reason))
    }
}

/// A catalog reason with its storage version.
public struct StoredReason: Sendable, Hashable {
    /// The reason.
    public var reason: Reason
    /// Starts at 1, grows by 1 with every change.
    public var version: Int64
    /// When it last changed.
    public var updatedAt: Timestamp

    /// Creates a stored reason.
    public init(reason: Reason, version: Int64, updatedAt: Timestamp) {
        self.reason = reason
        self.version = version
        self.updatedAt = updatedAt
    }
}
