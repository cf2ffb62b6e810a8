import ProtoRuntime
import RPCTransport
import RPCWire
import Synchronization

/// One TCP connection of a client: sends requests, matches responses to calls by id, and fails
/// every call in flight if the connection goes away.
final class ClientConnection: FramedConnectionDelegate, @unchecked Sendable {
    let framed: FramedConnection
    private let state = Mutex(State())
    private let nextCallID = Atomic<UInt64>(0)
    private let configuration: ClientConfiguration

    private struct State {
        var calls: [UInt64: PendingCall] = [:]
        var goingAway = false
        var closed = false
        var closeReason: RPCError?
    }

    private enum PendingCall {
        case unary(CallBox)
        case stream(StreamBox)
    }

    init(fd: Int32, peer: String, loop: EventLoop, configuration: ClientConfiguration, tls: TLSSession? = nil) {
        self.configuration = configuration
        framed = FramedConnection(fd: fd, peer: peer, loop: loop, limits: configuration.wire, tls: tls)
        framed.start(delegate: self)
        if let interval = configuration.keepaliveInterval { scheduleKeepalive(interval) }
        if let tls {
            // A server that accepts but never answers the handshake must not hold calls forever.
            let limit = configuration.connectTimeout
            loop.schedule(after: limit) { [weak self] in
                guard let self, !tls.isHandshakeComplete, !self.framed.isClosed else { return }
                self.state.withLock { $0.closeReason = RPCError(.unavailable, "the TLS handshake with \(peer) did not complete within \(limit)") }
                self.framed.close()
            }
        }
    }

    /// False once the server said GOAWAY or the connection closed: new calls need a new connection.
    var isUsable: Bool { state.withLock { !$0.goingAway && !$0.closed } }

    /// Adds a call; returns its id and whether other calls are in flight (their responses will
    /// wake the loop, so the request may wait for a batched write).
    private func register(_ call: PendingCall) -> (id: UInt64, busy: Bool)? {
        let id = nextCallID.wrappingAdd(1, ordering: .relaxed).newValue
        let busy = state.withLock { s -> Bool? in
            guard !s.closed else { return nil }
            s.calls[id] = call
            return s.calls.count > 1
        }
        return busy.map { (id, $0) }
    }

    private func remove(_ id: UInt64) -> PendingCall? {
        state.withLock { $0.calls.removeValue(forKey: id) }
    }

    private func request(_ id: UInt64, path: String, payload: [UInt8], metadata: Metadata, timeout: Duration?) -> Envelope {
        let micros = timeout.map { max(1, $0.nanoseconds / 1000) } ?? 0
        return .request(id, method: path, metadata: metadata, timeoutMicros: micros, payload: payload)
    }

    /// Refuses, before sending, a request the server would refuse by closing the connection
    /// (which would fail every other call on it too).
    private func checkSize(path: String, payload: [UInt8], metadata: Metadata) throws(RPCError) {
        // The envelope adds the method, metadata and a few bytes of framing to the payload.
        let estimate = payload.count + path.utf8.count + metadata.byteCount + 4 * metadata.count + 64
        if estimate > configuration.wire.maxFrameBytes {
            throw RPCError(.resourceExhausted, "request of about \(estimate) bytes exceeds the frame limit of \(configuration.wire.maxFrameBytes) bytes")
        }
    }

    /// Sends a request and waits for its final frame (whatever its status).
    func unary(path: String, payload: [UInt8], metadata: Metadata, timeout: Duration?) async throws(RPCError) -> Envelope {
        try checkSize(path: path, payload: payload, metadata: metadata)
        let box = CallBox()
        guard let (id, busy) = register(.unary(box)) else { throw closedError() }
        var timer: TimerID?
        if let timeout {
            timer = framed.loop.schedule(after: timeout) { [self] in
                abandon(id, RPCError(.deadlineExceeded, "no response within \(timeout)"))
            }
        }
        if !framed.send(request(id, path: path, payload: payload, metadata: metadata, timeout: timeout), coalesce: busy) {
            abandon(id, closedError(), tellServer: false)
        }
        let result = await withTaskCancellationHandler {
            await box.wait()
        } onCancel: {
            self.abandon(id, RPCError(.cancelled, "the call was cancelled by the caller"))
        }
        if let timer { framed.loop.cancelTimer(timer) }
        return try result.get()
    }

