import CSystemShims
import Glibc
import RPCWire
import Synchronization

/// Receives what a framed connection reads. Every callback runs on the connection's loop thread.
public protocol FramedConnectionDelegate: AnyObject, Sendable {
    /// A complete envelope arrived.
    func connection(_ connection: FramedConnection, received envelope: Envelope)
    /// The byte stream broke the protocol; the connection sends the error as GOAWAY and closes.
    func connection(_ connection: FramedConnection, violated error: FrameError)
    /// The connection closed, for whatever reason. Called once.
    func connectionClosed(_ connection: FramedConnection)
    /// TLS failed (the handshake, or the session later); the connection closes next.
    func connection(_ connection: FramedConnection, failedTLS error: TLSError)
}

extension FramedConnectionDelegate {
    /// Plain-TCP delegates need not care; the close that follows is reported as usual.
    public func connection(_ connection: FramedConnection, failedTLS error: TLSError) {}
}

/// Buffering limits of one connection's outbound side.
public struct BackpressureLimits: Sendable {
    /// Above this many unsent bytes the connection stops reading and stream senders wait.
    public var highWaterBytes: Int = 4 * 1024 * 1024
    /// Reading resumes and senders go on once the backlog is below this.
    public var lowWaterBytes: Int = 1024 * 1024

    public init(highWaterBytes: Int = 4 * 1024 * 1024, lowWaterBytes: Int = 1024 * 1024) {
        self.highWaterBytes = highWaterBytes
        self.lowWaterBytes = lowWaterBytes
    }
}

/// A TCP connection carrying length-prefixed envelopes, shared by the server and the client,
/// optionally inside TLS.
///
/// Reads happen on the loop thread. Sends may come from any thread: the first sender to find no
/// write under way writes everything pending, and senders that arrive meanwhile only append, so
/// under load many frames leave in one syscall (a combining writer). Frames produced while the
/// loop is handling a read batch are written once at the end of the batch.
public final class FramedConnection: EventHandler, @unchecked Sendable {
    public let fd: Int32
    public let loop: EventLoop
    /// "127.0.0.1:53211".
    public let peer: String
    public let backpressure: BackpressureLimits
    private var delegate: (any FramedConnectionDelegate)?
    private var decoder: FrameDecoder
    private var reading = true
    private var closedOnLoop = false
    private let out = Mutex(Outbound())
    private let lastActivityNanos = Atomic<UInt64>(MonotonicClock.nanos())
    private let partialSinceNanos = Atomic<UInt64>(0)
    /// The TLS engine between the frames and the socket; nil for plain TCP, which then runs
    /// exactly the code it ran before TLS existed.
    public let tls: TLSSession?
    /// The TLS handshake has not completed yet (loop thread). Until it does, frames queue
    /// unsent, and the wait counts as an incomplete frame for the server's timeout.
    private var handshaking = false
    /// A failed TLS handshake's alert is going out before the close (loop thread).
    private var lingering = false
    /// Plaintext the TLS engine produced from the last read (loop thread; reused).
    private var tlsPlaintext: [UInt8] = []
    /// The certificate the TLS peer presented and the server verified; set on the loop thread
    /// when the handshake completes, before any frame of the peer is delivered.
    public private(set) var peerCertificate: TLSPeerCertificate?

    private struct Outbound {
        var pending: [UInt8] = []
        var spare: [UInt8] = []
        var writerActive = false
        var waitingWritable = false
        var deferFlush = false
        var flushScheduled = false
        var closed = false
        var closeAfterFlush = false
        var fdCloseDeferred = false
        /// The TLS handshake is under way: frames wait.
        var handshaking = false
        let encoder = FrameEncoder()
        var drainWaiters: [UnsafeContinuation<Bool, Never>] = []

        /// Takes what is pending for a writer, if no write is under way and none is deferred.
        mutating func takeForWriting() -> [UInt8]? {
            guard !writerActive, !waitingWritable, !deferFlush, !closed, !handshaking, !pending.isEmpty else { return nil }
            writerActive = true
            var taken = spare
            swap(&taken, &pending)
            spare = []
            return taken
        }
    }

