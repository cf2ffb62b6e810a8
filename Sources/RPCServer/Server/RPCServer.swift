import CSystemShims
import Glibc
import RPCTransport
import RPCWire
import ServiceKit
import Synchronization

/// State shared by every connection of one server: routes, limits, metrics, log, lifecycle.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    let router: Router
    let metrics: CallMetrics
    let logger: Logger
    private let draining = Atomic<Bool>(false)
    private let connections = Mutex<[ObjectIdentifier: ServerConnection]>([:])
    /// Told of every finished call and closed connection while the server shuts down.
    private let changes = Mutex<AsyncStream<Void>.Continuation?>(nil)

    init(configuration: ServerConfiguration, router: Router, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.metrics = CallMetrics(methodNames: router.routes.map(\.info.path), shards: configuration.eventLoops)
    }

    var isDraining: Bool { draining.load(ordering: .acquiring) }
    /// Starts draining; false when it had started already.
    func startDraining() -> Bool { !draining.exchange(true, ordering: .acquiringAndReleasing) }

    func add(_ c: ServerConnection) -> Int {
        connections.withLock { $0[ObjectIdentifier(c)] = c; return $0.count }
    }

    func remove(_ c: ServerConnection) {
        _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(c)) }
        changed()
    }

    /// Sets (or clears) who hears of finished calls and closed connections.
    func watchChanges(_ continuation: AsyncStream<Void>.Continuation?) {
        changes.withLock { $0 = continuation }
    }

    private func changed() {
        guard isDraining else { return }
        _ = changes.withLock { $0?.yield() }
    }

    var connectionCount: Int { connections.withLock { $0.count } }
    var allConnections: [ServerConnection] { connections.withLock { Array($0.values) } }

    /// Records a finished call in the metrics and the per-call log.
    func finished(shard: Int, route: Int?, code: StatusCode, startNanos: UInt64, callID: UInt64,
                  traceID: String?, method: String? = nil, note: String? = nil) {
        let micros = (MonotonicClock.nanos() &- startNanos) / 1000
        metrics.record(shard: shard, method: route ?? metrics.unknownIndex, code: code, micros: micros)
        changed()
        let level = configuration.callLogLevel
        guard level >= logger.level, level != .off else { return }
        let path = route.map { router.route(at: $0).info.path } ?? method ?? ""
        var line = "ts=\(Logger.timestamp()) level=\(level.name) msg=call method=\(Logger.quote(path)) status=\(code.name) duration_us=\(micros) call_id=\(callID)"
        if let traceID { line += " trace_id=\(Logger.quote(traceID))" }
        if let note, code != .ok { line += " error=\(Logger.quote(note))" }
        logger.append(line + "\n", urgent: false)
    }
}

/// The RPC server: listens, accepts, spreads connections over event loops, routes calls.
///
/// ```swift
/// var router = Router()
/// router.add(myHealthHandler.routes)
/// let server = try RPCServer(configuration: config, router: router, logger: Logger(level: .info))
/// try await server.start()
/// ...
/// await server.shutdown()
/// ```
public final class RPCServer: Sendable {
    private let core: ServerCore
    private let loops: [EventLoop]
    private let listener = Mutex<Int32>(-1)
    private let boundPort = Atomic<UInt16>(0)
    private let nextLoop = Atomic<Int>(0)
    private let sweepTimer = Mutex<TimerID?>(nil)
    /// Who waits for a shutdown started elsewhere; nil once it completed.
    private let shutdownWaiters = Mutex<[CheckedContinuation<Void, Never>]?>([])

    public init(configuration: ServerConfiguration, router: Router, logger: Logger) throws(TransportError) {
        core = ServerCore(configuration: configuration, router: router, logger: logger)
        var loops: [EventLoop] = []
        for i in 0..<max(1, configuration.eventLoops) { loops.append(try EventLoop(name: "rpc-loop-\(i)")) }
        self.loops = loops
    }

    /// The port the server listens on (useful with port 0).
    public var port: UInt16 { boundPort.load(ordering: .acquiring) }
    public var metrics: CallMetrics { core.metrics }
    public var configuration: ServerConfiguration { core.configuration }
    /// The methods served and declared, for reflection.
    public var router: Router { core.router }
    /// True once shutdown has begun.
    public var isShuttingDown: Bool { core.isDraining }
    /// Connections open now.
    public var connectionCount: Int { core.connectionCount }

