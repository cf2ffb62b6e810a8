import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCServer
import RPCTransport
import RPCWire
import Testing

// Issue 11, §3: one RPCClient over several replicas spreads calls round robin, passes over a target
// whose connection fails, and repeats a call on another target after a lost connection only when
// repeating it is safe (a read, a versioned write, or an idempotency key).

extension Integration {
    @Suite("One client, several targets: round robin and failover for calls that are safe to repeat")
    struct MultiTargetClientTests {
        @Test("calls are spread over both targets, and keep going to the survivor when one stops")
        func roundRobinAndFailover() async throws {
            let a = try await TestServer.start(router: TestRoutes.router(probe: Probe()))
            let b = try await TestServer.start(router: TestRoutes.router(probe: Probe()))
            let client = try RPCClient(target: "127.0.0.1:\(a.port), 127.0.0.1:\(b.port)")
            defer { client.close() }
            #expect(client.addresses.map(\.port) == [a.port, b.port])
            for _ in 0..<20 { _ = try await client.unary(TestMethods.echo, healthRequest("x"), options: CallOptions(timeout: .seconds(2))) }
            // A server counts a call just after writing its answer: wait for the last count.
            let counted = { a.metrics.count(method: TestMethods.echo.path, code: .ok) + b.metrics.count(method: TestMethods.echo.path, code: .ok) }
            _ = await eventually { counted() >= 20 }
            let onA = a.metrics.count(method: TestMethods.echo.path, code: .ok)
            let onB = b.metrics.count(method: TestMethods.echo.path, code: .ok)
            #expect(onA + onB == 20)
            #expect(onA >= 5 && onB >= 5, "round robin: \(onA) on A, \(onB) on B")

            await a.shutdown()
            for _ in 0..<20 { _ = try await client.unary(TestMethods.echo, healthRequest("y"), options: CallOptions(timeout: .seconds(2))) }
            _ = await eventually { b.metrics.count(method: TestMethods.echo.path, code: .ok) >= onB + 20 }
            #expect(b.metrics.count(method: TestMethods.echo.path, code: .ok) == onB + 20, "every call reached the survivor")
            await b.shutdown()
            let error = await rpcError { _ = try await client.unary(TestMethods.echo, healthRequest("z"), options: CallOptions(timeout: .seconds(2))) }
            #expect(error?.code == .unavailable)
        }

        @Test("a call lost mid-flight moves to the next target with an idempotency key, and fails UNAVAILABLE without one")
        func lostCallsMoveOnlyWhenSafe() async throws {
            // A ends calls in flight at once when it stops; B answers normally. Each has its own
            // probe, so the test sees which server each call started on.
            let onA = Probe(), onB = Probe()
            let a = try await TestServer.start(router: TestRoutes.router(probe: onA)) { $0.shutdownGrace = .zero }
            let b = try await TestServer.start(router: TestRoutes.router(probe: onB))
            var configuration = ClientConfiguration()
            configuration.downTime = .seconds(30)
            let client = RPCClient(addresses: [SocketAddress(host: "127.0.0.1", port: a.port), SocketAddress(host: "127.0.0.1", port: b.port)],
                                   configuration: configuration)
            // Consecutive calls alternate between the targets, so of these two one starts on A.
            let unsafe = Task {
                await rpcError { _ = try await client.call(path: TestMethods.sleep.path, payload: healthRequest("600ms#unsafe").serializedBytes(),
                                                           options: CallOptions(timeout: .seconds(5))) }
            }
            #expect(await eventually { onA.saw("unsafe", .started) || onB.saw("unsafe", .started) })
            let keyed = Task {
                await rpcError { _ = try await client.call(path: TestMethods.sleep.path, payload: healthRequest("600ms#keyed").serializedBytes(),
                                                           options: CallOptions(timeout: .seconds(5), metadata: ["idempotency-key": "k-1"])) }
            }
            #expect(await eventually { onA.saw("keyed", .started) || onB.saw("keyed", .started) })
            let unsafeOnA = onA.saw("unsafe", .started), keyedOnA = onA.saw("keyed", .started)
            #expect(unsafeOnA != keyedOnA, "one call on each target")
            await a.shutdown()
            let unsafeError = await unsafe.value
            let keyedError = await keyed.value
            if unsafeOnA {
                #expect(unsafeError?.code == .unavailable, "not repeated without a key: \(String(describing: unsafeError))")
            } else {
                #expect(unsafeError == nil)
            }
            #expect(keyedError == nil, "the keyed call finished, on B if it was cut off on A: \(String(describing: keyedError))")
            if keyedOnA { #expect(onB.saw("keyed", .started), "the keyed call was repeated on B") }
            client.close()
            await b.shutdown()
        }
    }
}
