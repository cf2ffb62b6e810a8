import AfterSaleDomain
import RPCServer
import RPCWire

/// How many calls of the business services a caller may make: per authenticated principal, per
/// source address, and how many failed authentications an address may have before all its calls
/// are refused for a while. Each is off when nil.
public struct CallLimits: Sendable {
    /// Calls per principal (role and id).
    public var perPrincipal: Rate?
    /// Calls per source address, authenticated or not.
    public var perAddress: Rate?
    /// Failed authentications per source address: past the burst, every call from the address is
    /// refused until the rate allows one more failure.
    public var authenticationFailures: Rate?

    /// Limits; each nil one is off.
    public init(perPrincipal: Rate? = nil, perAddress: Rate? = nil, authenticationFailures: Rate? = nil) {
        self.perPrincipal = perPrincipal
        self.perAddress = perAddress
        self.authenticationFailures = authenticationFailures
    }

    /// No limits.
    public static let none = CallLimits()

    /// The metadata key of the hint sent with `RESOURCE_EXHAUSTED`: whole milliseconds to wait.
    public static let retryAfterKey = "retry-after-ms"
}

/// Authenticates the calls of the business services (through ``IdentityInterceptor``) under
/// ``CallLimits``, in this order: an address that failed authentication too often is refused; the
/// address's rate; the identity; the principal's rate. A refusal is `RESOURCE_EXHAUSTED` with
/// `retry-after-ms` in the response metadata. Rates are kept per replica, in memory.
public struct LimitedIdentityInterceptor: ServerInterceptor {
    /// The identity step.
    public let identity: IdentityInterceptor
    private let principals: RateLimiter?
    private let addresses: RateLimiter?
    private let failures: RateLimiter?

    /// Wraps `identity` in `limits`.
    public init(identity: IdentityInterceptor, limits: CallLimits) {
        self.identity = identity
        principals = limits.perPrincipal.map { RateLimiter(rate: $0) }
        addresses = limits.perAddress.map { RateLimiter(rate: $0) }
        failures = limits.authenticationFailures.map { RateLimiter(rate: $0) }
    }

    /// Wraps `identity` in limiters made elsewhere (tests pass limiters with a manual clock).
    public init(identity: IdentityInterceptor, perPrincipal: RateLimiter?, perAddress: RateLimiter?,
                authenticationFailures: RateLimiter?) {
        self.identity = identity
        principals = perPrincipal
        addresses = perAddress
        failures = authenticationFailures
    }

    public func applies(to method: RPCMethodInfo) -> Bool { identity.applies(to: method) }

    public func intercept(_ context: inout ServerContext) throws(RPCError) {
        let address = Self.address(of: context.peer)
        if let failures, let wait = failures.waitTime(address) {
            throw Self.exhausted("too many failed authentications from \(address)", wait)
        }
        if let addresses, let wait = addresses.acquire(address) {
            throw Self.exhausted("call rate limit of \(address) (\(addresses.rate)) reached", wait)
        }
        do {
            try identity.intercept(&context)
        } catch {
            if error.code == .unauthenticated { _ = failures?.acquire(address) }
            throw error
        }
        if let principals, let principal = context[PrincipalKey.self],
           let wait = principals.acquire(principal.role.rawValue + ":" + principal.id) {
            throw Self.exhausted("call rate limit of \(principal) (\(principals.rate)) reached", wait)
        }
    }

    /// The host part of a peer "host:port" or "[v6]:port".
    static func address(of peer: String) -> String {
        if peer.hasPrefix("["), let end = peer.firstIndex(of: "]") { return String(peer[peer.index(after: peer.startIndex)..<end]) }
        guard let colon = peer.lastIndex(of: ":"), peer.firstIndex(of: ":") == colon else { return peer }
        return String(peer[..<colon])
    }

    /// `RESOURCE_EXHAUSTED` saying when to retry, in the message and as `retry-after-ms`.
    static func exhausted(_ what: String, _ wait: Duration) -> RPCError {
        let (seconds, attoseconds) = wait.components
        let milliseconds = max(1, seconds * 1_000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        return RPCError(.resourceExhausted, "\(what); retry after \(milliseconds) ms",
                        metadata: [CallLimits.retryAfterKey: String(milliseconds)])
    }
}
