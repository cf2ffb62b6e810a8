import RPCTransport
import RPCWire
import Synchronization

/// One client connection on the server: turns frames into calls, tracks the calls in flight,
/// enforces deadlines, cancellation and limits, and writes each call's final status exactly once.
final class ServerConnection: FramedConnectionDelegate, @unchecked Sendable {
    let connection: FramedConnection
    let core: ServerCore
    let shard: Int
    private let calls = Mutex<[UInt64: ActiveCall]>([:])
    private let nextToken = Atomic<UInt64>(0)

    /// A call served off the I/O thread. The token tells this call from a later one that reuses its id.
    private struct ActiveCall {
        let token: UInt64
        let route: Int
        let startNanos: UInt64
        let traceID: String?
        /// A server-streaming call: it ends at shutdown's GOAWAY instead of running through the grace.
        let isStream: Bool
        var task: Task<Void, Never>?
        var timer: TimerID?
    }

    init(connection: FramedConnection, core: ServerCore, shard: Int) {
        self.connection = connection
        self.core = core
        self.shard = shard
    }

    /// Calls taken out of `calls` whose final frame is not yet queued: still in flight for shutdown,
    /// which must not close the connection between the two.
    private let responding = Atomic<Int>(0)

    /// Calls whose final frame is not queued yet (read under the calls' lock, which `take` holds
    /// while it moves a call from one count to the other).
    var callsInFlight: Int { calls.withLock { $0.count + responding.load(ordering: .acquiring) } }

    // MARK: FramedConnectionDelegate (loop thread)

    func connection(_ connection: FramedConnection, received envelope: Envelope) {
        switch envelope.kind {
        case .request:
            handleRequest(envelope)
        case .cancel:
            cancelCall(envelope.callID)
        case .ping:
            connection.send(Envelope(kind: .pong, callID: envelope.callID))
        case .pong:
            break
        case .response, .streamMessage, .goAway, nil:
            // The byte stream is intact, so only this frame is refused; the connection goes on.
            let kind = envelope.kind.map { "\($0)" } ?? "unknown kind"
            respond(envelope.callID, .failure(RPCError(.invalidArgument, "a client may not send a frame of kind \(kind)")))
        }
    }

    func connection(_ connection: FramedConnection, violated error: FrameError) {
        core.logger.log(.warning, "closing connection: protocol violation", ["peer": connection.peer, "error": error.description])
        goAway(error.rpcError)
    }

    func connection(_ connection: FramedConnection, failedTLS error: TLSError) {
        core.logger.log(.warning, "closing connection: TLS failed", ["peer": connection.peer, "error": error.description])
    }

    func connectionClosed(_ connection: FramedConnection) {
        let abandoned = calls.withLock { c -> [(UInt64, ActiveCall)] in
            let all = c.map { ($0.key, $0.value) }
            c.removeAll()
            return all
        }
        for (id, call) in abandoned {
            call.task?.cancel()
            if let timer = call.timer { connection.loop.cancelTimer(timer) }
            core.finished(shard: shard, route: call.route, code: .cancelled, startNanos: call.startNanos,
                          callID: id, traceID: call.traceID, note: "connection closed")
        }
        core.remove(self)
    }

    /// Tells the client why and closes once the message is out.
    func goAway(_ error: RPCError) {
        connection.stopReading()
        connection.send(Envelope(kind: .goAway, callID: 0, status: RPCStatus(error)))
        connection.closeAfterFlush()
    }

    /// Announces shutdown; calls in flight go on.
    func announceShutdown() {
        connection.send(Envelope(kind: .goAway, callID: 0, status: RPCStatus(code: .unavailable, message: "server is shutting down")))
    }

    /// Server-streaming calls in flight.
    var streamsInFlight: Int { calls.withLock { $0.values.count(where: \.isStream) } }

    /// Ends every server-streaming call still in flight with UNAVAILABLE: streams would otherwise
    /// run until the grace period ends, holding the shutdown back for nothing.
    func endStreams() {
        let streams = calls.withLock { c -> [(UInt64, ActiveCall)] in
            let ending = c.filter { $0.value.isStream }.map { ($0.key, $0.value) }
            for (id, _) in ending { c[id] = nil }
            return ending
        }
        for (id, call) in streams {
            call.task?.cancel()
            if let timer = call.timer { connection.loop.cancelTimer(timer) }
            respond(id, .failure(RPCError(.unavailable, "server is shutting down")))
            core.finished(shard: shard, route: call.route, code: .unavailable, startNanos: call.startNanos, callID: id,
                          traceID: call.traceID, note: "stream ended at shutdown")
        }
    }

    // MARK: Calls

