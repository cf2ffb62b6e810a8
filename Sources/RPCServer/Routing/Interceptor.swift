import RPCWire

/// Sees every call the router serves, after its request decoded and before its handler runs:
/// it may refuse the call (the error becomes the call's status) or add facts to its context
/// (the authenticated caller, a rate-limit decision).
///
/// Interceptors run in the order they were added, on the thread that serves the call (the I/O
/// thread for inline routes): they must not block.
public protocol ServerInterceptor: Sendable {
    /// Checks the call and adds to `context`; throwing ends the call with that status.
    func intercept(_ context: inout ServerContext) throws(RPCError)
}

/// The interceptors of a router, applied to each call in order.
public struct Interceptors: Sendable {
    @usableFromInline let list: [any ServerInterceptor]

    init(_ list: [any ServerInterceptor]) { self.list = list }

    /// No interceptors.
    public static let none = Interceptors([])

    /// Runs every interceptor on `context`.
    @inlinable
    public func apply(to context: inout ServerContext) throws(RPCError) {
        for interceptor in list { try interceptor.intercept(&context) }
    }
}