    /// A connection over the connected socket `fd`; with `tls`, frames travel inside that TLS
    /// session, whose handshake starts with ``start(delegate:)``.
    public init(fd: Int32, peer: String, loop: EventLoop, limits: WireLimits, backpressure: BackpressureLimits = BackpressureLimits(),
                tls: TLSSession? = nil) {
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.backpressure = backpressure
        self.decoder = FrameDecoder(limits: limits)
        self.tls = tls
        if tls != nil {
            handshaking = true
            out.withLock { $0.handshaking = true }
            partialSinceNanos.store(MonotonicClock.nanos(), ordering: .relaxed)
        }
    }

    /// Registers with the loop and starts reading.
    public func start(delegate: any FramedConnectionDelegate) {
        loop.execute { [self] in
            self.delegate = delegate
            do {
                try loop.register(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, handler: self)
            } catch {
                closeNow()
                return
            }
            if let tls {
                switch tls.start(fd: fd) {
                case .done: break
                case .blocked: waitForWritableCiphertext()
                case .failed: failTLS(TLSError(.handshakeFailed, "cannot start the handshake with \(peer)"))
                }
            }
        }
    }

    /// Monotonic nanoseconds of the last byte read.
    public var lastActivity: UInt64 { lastActivityNanos.load(ordering: .relaxed) }
    /// Since when an incomplete frame has been waiting for its remaining bytes, or since the
    /// connection opened while its TLS handshake is under way (so the same timeout bounds a
    /// silent TLS peer); 0 when none is, or while reading is paused for backpressure (the wait
    /// is then the server's doing).
    public var partialFrameSince: UInt64 {
        readPaused.load(ordering: .relaxed) ? 0 : partialSinceNanos.load(ordering: .relaxed)
    }

    /// Bytes queued but not yet handed to the kernel.
    public var backlogBytes: Int { out.withLock { $0.pending.count } }

    public var isClosed: Bool { out.withLock { $0.closed } }

    // MARK: Sending

    /// Queues a frame and writes it now unless a write is under way or deferred. Any thread.
    ///
    /// With `coalesce`, the write is left to the loop thread, which writes everything queued by
    /// then in one syscall: callers pass it when more frames are sure to follow soon (other calls
    /// in flight), trading a few microseconds of latency for far fewer syscalls under load.
    /// Returns false when the connection is closed.
    @discardableResult
    public func send(_ envelope: Envelope, coalesce: Bool = false) -> Bool {
        var accepted = true
        var scheduleFlush = false
        // A large frame is encoded before taking the lock, so the loop thread never waits on it.
        let preEncoded = envelope.payload.count > 16 * 1024 ? FrameEncoder().frame(envelope) : nil
        let bytes = out.withLock { o -> [UInt8]? in
            guard !o.closed, !o.closeAfterFlush else { accepted = false; return nil }
            if let preEncoded { o.pending.append(contentsOf: preEncoded) } else { o.encoder.append(envelope, to: &o.pending) }
            if coalesce {
                if !o.flushScheduled && !o.writerActive && !o.deferFlush && !o.waitingWritable {
                    o.flushScheduled = true
                    scheduleFlush = true
                }
                return nil
            }
            return o.takeForWriting()
        }
        if let bytes { write(bytes) }
        if scheduleFlush {
            loop.execute { [self] in
                let bytes = out.withLock { o -> [UInt8]? in
                    o.flushScheduled = false
                    return o.takeForWriting()
                }
                if let bytes { write(bytes) }
            }
        }
        return accepted
    }

    /// Suspends while the backlog is above the high-water mark. Returns false if the connection closed.
    public func waitUntilWritable() async -> Bool {
        let ready = out.withLock { o -> Bool? in
            if o.closed { return false }
            return o.pending.count <= backpressure.highWaterBytes ? true : nil
        }
        if let ready { return ready }
        return await withUnsafeContinuation { (c: UnsafeContinuation<Bool, Never>) in
            let resumeNow = out.withLock { o -> Bool? in
                if o.closed { return false }
                if o.pending.count <= backpressure.lowWaterBytes { return true }
                o.drainWaiters.append(c)
                return nil
            }
            if let resumeNow { c.resume(returning: resumeNow) }
        }
    }

