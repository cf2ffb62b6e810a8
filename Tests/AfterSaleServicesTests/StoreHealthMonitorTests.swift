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

@Suite("The store health monitor")
struct StoreHealthMonitorTests {
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
