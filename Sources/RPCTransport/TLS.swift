import CLibSSL
import CSystemShims
import Glibc
import Synchronization

/// Why TLS could not be set up or went wrong on a connection.
public struct TLSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable { case invalidConfiguration, handshakeFailed, connectionFailed }
        private let value: Value

        /// A certificate, key or CA file could not be loaded, or they do not belong together.
        public static let invalidConfiguration = Code(value: .invalidConfiguration)
        /// The peers did not agree on a secure session (untrusted certificate, no client
        /// certificate, not TLS at all, TLS below 1.3...).
        public static let handshakeFailed = Code(value: .handshakeFailed)
        /// The TLS session broke after the handshake (a bad record, an alert from the peer).
        public static let connectionFailed = Code(value: .connectionFailed)

        public var description: String {
            switch value {
            case .invalidConfiguration: "invalid TLS configuration"
            case .handshakeFailed: "TLS handshake failed"
            case .connectionFailed: "TLS connection failed"
            }
        }
    }

    /// What kind of failure.
    public let code: Code
    /// What went wrong, with OpenSSL's reasons.
    public let message: String

    /// An error of kind `code`; `message` says what to change.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// OpenSSL's error queue of this thread as text (emptying it), or `fallback` when it is empty.
    static func openSSLReasons(fallback: String) -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
            if !reasons.contains(text) { reasons.append(text) }
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }
}

/// The certificate a peer presented and the server verified (mutual TLS).
public struct TLSPeerCertificate: Sendable, Equatable {
    /// The URI entries of its subjectAltName, in order: a SPIFFE-style workload id such as
    /// `spiffe://platform/payments`.
    public let uris: [String]
    /// Its subject, in OpenSSL's one-line form (`/CN=payments`), for logs.
    public let subject: String

    public init(uris: [String], subject: String) {
        self.uris = uris
        self.subject = subject
    }
}