    /// Binds and starts accepting connections; returns once the listener is registered with its loop.
    public func start() async throws(TransportError) {
        let (fd, port) = try Socket.listen(core.configuration.listen)
        listener.withLock { $0 = fd }
        boundPort.store(port, ordering: .releasing)
        let acceptor = Acceptor(server: self, fd: fd)
        let loop = loops[0]
        let failure: TransportError? = await withCheckedContinuation { continuation in
            loop.execute {
                do throws(TransportError) {
                    try loop.register(fd, events: EPOLLIN.rawValue, handler: acceptor)
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error)
                }
            }
        }
        if let failure { throw failure }
        scheduleSweep()
    }

    fileprivate func accepted(fd: Int32, peer: String) {
        if core.isDraining || core.connectionCount >= core.configuration.maxConnections {
            let reason = core.isDraining ? RPCError(.unavailable, "server is shutting down")
                : RPCError(.resourceExhausted, "connection limit of \(core.configuration.maxConnections) reached")
            // A TLS client could not read a plaintext GOAWAY: it only sees the connection close.
            if core.configuration.tls == nil {
                let frame = FrameEncoder().frame(Envelope(kind: .goAway, callID: 0, status: RPCStatus(reason)))
                _ = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(fd)
            core.logger.log(.warning, "refused connection", ["peer": peer, "reason": reason.message])
            return
        }
        var session: TLSSession?
        if let context = core.configuration.tls {
            do {
                session = try TLSSession(context: context)
            } catch {
                close(fd)
                core.logger.log(.warning, "refused connection", ["peer": peer, "reason": error.description])
                return
            }
        }
        let index = nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count
        let framed = FramedConnection(fd: fd, peer: peer, loop: loops[index], limits: core.configuration.wire,
                                      backpressure: core.configuration.backpressure, tls: session)
        let connection = ServerConnection(connection: framed, core: core, shard: index)
        _ = core.add(connection)
        framed.start(delegate: connection)
    }

    /// Closes connections that idle too long or leave a frame unfinished too long.
    private func scheduleSweep() {
        let timer = loops[0].schedule(after: .seconds(1)) { [self] in
            let now = MonotonicClock.nanos()
            let idle = core.configuration.idleTimeout.nanoseconds
            let partial = core.configuration.incompleteFrameTimeout.nanoseconds
            for c in core.allConnections {
                let since = c.connection.partialFrameSince
                if since > 0 && now > since && now - since > partial {
                    c.goAway(RPCError(.deadlineExceeded, "an incomplete frame waited longer than \(core.configuration.incompleteFrameTimeout)"))
                } else if c.callsInFlight == 0 && since == 0 && now > c.connection.lastActivity && now - c.connection.lastActivity > idle {
                    c.goAway(RPCError(.unavailable, "connection idle for longer than \(core.configuration.idleTimeout)"))
                }
            }
            if !core.isDraining { scheduleSweep() }
        }
        sweepTimer.withLock { $0 = timer }
    }

    /// Graceful shutdown: stop accepting, tell every client (GOAWAY), refuse new calls with
    /// UNAVAILABLE, let calls in flight finish within the grace period, then end the rest and close.
    /// A second caller returns when the first one's shutdown has completed.
    public func shutdown() async {
        guard core.startDraining() else {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = shutdownWaiters.withLock { waiters -> Bool in
                    guard waiters != nil else { return true }
                    waiters?.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
            return
        }
        // Every finished call and closed connection yields here, so the waits below wake on the
        // change they wait for instead of polling.
        let (changes, notify) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        core.watchChanges(notify)
        var iterator = changes.makeAsyncIterator()
        let fd = listener.withLock { fd -> Int32 in let old = fd; fd = -1; return old }
        if fd >= 0 {
            let loop = loops[0]
            loop.execute { loop.unregister(fd); close(fd) }
        }
        for c in core.allConnections { c.announceShutdown() }
        // Streams get a moment to end by themselves (a health watch sends its NOT_SERVING and
        // returns), then end with UNAVAILABLE; unary calls get the whole grace period.
        let streamGrace = min(core.configuration.shutdownGrace, .milliseconds(250))
        await wait(for: streamGrace, on: &iterator, notify) { !core.allConnections.contains(where: { $0.streamsInFlight > 0 }) }
        for c in core.allConnections { c.endStreams() }
        await wait(for: core.configuration.shutdownGrace - streamGrace, on: &iterator, notify) {
            !core.allConnections.contains(where: { $0.callsInFlight > 0 })
        }
        for c in core.allConnections {
            c.abortCalls()
            c.connection.closeAfterFlush()
        }
        await wait(for: .seconds(1), on: &iterator, notify) { core.connectionCount == 0 }
        for c in core.allConnections { c.connection.close() }
        core.watchChanges(nil)
        // The loops finish the closes already queued before they stop.
        for loop in loops { loop.stop() }
        core.logger.flush()
        let waiters = shutdownWaiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once `done()` holds, or after `limit`; wakes on each change the core reports.
    private func wait(for limit: Duration, on iterator: inout AsyncStream<Void>.Iterator,
                      _ notify: AsyncStream<Void>.Continuation, until done: () -> Bool) async {
        guard !done() else { return }
        let timeout = Task {
            try? await Task.sleep(for: limit)
            notify.yield()
        }
        defer { timeout.cancel() }
        let end = ContinuousClock.now + limit
        while !done(), ContinuousClock.now < end {
            guard await iterator.next() != nil else { return }
        }
    }
}

/// Accepts connections on the listening socket (loop thread).
private final class Acceptor: EventHandler, @unchecked Sendable {
    unowned let server: RPCServer
    let fd: Int32

    init(server: RPCServer, fd: Int32) {
        self.server = server
        self.fd = fd
    }

    func handle(events: UInt32) {
        for _ in 0..<64 {
            guard let (client, peer) = Socket.accept(fd) else { return }
            server.accepted(fd: client, peer: peer)
        }
    }
}
