import ProtoRuntime
import RPCWire

/// What a handler learns about the call it serves.
public struct ServerContext: Sendable {
    /// The method being called.
    public let method: RPCMethodInfo
    /// The client's id for the call, unique on its connection while the call is in flight.
    public let callID: UInt64
    /// Call metadata: caller identity, idempotency key, trace id.
    public let metadata: Metadata
    /// When the client stops waiting, in monotonic nanoseconds; nil when it set no deadline.
    /// Past it the server answers DEADLINE_EXCEEDED and cancels the handler's task.
    public let deadlineNanos: UInt64?
    /// The client's address, "127.0.0.1:53211".
    public let peer: String

    public init(method: RPCMethodInfo, callID: UInt64, metadata: Metadata, deadlineNanos: UInt64?, peer: String) {
        self.method = method
        self.callID = callID
        self.metadata = metadata
        self.deadlineNanos = deadlineNanos
        self.peer = peer
    }

    /// The caller's trace id from metadata, if any.
    public var traceID: String? { metadata[Metadata.Keys.traceID] }
}

/// Sends the messages of a server-streaming call. Sending waits while the client is slow to read.
public struct ResponseStream<Response: ProtoMessage>: Sendable {
    @usableFromInline let sink: StreamSink

    @usableFromInline
    init(sink: StreamSink) { self.sink = sink }

    /// Sends one message; throws CANCELLED once the call is over (cancelled, past its deadline,
    /// connection gone).
    public func send(_ message: Response) async throws(RPCError) {
        try await sink.send(message.serializedBytes())
    }

    /// Sends bytes the caller vouches are a valid encoding of `Response` (a stored, pre-encoded
    /// message), without decoding and encoding them again.
    public func send(serialized bytes: [UInt8]) async throws(RPCError) {
        try await sink.send(bytes)
    }
}

/// The untyped side of a response stream, provided by the server connection.
@usableFromInline
struct StreamSink: Sendable {
    @usableFromInline let send: @Sendable ([UInt8]) async throws(RPCError) -> Void

    init(send: @escaping @Sendable ([UInt8]) async throws(RPCError) -> Void) { self.send = send }
}

/// One method bound to the code that serves it.
public struct Route: Sendable {
    public let info: RPCMethodInfo
    @usableFromInline let handler: Handler

    @usableFromInline
    enum Handler: Sendable {
        /// Runs on the I/O thread; only for handlers that never block and finish in microseconds.
        case inline(@Sendable ([UInt8], ServerContext) throws(RPCError) -> [UInt8])
        case unary(@Sendable ([UInt8], ServerContext) async throws(RPCError) -> [UInt8])
        case serverStreaming(@Sendable ([UInt8], ServerContext, StreamSink) async throws(RPCError) -> Void)
    }

    /// A unary method served by an async handler on the task pool.
    @inlinable
    public init<Request, Response>(
        unary method: RPCMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        info = method.info
        handler = .unary { payload, context throws(RPCError) in
            let request = try Self.decode(Request.self, payload)
            do {
                return try await body(request, context).serializedBytes()
            } catch {
                throw RPCError(wrapping: error)
            }
        }
    }

    /// A server-streaming method.
    @inlinable
    public init<Request, Response>(
        serverStreaming method: RPCMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, ServerContext, ResponseStream<Response>) async throws -> Void
    ) {
        info = method.info
        handler = .serverStreaming { payload, context, sink throws(RPCError) in
            let request = try Self.decode(Request.self, payload)
            do {
                try await body(request, context, ResponseStream(sink: sink))
            } catch {
                throw RPCError(wrapping: error)
            }
        }
    }

    /// A unary method answered on the I/O thread, for handlers that never block (health checks,
    /// reflection): it saves two thread hops per call.
    @inlinable
    public static func inline<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, ServerContext) throws(RPCError) -> Response
    ) -> Route {
        Route(info: method.info, handler: .inline { payload, context throws(RPCError) in
            try body(try decode(Request.self, payload), context).serializedBytes()
        })
    }

    @usableFromInline
    init(info: RPCMethodInfo, handler: Handler) {
        self.info = info
        self.handler = handler
    }

    @inlinable
    static func decode<M: ProtoMessage>(_: M.Type, _ payload: [UInt8]) throws(RPCError) -> M {
        do {
            return try M(serializedBytes: payload)
        } catch {
            throw RPCError(.invalidArgument, "request payload (\(payload.count) bytes) is not a valid \(M.protoName)")
        }
    }
}

/// Maps method paths to routes; also knows methods that are declared in the contracts but not
/// served yet, which answer UNIMPLEMENTED and show as such in reflection.
public struct Router: Sendable {
    private(set) var routes: [Route] = []
    private var indexByPath: [String: Int] = [:]
    private(set) var declared: [RPCMethodInfo] = []

    public init() {}

    /// Serves these routes; a later route for the same path replaces an earlier one.
    public mutating func add(_ newRoutes: [Route]) {
        for route in newRoutes {
            if let i = indexByPath[route.info.path] {
                routes[i] = route
            } else {
                indexByPath[route.info.path] = routes.count
                routes.append(route)
            }
        }
    }

    /// Declares methods of a service whose handlers are not built yet.
    public mutating func declare(_ methods: [RPCMethodInfo]) {
        for m in methods where !declared.contains(where: { $0.path == m.path }) { declared.append(m) }
    }

    /// The route index for a path.
    func index(of path: String) -> Int? { indexByPath[path] }

    func route(at index: Int) -> Route { routes[index] }

    /// Every method, served or only declared, grouped by service (sorted by name).
    public var catalog: [(service: String, methods: [(info: RPCMethodInfo, implemented: Bool)])] {
        var byService: [String: [(info: RPCMethodInfo, implemented: Bool)]] = [:]
        var seen = Set<String>()
        for m in routes.map(\.info) + declared where seen.insert(m.path).inserted {
            byService[m.service, default: []].append((m, indexByPath[m.path] != nil))
        }
        return byService.keys.sorted().map { ($0, byService[$0] ?? []) }
    }

    /// Whether a path is declared but has no handler.
    func isDeclaredOnly(_ path: String) -> Bool { indexByPath[path] == nil && declared.contains { $0.path == path } }

    var count: Int { routes.count }
}
