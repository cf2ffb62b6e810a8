import Synchronization

/// Starts services in order, waits for a shutdown signal (or ``requestShutdown(reason:)``), and
/// stops them in reverse order, each after the one that depends on it: the RPC server stops (with
/// its grace period) before the workers, and the workers before the store they write to.
///
/// ```swift
/// let group = ServiceGroup(services: [store, timers, server], logger: logger)
/// try await group.run(stoppingOn: [SIGTERM, SIGINT])
/// ```
public final class ServiceGroup: Sendable {
    /// The services, in start order.
    public let services: [any Service]
    private let logger: Logger
    private let trigger = ShutdownTrigger()

    /// A group of `services`, started in this order and stopped in the reverse order.
    public init(services: [any Service], logger: Logger) {
        self.services = services
        self.logger = logger
    }

    /// Starts every service, then waits until one of `signals` arrives or shutdown is requested,
    /// then stops every started service in reverse order.
    /// - Throws: the error of a service whose start failed, after stopping those started before it.
    public func run(stoppingOn signals: [Int32]) async throws {
        let signalStream = UnixSignals.stream(signals)
        let watcher = Task { [trigger] in
            for await signal in signalStream {
                trigger.fire(reason: "signal \(UnixSignals.name(signal))")
                return
            }
        }
        defer { watcher.cancel() }
        try await run()
    }

    /// Starts every service, waits for ``requestShutdown(reason:)``, then stops them in reverse order.
    public func run() async throws {
        var started: [any Service] = []
        do {
            for service in services {
                try await service.start()
                started.append(service)
                logger.log(.debug, "service started", ["service": service.name])
            }
        } catch {
            logger.log(.error, "service failed to start", ["error": String(describing: error)])
            await stop(started)
            throw error
        }
        let reason = await trigger.wait()
        logger.log(.info, "shutting down", ["reason": reason])
        await stop(started)
    }

    /// Asks a running group to stop (from a test, or a service that cannot go on).
    public func requestShutdown(reason: String) {
        trigger.fire(reason: reason)
    }

    private func stop(_ started: [any Service]) async {
        for service in started.reversed() {
            await service.shutdown()
            logger.log(.debug, "service stopped", ["service": service.name])
        }
    }
}

/// A one-shot event: the first `fire` wins, and every `wait`, before or after it, returns its reason.
final class ShutdownTrigger: Sendable {
    private struct State {
        var reason: String?
        var waiters: [CheckedContinuation<String, Never>] = []
    }
    private let state = Mutex(State())

    func fire(reason: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<String, Never>] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    func wait() async -> String {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state -> String? in
                if let reason = state.reason { return reason }
                state.waiters.append(continuation)
                return nil
            }
            if let fired { continuation.resume(returning: fired) }
        }
    }
}
