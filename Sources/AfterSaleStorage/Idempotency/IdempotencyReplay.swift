import AfterSaleDomain

/// The calls an idempotency key can be spent on; a key spent on one is refused on another.
public enum IdempotentOperation: String, Sendable, Hashable, CaseIterable {
    /// CreateAfterSale: the result is the new case's number.
    case createCase = "create_case"
    /// AddMessage: the result is the stored message's id.
    case addMessage = "add_message"
}

/// An idempotency key as a backend stored it, with the result of the call that spent it.
public struct StoredIdempotencyKey: Sendable, Hashable {
    /// The operation it was spent on, as stored (an unknown name never matches).
    public var operation: String
    /// The fingerprint of the request that spent it.
    public var fingerprint: String
    /// What that call produced (a case number, a message id).
    public var result: String

    /// A stored key.
    public init(operation: String, fingerprint: String, result: String) {
        self.operation = operation
        self.fingerprint = fingerprint
        self.result = result
    }
}

/// The rule every backend applies when a call comes with an idempotency key: an unused key goes
/// ahead, the same request again replays the first result, anything else under the key is refused.
public enum IdempotencyReplay {
    /// The stored result when `record` repeats the `operation` call that spent the key; nil when
    /// the key is unused.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when the key was spent on another
    ///   operation or another request.
    public static func result(of record: IdempotencyRecord, for operation: IdempotentOperation,
                              stored: StoredIdempotencyKey?) throws(RepositoryError) -> String? {
        guard let stored else { return nil }
        guard stored.operation == operation.rawValue, stored.fingerprint == record.fingerprint else {
            throw .idempotencyKeyReused(key: record.key)
        }
        return stored.result
    }
}