    /// Writes a call's final frame. `coalesce` leaves the write to the loop when other calls are
    /// in flight, so completions arriving together leave in one syscall.
    private func respond(_ callID: UInt64, _ result: Result<[UInt8], RPCError>, coalesce: Bool = false) {
        switch result {
        case let .success(payload): connection.send(.response(callID, status: .ok, payload: payload), coalesce: coalesce)
        case let .failure(error): connection.send(.response(callID, status: RPCStatus(error), metadata: error.metadata), coalesce: coalesce)
        }
    }

    private func handleRequest(_ request: Envelope) {
        let start = MonotonicClock.nanos()
        let id = request.callID
        let fail = { (route: Int?, error: RPCError) in
            self.respond(id, .failure(error))
            self.core.finished(shard: self.shard, route: route, code: error.code, startNanos: start, callID: id,
                               traceID: request.metadata[Metadata.Keys.traceID], method: request.method, note: error.message)
        }
        if core.isDraining { return fail(nil, RPCError(.unavailable, "server is shutting down")) }
        guard !request.method.isEmpty else { return fail(nil, RPCError(.invalidArgument, "request frame without a method")) }
        guard let routeIndex = core.router.index(of: request.method) else {
            if core.router.isDeclaredOnly(request.method) {
                return fail(nil, RPCError(.unimplemented, "method \(request.method) is not implemented yet"))
            }
            return fail(nil, RPCError(.unimplemented, "unknown method \(request.method)"))
        }
        let limit = core.configuration.wire.maxMetadataBytes
        if request.metadata.byteCount > limit {
            return fail(routeIndex, RPCError(.resourceExhausted, "metadata of \(request.metadata.byteCount) bytes exceeds the limit of \(limit) bytes"))
        }
        let route = core.router.route(at: routeIndex)
        let deadline: UInt64? = request.timeoutMicros > 0 ? start &+ min(request.timeoutMicros, UInt64(Int64.max) / 1000) &* 1000 : nil
        var context = ServerContext(method: route.info, callID: id, metadata: request.metadata, deadlineNanos: deadline, peer: connection.peer)
        if let certificate = connection.peerCertificate { context[PeerCertificateKey.self] = certificate }

        switch route.handler {
        case let .inline(body):
            // The same per-connection rules as every other REQUEST: a call id still open is a
            // protocol error, and a call over the limit is refused, whichever route answers it.
            guard admitInline(id, route: routeIndex, start: start, traceID: context.traceID) else { return }
            let result: Result<[UInt8], RPCError>
            do throws(RPCError) { result = .success(try body(request.payload, context, core.router.interceptors(at: routeIndex))) } catch { result = .failure(error) }
            respond(id, result)
            core.finished(shard: shard, route: routeIndex, code: result.code, startNanos: start, callID: id,
                          traceID: context.traceID, note: result.errorMessage)

        case let .unary(body):
            guard let token = admit(id, route: routeIndex, start: start, traceID: context.traceID, deadline: deadline, isStream: false) else { return }
            let task = Task {
                let result: Result<[UInt8], RPCError>
                do throws(RPCError) { result = .success(try await body(request.payload, context, self.core.router.interceptors(at: routeIndex))) } catch { result = .failure(error) }
                self.complete(id, token: token, result)
            }
            attach(task, to: id, token: token)

        case let .serverStreaming(body):
            guard let token = admit(id, route: routeIndex, start: start, traceID: context.traceID, deadline: deadline, isStream: true) else { return }
            let sink = StreamSink { [self] bytes throws(RPCError) in
                guard isActive(id, token: token) else { throw RPCError(.cancelled, "the call is over") }
                guard await connection.waitUntilWritable() else { throw RPCError(.unavailable, "the connection closed") }
                guard isActive(id, token: token) else { throw RPCError(.cancelled, "the call is over") }
                connection.send(Envelope(kind: .streamMessage, callID: id, payload: bytes))
            }
            let task = Task {
                let result: Result<[UInt8], RPCError>
                do throws(RPCError) { try await body(request.payload, context, self.core.router.interceptors(at: routeIndex), sink); result = .success([]) } catch { result = .failure(error) }
                self.complete(id, token: token, result)
            }
            attach(task, to: id, token: token)
        }
    }

    /// Checks an inline call against the calls in flight; false (after answering) when its id is
    /// taken or the connection is at its limit. Inline calls finish before the next frame is read,
    /// so they are never registered themselves.
    private func admitInline(_ id: UInt64, route: Int, start: UInt64, traceID: String?) -> Bool {
        enum Outcome { case admitted, duplicate, full }
        let limit = core.configuration.maxCallsPerConnection
        let outcome = calls.withLock { c -> Outcome in
            if c[id] != nil { return .duplicate }
            if c.count >= limit { return .full }
            return .admitted
        }
        switch outcome {
        case .admitted:
            return true
        case .duplicate:
            goAway(RPCError(.invalidArgument, "call id \(id) is already in flight on this connection"))
            return false
        case .full:
            respond(id, .failure(RPCError(.resourceExhausted, "more than \(limit) calls in flight on this connection")))
            core.finished(shard: shard, route: route, code: .resourceExhausted, startNanos: start, callID: id, traceID: traceID, note: "too many calls")
            return false
        }
    }

