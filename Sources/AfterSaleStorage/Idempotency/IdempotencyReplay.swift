import AfterSaleDomain

/// The calls whose keys store a result rather than a response: what they replay is read again.
public enum IdempotentOperation: String, Sendable, Hashable, CaseIterable {
    /// CreateAfterSale: the result is the new case's number (the replay reads the case as it is now).
    case createCase = "create_case"
    /// AddMessage: the result is the stored message's id.
    case addMessage = "add_message"
}

/// An idempotency key as a backend stored it, with what the call that spent it produced.
public struct StoredIdempotencyKey: Sendable, Hashable {
    /// The operation it was spent on: an ``IdempotentOperation`` name or a method path.
    public var operation: String
    /// The fingerprint of the request that spent it.
    public var fingerprint: String
    /// What that call produced, for ``IdempotentOperation``s (a case number, a message id).
    public var result: String
    /// The encoded response, for calls made as an ``IdempotentCall``.
    public var response: [UInt8]?

    /// A stored key.
    public init(operation: String, fingerprint: String, result: String, response: [UInt8]? = nil) {
        self.operation = operation
        self.fingerprint = fingerprint
        self.result = result
        self.response = response
    }

    /// The key as stored for `response`.
    public init(_ response: IdempotentResponse) {
        self.init(operation: response.call.operation, fingerprint: response.call.record.fingerprint, result: "",
                  response: response.response)
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

    /// The stored response when `call` repeats the call that spent its key; nil when the key is unused.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when the key was spent on another
    ///   call or another request.
    public static func response(of call: IdempotentCall, stored: StoredIdempotencyKey?) throws(RepositoryError) -> [UInt8]? {
        guard let stored else { return nil }
        guard stored.operation == call.operation, stored.fingerprint == call.record.fingerprint else {
            throw .idempotencyKeyReused(key: call.record.key)
        }
        // An empty response (a message with every field at its default) may be stored as no bytes at all.
        return stored.response ?? []
    }
}
