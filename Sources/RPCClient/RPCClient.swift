import ProtoRuntime
import RPCTransport
import RPCWire
import Synchronization

/// A connection to an aftersale server that carries many concurrent calls.
///
/// Typed stubs hang off it (`client.afterSale`, `client.health`, ...). It connects on first use
/// and again after the connection is lost (for instance when the server restarts); calls that
/// were in flight on a lost connection fail with UNAVAILABLE and may be retried by the caller.
///
/// ```swift
/// let client = try RPCClient(target: "127.0.0.1:7400")
/// let status = try await client.health.check(HealthCheckRequest(), options: .init(timeout: .seconds(2)))
/// ```
public final class RPCClient: Sendable {
    public let address: SocketAddress
    public let configuration: ClientConfiguration
    private let current = Mutex<ClientConnection?>(nil)
    private let closed = Atomic<Bool>(false)

    public init(address: SocketAddress, configuration: ClientConfiguration = ClientConfiguration()) {
        self.address = address
        self.configuration = configuration
    }

    /// - Parameter target: "HOST:PORT".
    public convenience init(target: String, configuration: ClientConfiguration = ClientConfiguration()) throws(RPCError) {
        do {
            self.init(address: try SocketAddress(parsing: target), configuration: configuration)
        } catch {
            throw RPCError(.invalidArgument, error.description)
        }
    }

    deinit {
        current.withLock { $0?.framed.close() }
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE, later calls too.
    public func close() {
        closed.store(true, ordering: .releasing)
        current.withLock { c in
            c?.framed.close()
            c = nil
        }
    }

    /// The live connection, connecting if there is none.
    func connection() throws(RPCError) -> ClientConnection {
        guard !closed.load(ordering: .acquiring) else { throw RPCError(.unavailable, "the client was closed") }
        let result = current.withLock { c -> Result<ClientConnection, RPCError> in
            if let existing = c, existing.isUsable { return .success(existing) }
            do {
                let loop = try configuration.loop ?? SharedClientLoop.loop()
                let fd = try Socket.connect(address, timeout: configuration.connectTimeout)
                let fresh = ClientConnection(fd: fd, peer: address.description, loop: loop, configuration: configuration)
                c = fresh
                return .success(fresh)
            } catch {
                return .failure(RPCError(.unavailable, "cannot connect to \(address): \(error)"))
            }
        }
        return try result.get()
    }

    /// Makes a unary call: one request, one response.
    public func unary<Request, Response>(
        _ method: RPCMethod<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) async throws(RPCError) -> Response {
        let connection = try connection()
        let envelope = try await connection.unary(path: method.path, payload: request.serializedBytes(),
                                                   metadata: merged(options.metadata), timeout: options.timeout)
        if let error = envelope.status?.error { throw error }
        do {
            return try Response(serializedBytes: envelope.payload)
        } catch {
            throw RPCError(.internal, "the response is not a valid \(Response.protoName): \(error)")
        }
    }

    /// Starts a server-streaming call; the messages arrive through the returned sequence.
    public func serverStreaming<Request, Response>(
        _ method: RPCMethod<Request, Response>, _ request: Request, options: CallOptions = CallOptions()
    ) -> ResponseMessages<Response> {
        let (stream, continuation) = AsyncThrowingStream<Response, any Error>.makeStream()
        do {
            let connection = try connection()
            connection.startStream(path: method.path, payload: request.serializedBytes(), metadata: merged(options.metadata),
                                   timeout: options.timeout, continuation: continuation)
        } catch {
            continuation.finish(throwing: error)
        }
        return ResponseMessages(stream: stream)
    }

    func merged(_ metadata: Metadata) -> Metadata {
        if configuration.defaultMetadata.isEmpty { return metadata }
        var all = configuration.defaultMetadata
        for (k, v) in metadata { all[k] = v }
        return all
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
    public func call(path: String, payload: [UInt8], options: CallOptions = CallOptions()) async throws(RPCError) -> [UInt8] {
        let connection = try connection()
        let envelope = try await connection.unary(path: path, payload: payload, metadata: merged(options.metadata), timeout: options.timeout)
        if let error = envelope.status?.error { throw error }
        return envelope.payload
    }
}

extension RPCClient {
    /// Starts a server-streaming call with an already-encoded request; yields encoded messages.
    public func callStream(path: String, payload: [UInt8], options: CallOptions = CallOptions()) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        do {
            let connection = try connection()
            connection.startRawStream(path: path, payload: payload, metadata: merged(options.metadata), timeout: options.timeout,
                                      continuation: continuation)
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }
}