    /// Starts a server-streaming call whose messages go to `continuation`.
    func startStream<Response: ProtoMessage>(
        path: String, payload: [UInt8], metadata: Metadata, timeout: Duration?,
        continuation: AsyncThrowingStream<Response, any Error>.Continuation
    ) {
        let box = StreamBox(
            yield: { bytes in
                do throws(ProtoDecodingError) {
                    continuation.yield(try Response(serializedBytes: bytes))
                    return true
                } catch {
                    continuation.finish(throwing: RPCError(.internal, "a stream message is not a valid \(Response.protoName)"))
                    return false
                }
            },
            finish: { error in continuation.finish(throwing: error) })
        guard let id = register(.stream(box))?.id else { return box.finish(closedError()) }
        continuation.onTermination = { [weak self] _ in self?.streamEnded(id) }
        sendStreamRequest(id, path: path, payload: payload, metadata: metadata, timeout: timeout)
    }

    /// Starts a server-streaming call whose encoded messages go to `continuation`.
    func startRawStream(
        path: String, payload: [UInt8], metadata: Metadata, timeout: Duration?,
        continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    ) {
        let box = StreamBox(yield: { continuation.yield($0); return true }, finish: { continuation.finish(throwing: $0) })
        guard let id = register(.stream(box))?.id else { return box.finish(closedError()) }
        continuation.onTermination = { [weak self] _ in self?.streamEnded(id) }
        sendStreamRequest(id, path: path, payload: payload, metadata: metadata, timeout: timeout)
    }

    /// The caller stopped consuming a stream: cancel it if the server has not ended it yet.
    private func streamEnded(_ id: UInt64) {
        abandon(id, RPCError(.cancelled, "the stream was cancelled by the caller"))
    }

    private func sendStreamRequest(_ id: UInt64, path: String, payload: [UInt8], metadata: Metadata, timeout: Duration?) {
        do throws(RPCError) {
            try checkSize(path: path, payload: payload, metadata: metadata)
        } catch {
            return abandon(id, error, tellServer: false)
        }
        if let timeout {
            framed.loop.schedule(after: timeout) { [self] in
                abandon(id, RPCError(.deadlineExceeded, "the stream did not finish within \(timeout)"))
            }
        }
        if !framed.send(request(id, path: path, payload: payload, metadata: metadata, timeout: timeout)) {
            abandon(id, closedError(), tellServer: false)
        }
    }

    /// Ends a call locally with `error` and, if it was still pending, tells the server to stop.
    private func abandon(_ id: UInt64, _ error: RPCError, tellServer: Bool = true) {
        guard let call = remove(id) else { return }
        if tellServer { framed.send(Envelope(kind: .cancel, callID: id)) }
        finish(call, .failure(error))
    }

    private func finish(_ call: PendingCall, _ result: Result<Envelope, RPCError>) {
        switch call {
        case let .unary(box):
            box.resolve(result)
        case let .stream(box):
            switch result {
            case let .success(envelope): box.finish(envelope.error)
            case let .failure(error): box.finish(error)
            }
        }
    }

    private func closedError() -> RPCError {
        state.withLock { $0.closeReason } ?? RPCError(.unavailable, "the connection to \(framed.peer) is closed")
    }

    /// When the unanswered PING went out (monotonic ns), 0 when none is outstanding. Loop thread only.
    private var pingSentAt: UInt64 = 0

