import Foundation
import Glibc
import RPCTransport

/// What a probe route answers: an HTTP status and a short text body.
public struct ProbeAnswer: Sendable {
    /// 200 when healthy or ready, 503 when not.
    public let status: Int
    /// One line saying why.
    public let body: String

    /// An answer.
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// A minimal HTTP/1.1 endpoint for operators: `GET /metrics` in the Prometheus text format, and
/// probe routes such as `GET /healthz` and `GET /readyz` for load balancers and orchestrators.
///
/// Scrapes and probes are rare and small, so it runs on its own thread with blocking sockets, away
/// from the RPC event loops; probe routes must answer from state kept up to date elsewhere.
public final class MetricsEndpoint: @unchecked Sendable {
    private let fd: Int32
    public let port: UInt16
    private let render: @Sendable () -> String
    private let probes: [String: @Sendable () -> ProbeAnswer]

    /// Serves `render()` at `/metrics` and each of `probes` at its path.
    public init(address: SocketAddress, probes: [String: @Sendable () -> ProbeAnswer] = [:],
                render: @escaping @Sendable () -> String) throws(TransportError) {
        let (fd, port) = try Socket.listen(address, backlog: 16)
        self.fd = fd
        self.port = port
        self.render = render
        self.probes = probes
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        let thread = Thread { [self] in serve() }
        thread.name = "metrics-http"
        thread.start()
    }

    private func serve() {
        while true {
            let client = Glibc.accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            handle(client)
            Glibc.close(client)
        }
    }

    private func handle(_ client: Int32) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while request.count < 16384 {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, 4096, 0) }
            if n <= 0 { break }
            request.append(contentsOf: chunk[0..<n])
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: String
        let path = parts.count >= 2 ? String(parts[1].split(separator: "?", maxSplits: 1).first ?? "") : ""
        if parts.count >= 2, parts[0] == "GET", path == "/metrics" {
            let body = render()
            response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        } else if parts.count >= 2, parts[0] == "GET", let probe = probes[path] {
            let answer = probe()
            let body = answer.body + "\n"
            let reason = answer.status == 200 ? "OK" : "Service Unavailable"
            response = "HTTP/1.1 \(answer.status) \(reason)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        } else {
            let body = "not found: try GET /metrics" + probes.keys.sorted().map { ", GET \($0)" }.joined() + "\n"
            response = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        }
        let bytes = Array(response.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.send(client, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Stops accepting scrapes.
    public func close() { shutdown(fd, Int32(SHUT_RDWR)); Glibc.close(fd) }
}
