import ServiceKit
import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import RPCServer
import RPCTransport
import RPCWire
import Synchronization
import Testing

/// A real `RPCServer` on an ephemeral loopback port, with short limits suited to tests.
struct TestServer: Sendable {
    let server: RPCServer
    let port: UInt16

    var target: String { "127.0.0.1:\(port)" }
    var metrics: CallMetrics { server.metrics }

    /// The configuration every test starts from: loopback, port 0, two event loops, no logging.
    static func baseConfiguration() -> ServerConfiguration {
        var c = ServerConfiguration()
        c.listen = SocketAddress(host: "127.0.0.1", port: 0)
        c.eventLoops = 2
        c.logLevel = .off
        c.callLogLevel = .off
        c.shutdownGrace = .seconds(3)
        return c
    }

    /// Starts a server with `router`; `configure` adjusts the limits.
    static func start(router: Router, port: UInt16 = 0,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        var configuration = baseConfiguration()
        configuration.listen.port = port
        configure(&configuration)
        let server = try RPCServer(configuration: configuration, router: router, logger: Logger(level: .off))
        try await server.start()
        #expect(server.port != 0)
        return TestServer(server: server, port: server.port)
    }

    /// A client for this server, as another service would make one.
    func client(_ configure: (inout ClientConfiguration) -> Void = { _ in }) throws -> RPCClient {
        var configuration = ClientConfiguration()
        configuration.connectTimeout = .seconds(2)
        configure(&configuration)
        return try RPCClient(target: target, configuration: configuration)
    }

    func shutdown() async { await server.shutdown() }
}

// MARK: - Test-only services

/// Methods served only by the tests' routers.
enum TestMethods {
    /// Sleeps for the duration in `request.service` ("250ms", "2s", optionally "250ms#tag").
    static let sleep = RPCMethod<HealthCheckRequest, HealthCheckResponse>(service: "test.v1.Slow", name: "Sleep", kind: .unary)
    /// Answers with the request itself.
    static let echo = RPCMethod<HealthCheckRequest, HealthCheckRequest>(service: "test.v1.Echo", name: "Echo", kind: .unary)
    /// Answers with the request itself after a pseudo-random pause of 0–3 ms, so answers leave out of order.
    static let jitterEcho = RPCMethod<HealthCheckRequest, HealthCheckRequest>(service: "test.v1.Echo", name: "JitterEcho", kind: .unary)
    /// Answers with a message of `Int(request.service)` bytes (at most 1 MiB): small requests, big responses.
    static let blob = RPCMethod<HealthCheckRequest, HealthCheckRequest>(service: "test.v1.Echo", name: "Blob", kind: .unary)
    /// Answers with the call's metadata as "key=value;key=value" in `service`.
    static let metadata = RPCMethod<HealthCheckRequest, HealthCheckRequest>(service: "test.v1.Echo", name: "Metadata", kind: .unary)
    /// Streams `request.service` ("N" or "N#tag") messages "0", "1", ..., then ends OK; "forever#tag"
    /// streams one message every 20 ms until cancelled; "burst:N#tag" streams N messages of 16 KiB
    /// as fast as the connection takes them (counted in the probe's progress); "metadata" streams one message with the
    /// call's metadata as "key=value;key=value".
    static let ticks = RPCMethod<HealthCheckRequest, HealthCheckRequest>(service: "test.v1.Echo", name: "Ticks", kind: .serverStreaming)
}

/// What the test handlers saw, by tag: started, cancelled, finished. Thread-safe.
final class Probe: Sendable {
    enum Event: String, Sendable { case started, cancelled, finished }
    private let events = Mutex<[String: [Event]]>([:])

    func record(_ tag: String, _ event: Event) {
        events.withLock { $0[tag, default: []].append(event) }
    }

    func saw(_ tag: String, _ event: Event) -> Bool {
        events.withLock { $0[tag]?.contains(event) ?? false }
    }

    private let progress = Mutex<[String: Int]>([:])

    /// Counts something a handler did for `tag` (messages sent, ...).
    func advance(_ tag: String) { progress.withLock { $0[tag, default: 0] += 1 } }
    func progress(_ tag: String) -> Int { progress.withLock { $0[tag] ?? 0 } }

    func count(_ event: Event) -> Int {
        events.withLock { $0.values.reduce(0) { $0 + $1.filter { $0 == event }.count } }
    }
}

