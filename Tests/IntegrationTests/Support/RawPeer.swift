import Glibc
import RPCWire

/// A hand-driven TCP peer over Glibc sockets, for speaking (and breaking) the protocol byte by
/// byte. Every operation is bounded in time (sends give up after `sendTimeout`, reads after the
/// timeout they are given) and none blocks a thread: the cooperative pool is small and the
/// server's handlers run on it.
final class RawPeer {
    struct ConnectError: Error, CustomStringConvertible {
        let errno: Int32
        var description: String { "connect failed: \(String(cString: strerror(errno)))" }
    }

    enum ReadResult: CustomStringConvertible {
        case frame(Envelope)
        case eof
        case timeout
        case broken(FrameError)

        var envelope: Envelope? {
            if case let .frame(e) = self { return e }
            return nil
        }

        var description: String {
            switch self {
            case let .frame(e): "frame(kind: \(e.kind.map { "\($0)" } ?? "nil"), callID: \(e.callID), status: \(e.status.map { "\($0.code) \($0.message)" } ?? "nil"))"
            case .eof: "eof"
            case .timeout: "timeout"
            case let .broken(e): "broken(\(e))"
            }
        }
    }

    let fd: Int32
    let sendTimeout: Duration
    private var decoder = FrameDecoder(limits: WireLimits(maxFrameBytes: 64 << 20, maxMetadataBytes: 1 << 20))
    private let encoder = FrameEncoder()
    private var closed = false

    /// Connects to 127.0.0.1:`port`. A small receive buffer makes a peer that does not read fill up fast.
    init(port: UInt16, sendTimeout: Duration = .seconds(2), receiveBufferBytes: Int32? = nil) throws(ConnectError) {
        self.sendTimeout = sendTimeout
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(errno: errno) }
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let e = errno
            Glibc.close(fd)
            throw ConnectError(errno: e)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    enum SendResult { case sent, stalled, failed }

    /// Sends all of `bytes`; false when the peer stopped reading for `sendTimeout` or the send failed.
    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool { await trySend(bytes) == .sent }

    /// Sends all of `bytes`: `.stalled` when the other side took nothing for `sendTimeout`, `.failed`
    /// when the connection is gone. Never blocks a thread: it polls, sleeping between tries.
    func trySend(_ bytes: [UInt8]) async -> SendResult {
        var offset = 0
        let clock = ContinuousClock()
        var stalledSince: ContinuousClock.Instant?
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n > 0 { offset += n; stalledSince = nil; continue }
            if n < 0 && errno == EINTR { continue }
            guard n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) else { return .failed }
            let since = stalledSince ?? clock.now
            stalledSince = since
            if clock.now - since > sendTimeout { return .stalled }
            try? await Task.sleep(for: .microseconds(200))
        }
        return .sent
    }

    /// Bytes of one frame carrying `envelope`.
    func frame(_ envelope: Envelope) -> [UInt8] { encoder.frame(envelope) }

    @discardableResult
    func send(_ envelope: Envelope) async -> Bool { await send(frame(envelope)) }

    /// The next frame, EOF, a broken byte stream, or a timeout. Never blocks a thread: it polls,
    /// sleeping between tries.
    func read(timeout: Duration = .seconds(3)) async -> ReadResult {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            do {
                if let envelope = try decoder.next() { return .frame(envelope) }
            } catch {
                return .broken(error)
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 { return .eof }
            if n > 0 {
                decoder.append(Array(chunk[0..<n]))
                continue
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return .eof }  // ECONNRESET: closed
            if clock.now >= end { return .timeout }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Reads frames until one satisfies `match` (skipping others), EOF or the timeout.
    func read(until match: (Envelope) -> Bool, timeout: Duration = .seconds(3)) async -> ReadResult {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        for _ in 0..<1_000_000 {
            let result = await read(timeout: max(clock.now.duration(to: end), .zero))
            switch result {
            case let .frame(e) where match(e): return result
            case .frame: continue
            default: return result
            }
        }
        return .timeout
    }

    /// Waits for the server to close the connection, reading and discarding any frames; true on EOF.
    func waitForClose(timeout: Duration = .seconds(3)) async -> Bool {
        if case .eof = await read(until: { _ in false }, timeout: timeout) { return true }
        return false
    }

    /// A REQUEST envelope.
    static func request(_ id: UInt64, _ method: String, _ payload: [UInt8] = [], timeoutMicros: UInt64 = 0,
                        metadata: Metadata = Metadata()) -> Envelope {
        .request(id, method: method, metadata: metadata, timeoutMicros: timeoutMicros, payload: payload)
    }
}

/// A REQUEST frame assembled by hand (no per-byte work: fast even in a debug build).
func requestFrame(callID: UInt64, method: String, payload: [UInt8]) -> [UInt8] {
    func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }
    var body: [UInt8] = [0x08, 0x01, 0x10] + varint(callID)
    body += [0x1a] + varint(UInt64(method.utf8.count)) + Array(method.utf8)
    if !payload.isEmpty { body += [0x32] + varint(UInt64(payload.count)) + payload }
    let n = UInt32(body.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + body
}

/// Parses "0a0b..." into bytes.
func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = hex.filter { !$0.isWhitespace }[...]
    while chars.count >= 2 {
        out.append(UInt8(chars.prefix(2), radix: 16)!)
        chars = chars.dropFirst(2)
    }
    return out
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}
