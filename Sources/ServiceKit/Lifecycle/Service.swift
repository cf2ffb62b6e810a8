/// A long-lived part of a process (the RPC server, a store, a background worker, the metrics
/// endpoint) that a ``ServiceGroup`` starts and stops in order.
///
/// `start()` returns once the service is ready (a server listens, a store is open, a worker's
/// loop is running); `shutdown()` returns once it has stopped, after whatever grace it gives the
/// work in flight. Background work runs on the service's own tasks or threads in between.
public protocol Service: Sendable {
    /// A short name for logs, e.g. `rpc-server`.
    var name: String { get }
    /// Starts the service and returns once it is ready; throwing stops the group's start.
    func start() async throws
    /// Stops the service gracefully and returns once it has stopped; called once, after `start()` succeeded.
    func shutdown() async
}

/// A service made of two closures: for parts that need no type of their own.
public struct ServiceAdapter: Service {
    public let name: String
    private let onStart: @Sendable () async throws -> Void
    private let onShutdown: @Sendable () async -> Void

    /// A service called `name` that runs `start` and `shutdown`.
    public init(name: String, start: @escaping @Sendable () async throws -> Void = {},
                shutdown: @escaping @Sendable () async -> Void) {
        self.name = name
        onStart = start
        onShutdown = shutdown
    }

    public func start() async throws { try await onStart() }
    public func shutdown() async { await onShutdown() }
}
