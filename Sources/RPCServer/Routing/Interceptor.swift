import RPCWire

/// Sees every call the router serves, after its request decoded and before its handler runs:
/// it may refuse the call (the error becomes the call's status) or add facts to its context
/// (the authenticated caller, a rate-limit decision).
///
/// Interceptors run in the order they were added, on the thread that serves the call (the I/O
/// thread for inline routes): they must not block.
public protocol ServerInterceptor: Sendable {
    /// Whether calls of `method` go through this interceptor at all; asked once per route when
    /// the router is built, so an interceptor costs nothing on the methods it skips.
    func applies(to method: RPCMethodInfo) -> Bool
    /// Checks the call and adds to `context`; throwing ends the call with that status.
    func intercept(_ context: inout ServerContext) throws(RPCError)
}

extension ServerInterceptor {
    /// Every method, unless the interceptor says otherwise.
    public func applies(to method: RPCMethodInfo) -> Bool { true }
}

/// The interceptors of a router, applied to each call in order.
public struct Interceptors: Sendable {
    @usableFromInline let list: [any ServerInterceptor]

    init(_ list: [any ServerInterceptor]) { self.list = list }

    /// No interceptors.
    public static let none = Interceptors([])

    /// The ones that apply to `method`.
    func applying(to method: RPCMethodInfo) -> Interceptors {
        Interceptors(list.filter { $0.applies(to: method) })
    }

    /// Runs every interceptor on `context`.
    @inlinable
    public func apply(to context: inout ServerContext) throws(RPCError) {
        for interceptor in list { try interceptor.intercept(&context) }
    }
}
