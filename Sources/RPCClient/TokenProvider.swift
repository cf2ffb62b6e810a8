import RPCWire

/// Supplies the bearer token a client sends as `authorization: Bearer <token>` on every call, so
/// a caller can refresh short-lived tokens without rebuilding its client.
///
/// Asked once per call, just before the call is sent, unless the call's own metadata already
/// carries `authorization`. Implementations should cache a token until shortly before it expires.
public protocol TokenProvider: Sendable {
    /// The token for the next call (without the `Bearer ` prefix).
    /// - Throws: an `RPCError` (usually `UNAUTHENTICATED`) when no token can be had; the call is
    ///   not sent and fails with it.
    func bearerToken() async throws(RPCError) -> String
}

/// The same token on every call: for a token obtained elsewhere, or a test.
public struct StaticToken: TokenProvider {
    /// The token sent.
    public let token: String

    /// A provider always answering `token`.
    public init(_ token: String) { self.token = token }

    public func bearerToken() async throws(RPCError) -> String { token }
}

/// A token computed by a closure on every call (the closure does its own caching).
public struct TokenClosure: TokenProvider {
    private let body: @Sendable () async throws(RPCError) -> String

    /// A provider calling `body` for every call's token.
    public init(_ body: @escaping @Sendable () async throws(RPCError) -> String) { self.body = body }

    public func bearerToken() async throws(RPCError) -> String { try await body() }
}

/// The `authorization` metadata key and its `Bearer` scheme.
public enum BearerAuthorization {
    /// The metadata key.
    public static let key = "authorization"

    /// `Bearer <token>`.
    public static func value(_ token: String) -> String { "Bearer " + token }
}
