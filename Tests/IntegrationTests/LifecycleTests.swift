import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Glibc
import RPCServer
import RPCWire
import Testing

extension Integration {
    @Suite("Lifecycle: graceful shutdown, restart, idle connections")
    struct Lifecycle {
        @Test("graceful shutdown lets the in-flight call finish, refuses new calls with UNAVAILABLE, sends GOAWAY, then refuses connections")
        func gracefulShutdown() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe)) { $0.shutdownGrace = .seconds(5) }
            let client = try server.client()
            defer { client.close() }
            // A raw peer on its own connection sees the frames themselves.
            let peer = try RawPeer(port: server.port)
            #expect(try await client.health.check(healthRequest()).status == .serving)

            let inFlight = Task {
                try await client.unary(TestMethods.sleep, healthRequest("300ms#stub"), options: .init(timeout: .seconds(5)))
            }
            #expect(await peer.send(RawPeer.request(1, TestMethods.sleep.path, healthRequest("300ms#raw").serializedBytes())))
            #expect(await eventually { probe.saw("stub", .started) && probe.saw("raw", .started) })

            let clock = ContinuousClock()
            let shutdownStart = clock.now
            let shutdown = Task { await server.shutdown() }
            #expect(await eventually { server.server.isShuttingDown })

            // The raw connection is told GOAWAY UNAVAILABLE...
            let goAway = await peer.read(until: { $0.kind == .goAway }, timeout: .seconds(2))
            #expect(goAway.envelope?.status?.code == .unavailable, "\(goAway)")
            #expect(goAway.envelope?.status?.message.contains("shutting down") == true)
            #expect(goAway.envelope?.callID == 0)
            // ...a new call on that same connection is refused with UNAVAILABLE...
            #expect(await peer.send(RawPeer.request(2, Health.check.path)))
            let refused = await peer.read(until: { $0.kind == .response && $0.callID == 2 }, timeout: .seconds(2))
            #expect(refused.envelope?.status?.code == .unavailable, "\(refused)")
            // ...PINGs are still answered...
            #expect(await peer.send(Envelope(kind: .ping, callID: 77)))
            let pong = await peer.read(until: { $0.kind == .pong }, timeout: .seconds(2))
            #expect(pong.envelope?.callID == 77, "\(pong)")
            // ...and the call in flight completes normally.
            let done = await peer.read(until: { $0.kind == .response && $0.callID == 1 }, timeout: .seconds(3))
            #expect(done.envelope?.status?.code == .ok, "\(done)")
            #expect(try HealthCheckResponse(serializedBytes: done.envelope?.payload ?? [0xff]).status == .serving)

            // The stub's call in flight completes OK as well.
            let response = try await withTimeout(.seconds(3), "the in-flight stub call") { try await inFlight.value }
            #expect(response.status == .serving)
            #expect(probe.saw("stub", .finished) && !probe.saw("stub", .cancelled))

            // A new call through the stub fails with UNAVAILABLE (GOAWAY received: no new calls there,
            // and no new connection is accepted).
            let late = await rpcError { try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2))) }
            #expect(late?.code == .unavailable, "\(String(describing: late))")

            try await withTimeout(.seconds(5), "shutdown to return") { await shutdown.value }
            #expect(clock.now - shutdownStart < .seconds(3), "shutdown waited for the calls, not the whole grace period")
            #expect(await peer.waitForClose(timeout: .seconds(2)), "the server closed the drained connection")
            #expect(server.server.connectionCount == 0)

            // After shutdown the port refuses connections.
            #expect(throws: RawPeer.ConnectError.self) { _ = try RawPeer(port: server.port) }
            do {
                _ = try RawPeer(port: server.port)
            } catch {
                #expect(error.errno == ECONNREFUSED)
            }
            let after = await rpcError { try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2))) }
            #expect(after?.code == .unavailable)
        }

        @Test("calls still running when the grace period ends are answered UNAVAILABLE and cancelled")
        func graceExpires() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe)) { $0.shutdownGrace = .milliseconds(200) }
            let client = try server.client()
            defer { client.close() }

            let slow = Task { await rpcError { try await client.unary(TestMethods.sleep, healthRequest("5s#grace")) } }
            #expect(await eventually { probe.saw("grace", .started) })
            let (_, elapsed) = await timed { await server.shutdown() }
            #expect(elapsed < .seconds(2), "shutdown took \(elapsed)")
            let error = try await withTimeout(.seconds(3)) { await slow.value }
            #expect(error?.code == .unavailable)
            #expect(await eventually { probe.saw("grace", .cancelled) }, "the handler was cancelled")
        }

        @Test("after the server restarts on the same port the same client's next call succeeds")
        func reconnectAfterRestart() async throws {
            let first = try await TestServer.start(router: ServiceHost().router)
            let port = first.port
            let client = try first.client()
            defer { client.close() }
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await first.shutdown()

            let down = await rpcError { try await client.health.check(healthRequest(), options: .init(timeout: .seconds(1))) }
            #expect(down?.code == .unavailable, "while no server listens")

            let second = try await TestServer.start(router: ServiceHost().router, port: port)
            #expect(second.port == port)
            var answer: HealthCheckResponse?
            for attempt in 1...2 {
                do {
                    answer = try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2)))
                    break
                } catch {
                    #expect(error.code == .unavailable && attempt == 1, "attempt \(attempt): \(error)")
                }
            }
            #expect(answer?.status == .serving)
            #expect(second.server.connectionCount == 1)
            // And it keeps working.
            for _ in 0..<10 { #expect(try await client.health.check(healthRequest()).status == .serving) }
            await second.shutdown()
        }

        @Test("an idle connection is closed after the idle timeout, an open stream or keepalive PINGs keep theirs, and the client reconnects transparently")
        func idleTimeout() async throws {
            let server = try await TestServer.start(router: ServiceHost().router) { $0.idleTimeout = .seconds(1) }
            let client = try server.client()
            defer { client.close() }
            let watcher = try server.client()
            defer { watcher.close() }
            let keeper = try server.client { $0.keepaliveInterval = .milliseconds(300) }
            defer { keeper.close() }
            let peer = try RawPeer(port: server.port)

            #expect(try await client.health.check(healthRequest()).status == .serving)
            #expect(try await keeper.health.check(healthRequest()).status == .serving)
            let received = Collected<ServingStatus>()
            let watch = Task {
                for try await update in watcher.health.watch(healthRequest()) { received.append(update.status) }
            }
            #expect(await eventually { received.count == 1 })
            #expect(server.server.connectionCount == 4)

            // The raw peer sees GOAWAY UNAVAILABLE, then the close.
            let goAway = await peer.read(until: { $0.kind == .goAway }, timeout: .seconds(4))
            #expect(goAway.envelope?.status?.code == .unavailable, "\(goAway)")
            #expect(await peer.waitForClose(timeout: .seconds(2)))
            #expect(await eventually(timeout: .seconds(3)) { server.server.connectionCount == 2 },
                    "both idle connections closed; the one with an open stream and the one with keepalive stay")
            try await Task.sleep(for: .milliseconds(1200))
            #expect(server.server.connectionCount == 2, "they survive further sweeps")
            #expect(try await keeper.health.check(healthRequest(), options: .init(timeout: .seconds(2))).status == .serving)
            #expect(server.server.connectionCount == 2, "the keepalive client still uses its first connection")

            // The client's next call opens a new connection without the caller noticing.
            #expect(try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2))).status == .serving)
            #expect(server.server.connectionCount == 3)
            watch.cancel()
            _ = try? await withTimeout(.seconds(2)) { try await watch.value }
            await server.shutdown()
        }
    }
}
