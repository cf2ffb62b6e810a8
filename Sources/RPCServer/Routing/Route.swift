import ProtoRuntime
import RPCWire

/// One method bound to the code that serves it: the request is decoded, the router's
/// interceptors run, then the handler.
public struct Route: Sendable {
    public let info: RPCMethodInfo
    @usableFromInline let handler: Handler

    @usableFromInline
    enum Handler: Sendable {
        /// Runs on the I/O thread; only for handlers that never block and finish in microseconds.
        case inline(@Sendable ([UInt8], ServerContext, Interceptors) throws(RPCError) -> [UInt8])
        case unary(@Sendable ([UInt8], ServerContext, Interceptors) async throws(RPCError) -> [UInt8])
        case serverStreaming(@Sendable ([UInt8], ServerContext, Interceptors, StreamSink) async throws(RPCError) -> Void)
    }

    /// A unary method served by an async handler on the task pool.
    @inlinable
    public init<Request, Response>(
        unary method: RPCMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        info = method.info
        handler = .unary { payload, context, interceptors throws(RPCError) in
            let request = try Self.decode(Request.self, payload)
            var context = context
            try interceptors.apply(to: &context)
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
        handler = .serverStreaming { payload, context, interceptors, sink throws(RPCError) in
            let request = try Self.decode(Request.self, payload)
            var context = context
            try interceptors.apply(to: &context)
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
        Route(info: method.info, handler: .inline { payload, context, interceptors throws(RPCError) in
            let request = try decode(Request.self, payload)
            var context = context
            try interceptors.apply(to: &context)
            return try body(request, context).serializedBytes()
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