/// A TLS 1.3 configuration shared by many connections: an OpenSSL `SSL_CTX` with its
/// certificates loaded. Build it once at start-up; its errors name the file at fault.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    /// True for a server context.
    public let isServer: Bool
    /// True when the server requires and verifies client certificates (mutual TLS).
    public let requiresClientCertificate: Bool

    private init(context: OpaquePointer, isServer: Bool, requiresClientCertificate: Bool) {
        self.context = context
        self.isServer = isServer
        self.requiresClientCertificate = requiresClientCertificate
    }

    deinit { SSL_CTX_free(context) }

    /// A server context: its certificate chain and key (PEM), and with `clientCAFile` mutual TLS,
    /// where every client must present a certificate issued by one of the CAs in that file.
    public static func server(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws(TLSError) -> TLSContext {
        let ctx = try makeContext(server: true)
        do throws(TLSError) {
            try loadIdentity(ctx, certificateFile: certificateFile, keyFile: keyFile)
            // No resumption: tickets would cost a message per connection for nothing.
            SSL_CTX_set_num_tickets(ctx, 0)
            if let clientCAFile {
                try loadTrust(ctx, file: clientCAFile, what: "client CA")
                if let names = SSL_load_client_CA_file(clientCAFile) { SSL_CTX_set_client_CA_list(ctx, names) }
                SSL_CTX_set_verify(ctx, aftersale_ssl_verify_peer() | aftersale_ssl_verify_fail_if_no_peer_cert(), nil)
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(context: ctx, isServer: true, requiresClientCertificate: clientCAFile != nil)
    }

    /// A client context: the CAs trusted to sign server certificates (`trustRootsFile`, PEM; nil
    /// uses the system's store), and optionally the client's own certificate and key for mutual TLS.
    public static func client(trustRootsFile: String?, certificateFile: String? = nil, keyFile: String? = nil) throws(TLSError) -> TLSContext {
        let ctx = try makeContext(server: false)
        do throws(TLSError) {
            if let trustRootsFile {
                try loadTrust(ctx, file: trustRootsFile, what: "CA")
            } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
                throw TLSError(.invalidConfiguration, "cannot load the system's CA store: \(TLSError.openSSLReasons(fallback: "unknown reason"))")
            }
            SSL_CTX_set_verify(ctx, aftersale_ssl_verify_peer(), nil)
            switch (certificateFile, keyFile) {
            case let (certificate?, key?):
                try loadIdentity(ctx, certificateFile: certificate, keyFile: key)
            case (nil, nil):
                break
            default:
                throw TLSError(.invalidConfiguration, "a client certificate needs its key and a key its certificate: give both or neither")
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(context: ctx, isServer: false, requiresClientCertificate: false)
    }

    private static func makeContext(server: Bool) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError(.invalidConfiguration, "SSL_CTX_new: \(TLSError.openSSLReasons(fallback: "out of memory"))")
        }
        guard aftersale_ssl_ctx_require_tls13(ctx) == 1 else {
            SSL_CTX_free(ctx)
            throw TLSError(.invalidConfiguration, "this OpenSSL cannot require TLS 1.3: \(TLSError.openSSLReasons(fallback: "unknown reason"))")
        }
        _ = aftersale_ssl_ctx_set_modes(ctx)
        aftersale_ssl_ctx_refuse_passphrase(ctx)
        return ctx
    }

    private static func loadIdentity(_ ctx: OpaquePointer, certificateFile: String, keyFile: String) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateFile) == 1 else {
            throw TLSError(.invalidConfiguration, "cannot load the certificate chain from \(certificateFile): \(TLSError.openSSLReasons(fallback: "unreadable"))")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, keyFile, aftersale_ssl_filetype_pem()) == 1 else {
            let reasons = TLSError.openSSLReasons(fallback: "unreadable")
            if reasons.contains("key values mismatch") {
                throw TLSError(.invalidConfiguration, "the key in \(keyFile) does not match the certificate in \(certificateFile)")
            }
            throw TLSError(.invalidConfiguration, "cannot load an unencrypted PEM private key from \(keyFile): \(reasons)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError(.invalidConfiguration, "the key in \(keyFile) does not match the certificate in \(certificateFile)")
        }
    }

    private static func loadTrust(_ ctx: OpaquePointer, file: String, what: String) throws(TLSError) {
        guard SSL_CTX_load_verify_locations(ctx, file, nil) == 1 else {
            throw TLSError(.invalidConfiguration, "cannot load the \(what) certificates from \(file): \(TLSError.openSSLReasons(fallback: "unreadable"))")
        }
    }
}

/// One connection's TLS engine: OpenSSL works on two memory BIOs and this type moves the
/// ciphertext between them and the socket, so the event loop's non-blocking socket code stays
/// as it is. Every method is safe from any thread: the engine is behind a lock, and ciphertext
/// leaves the socket only under it, in the order OpenSSL produced it.
public final class TLSSession: @unchecked Sendable {
    private let ssl: OpaquePointer
    /// Ciphertext from the network, read by OpenSSL (owned by `ssl`).
    private let networkIn: OpaquePointer
    /// Ciphertext from OpenSSL, for the network (owned by `ssl`).
    private let networkOut: OpaquePointer
    private let state = Mutex(State())
    /// Whether this side accepts (server) or connects (client).
    public let isServer: Bool

    private struct State {
        /// Ciphertext taken from `networkOut` that the socket has not accepted yet.
        var unsent: [UInt8] = []
        var unsentOffset = 0
        var handshakeDone = false
        var failed = false
    }

    /// What a flush of ciphertext to the socket came to.
    enum FlushResult: Equatable {
        /// Everything went out.
        case done
        /// The socket is full: wait for EPOLLOUT and flush again.
        case blocked
        /// The socket or the session broke.
        case failed
    }

    /// What feeding received ciphertext produced.
    struct ReceiveResult {
        var handshakeCompleted = false
        /// Ciphertext (handshake messages, alerts) waits for the socket to drain.
        var blocked = false
        var error: TLSError?
        /// The peer ended the session (close_notify).
        var peerClosed = false
    }