/// Parses "250ms#tag" / "2s" into a duration and a tag.
func parseSleep(_ text: String) -> (Duration, String) {
    let parts = text.split(separator: "#", maxSplits: 1).map(String.init)
    let spec = parts.first ?? ""
    let tag = parts.count > 1 ? parts[1] : spec
    if spec.hasSuffix("ms"), let n = Int64(spec.dropLast(2)) { return (.milliseconds(n), tag) }
    if spec.hasSuffix("s"), let n = Int64(spec.dropLast(1)) { return (.seconds(n), tag) }
    return (.zero, tag)
}

enum TestRoutes {
    static let blob = String(repeating: "b", count: 1 << 20)

    /// The test methods, reporting to `probe`.
    static func routes(probe: Probe) -> [Route] {
        [
            Route(unary: TestMethods.sleep) { request, _ in
                let (duration, tag) = parseSleep(request.service)
                probe.record(tag, .started)
                do {
                    try await Task.sleep(for: duration)
                } catch {
                    probe.record(tag, .cancelled)
                    throw error
                }
                if Task.isCancelled { probe.record(tag, .cancelled) }
                probe.record(tag, .finished)
                var response = HealthCheckResponse()
                response.status = .serving
                return response
            },
            Route(unary: TestMethods.echo) { request, _ in request },
            Route(unary: TestMethods.blob) { request, _ in
                var response = HealthCheckRequest()
                response.service = String(TestRoutes.blob.prefix(min(Int(request.service) ?? 0, TestRoutes.blob.count)))
                return response
            },
            Route(unary: TestMethods.metadata) { _, context in
                var response = HealthCheckRequest()
                response.service = context.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
                return response
            },
            Route(unary: TestMethods.jitterEcho) { request, _ in
                let micros = Int(UInt(bitPattern: request.service.hashValue) % 3000)
                try await Task.sleep(for: .microseconds(micros))
                return request
            },
            Route(serverStreaming: TestMethods.ticks) { request, context, responses in
                if request.service == "metadata" {
                    var message = HealthCheckRequest()
                    message.service = context.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
                    try await responses.send(message)
                    return
                }
                let parts = request.service.split(separator: "#", maxSplits: 1).map(String.init)
                let tag = parts.count > 1 ? parts[1] : request.service
                probe.record(tag, .started)
                defer { probe.record(tag, .finished) }
                do {
                    if parts.first == "forever" {
                        var i = 0
                        while true {
                            var message = HealthCheckRequest()
                            message.service = String(i)
                            try await responses.send(message)
                            i += 1
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                    if let spec = parts.first, spec.hasPrefix("burst:") {
                        // As fast as the connection takes them: N messages of 16 KiB.
                        var message = HealthCheckRequest()
                        message.service = String(TestRoutes.blob.prefix(16 * 1024))
                        for _ in 0..<(Int(spec.dropFirst(6)) ?? 0) {
                            try await responses.send(message)
                            probe.advance(tag)
                        }
                        return
                    }
                    let n = Int(parts.first ?? "") ?? 0
                    for i in 0..<n {
                        var message = HealthCheckRequest()
                        message.service = String(i)
                        try await responses.send(message)
                    }
                } catch {
                    probe.record(tag, .cancelled)
                    throw error
                }
            },
        ]
    }

    /// The production router (health, reflection, declared business services) plus the test methods.
    static func router(probe: Probe, host: ServiceHost = ServiceHost()) -> Router {
        var router = host.router
        router.add(routes(probe: probe))
        return router
    }
}

// MARK: - Small helpers

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: timeout)
    while clock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs `operation`, failing with `TimedOut` if it takes longer than `timeout` (the operation is cancelled).
func withTimeout<T: Sendable>(_ timeout: Duration, _ what: String = "operation",
                              _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimedOut(what: what) }
        return first
    }
}

/// The `RPCError` a call failed with, or nil when it succeeded.
func rpcError<T>(_ body: () async throws -> T) async -> RPCError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(wrapping: error)
    }
}

/// How long `body` takes.
func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try await body()
    return (value, clock.now - start)
}

func healthRequest(_ service: String = "") -> HealthCheckRequest {
    var r = HealthCheckRequest()
    r.service = service
    return r
}

/// A thread-safe list, for results collected by concurrent tasks.
final class Collected<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ e: Element) { items.withLock { $0.append(e) } }
    var all: [Element] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}

extension Duration {
    var milliseconds: Double {
        let (s, atto) = components
        return Double(s) * 1000 + Double(atto) / 1e15
    }
}
