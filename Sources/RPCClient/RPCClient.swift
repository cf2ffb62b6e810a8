import ProtoRuntime
import RPCTransport
import RPCWire
import Foundation
import Synchronization

/// A client of one server, or of several replicas of one service, that carries many concurrent
/// calls over one connection per target.
///
/// Typed stubs hang off it (`client.afterSale`, `client.health`, ...). It connects on first use
/// and again after a connection is lost (for instance when the server restarts). With several
/// targets (`"10.0.0.1:7400,10.0.0.2:7400"`) calls are spread round robin; a target whose
/// connection fails is marked down for ``ClientConfiguration/downTime`` and the call moves on to
/// the next target when that is safe:
/// - always when the connection could not be made (nothing was sent);
/// - when the connection was lost after the request was sent, or the server answered UNAVAILABLE,
///   only for calls that are safe to repeat: a request that says so (``RetrySafeRequest``, e.g. a
///   read or a write carrying an expected version) or a call carrying an `idempotency-key`.
/// Other calls fail with UNAVAILABLE and the caller decides.
///
/// ```swift
/// let client = try RPCClient(target: "127.0.0.1:7400")
/// let status = try await client.health.check(HealthCheckRequest(), options: .init(timeout: .seconds(2)))
/// ```
public final class RPCClient: Sendable {
    /// The first target (the only one for a single-target client).
    public var address: SocketAddress { endpoints[0].address }
    /// Every target, in the order given.
    public var addresses: [SocketAddress] { endpoints.map(\.address) }
    public let configuration: ClientConfiguration
    private let endpoints: [Endpoint]
    private let nextEndpoint = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)

    /// A client of the servers at `addresses` (at least one).
    public init(addresses: [SocketAddress], configuration: ClientConfiguration = ClientConfiguration()) {
        self.configuration = configuration
        let all = addresses.isEmpty ? [SocketAddress(host: "127.0.0.1", port: 7400)] : addresses
        endpoints = all.map { Endpoint(address: $0) }
    }

    /// A client of the server at `address`.
    public convenience init(address: SocketAddress, configuration: ClientConfiguration = ClientConfiguration()) {
        self.init(addresses: [address], configuration: configuration)
    }

    /// - Parameter target: "HOST:PORT", or several separated by commas.
    public convenience init(target: String, configuration: ClientConfiguration = ClientConfiguration()) throws(RPCError) {
        var addresses: [SocketAddress] = []
        for part in target.split(separator: ",") {
            do {
                addresses.append(try SocketAddress(parsing: part.trimmingCharacters(in: .whitespaces)))
            } catch {
                throw RPCError(.invalidArgument, error.description)
            }
        }
        guard !addresses.isEmpty else { throw RPCError(.invalidArgument, "no target in \"\(target)\"") }
        self.init(addresses: addresses, configuration: configuration)
    }

    deinit {
        for endpoint in endpoints { endpoint.close() }
    }

    /// Closes every connection; calls in flight fail with UNAVAILABLE, later calls too.
    public func close() {
        closed.store(true, ordering: .releasing)
        for endpoint in endpoints { endpoint.close() }
    }

    /// The targets to try for one call: round robin from the next one, those marked down last.
    private func candidates() -> [Endpoint] {
        let start = nextEndpoint.wrappingAdd(1, ordering: .relaxed).oldValue
        let now = ContinuousClock.now
        let ordered = (0..<endpoints.count).map { endpoints[(start &+ $0) % endpoints.count] }
        return ordered.filter { !$0.isDown(at: now) } + ordered.filter { $0.isDown(at: now) }
    }

    /// Runs `attempt` on one target after another until one answers: the next target is tried
    /// after a connection that could not be made, and, when `safe`, after one lost mid-call or an
    /// UNAVAILABLE answer.
    private func failingOver<T>(safe: Bool, _ attempt: (ClientConnection) async throws(RPCError) -> T) async throws(RPCError) -> T {
        guard !closed.load(ordering: .acquiring) else { throw RPCError(.unavailable, "the client was closed") }
        var lastError = RPCError(.unavailable, "no target to call")
        for endpoint in candidates() {
            let connection: ClientConnection
            do {
                connection = try endpoint.connection(configuration)
            } catch {
                endpoint.markDown(for: configuration.downTime)
                lastError = error
                continue
            }
            do {
                return try await attempt(connection)
            } catch {
                guard error.code == .unavailable else { throw error }
                if !connection.isUsable { endpoint.markDown(for: configuration.downTime) }
                guard safe else { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// The live connection to the first available target, connecting if there is none.
    func connection() throws(RPCError) -> ClientConnection {
        guard !closed.load(ordering: .acquiring) else { throw RPCError(.unavailable, "the client was closed") }
        var lastError = RPCError(.unavailable, "no target to call")
        for endpoint in candidates() {
            do {
                return try endpoint.connection(configuration)
            } catch {
                endpoint.markDown(for: configuration.downTime)
                lastError = error
            }
        }
        throw lastError
    }

    /// True when a call may be repeated on another target after its request may have arrived.
    static func isSafeToRepeat(_ request: some ProtoMessage, _ metadata: Metadata) -> Bool {
        if metadata["idempotency-key"] != nil { return true }
        return (request as? any RetrySafeRequest)?.isSafeToRetry ?? false
    }

    /// Makes a unary call: one request, one response.
    public func unary<Request, Response>(
        _ method: RPCMethod<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) async throws(RPCError) -> Response {
        let metadata = try await merged(options.metadata)
        let payload = request.serializedBytes()
        let envelope = try await failingOver(safe: Self.isSafeToRepeat(request, metadata)) { connection throws(RPCError) in
            let envelope = try await connection.unary(path: method.path, payload: payload, metadata: metadata, timeout: options.timeout)
            if let error = envelope.error, error.code == .unavailable { throw error }
            return envelope
        }
        if let error = envelope.error { throw error }
        do {
            return try Response(serializedBytes: envelope.payload)
        } catch {
            throw RPCError(.internal, "the response is not a valid \(Response.protoName): \(error)")
        }
    }

    /// Starts a server-streaming call; the messages arrive through the returned sequence. The
    /// call goes to the next available target; a stream is not moved once it started.
    public func serverStreaming<Request, Response>(
        _ method: RPCMethod<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) -> ResponseMessages<Response> {
        let (stream, continuation) = AsyncThrowingStream<Response, any Error>.makeStream()
        let payload = request.serializedBytes()
        withMergedMetadata(options.metadata, failing: continuation) { metadata throws(RPCError) in
            let connection = try self.connection()
            connection.startStream(path: method.path, payload: payload, metadata: metadata, timeout: options.timeout,
                                   continuation: continuation)
        }
        return ResponseMessages(stream: stream)
    }

    /// The default metadata, then the token provider's `authorization` (unless the call brings its
    /// own), then the call's metadata.
    func merged(_ metadata: Metadata) async throws(RPCError) -> Metadata {
        var defaults = configuration.defaultMetadata
        if let provider = configuration.tokenProvider, metadata[BearerAuthorization.key] == nil,
           defaults[BearerAuthorization.key] == nil {
            defaults[BearerAuthorization.key] = BearerAuthorization.value(try await provider.bearerToken())
        }
        return Self.combine(defaults, metadata)
    }

    /// `defaults` with `call`'s keys replacing theirs; `call` as is (repeated keys kept) without defaults.
    static func combine(_ defaults: Metadata, _ call: Metadata) -> Metadata {
        if defaults.isEmpty { return call }
        var all = defaults
        for (k, v) in call { all[k] = v }
        return all
    }

    /// Starts a stream with the merged metadata: at once without a token provider (so the stream
    /// is under way when the call returns), else once the provider answered.
    func withMergedMetadata<Element>(_ metadata: Metadata, failing continuation: AsyncThrowingStream<Element, any Error>.Continuation,
                                     _ start: @escaping @Sendable (Metadata) throws(RPCError) -> Void) {
        guard configuration.tokenProvider != nil else {
            do { try start(Self.combine(configuration.defaultMetadata, metadata)) } catch { continuation.finish(throwing: error) }
            return
        }
        Task {
            do throws(RPCError) {
                try start(try await self.merged(metadata))
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }
}

/// A request that knows whether sending it twice is harmless: a read, or a write guarded by an
/// expected version (the second of two identical versioned writes is refused, never applied twice).
/// The product's client module declares which of its requests are.
public protocol RetrySafeRequest {
    /// True when the request may be sent again to another replica after a lost connection.
    var isSafeToRetry: Bool { get }
}

/// One target of a client: its address, its connection, and whether it is marked down.
final class Endpoint: Sendable {
    let address: SocketAddress
    private let current = Mutex<ClientConnection?>(nil)
    private let downUntil = Mutex<ContinuousClock.Instant?>(nil)

    init(address: SocketAddress) { self.address = address }

    func isDown(at now: ContinuousClock.Instant) -> Bool { downUntil.withLock { $0.map { now < $0 } ?? false } }

    func markDown(for duration: Duration) { downUntil.withLock { $0 = ContinuousClock.now + duration } }

    /// The live connection, connecting if there is none.
    func connection(_ configuration: ClientConfiguration) throws(RPCError) -> ClientConnection {
        let result = current.withLock { c -> Result<ClientConnection, RPCError> in
            if let existing = c, existing.isUsable { return .success(existing) }
            do {
                let loop = try configuration.loop ?? SharedClientLoop.loop()
                // The session first: a failure then leaves no socket behind.
                let session = try configuration.tls.map { tls throws(TLSError) in
                    try TLSSession(context: tls.context, serverName: tls.serverName ?? address.host)
                }
                let fd = try Socket.connect(address, timeout: configuration.connectTimeout)
                let fresh = ClientConnection(fd: fd, peer: address.description, loop: loop, configuration: configuration, tls: session)
                c = fresh
                return .success(fresh)
            } catch {
                return .failure(RPCError(.unavailable, "cannot connect to \(address): \(error)"))
            }
        }
        let connection = try result.get()
        downUntil.withLock { $0 = nil }
        return connection
    }

    func close() {
        current.withLock { c in
            c?.framed.close()
            c = nil
        }
    }
}

/// The messages of a server-streaming call. Iteration throws the call's non-OK final status as
/// an `RPCError`; leaving the loop early cancels the call on the server.
public struct ResponseMessages<Response: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Response
    let stream: AsyncThrowingStream<Response, any Error>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Response, any Error>.AsyncIterator

        public mutating func next() async throws -> Response? {
            do {
                return try await base.next()
            } catch {
                throw RPCError(wrapping: error)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator()) }
}

/// The event loop shared by clients that do not bring their own.
enum SharedClientLoop {
    private static let shared = Mutex<EventLoop?>(nil)

    static func loop() throws(TransportError) -> EventLoop {
        let result = shared.withLock { s -> Result<EventLoop, TransportError> in
            if let s { return .success(s) }
            do throws(TransportError) {
                let loop = try EventLoop(name: "rpc-client")
                s = loop
                return .success(loop)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension RPCClient {
    /// Makes a unary call with an already-encoded request and returns the encoded response: for
    /// tools that work without generated types (the CLI, the load generator's --method).
    /// It moves to another target after a lost connection only when the call carries an `idempotency-key`.
    public func call(path: String, payload: [UInt8], options: CallOptions = CallOptions()) async throws(RPCError) -> [UInt8] {
        let metadata = try await merged(options.metadata)
        let envelope = try await failingOver(safe: metadata["idempotency-key"] != nil) { connection throws(RPCError) in
            let envelope = try await connection.unary(path: path, payload: payload, metadata: metadata, timeout: options.timeout)
            if let error = envelope.error, error.code == .unavailable { throw error }
            return envelope
        }
        if let error = envelope.error { throw error }
        return envelope.payload
    }
}

extension RPCClient {
    /// Starts a server-streaming call with an already-encoded request; yields encoded messages.
    public func callStream(path: String, payload: [UInt8], options: CallOptions = CallOptions()) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        withMergedMetadata(options.metadata, failing: continuation) { metadata throws(RPCError) in
            let connection = try self.connection()
            connection.startRawStream(path: path, payload: payload, metadata: metadata, timeout: options.timeout,
                                      continuation: continuation)
        }
        return stream
    }
}
