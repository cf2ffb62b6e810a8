import CProtobufC
import CRPCEnvelope
import ProtoRuntime
import RPCWire
import Testing
@testable import RPCServer

/// A one-string message for routes under test: it borrows the envelope's descriptor and uses
/// only its `method` field, so the runtime is tested without the product's contracts.
struct Note: ProtoMessage {
    var text = ""

    init() {}
    init(_ text: String) { self.text = text }

    static let protoName = "test.Note"
    static var protoDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { rpc_envelope_descriptor() }

    init(protoReader r: ProtoReader) { text = r.string(2) }
    func write(to w: inout ProtoWriter) { w.setString(2, text) }
}

/// Remembers which interceptors saw a call, and may refuse it or tag its context.
struct Tagging: ServerInterceptor {
    enum Tag: ServerContextKey { typealias Value = [String] }
    let name: String
    var refuse: RPCError?

    func intercept(_ context: inout ServerContext) throws(RPCError) {
        if let refuse { throw refuse }
        context[Tag.self] = (context[Tag.self] ?? []) + [name]
    }
}

@Suite("Routing: a route decodes, the router's interceptors run in order, then the handler")
struct RoutingTests {
    static let echo = RPCMethod<Note, Note>(service: "test.v1.Notes", name: "Echo", kind: .unary)
    static let quick = RPCMethod<Note, Note>(service: "test.v1.Notes", name: "Quick", kind: .unary)

    static func context(_ method: RPCMethodInfo, metadata: Metadata = Metadata()) -> ServerContext {
        ServerContext(method: method, callID: 1, metadata: metadata, deadlineNanos: nil, peer: "test")
    }

    /// Calls `route` the way a server connection does, with the router's interceptors.
    static func call(_ route: Route, _ router: Router, _ request: Note) async throws(RPCError) -> Note {
        let context = Self.context(route.info)
        let bytes: [UInt8]
        switch route.handler {
        case .inline(let body): bytes = try body(request.serializedBytes(), context, router.interceptors(at: router.index(of: route.info.path) ?? 0))
        case .unary(let body): bytes = try await body(request.serializedBytes(), context, router.interceptors(at: router.index(of: route.info.path) ?? 0))
        case .serverStreaming: throw RPCError(.internal, "not a unary route")
        }
        do { return try Note(serializedBytes: bytes) } catch { throw RPCError(.internal, "bad response") }
    }

    static func tagEcho() -> Route {
        Route(unary: echo) { request, context in Note(request.text + ":" + (context[Tagging.Tag.self] ?? []).joined(separator: ",")) }
    }

    @Test("interceptors run in the order they were added and hand their facts to the handler")
    func order() async throws {
        var router = Router()
        router.intercept(with: Tagging(name: "first"))
        router.intercept(with: Tagging(name: "second"))
        router.add([Self.tagEcho()])
        let reply = try await Self.call(router.route(at: try #require(router.index(of: Self.echo.path))), router, Note("hi"))
        #expect(reply.text == "hi:first,second")
    }

    @Test("an interceptor's refusal is the call's status, and the handler never runs")
    func refusal() async throws {
        var router = Router()
        router.intercept(with: Tagging(name: "gate", refuse: RPCError(.unauthenticated, "who are you")))
        router.add([Route(unary: Self.echo) { _, _ in
            Issue.record("the handler ran")
            return Note()
        }])
        do {
            _ = try await Self.call(router.route(at: try #require(router.index(of: Self.echo.path))), router, Note("x"))
            Issue.record("the call was not refused")
        } catch {
            #expect(error as? RPCError == RPCError(.unauthenticated, "who are you"))
        }
    }

    @Test("inline routes go through the interceptors too")
    func inline() async throws {
        var router = Router()
        router.intercept(with: Tagging(name: "only"))
        router.add([Route.inline(Self.quick) { request, context throws(RPCError) in
            Note(request.text + "/" + (context[Tagging.Tag.self] ?? []).joined())
        }])
        let reply = try await Self.call(router.route(at: try #require(router.index(of: Self.quick.path))), router, Note("q"))
        #expect(reply.text == "q/only")
    }

    @Test("a payload that does not decode is INVALID_ARGUMENT before any interceptor runs")
    func undecodable() async throws {
        var router = Router()
        router.intercept(with: Tagging(name: "gate", refuse: RPCError(.unauthenticated, "never reached")))
        router.add([Self.tagEcho()])
        let route = router.route(at: try #require(router.index(of: Self.echo.path)))
        guard case .unary(let body) = route.handler else { Issue.record("not unary"); return }
        do {
            _ = try await body([0xFF, 0xFF, 0xFF], Self.context(route.info), router.interceptors(at: 0))
            Issue.record("garbage decoded")
        } catch {
            #expect((error as RPCError).code == .invalidArgument)
        }
    }

    @Test("a later route for the same path replaces the earlier one; declared methods are listed as unimplemented")
    func catalog() throws {
        var router = Router()
        router.add([Route(unary: Self.echo) { _, _ in Note("old") }])
        router.add([Route(unary: Self.echo) { _, _ in Note("new") }])
        router.declare([Self.quick.info])
        #expect(router.count == 1)
        #expect(router.isDeclaredOnly(Self.quick.path))
        let notes = try #require(router.catalog.first { $0.service == "test.v1.Notes" })
        #expect(notes.methods.map(\.info.name).sorted() == ["Echo", "Quick"])
        #expect(notes.methods.first { $0.info.name == "Quick" }?.implemented == false)
    }

    @Test("an interceptor that does not apply to a method is not run for it")
    func skipsMethods() async throws {
        struct OnlyEcho: ServerInterceptor {
            func applies(to method: RPCMethodInfo) -> Bool { method.name == "Echo" }
            func intercept(_ context: inout ServerContext) throws(RPCError) { throw RPCError(.permissionDenied, "echo is gated") }
        }
        var router = Router()
        router.add([Self.tagEcho(), Route(unary: Self.quick) { request, _ in request }])
        router.intercept(with: OnlyEcho())
        let quick = try #require(router.index(of: Self.quick.path))
        #expect(try await Self.call(router.route(at: quick), router, Note("free")).text == "free")
        let echo = try #require(router.index(of: Self.echo.path))
        await #expect(throws: RPCError.self) { _ = try await Self.call(router.route(at: echo), router, Note("x")) }
    }

    @Test("context values are kept by key type and absent until set")
    func contextValues() {
        var context = Self.context(Self.echo.info, metadata: ["x-trace-id": "t-1"])
        #expect(context[Tagging.Tag.self] == nil)
        context[Tagging.Tag.self] = ["a"]
        #expect(context[Tagging.Tag.self] == ["a"])
        #expect(context.traceID == "t-1")
    }
}
