/// A state-changing call made under an idempotency key: who sent it, the key, a digest of the
/// request, and the call it was made on (the RPC method's path).
///
/// Storage keeps the key with the change it made, in the same transaction, together with the
/// response the call answered with: an identical retry (same principal, key, call and digest) gets
/// that response again and changes nothing; the same key with another request or call is refused.
public struct IdempotentCall: Sendable, Hashable {
    /// The key, the principal who sent it and the request's digest.
    public var record: IdempotencyRecord
    /// The call, e.g. `/aftersale.v1.AfterSaleService/ReviewAfterSale`.
    public var operation: String

    /// Creates a call.
    public init(record: IdempotencyRecord, operation: String) {
        self.record = record
        self.operation = operation
    }
}

/// A call's key with the encoded response it answers with, stored with its change.
public struct IdempotentResponse: Sendable, Hashable {
    /// The call.
    public var call: IdempotentCall
    /// The encoded response.
    public var response: [UInt8]

    /// Creates a stored response.
    public init(call: IdempotentCall, response: [UInt8]) {
        self.call = call
        self.response = response
    }
}

/// What a write made under an idempotency key did.
public enum ChangeOutcome: Sendable, Hashable {
    /// The change was stored (with the key and response, if any).
    case applied
    /// The key was spent by an identical earlier call: its stored response, and nothing was written.
    case replayed([UInt8])
}

/// The responses stored with idempotency keys: what a retry of a state-changing call looks up
/// before deciding anything.
public protocol IdempotencyRepository: Sendable {
    /// The response stored for `call`'s key, nil when the key is unused.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when the key was spent on another
    ///   call or another request.
    func storedResponse(for call: IdempotentCall) async throws -> [UInt8]?
}