    private func write(_ first: [UInt8]) {
        if let tls { return writeTLS(first, tls) }
        var buffer = first
        while true {
            var offset = 0
            var failed = false
            buffer.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                while offset < raw.count {
                    let n = Glibc.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if n > 0 { offset += n; continue }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
                    failed = true
                    return
                }
            }
            if failed {
                finishWriter(requeue: [])
                close()
                return
            }
            if offset < buffer.count {
                // The kernel buffer is full: keep the rest and let the loop write when it drains.
                finishWriter(requeue: Array(buffer[offset...]), waitWritable: true)
                loop.execute { [self] in armWritable() }
                return
            }
            buffer.removeAll(keepingCapacity: true)
            guard let next = nextBatch(recycling: buffer) else { return }
            buffer = next
        }
    }

    /// The writer over TLS: encrypts each batch and writes the ciphertext. When the socket is
    /// full, the batch was still taken whole; the ciphertext left waits in the session.
    private func writeTLS(_ first: [UInt8], _ tls: TLSSession) {
        var buffer = first
        while true {
            let result = buffer.withUnsafeBytes { tls.send($0, fd: fd) }
            switch result {
            case .done:
                break
            case .blocked:
                finishWriter(requeue: [], waitWritable: true)
                loop.execute { [self] in armWritable() }
                return
            case .failed:
                finishWriter(requeue: [])
                close()
                return
            }
            buffer.removeAll(keepingCapacity: true)
            guard let next = nextBatch(recycling: buffer) else { return }
            buffer = next
        }
    }

    /// Loop thread: ciphertext the engine produced while reading waits for the socket to drain.
    private func waitForWritableCiphertext() {
        out.withLock { $0.waitingWritable = true }
        armWritable()
    }

    /// Loop thread: TLS failed; tell the delegate why, then close.
    private func failTLS(_ error: TLSError) {
        guard !closedOnLoop, !lingering else { return }
        delegate?.connection(self, failedTLS: error)
        guard let tls, tls.isServer else { return closeNow() }
        // The server's alert is queued or on its way. Closing with the client's bytes still
        // unread would send a RST that can overtake the alert and hide the reason from the
        // client: discard what it sends until it closes, for a quarter of a second at most.
        lingering = true
        reading = false
        stoppedForGood = true
        out.withLock { $0.closeAfterFlush = true }
        loop.modify(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLOUT.rawValue)
        loop.schedule(after: .milliseconds(250)) { [self] in closeNow() }
    }

    /// Loop thread, after a failed server handshake: writes what is left of the alert and
    /// discards what arrives until the peer closes.
    private func linger(events: UInt32) {
        if events & EPOLLOUT.rawValue != 0 {
            switch tls?.flush(fd: fd) ?? .done {
            case .blocked: break
            case .done: loop.modify(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
            case .failed: return closeNow()
            }
        }
        if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { return closeNow() }
        var peerClosed = events & EPOLLRDHUP.rawValue != 0
        withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { chunk in
            guard let base = chunk.baseAddress else { return }
            for _ in 0..<64 {
                let n = Glibc.recv(fd, base, chunk.count, 0)
                if n > 0 { continue }
                if n < 0 && errno == EINTR { continue }
                if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { peerClosed = true }
                return
            }
        }
        if peerClosed { closeNow() }
    }

    /// After a full write: the next batch to write, or nil when the writer is done.
    private func nextBatch(recycling buffer: [UInt8]) -> [UInt8]? {
        var waiters: [UnsafeContinuation<Bool, Never>] = []
        var closeFD = false
        var closeLater = false
        let next = out.withLock { o -> [UInt8]? in
            if o.spare.capacity < buffer.capacity { o.spare = buffer }
            if o.closed || o.pending.isEmpty {
                o.writerActive = false
                if o.pending.count <= backpressure.lowWaterBytes { swap(&waiters, &o.drainWaiters) }
                if o.closed && o.fdCloseDeferred { closeFD = true; o.fdCloseDeferred = false }
                if !o.closed && o.closeAfterFlush && o.pending.isEmpty { closeLater = true }
                return nil
            }
            var taken = o.spare
            swap(&taken, &o.pending)
            o.spare = []
            return taken
        }
        for w in waiters { w.resume(returning: true) }
        if closeFD { Glibc.close(fd) }
        if closeLater { close() }
        if next == nil && readPaused.load(ordering: .acquiring) { loop.execute { [self] in resumeReadingIfDrained() } }
        return next
    }

    private func finishWriter(requeue: [UInt8], waitWritable: Bool = false) {
        var closeFD = false
        out.withLock { o in
            o.writerActive = false
            if !requeue.isEmpty { o.pending.insert(contentsOf: requeue, at: 0) }
            if waitWritable { o.waitingWritable = true }
            if o.closed && o.fdCloseDeferred { closeFD = true; o.fdCloseDeferred = false }
        }
        if closeFD { Glibc.close(fd) }
    }

    private func armWritable() {
        guard !closedOnLoop, !lingering else { return }
        loop.modify(fd, events: (reading ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : 0) | EPOLLOUT.rawValue)
    }

    /// Loop thread: the socket became writable after EAGAIN.
    private func flushWhenWritable() {
        if let tls {
            switch tls.flush(fd: fd) {
            case .done: break
            case .blocked: return
            case .failed: closeNow(); return
            }
        }
        let bytes = out.withLock { o -> [UInt8]? in
            o.waitingWritable = false
            if let taken = o.takeForWriting() { return taken }
            // Over TLS the last batch may have been taken whole with its ciphertext stuck: now
            // that it is out, an empty write does the writer's bookkeeping (drain waiters,
            // a close after flush, paused reading).
            if tls != nil && !o.writerActive && !o.deferFlush && !o.closed && !o.handshaking {
                o.writerActive = true
                return []
            }
            return nil
        }
        loop.modify(fd, events: reading ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : 0)
        if let bytes { write(bytes) }
    }

    private func resumeReadingIfDrained() {
        guard !closedOnLoop, !reading, !stoppedForGood else { return }
        if backlogBytes <= backpressure.lowWaterBytes {
            reading = true
            readPaused.store(false, ordering: .releasing)
            // The server, not the peer, held the rest of a partial frame back: restart its clock.
            if partialSinceNanos.load(ordering: .relaxed) != 0 { partialSinceNanos.store(MonotonicClock.nanos(), ordering: .relaxed) }
            loop.modify(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
        }
    }

    private var stoppedForGood = false
    /// Reading is paused because the backlog went over the high-water mark (read from writers).
    private let readPaused = Atomic<Bool>(false)

    // MARK: Reading

    public func handle(events: UInt32) {
        if lingering { return linger(events: events) }
        if events & EPOLLOUT.rawValue != 0 { flushWhenWritable() }
        if events & EPOLLIN.rawValue != 0 && reading { readAvailable() }
        if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { closeNow(); return }
        if events & EPOLLRDHUP.rawValue != 0 && events & EPOLLIN.rawValue == 0 { closeNow() }
    }

    private static let readChunk = 64 * 1024

    private func readAvailable() {
        out.withLock { $0.deferFlush = true }
        var budget = 16
        var sawEOF = false
        var ciphertextBlocked = false
        var tlsFailure: TLSError?
        withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 16) { chunk in
            guard let base = chunk.baseAddress else { return }
            while budget > 0 && reading && !closedOnLoop {
                budget -= 1
                let n = Glibc.recv(fd, base, Self.readChunk, 0)
                if n == 0 { sawEOF = true; return }
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno != EAGAIN && errno != EWOULDBLOCK { sawEOF = true }
                    return
                }
                lastActivityNanos.store(MonotonicClock.nanos(), ordering: .relaxed)
                if let tls {
                    tlsPlaintext.removeAll(keepingCapacity: true)
                    let result = tls.receive(UnsafeRawBufferPointer(start: base, count: n), fd: fd, into: &tlsPlaintext)
                    if result.handshakeCompleted { handshakeCompleted(tls) }
                    if !tlsPlaintext.isEmpty {
                        tlsPlaintext.withUnsafeBytes { decoder.append($0) }
                        drainDecoder()
                    }
                    if result.blocked { ciphertextBlocked = true }
                    if let error = result.error { tlsFailure = error; return }
                    if result.peerClosed { sawEOF = true; return }
                } else {
                    decoder.append(UnsafeRawBufferPointer(start: base, count: n))
                    drainDecoder()
                }
                if n < Self.readChunk { return }
            }
        }
        if tlsPlaintext.capacity > 32 * 1024 { tlsPlaintext = [] }
        if let tlsFailure {
            out.withLock { $0.deferFlush = false }
            failTLS(tlsFailure)
            return
        }
        if ciphertextBlocked && !closedOnLoop { waitForWritableCiphertext() }
        if decoder.bufferedByteCount > 0 || handshaking {
            if partialSinceNanos.load(ordering: .relaxed) == 0 {
                partialSinceNanos.store(MonotonicClock.nanos(), ordering: .relaxed)
            }
        } else {
            partialSinceNanos.store(0, ordering: .relaxed)
        }
        let bytes = out.withLock { o -> [UInt8]? in
            o.deferFlush = false
            return o.takeForWriting()
        }
        if let bytes { write(bytes) }
        if sawEOF { closeNow(); return }
        if reading && !closedOnLoop && backlogBytes > backpressure.highWaterBytes {
            // The peer is not reading its responses: stop taking new requests until it does.
            reading = false
            readPaused.store(true, ordering: .releasing)
            loop.modify(fd, events: EPOLLOUT.rawValue)
        }
    }

    /// Loop thread: the TLS handshake completed; frames queued meanwhile may go.
    private func handshakeCompleted(_ tls: TLSSession) {
        handshaking = false
        peerCertificate = tls.peerCertificate()
        out.withLock { $0.handshaking = false }
    }

    private func drainDecoder() {
        while reading && !closedOnLoop {
            do {
                guard let envelope = try decoder.next() else { return }
                delegate?.connection(self, received: envelope)
            } catch {
                reading = false
                stoppedForGood = true
                delegate?.connection(self, violated: error)
                return
            }
        }
    }

    /// Stops reading for good (the peer broke the protocol or the server is draining this connection).
    public func stopReading() {
        if loop.inLoop { stopReadingNow() } else { loop.execute { [self] in stopReadingNow() } }
    }

    private func stopReadingNow() {
        guard !closedOnLoop, !lingering else { return }
        reading = false
        stoppedForGood = true
        // Keep waiting for writability if a backlog is stuck, so the last frames still go out.
        let waiting = out.withLock { $0.waitingWritable }
        loop.modify(fd, events: waiting ? EPOLLOUT.rawValue : 0)
    }

    // MARK: Closing

    /// Closes once everything queued so far has been written, or after `limit` if the peer does
    /// not read it by then. Any thread.
    public func closeAfterFlush(limit: Duration = .seconds(5)) {
        let now = out.withLock { o -> Bool in
            o.closeAfterFlush = true
            // Before the TLS handshake completed nothing queued can go out: close at once.
            return o.handshaking || (!o.writerActive && !o.waitingWritable && o.pending.isEmpty)
        }
        if now {
            close()
        } else {
            loop.schedule(after: limit) { [self] in close() }
        }
    }

    /// Closes now, dropping anything unsent. Any thread.
    public func close() {
        if loop.inLoop { closeNow() } else { loop.execute { [self] in closeNow() } }
    }

    private func closeNow() {
        guard !closedOnLoop else { return }
        closedOnLoop = true
        reading = false
        var waiters: [UnsafeContinuation<Bool, Never>] = []
        let closeFDNow = out.withLock { o -> Bool in
            o.closed = true
            swap(&waiters, &o.drainWaiters)
            o.pending = []
            if o.writerActive { o.fdCloseDeferred = true; return false }
            return true
        }
        for w in waiters { w.resume(returning: false) }
        shutdown(fd, Int32(SHUT_RDWR))
        loop.unregister(fd)
        if closeFDNow { Glibc.close(fd) }
        let d = delegate
        delegate = nil
        d?.connectionClosed(self)
    }
}
