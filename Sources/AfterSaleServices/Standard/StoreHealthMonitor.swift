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
        var checked = false
        var checking = false
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

    /// One check: the store's answer within `timeout`, recorded and reported. A check the store
    /// never answers (a database that hangs rather than refuses) counts as failed when `timeout`
    /// passes; it is left running, and no second one starts while it has not returned.
    func check() async {
        let outcome = await answer(within: timeout)
        let changed = state.withLock { state -> Bool? in
            let ready = outcome == nil
            defer {
                state.ready = ready
                state.checked = true
                if let outcome { state.lastError = outcome }
            }
            return state.ready == ready && state.checked ? nil : ready
        }
        guard let ready = changed else { return }
        if ready {
            logger.log(.info, "the store answers: serving")
        } else {
            logger.log(.error, "the store does not answer: not serving", ["error": outcome ?? ""])
        }
        health.setAll(ready ? .serving : .notServing)
    }

    /// nil when the store answered within `timeout`; otherwise why not.
    private func answer(within timeout: Duration) async -> String? {
        let started = state.withLock { state -> Bool in
            guard !state.checking else { return false }
            state.checking = true
            return true
        }
        guard started else { return "the previous check has not returned" }
        let verdict = Verdict()
        return await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            verdict.set(continuation)
            // Unstructured on purpose: a check blocked in the store must not hold this one up.
            Task { [self] in
                var outcome: String?
                do {
                    try await store.checkHealth()
                } catch {
                    outcome = String(describing: error)
                }
                state.withLock { $0.checking = false }
                verdict.resolve(outcome)
            }
            Task {
                try? await Task.sleep(for: timeout)
                verdict.resolve("no answer within \(timeout)")
            }
        }
    }
}

/// The first answer of a race, handed to one waiting continuation.
private final class Verdict: Sendable {
    private let continuation = Mutex<CheckedContinuation<String?, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<String?, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resolve(_ outcome: String?) {
        let waiting = continuation.withLock { state -> CheckedContinuation<String?, Never>? in
            defer { state = nil }
            return state
        }
        waiting?.resume(returning: outcome)
    }
}
