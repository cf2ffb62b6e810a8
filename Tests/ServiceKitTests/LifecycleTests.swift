import ServiceKit
import Synchronization
import Testing

@Suite("The service lifecycle")
struct LifecycleTests {
    /// Records starts and stops in one shared log.
    final class Recorder: Sendable {
        let log = Mutex<[String]>([])
        func append(_ line: String) { log.withLock { $0.append(line) } }
        var lines: [String] { log.withLock { $0 } }

        func service(_ name: String, failing: Bool = false) -> ServiceAdapter {
            ServiceAdapter(name: name, start: {
                if failing { throw StartFailure() }
                self.append("start \(name)")
            }, shutdown: { self.append("stop \(name)") })
        }
    }

    struct StartFailure: Error {}

    @Test("services start in order and stop in reverse order when shutdown is requested")
    func order() async throws {
        let recorder = Recorder()
        let group = ServiceGroup(services: [recorder.service("store"), recorder.service("workers"), recorder.service("server")],
                                 logger: .disabled)
        let running = Task { try await group.run() }
        while recorder.lines.count < 3 { try await Task.sleep(for: .milliseconds(5)) }
        group.requestShutdown(reason: "test")
        try await running.value
        #expect(recorder.lines == ["start store", "start workers", "start server", "stop server", "stop workers", "stop store"])
    }

    @Test("a service that fails to start stops those started before it, and the error comes out")
    func failedStart() async throws {
        let recorder = Recorder()
        let group = ServiceGroup(services: [recorder.service("store"), recorder.service("server", failing: true),
                                            recorder.service("never")], logger: .disabled)
        await #expect(throws: StartFailure.self) { try await group.run() }
        #expect(recorder.lines == ["start store", "stop store"])
    }

    @Test("a shutdown requested before the group runs ends it as soon as every service started")
    func earlyShutdown() async throws {
        let recorder = Recorder()
        let group = ServiceGroup(services: [recorder.service("one")], logger: .disabled)
        group.requestShutdown(reason: "early")
        try await group.run()
        #expect(recorder.lines == ["start one", "stop one"])
    }

    @Test("a manual clock moves only when told to")
    func manualClock() {
        let clock = ManualClock(millisecondsSinceEpoch: 1_000)
        #expect(clock.millisecondsSinceEpoch() == 1_000)
        clock.advance(milliseconds: 500)
        #expect(clock.millisecondsSinceEpoch() == 1_500)
        clock.set(millisecondsSinceEpoch: 42)
        #expect(clock.millisecondsSinceEpoch() == 42)
    }
}
