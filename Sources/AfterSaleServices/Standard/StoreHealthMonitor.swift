import AfterSaleDomain
import AfterSaleProto
import ServiceKit
import Synchronization

/// Watches whether the store answers and says so where it is seen: while the store cannot be
/// reached the health service reports every service NOT_SERVING (so load balancers move traffic
/// to other replicas) and the readiness probe answers 503; both recover by themselves when the
/// store answers again. Calls made meanwhile fail on their own with UNAVAILABLE.
public final class StoreHealthMonitor: Service, Sendable {
    public let name = "store-health"
    private let store: any StoreHealthRepository
    private let health: HealthRegistry
    private let interval: Duration
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var ready = false
        var lastError = "not checked yet"
        var task: Task<Void, Never>?
    }

    /// A monitor that checks `store` every `interval`, giving up on one check after `timeout`.
    public init(store: any StoreHealthRepository, health: HealthRegistry, interval: Duration = .seconds(1),
                timeout: Duration = .seconds(2), logger: Logger = .disabled) {
        self.store = store
        self.health = health
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
    }

    /// Whether the store answered the last check: what `GET /readyz` reports.
    public var readiness: (ready: Bool, reason: String) {
        state.withLock { ($0.ready, $0.ready ? "ready" : "not ready: \($0.lastError)") }
    }

    /// Checks once now (so readiness is known before the server takes calls), then keeps checking.
    public func start() async throws {
        await check()
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                await check()
            }
        }
        state.withLock { $0.task = task }
    }

    public func shutdown() async {
        let task = state.withLock { state -> Task<Void, Never>? in
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
        await task?.value
    }

    /// One check: the store's answer within `timeout`, recorded and reported.
    func check() async {
        let outcome = await withTaskGroup(of: String?.self) { group -> String? in
            group.addTask { [store] in
                do {
                    try await store.checkHealth()
                    return nil
                } catch {
                    return String(describing: error)
                }
            }
            group.addTask { [timeout] in
                try? await Task.sleep(for: timeout)
                return "no answer within \(timeout)"
            }
            let first = await group.next() ?? "no answer"
            group.cancelAll()
            return first
        }
        let changed = state.withLock { state -> Bool? in
            let ready = outcome == nil
            defer {
                state.ready = ready
                if let outcome { state.lastError = outcome }
            }
            return state.ready == ready ? nil : ready
        }
        guard let ready = changed else { return }
        if ready {
            logger.log(.info, "the store answers again: serving")
        } else {
            logger.log(.error, "the store does not answer: not serving", ["error": outcome ?? ""])
        }
        health.setAll(ready ? .serving : .notServing)
    }
}