    /// Registers an async call; nil (after answering) when the id is taken or the limit is reached.
    private func admit(_ id: UInt64, route: Int, start: UInt64, traceID: String?, deadline: UInt64?, isStream: Bool) -> UInt64? {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).newValue
        enum Outcome { case admitted, duplicate, full }
        let limit = core.configuration.maxCallsPerConnection
        let outcome = calls.withLock { c -> Outcome in
            if c[id] != nil { return .duplicate }
            if c.count >= limit { return .full }
            c[id] = ActiveCall(token: token, route: route, startNanos: start, traceID: traceID, isStream: isStream)
            return .admitted
        }
        switch outcome {
        case .duplicate:
            goAway(RPCError(.invalidArgument, "call id \(id) is already in flight on this connection"))
            return nil
        case .full:
            respond(id, .failure(RPCError(.resourceExhausted, "more than \(limit) calls in flight on this connection")))
            core.finished(shard: shard, route: route, code: .resourceExhausted, startNanos: start, callID: id, traceID: traceID, note: "too many calls")
            return nil
        case .admitted:
            if let deadline {
                let timer = connection.loop.schedule(atNanos: deadline) { [self] in expire(id, token: token) }
                calls.withLock { c in if c[id]?.token == token { c[id]?.timer = timer } }
            }
            return token
        }
    }

    private func attach(_ task: Task<Void, Never>, to id: UInt64, token: UInt64) {
        calls.withLock { c in if c[id]?.token == token { c[id]?.task = task } }
    }

    private func isActive(_ id: UInt64, token: UInt64) -> Bool {
        calls.withLock { $0[id]?.token == token }
    }

    /// Removes the call if it is still this one; whoever removes it writes the final status, then
    /// calls ``responded()``.
    private func take(_ id: UInt64, token: UInt64) -> (call: ActiveCall, othersInFlight: Bool)? {
        calls.withLock { c in
            guard let call = c[id], call.token == token else { return nil }
            c[id] = nil
            responding.add(1, ordering: .acquiringAndReleasing)
            return (call, !c.isEmpty)
        }
    }

    /// The final frame of a taken call is queued.
    private func responded() {
        responding.subtract(1, ordering: .acquiringAndReleasing)
    }

    private func complete(_ id: UInt64, token: UInt64, _ result: Result<[UInt8], RPCError>) {
        guard let (call, busy) = take(id, token: token) else { return }
        if let timer = call.timer { connection.loop.cancelTimer(timer) }
        respond(id, result, coalesce: busy)
        responded()
        core.finished(shard: shard, route: call.route, code: result.code, startNanos: call.startNanos, callID: id,
                      traceID: call.traceID, note: result.errorMessage)
    }

    private func expire(_ id: UInt64, token: UInt64) {
        guard let call = take(id, token: token)?.call else { return }
        call.task?.cancel()
        respond(id, .failure(RPCError(.deadlineExceeded, "deadline exceeded before the call finished")))
        responded()
        core.finished(shard: shard, route: call.route, code: .deadlineExceeded, startNanos: call.startNanos, callID: id,
                      traceID: call.traceID, note: "deadline exceeded")
    }

    private func cancelCall(_ id: UInt64) {
        let call = calls.withLock { c -> ActiveCall? in c.removeValue(forKey: id) }
        guard let call else { return }
        call.task?.cancel()
        if let timer = call.timer { connection.loop.cancelTimer(timer) }
        core.finished(shard: shard, route: call.route, code: .cancelled, startNanos: call.startNanos, callID: id,
                      traceID: call.traceID, note: "cancelled by the client")
    }

    /// Ends every call still in flight with UNAVAILABLE (the grace period is over).
    func abortCalls() {
        let all = calls.withLock { c -> [(UInt64, ActiveCall)] in
            let items = c.map { ($0.key, $0.value) }
            c.removeAll()
            return items
        }
        for (id, call) in all {
            call.task?.cancel()
            respond(id, .failure(RPCError(.unavailable, "server shut down before the call finished")))
            core.finished(shard: shard, route: call.route, code: .unavailable, startNanos: call.startNanos, callID: id,
                          traceID: call.traceID, note: "shutdown")
        }
    }
}

extension Result where Success == [UInt8], Failure == RPCError {
    var code: StatusCode {
        switch self {
        case .success: .ok
        case let .failure(e): e.code
        }
    }

    var errorMessage: String? {
        switch self {
        case .success: nil
        case let .failure(e): e.message
        }
    }
}