    /// A session over `context`; for a client, `serverName` is the name (DNS name or IP address)
    /// the server's certificate must carry, and the SNI sent when it is a DNS name.
    public init(context: TLSContext, serverName: String? = nil) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError(.invalidConfiguration, "SSL_new: \(TLSError.openSSLReasons(fallback: "out of memory"))")
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.invalidConfiguration, "BIO_new: out of memory")
        }
        SSL_set_bio(ssl, input, output)
        self.ssl = ssl
        networkIn = input
        networkOut = output
        isServer = context.isServer
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName, !serverName.isEmpty {
                if Self.isIPAddress(serverName) {
                    guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                        throw TLSError(.invalidConfiguration, "cannot verify the server as \(serverName)")
                    }
                } else {
                    guard SSL_set1_host(ssl, serverName) == 1, aftersale_ssl_set_sni(ssl, serverName) == 1 else {
                        throw TLSError(.invalidConfiguration, "cannot verify the server as \(serverName)")
                    }
                }
            }
        }
    }

    deinit { SSL_free(ssl) }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// True once the handshake completed on this side.
    public var isHandshakeComplete: Bool { state.withLock { $0.handshakeDone } }

    /// A client sends its ClientHello; a server waits for one.
    func start(fd: Int32) -> FlushResult {
        state.withLock { s -> FlushResult in
            guard !isServer else { return .done }
            ERR_clear_error()
            let r = SSL_do_handshake(ssl)
            if r != 1 {
                let error = SSL_get_error(ssl, r)
                if error != aftersale_ssl_error_want_read() && error != aftersale_ssl_error_want_write() {
                    s.failed = true
                    return .failed
                }
            }
            return flush(&s, fd: fd)
        }
    }

    /// Feeds ciphertext read from the socket, appends the plaintext it yields to `plaintext`, and
    /// writes to the socket what the engine has to say (handshake messages, alerts).
    func receive(_ bytes: UnsafeRawBufferPointer, fd: Int32, into plaintext: inout [UInt8]) -> ReceiveResult {
        state.withLock { s -> ReceiveResult in
            var result = ReceiveResult()
            guard !s.failed else {
                result.error = TLSError(.connectionFailed, "the session already failed")
                return result
            }
            ERR_clear_error()
            if let base = bytes.baseAddress, bytes.count > 0 {
                // A memory BIO takes everything written to it.
                _ = BIO_write(networkIn, base, Int32(clamping: bytes.count))
            }
            if !s.handshakeDone {
                let r = SSL_do_handshake(ssl)
                if r == 1 {
                    s.handshakeDone = true
                    result.handshakeCompleted = true
                } else {
                    let code = SSL_get_error(ssl, r)
                    if code != aftersale_ssl_error_want_read() && code != aftersale_ssl_error_want_write() {
                        s.failed = true
                        result.error = TLSError(.handshakeFailed, handshakeReason())
                    }
                }
            }
            if s.handshakeDone && result.error == nil {
                withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { chunk in
                    guard let base = chunk.baseAddress else { return }
                    while true {
                        let n = SSL_read(ssl, base, Int32(chunk.count))
                        if n > 0 {
                            plaintext.append(contentsOf: UnsafeRawBufferPointer(start: base, count: Int(n)))
                            continue
                        }
                        let code = SSL_get_error(ssl, n)
                        if code == aftersale_ssl_error_want_read() || code == aftersale_ssl_error_want_write() { return }
                        if code == aftersale_ssl_error_zero_return() {
                            result.peerClosed = true
                        } else {
                            s.failed = true
                            result.error = TLSError(.connectionFailed, TLSError.openSSLReasons(fallback: "the peer broke the TLS session"))
                        }
                        return
                    }
                }
            }
            // Even after a failure: the alert tells the peer why.
            switch flush(&s, fd: fd) {
            case .done: break
            case .blocked: result.blocked = true
            case .failed:
                if result.error == nil && !result.peerClosed {
                    result.error = TLSError(.connectionFailed, "cannot write to the socket")
                }
            }
            return result
        }
    }

    /// Encrypts `plaintext` and writes it, after any ciphertext still waiting. `.blocked` means
    /// all of it was taken but some ciphertext waits for EPOLLOUT.
    func send(_ plaintext: UnsafeRawBufferPointer, fd: Int32) -> FlushResult {
        state.withLock { s -> FlushResult in
            guard !s.failed, s.handshakeDone else { return .failed }
            ERR_clear_error()
            if let base = plaintext.baseAddress, plaintext.count > 0 {
                var offset = 0
                while offset < plaintext.count {
                    // Into a memory BIO, SSL_write takes whole chunks (at most INT_MAX bytes a call).
                    let n = SSL_write(ssl, base + offset, Int32(clamping: plaintext.count - offset))
                    guard n > 0 else {
                        s.failed = true
                        return .failed
                    }
                    offset += Int(n)
                }
            }
            return flush(&s, fd: fd)
        }
    }

    /// Writes ciphertext still waiting (the socket became writable).
    func flush(fd: Int32) -> FlushResult {
        state.withLock { s in flush(&s, fd: fd) }
    }

    /// The verified peer certificate, once the handshake completed (nil when the peer sent none).
    public func peerCertificate() -> TLSPeerCertificate? {
        state.withLock { s -> TLSPeerCertificate? in
            guard s.handshakeDone, let cert = aftersale_ssl_peer_certificate(ssl) else { return nil }
            defer { X509_free(cert) }
            var uris: [String] = []
            let count = aftersale_x509_uri_san_count(cert)
            var buffer = [CChar](repeating: 0, count: 2048)
            for index in 0..<max(0, count) {
                let length = aftersale_x509_uri_san(cert, Int32(index), &buffer, Int32(buffer.count))
                guard length >= 0 else { continue }
                let bytes = buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }
                if let uri = String(validating: bytes, as: UTF8.self) { uris.append(uri) }
            }
            var subject = [CChar](repeating: 0, count: 512)
            let name = X509_NAME_oneline(X509_get_subject_name(cert), &subject, Int32(subject.count))
            let subjectText = name != nil ? subject.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" } : ""
            return TLSPeerCertificate(uris: uris, subject: subjectText)
        }
    }

    /// Why the handshake failed: certificate verification's verdict first, then OpenSSL's reasons.
    private func handshakeReason() -> String {
        let reasons = TLSError.openSSLReasons(fallback: "the peer does not speak TLS 1.3")
        let verdict = SSL_get_verify_result(ssl)
        if verdict != X509_V_OK {
            let text = X509_verify_cert_error_string(verdict).map { String(cString: $0) } ?? "code \(verdict)"
            return "certificate verification failed: \(text) (\(reasons))"
        }
        return reasons
    }

    /// Moves what OpenSSL produced to `unsent` and writes as much of it as the socket takes.
    private func flush(_ s: inout State, fd: Int32) -> FlushResult {
        withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { chunk in
            guard let base = chunk.baseAddress else { return }
            while BIO_ctrl_pending(networkOut) > 0 {
                let n = BIO_read(networkOut, base, Int32(chunk.count))
                if n <= 0 { break }
                s.unsent.append(contentsOf: UnsafeRawBufferPointer(start: base, count: Int(n)))
            }
        }
        guard s.unsentOffset < s.unsent.count else { return .done }
        var outcome = FlushResult.done
        var offset = s.unsentOffset
        s.unsent.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while offset < raw.count {
                let n = Glibc.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                outcome = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? .blocked : .failed
                return
            }
        }
        s.unsentOffset = offset
        if s.unsentOffset == s.unsent.count {
            // Idle connections are many: keep a small buffer, not the largest burst's.
            s.unsent.removeAll(keepingCapacity: s.unsent.capacity <= 32 * 1024)
            s.unsentOffset = 0
        }
        return outcome
    }
}