    /// Every `interval` on the loop thread: a connection silent for an interval gets a PING; one
    /// whose PING got no byte back within the next interval is closed.
    private func scheduleKeepalive(_ interval: Duration) {
        let tick = max(interval / 2, .milliseconds(10))
        framed.loop.schedule(after: tick) { [weak self] in
            guard let self, !self.framed.isClosed else { return }
            let now = MonotonicClock.nanos()
            let last = self.framed.lastActivity
            if self.pingSentAt != 0 && last > self.pingSentAt { self.pingSentAt = 0 }
            if self.pingSentAt != 0 {
                if now > self.pingSentAt && now - self.pingSentAt > interval.nanoseconds {
                    self.framed.close()
                    return
                }
            } else if now > last && now - last >= interval.nanoseconds {
                self.pingSentAt = now
                self.framed.send(Envelope(kind: .ping, callID: 0))
            }
            self.scheduleKeepalive(interval)
        }
    }

    // MARK: FramedConnectionDelegate (loop thread)

    func connection(_ connection: FramedConnection, received envelope: Envelope) {
        switch envelope.kind {
        case .response:
            if let call = remove(envelope.callID) { finish(call, .success(envelope)) }
        case .streamMessage:
            let call = state.withLock { $0.calls[envelope.callID] }
            if case let .stream(box) = call, !box.yield(envelope.payload) {
                abandon(envelope.callID, RPCError(.internal, "undecodable stream message"))
            }
        case .goAway:
            let reason = envelope.error ?? RPCError(.unavailable, "the server is going away")
            let idle = state.withLock { s -> Bool in
                s.goingAway = true
                s.closeReason = reason
                return s.calls.isEmpty
            }
            if idle { connection.close() }
        case .ping:
            connection.send(Envelope(kind: .pong, callID: envelope.callID))
        case .pong:
            break
        case .request, .cancel, nil:
            connection.close()
        }
    }

    func connection(_ connection: FramedConnection, violated error: FrameError) {
        state.withLock { $0.closeReason = RPCError(.internal, "the server broke the protocol: \(error)") }
        connection.close()
    }

    func connection(_ connection: FramedConnection, failedTLS error: TLSError) {
        state.withLock { $0.closeReason = RPCError(.unavailable, error.description) }
    }

    func connectionClosed(_ connection: FramedConnection) {
        let (calls, reason) = state.withLock { s -> ([PendingCall], RPCError?) in
            s.closed = true
            let all = Array(s.calls.values)
            s.calls.removeAll()
            return (all, s.closeReason)
        }
        let error = RPCError(.unavailable, "connection to \(connection.peer) closed" + (reason.map { ": \($0)" } ?? ""))
        for call in calls { finish(call, .failure(error)) }
    }
}

/// Where one unary call's result meets the task waiting for it; resolved exactly once.
final class CallBox: Sendable {
    private enum State {
        case initial
        case waiting(UnsafeContinuation<Result<Envelope, RPCError>, Never>)
        case done(Result<Envelope, RPCError>)
        case delivered
    }

    private let state = Mutex(State.initial)

    func wait() async -> Result<Envelope, RPCError> {
        await withUnsafeContinuation { c in
            let ready = state.withLock { s -> Result<Envelope, RPCError>? in
                if case let .done(r) = s { s = .delivered; return r }
                s = .waiting(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    func resolve(_ result: Result<Envelope, RPCError>) {
        let waiter = state.withLock { s -> UnsafeContinuation<Result<Envelope, RPCError>, Never>? in
            switch s {
            case .initial:
                s = .done(result)
                return nil
            case let .waiting(c):
                s = .delivered
                return c
            case .done, .delivered:
                return nil
            }
        }
        waiter?.resume(returning: result)
    }
}

/// The receiving end of one server-streaming call.
final class StreamBox: Sendable {
    let yield: @Sendable ([UInt8]) -> Bool
    let finish: @Sendable (RPCError?) -> Void

    init(yield: @escaping @Sendable ([UInt8]) -> Bool, finish: @escaping @Sendable (RPCError?) -> Void) {
        self.yield = yield
        self.finish = finish
    }
}
