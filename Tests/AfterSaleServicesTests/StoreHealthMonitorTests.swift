import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import Synchronization
import Testing

/// A store whose health the test switches.
final class SwitchableStore: StoreHealthRepository {
    struct Down: Error, CustomStringConvertible { var description: String { "connection refused" } }
    let up = Mutex(true)
    func checkHealth() async throws { if !up.withLock({ $0 }) { throw Down() } }
}

/// A store that can hang: while `hanging`, a check waits until the test releases it (a database
/// that stopped answering rather than refusing).
final class HangingStore: StoreHealthRepository {
    let hanging = Mutex(false)
    let checksStarted = Mutex(0)
    func checkHealth() async throws {
        checksStarted.withLock { $0 += 1 }
        for _ in 0..<1_000 where hanging.withLock({ $0 }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

@Suite("The store health monitor")
struct StoreHealthMonitorTests {
    @Test("a store that hangs instead of refusing turns NOT_SERVING after the timeout, one check at a time, and recovers")
    func hangingStore() async throws {
        let store = HangingStore()
        let health = HealthRegistry(services: [AfterSaleService.name])
        let monitor = StoreHealthMonitor(store: store, health: health, interval: .milliseconds(20), timeout: .milliseconds(100))
        try await monitor.start()
        #expect(monitor.readiness.ready)

        store.hanging.withLock { $0 = true }
        #expect(await eventually { !monitor.readiness.ready })
        #expect(health.status(of: AfterSaleService.name) == .notServing)
        let started = store.checksStarted.withLock { $0 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(store.checksStarted.withLock { $0 } <= started + 1, "no pile of checks while one hangs")

        store.hanging.withLock { $0 = false }
        #expect(await eventually { monitor.readiness.ready })
        #expect(health.status(of: AfterSaleService.name) == .serving)
        await monitor.shutdown()
    }

    @Test("an unreachable store turns every service NOT_SERVING and readiness off; both come back by themselves")
    func reportsAndRecovers() async throws {
        let store = SwitchableStore()
        let health = HealthRegistry(services: [AfterSaleService.name])
        let monitor = StoreHealthMonitor(store: store, health: health, interval: .milliseconds(20), timeout: .seconds(1))
        try await monitor.start()
        #expect(monitor.readiness.ready)
        #expect(health.status(of: AfterSaleService.name) == .serving)

        store.up.withLock { $0 = false }
        #expect(await eventually { !monitor.readiness.ready })
        #expect(health.status(of: AfterSaleService.name) == .notServing)
        #expect(health.status(of: "") == .notServing)
        #expect(monitor.readiness.reason.contains("connection refused"))

        store.up.withLock { $0 = true }
        #expect(await eventually { monitor.readiness.ready })
        #expect(health.status(of: AfterSaleService.name) == .serving)
        await monitor.shutdown()
    }

    @Test("after shutdown the health registry stays NOT_SERVING whatever the store says")
    func shutdownWins() async throws {
        let health = HealthRegistry(services: [AfterSaleService.name])
        health.shutDown()
        health.setAll(.serving)
        #expect(health.status(of: AfterSaleService.name) == .notServing)
    }

    /// Polls `condition` every 10 ms for up to 5 s.
    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
