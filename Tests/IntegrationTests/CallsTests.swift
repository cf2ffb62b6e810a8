import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCServer
import RPCWire
import Testing

extension Integration {
    @Suite("Calls: concurrency on one connection, deadlines, cancellation")
    struct Calls {
        @Test("500 concurrent calls on one connection each get their own answer, none lost")
        func manyConcurrentCallsOnOneConnection() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let client = try server.client()
            defer { client.close() }

            let count = 500
            let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<count {
                    group.addTask {
                        let request = healthRequest("request-\(i)-" + String(repeating: "x", count: i % 37))
                        // Half answer after a jitter, half at once: responses leave out of order.
                        let method = i % 2 == 0 ? TestMethods.jitterEcho : TestMethods.echo
                        let response = try await client.unary(method, request, options: .init(timeout: .seconds(10)))
                        #expect(response == request, "call \(i) got someone else's answer: \(response.service)")
                        return (i, response.service)
                    }
                }
                var seen: [Int: String] = [:]
                for try await (i, service) in group { seen[i] = service }
                return seen
            }
            #expect(results.count == count)
            for i in 0..<count {
                #expect(results[i]?.hasPrefix("request-\(i)-") == true)
            }
            #expect(server.server.connectionCount == 1, "every call shared one connection")
            // The server records a call just after answering it: give the last ones a moment.
            #expect(await eventually { server.metrics.count(method: TestMethods.echo.path, code: .ok) == UInt64(count / 2) })
            #expect(await eventually { server.metrics.count(method: TestMethods.jitterEcho.path, code: .ok) == UInt64(count / 2) })
            await server.shutdown()
        }

        @Test("20 clients with 25 calls each are spread over the event loops and all answered")
        func manyClients() async throws {
            let server = try await TestServer.start(router: TestRoutes.router(probe: Probe()))
            let clients = try (0..<20).map { _ in try server.client() }
            defer { for c in clients { c.close() } }
            let answered = try await withThrowingTaskGroup(of: Int.self) { group in
                for (n, client) in clients.enumerated() {
                    for i in 0..<25 {
                        group.addTask {
                            let request = healthRequest("client-\(n)-call-\(i)")
                            let response = try await client.unary(TestMethods.echo, request, options: .init(timeout: .seconds(10)))
                            return response == request ? 1 : 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(answered == 500)
            #expect(server.server.connectionCount == 20)
            await server.shutdown()
        }

        @Test("a 100 ms deadline on a 2 s handler fails promptly with DEADLINE_EXCEEDED and the handler is cancelled")
        func clientDeadline() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let client = try server.client()
            defer { client.close() }

            let (error, elapsed) = await timed {
                await rpcError { try await client.unary(TestMethods.sleep, healthRequest("2s#deadline"), options: .init(timeout: .milliseconds(100))) }
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(elapsed < .milliseconds(1000), "took \(elapsed)")
            #expect(elapsed >= .milliseconds(90), "took \(elapsed)")
            #expect(await eventually(timeout: .seconds(2)) { probe.saw("deadline", .cancelled) },
                    "the server-side handler observed cancellation")
            #expect(!probe.saw("deadline", .finished))
            // The connection still serves.
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("the server itself answers DEADLINE_EXCEEDED at a request's timeout_micros")
        func serverDeadline() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let peer = try RawPeer(port: server.port)

            let clock = ContinuousClock()
            let start = clock.now
            #expect(await peer.send(RawPeer.request(7, TestMethods.sleep.path, healthRequest("2s#raw").serializedBytes(), timeoutMicros: 100_000)))
            let result = await peer.read(until: { $0.kind == .response }, timeout: .seconds(3))
            let elapsed = clock.now - start
            let response = try #require(result.envelope, "\(result)")
            #expect(response.callID == 7)
            #expect(response.status?.code == .deadlineExceeded)
            #expect(response.status?.code.rawValue == 4)
            #expect(response.payload.isEmpty)
            #expect(elapsed >= .milliseconds(90) && elapsed < .milliseconds(1000), "answered after \(elapsed)")
            #expect(await eventually(timeout: .seconds(2)) { probe.saw("raw", .cancelled) })
            #expect(await eventually { server.metrics.count(method: TestMethods.sleep.path, code: .deadlineExceeded) == 1 })

            // Nothing more comes for that call, and the connection stays open.
            #expect(await peer.send(Envelope(kind: .ping, callID: 99)))
            let pong = await peer.read(timeout: .seconds(2)).envelope
            #expect(pong?.kind == .pong && pong?.callID == 99)
            peer.close()
            await server.shutdown()
        }

        @Test("cancelling the caller's task ends the call with CANCELLED and cancels the server handler")
        func clientCancellation() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let client = try server.client()
            defer { client.close() }

            let call = Task {
                await rpcError { try await client.unary(TestMethods.sleep, healthRequest("5s#cancel")) }
            }
            #expect(await eventually { probe.saw("cancel", .started) })
            let (error, elapsed) = await timed {
                call.cancel()
                return await call.value
            }
            #expect(error?.code == .cancelled)
            #expect(elapsed < .milliseconds(500), "the caller was released after \(elapsed)")
            #expect(await eventually(timeout: .seconds(2)) { probe.saw("cancel", .cancelled) },
                    "the server-side handler observed cancellation")
            #expect(await eventually { server.metrics.count(method: TestMethods.sleep.path, code: .cancelled) == 1 })
            #expect(!probe.saw("cancel", .finished))
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("a raw CANCEL stops the handler and the server sends nothing more for that id")
        func rawCancel() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let peer = try RawPeer(port: server.port)

            #expect(await peer.send(RawPeer.request(3, TestMethods.sleep.path, healthRequest("300ms#rawcancel").serializedBytes())))
            #expect(await eventually { probe.saw("rawcancel", .started) })
            #expect(await peer.send(Envelope(kind: .cancel, callID: 3)))
            #expect(await eventually(timeout: .seconds(2)) { probe.saw("rawcancel", .cancelled) })
            // Wait past the handler's own end: no RESPONSE for call 3 may arrive. A PING after it
            // proves the connection is read in order.
            try await Task.sleep(for: .milliseconds(400))
            #expect(await peer.send(Envelope(kind: .ping, callID: 1)))
            let next = await peer.read(timeout: .seconds(2))
            #expect(next.envelope?.kind == .pong, "expected only a PONG, got \(next)")
            // A CANCEL for an id not in flight is ignored.
            #expect(await peer.send(Envelope(kind: .cancel, callID: 12345)))
            #expect(await peer.send(Envelope(kind: .ping, callID: 2)))
            #expect(await peer.read(timeout: .seconds(2)).envelope?.kind == .pong)
            peer.close()
            await server.shutdown()
        }
    }

    @Suite("Server streaming")
    struct Streaming {
        /// The production router with Health/Watch wrapped so the test sees when the handler ends.
        static func watchRouter(host: ServiceHost, probe: Probe) -> Router {
            var router = TestRoutes.router(probe: probe, host: host)
            let service = HealthProvider(registry: host.health)
            router.add([
                Route(serverStreaming: Health.watch) { request, context, responses in
                    probe.record("watch", .started)
                    defer { probe.record("watch", .finished) }
                    try await service.watch(request, context: context, responses: responses)
                },
            ])
            return router
        }

        @Test("Health/Watch sends SERVING, then NOT_SERVING after a change; leaving the loop ends the server handler")
        func watchThenBreak() async throws {
            let host = ServiceHost()
            let probe = Probe()
            let server = try await TestServer.start(router: Self.watchRouter(host: host, probe: probe))
            let client = try server.client()
            defer { client.close() }

            let received = Collected<ServingStatus>()
            let consumer = Task {
                for try await update in client.health.watch(healthRequest(AfterSaleService.name)) {
                    received.append(update.status)
                    if update.status == .notServing { break }
                }
            }
            #expect(await eventually { received.count == 1 })
            #expect(received.all.first == .serving)

            host.health.set(AfterSaleService.name, .notServing)
            #expect(await eventually { received.count == 2 })
            #expect(received.all == [.serving, .notServing])
            try await withTimeout(.seconds(3), "the consumer loop to end") { try await consumer.value }

            #expect(await eventually { probe.saw("watch", .finished) }, "the server's Watch handler ended")
            #expect(await eventually { server.metrics.count(method: Health.watch.path, code: .cancelled) == 1 })
            // Other services' changes never reached this watch; the connection still serves.
            #expect(try await client.health.check(healthRequest(AfterSaleService.name)).status == .notServing)
            await server.shutdown()
        }

        @Test("cancelling the task that consumes a stream ends the server handler")
        func watchTaskCancelled() async throws {
            let host = ServiceHost()
            let probe = Probe()
            let server = try await TestServer.start(router: Self.watchRouter(host: host, probe: probe))
            let client = try server.client()
            defer { client.close() }

            let received = Collected<ServingStatus>()
            let consumer = Task {
                for try await update in client.health.watch(healthRequest()) { received.append(update.status) }
            }
            #expect(await eventually { received.count == 1 })
            consumer.cancel()
            _ = try? await withTimeout(.seconds(3), "the consumer to stop") { try await consumer.value }
            #expect(await eventually { probe.saw("watch", .finished) }, "the server's Watch handler ended")
            await server.shutdown()
        }

        @Test("a finite stream delivers every message in order, then ends OK")
        func finiteStreamInOrder() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let client = try server.client()
            defer { client.close() }

            let messages = try await withTimeout(.seconds(5)) {
                var all: [String] = []
                for try await m in client.serverStreaming(TestMethods.ticks, healthRequest("200#finite")) { all.append(m.service) }
                return all
            }
            #expect(messages == (0..<200).map(String.init))
            #expect(probe.saw("finite", .finished) && !probe.saw("finite", .cancelled))
            #expect(await eventually { server.metrics.count(method: TestMethods.ticks.path, code: .ok) == 1 })

            // The same through the untyped stream the CLI uses.
            let raw = try await withTimeout(.seconds(5)) {
                var all: [String] = []
                for try await bytes in client.callStream(path: TestMethods.ticks.path, payload: healthRequest("3#raw").serializedBytes()) {
                    all.append(try HealthCheckRequest(serializedBytes: bytes).service)
                }
                return all
            }
            #expect(raw == ["0", "1", "2"])
            await server.shutdown()
        }

        /// The largest send buffer TCP autotuning may give a socket (the third field of tcp_wmem).
        static func kernelSendBufferMax() -> Int {
            let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8)) ?? ""
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
            return min(fields.count == 3 ? fields[2] : 4 << 20, 16 << 20)
        }

        @Test("a stream to a client that does not read waits instead of buffering without bound, and resumes when it reads")
        func streamFlowControl() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe)) {
                $0.backpressure = .init(highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024)
            }
            let peer = try RawPeer(port: server.port, receiveBufferBytes: 16 * 1024)
            defer { peer.close() }
            // More than the kernel's largest send buffer (tcp_wmem's maximum) can absorb.
            let total = Self.kernelSendBufferMax() / (16 * 1024) + 40
            #expect(await peer.send(RawPeer.request(1, TestMethods.ticks.path, healthRequest("burst:\(total)#burst").serializedBytes())))

            // The sender stalls: its count stops growing well short of the total.
            var stalledAt = -1
            for _ in 0..<100 {
                let before = probe.progress("burst")
                try await Task.sleep(for: .milliseconds(150))
                if probe.progress("burst") == before && before > 0 { stalledAt = before; break }
            }
            #expect(stalledAt > 0 && stalledAt < total, "the stream sender stalled after \(stalledAt) messages of 16 KiB")

            // Reading lets it go on to the end, every message intact and in order, then OK.
            var messages = 0
            var final: Envelope?
            for _ in 0..<(total + 10) {
                guard let e = await peer.read(timeout: .seconds(5)).envelope else { break }
                if e.kind == .streamMessage {
                    #expect(e.payload.count > 16 * 1024)
                    messages += 1
                } else if e.kind == .response {
                    final = e
                    break
                }
            }
            #expect(messages == total)
            #expect(final?.status?.code == .ok)
            #expect(probe.progress("burst") == total)
            await server.shutdown()
        }

        @Test("a stream's deadline ends it with DEADLINE_EXCEEDED after the messages already sent")
        func streamDeadline() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let client = try server.client()
            defer { client.close() }

            let received = Collected<String>()
            let error = try await withTimeout(.seconds(3)) {
                await rpcError {
                    for try await m in client.serverStreaming(TestMethods.ticks, healthRequest("forever#deadline"),
                                                              options: .init(timeout: .milliseconds(200))) {
                        received.append(m.service)
                    }
                }
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(received.count >= 1, "messages before the deadline arrived")
            #expect(await eventually { probe.saw("deadline", .finished) }, "the stream handler ended")
            await server.shutdown()
        }
    }
}
