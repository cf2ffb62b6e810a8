import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Glibc
import RPCServer
import RPCWire
import Synchronization
import Testing

extension Integration {
    @Suite("Misbehaving peers do not hurt well-behaved clients")
    struct MisbehavingPeers {
        /// Limits small enough that a misbehaving peer hits them within a test's time.
        static func start(probe: Probe = Probe(), idleTimeout: Duration = .seconds(300),
                          incompleteFrameTimeout: Duration = .seconds(1)) async throws -> TestServer {
            try await TestServer.start(router: TestRoutes.router(probe: probe)) {
                $0.incompleteFrameTimeout = incompleteFrameTimeout
                $0.idleTimeout = idleTimeout
                $0.backpressure = .init(highWaterBytes: 256 * 1024, lowWaterBytes: 64 * 1024)
            }
        }

        /// Latencies of `count` health checks made one after another.
        static func latencies(_ client: RPCClient, count: Int) async throws -> [Duration] {
            var all: [Duration] = []
            for _ in 0..<count {
                let (response, elapsed) = try await timed {
                    try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2)))
                }
                #expect(response.status == .serving)
                all.append(elapsed)
            }
            return all.sorted()
        }

        static func median(_ sorted: [Duration]) -> Duration { sorted.isEmpty ? .zero : sorted[sorted.count / 2] }

        @Test("a length prefix over the limit gets GOAWAY RESOURCE_EXHAUSTED and the connection is closed, body unread")
        func oversizedLengthPrefix() async throws {
            let server = try await Self.start()
            let client = try server.client()
            defer { client.close() }

            for prefix: [UInt8] in [[0x00, 0x40, 0x00, 0x01], [0xff, 0xff, 0xff, 0xff]] {  // 4 MiB + 1, 4 GiB - 1
                let peer = try RawPeer(port: server.port)
                #expect(await peer.send(prefix))  // the prefix alone: the server must not wait for a body
                let result = await peer.read(timeout: .seconds(2))
                let goAway = try #require(result.envelope, "\(result)")
                #expect(goAway.kind == .goAway)
                #expect(goAway.status?.code == .resourceExhausted)
                #expect(goAway.status?.message.contains("exceeds the limit") == true)
                #expect(await peer.waitForClose(timeout: .seconds(2)))
                peer.close()
            }
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("a frame that is not an Envelope gets GOAWAY INVALID_ARGUMENT and the connection is closed")
        func garbageEnvelope() async throws {
            let server = try await Self.start()
            let client = try server.client()
            defer { client.close() }

            let peer = try RawPeer(port: server.port)
            #expect(await peer.send([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]))
            let result = await peer.read(timeout: .seconds(2))
            let goAway = try #require(result.envelope, "\(result)")
            #expect(goAway.kind == .goAway)
            #expect(goAway.status?.code == .invalidArgument)
            #expect(await peer.waitForClose(timeout: .seconds(2)))
            peer.close()
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("a peer that sends half a frame and stalls is told DEADLINE_EXCEEDED and closed; others are unaffected")
        func halfFrameThenStall() async throws {
            let server = try await Self.start()
            let client = try server.client()
            defer { client.close() }
            let baseline = Self.median(try await Self.latencies(client, count: 20))

            let peer = try RawPeer(port: server.port)
            let frame = peer.frame(RawPeer.request(1, Health.check.path, healthRequest("x").serializedBytes()))
            #expect(await peer.send(Array(frame.prefix(frame.count / 2))))

            // While it stalls, a normal client is served as usual.
            let during = try await Self.latencies(client, count: 50)
            #expect(Self.median(during) < max(.milliseconds(50), baseline * 20), "median \(Self.median(during)) vs baseline \(baseline)")
            #expect(during.last! < .seconds(1))

            let result = await peer.read(timeout: .seconds(4))
            let goAway = try #require(result.envelope, "\(result)")
            #expect(goAway.kind == .goAway)
            #expect(goAway.status?.code == .deadlineExceeded)
            #expect(await peer.waitForClose(timeout: .seconds(2)))
            peer.close()
            #expect(await eventually { server.server.connectionCount == 1 })
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        /// What a flooding peer sent.
        struct Flood {
            /// Requests for 256 KiB answers, then padding requests (32 KiB to an unknown method,
            /// answered by a small UNIMPLEMENTED).
            var blobs = 0
            var padding = 0
            /// Whether the server stopped taking its bytes (with the connection still open).
            var blocked = false
            /// Whether the connection failed under it.
            var failed = false
            var total: Int { blobs + padding }
        }

        /// Sends requests without ever reading: first ones with big answers, so the server's
        /// outbound backlog passes its high-water mark, then padding until the server stops reading.
        static func flood(_ peer: RawPeer, maxRequests: Int = 4000) async -> Flood {
            var flood = Flood()
            let padding = [UInt8](repeating: 0x70, count: 32 * 1024)
            for i in 0..<maxRequests {
                let id = UInt64(i + 1)
                let frame = i < 32
                    ? requestFrame(callID: id, method: TestMethods.blob.path, payload: healthRequest(String(256 * 1024)).serializedBytes())
                    : requestFrame(callID: id, method: "/test.v1.Nope/Padding", payload: padding)
                switch await peer.trySend(frame) {
                case .sent: break
                case .stalled: flood.blocked = true; return flood
                case .failed: flood.failed = true; return flood
                }
                if i < 32 { flood.blobs += 1 } else { flood.padding += 1 }
            }
            return flood
        }

        /// Asks for `count` answers of 256 KiB without reading any: with a small receive buffer the
        /// server's writes to it stall and its answers wait in the server's outbound queue.
        static func requestBlobs(_ peer: RawPeer, count: Int) async -> Bool {
            var frames: [UInt8] = []
            for i in 0..<count {
                frames += requestFrame(callID: UInt64(i + 1), method: TestMethods.blob.path,
                                       payload: healthRequest(String(256 * 1024)).serializedBytes())
            }
            return await peer.send(frames)
        }

        @Test("a peer that stops reading with answers queued is told GOAWAY when idle: it gets everything if it reads later, and is cut off if it never does")
        func stuckPeersAreReleased() async throws {
            let server = try await Self.start(idleTimeout: .seconds(1))
            let never = try RawPeer(port: server.port, receiveBufferBytes: 16 * 1024)
            defer { never.close() }
            let late = try RawPeer(port: server.port, receiveBufferBytes: 16 * 1024)
            defer { late.close() }
            #expect(await Self.requestBlobs(never, count: 16))
            #expect(await Self.requestBlobs(late, count: 16))
            // Accepting runs on the server's loop; under load it may trail the peers' sends a little.
            #expect(await eventually(timeout: .seconds(2)) { server.server.connectionCount == 2 })

            // Both go idle with answers stuck in the server's queue; the idle sweep says GOAWAY within
            // about 2 s. Only then does `late` read: it must get every answer, the GOAWAY, and the close.
            try await Task.sleep(for: .milliseconds(3000))
            var answers = 0
            var goAway: Envelope?
            var closed = false
            reading: for _ in 0..<100 {
                switch await late.read(timeout: .seconds(2)) {
                case let .frame(e):
                    if e.kind == .response && e.status?.code == .ok && e.payload.count > 256 * 1024 { answers += 1 }
                    if e.kind == .goAway { goAway = e }
                case .eof:
                    closed = true
                    break reading
                case .timeout, .broken:
                    break reading
                }
            }
            #expect(answers == 16, "answers owed to the late reader")
            #expect(goAway?.status?.code == .unavailable, "\(String(describing: goAway))")
            #expect(closed, "the late reader's connection closed after its GOAWAY")

            // `never` never reads: its connection must not stay open for good.
            #expect(await eventually(timeout: .seconds(7)) { server.server.connectionCount == 0 },
                    "the server still holds the connection of a peer that never reads")
            await server.shutdown()
        }

        @Test("a peer that floods requests and never reads is throttled, while oversized, garbage and stalled peers come and a client makes 200 calls at normal latency")
        func allAtOnce() async throws {
            // The flood may end in the middle of a frame: keep the incomplete-frame timeout out of the way.
            let server = try await Self.start(incompleteFrameTimeout: .seconds(30))
            let client = try server.client()
            defer { client.close() }
            let baseline = Self.median(try await Self.latencies(client, count: 20))

            // First the peer that never reads, until the server stops reading it. It stays connected.
            let flooder = try RawPeer(port: server.port, sendTimeout: .milliseconds(500), receiveBufferBytes: 16 * 1024)
            defer { flooder.close() }
            let flood = await Self.flood(flooder)
            #expect(flood.blocked, "the server stopped reading the peer that does not read (\(flood.total) requests went out)")
            // And a peer that starts a frame and stalls.
            let staller = try RawPeer(port: server.port)
            defer { staller.close() }
            #expect(await staller.send([0, 0, 0, 40, 0x08, 0x01]))

            let verdicts = Collected<String>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let peer = try RawPeer(port: server.port)
                    _ = await peer.send([0x7f, 0, 0, 0])
                    let r = await peer.read(timeout: .seconds(2))
                    let closed = await peer.waitForClose()
                    verdicts.append("oversized:\(r.envelope?.status?.code.name ?? "\(r)"):\(closed)")
                }
                group.addTask {
                    let peer = try RawPeer(port: server.port)
                    _ = await peer.send([0, 0, 0, 3, 0x0a, 0xff, 0x01])
                    let r = await peer.read(timeout: .seconds(2))
                    let closed = await peer.waitForClose()
                    verdicts.append("garbage:\(r.envelope?.status?.code.name ?? "\(r)"):\(closed)")
                }
                group.addTask {
                    let during = try await Self.latencies(client, count: 200)
                    #expect(Self.median(during) < max(.milliseconds(50), baseline * 20), "median \(Self.median(during)) vs baseline \(baseline)")
                    #expect(during.last! < .seconds(1), "slowest call \(during.last!)")
                }
                try await group.waitForAll()
            }
            #expect(Set(verdicts.all) == ["oversized:RESOURCE_EXHAUSTED:true", "garbage:INVALID_ARGUMENT:true"])
            #expect(server.server.connectionCount == 3, "the client, the flooder and the staller are still connected")

            // Once the flooder reads, everything it was owed arrives, in full.
            var blobs = 0, unimplemented = 0
            for _ in 0..<flood.total {
                guard case let .frame(e) = await flooder.read(timeout: .seconds(3)) else { break }
                if e.kind == .response && e.status?.code == .ok && e.payload.count > 256 * 1024 { blobs += 1 }
                if e.kind == .response && e.status?.code == .unimplemented { unimplemented += 1 }
            }
            #expect(blobs == flood.blobs && unimplemented == flood.padding,
                    "\(blobs) of \(flood.blobs) big answers, \(unimplemented) of \(flood.padding) small ones")

            // Healthy afterwards, on the old connection and on a new one.
            #expect(try await client.health.check(healthRequest()).status == .serving)
            let fresh = try server.client()
            defer { fresh.close() }
            #expect(try await fresh.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }
    }

    @Suite("The wire protocol, spoken by hand")
    struct WireProtocol {
        @Test("the worked example of PROTOCOL.md §15 gets exactly the documented response bytes")
        func workedHexExample() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let peer = try RawPeer(port: server.port)
            let request = hexBytes("00000033080110011a1a2f616674657273616c652e76312e4865616c74682f436865636b22110a0a782d74726163652d69641203742d31")
            #expect(request.count == 55)
            #expect(await peer.send(request))
            var received: [UInt8] = []
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: .seconds(2))
            var chunk = [UInt8](repeating: 0, count: 256)
            while received.count < 14 && clock.now < end {
                let n = chunk.withUnsafeMutableBytes { recv(peer.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 { received += chunk[0..<n] } else if n == 0 { break } else { try await Task.sleep(for: .milliseconds(2)) }
            }
            #expect(hexString(received) == "0000000a08021001320208013a00")
            peer.close()
            await server.shutdown()
        }

        @Test("PING is answered by PONG with the same id; many frames in one write and a frame split byte by byte are all answered")
        func framingAndKeepalive() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let peer = try RawPeer(port: server.port)

            #expect(await peer.send(hexBytes("0000000408051" + "02a")))  // PING call_id 42
            #expect(hexString(peer.frame(await peer.read().envelope ?? Envelope(kind: nil, callID: 0))) == "00000004080610" + "2a")

            // Ten requests in one write.
            var batch: [UInt8] = []
            for id in 1...10 { batch += peer.frame(RawPeer.request(UInt64(id), Health.check.path)) }
            #expect(await peer.send(batch))
            var ids = Set<UInt64>()
            for _ in 1...10 {
                let e = await peer.read().envelope
                #expect(e?.kind == .response && e?.status?.code == .ok)
                if let e { ids.insert(e.callID) }
            }
            #expect(ids == Set(1...10))

            // One request, a byte at a time.
            for byte in peer.frame(RawPeer.request(11, Health.check.path)) {
                #expect(await peer.send([byte]))
                try await Task.sleep(for: .milliseconds(1))
            }
            let last = await peer.read().envelope
            #expect(last?.callID == 11 && last?.status?.code == .ok)
            peer.close()
            await server.shutdown()
        }

        @Test("a REQUEST without a method or a frame of a kind clients may not send gets INVALID_ARGUMENT; the connection goes on")
        func badFramesKeepConnection() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let peer = try RawPeer(port: server.port)

            #expect(await peer.send(RawPeer.request(5, "")))
            let noMethod = await peer.read().envelope
            #expect(noMethod?.kind == .response && noMethod?.callID == 5)
            #expect(noMethod?.status?.code == .invalidArgument)

            for (id, kind): (UInt64, FrameKind?) in [(6, nil), (7, .response), (8, .streamMessage), (9, .goAway)] {
                #expect(await peer.send(Envelope(kind: kind, callID: id)))
                let answer = await peer.read()
                #expect(answer.envelope?.kind == .response, "kind \(String(describing: kind)): \(answer)")
                #expect(answer.envelope?.callID == id)
                #expect(answer.envelope?.status?.code == .invalidArgument)
            }
            // A kind number the protocol does not define.
            #expect(await peer.send(hexBytes("0000000408631063")))  // kind 99, call_id 99
            let unknownKind = await peer.read().envelope
            #expect(unknownKind?.callID == 99 && unknownKind?.status?.code == .invalidArgument)

            #expect(await peer.send(RawPeer.request(10, Health.check.path)))
            let ok = await peer.read().envelope
            #expect(ok?.callID == 10 && ok?.status?.code == .ok, "the connection still serves")
            peer.close()
            await server.shutdown()
        }

        @Test("a REQUEST reusing a call id in flight gets GOAWAY INVALID_ARGUMENT and the connection is closed")
        func duplicateCallID() async throws {
            let server = try await TestServer.start(router: TestRoutes.router(probe: Probe()))
            let peer = try RawPeer(port: server.port)
            let slow = healthRequest("1s#dup").serializedBytes()
            #expect(await peer.send(RawPeer.request(4, TestMethods.sleep.path, slow)))
            #expect(await peer.send(RawPeer.request(4, TestMethods.sleep.path, slow)))
            let goAway = await peer.read(until: { $0.kind == .goAway }, timeout: .seconds(2))
            #expect(goAway.envelope?.status?.code == .invalidArgument, "\(goAway)")
            #expect(await peer.waitForClose(timeout: .seconds(2)))
            peer.close()
            await server.shutdown()
        }

        @Test("a health check reusing the id of an open stream gets GOAWAY INVALID_ARGUMENT, as any REQUEST does")
        func inlineRouteReusingAnOpenID() async throws {
            let server = try await TestServer.start(router: TestRoutes.router(probe: Probe()))
            let peer = try RawPeer(port: server.port)
            #expect(await peer.send(RawPeer.request(5, Health.watch.path, HealthCheckRequest().serializedBytes())))
            let first = await peer.read(until: { $0.kind == .streamMessage }, timeout: .seconds(2))
            #expect(first.envelope?.callID == 5, "the watch is open: \(first)")
            #expect(await peer.send(RawPeer.request(5, Health.check.path, HealthCheckRequest().serializedBytes())))
            let goAway = await peer.read(until: { $0.kind == .goAway || ($0.kind == .response && $0.callID == 5) }, timeout: .seconds(2))
            #expect(goAway.envelope?.kind == .goAway, "\(goAway)")
            #expect(goAway.envelope?.status?.code == .invalidArgument, "\(goAway)")
            #expect(await peer.waitForClose(timeout: .seconds(2)))
            peer.close()
            await server.shutdown()
        }

        @Test("a health check over --max-calls-per-connection gets RESOURCE_EXHAUSTED, as any REQUEST does")
        func inlineRouteOverTheLimit() async throws {
            let server = try await TestServer.start(router: TestRoutes.router(probe: Probe())) { $0.maxCallsPerConnection = 2 }
            let peer = try RawPeer(port: server.port)
            let slow = healthRequest("1s#limit").serializedBytes()
            #expect(await peer.send(RawPeer.request(1, TestMethods.sleep.path, slow)))
            #expect(await peer.send(RawPeer.request(2, TestMethods.sleep.path, slow)))
            #expect(await peer.send(RawPeer.request(3, Health.check.path, HealthCheckRequest().serializedBytes())))
            let answer = await peer.read(until: { $0.callID == 3 }, timeout: .seconds(2))
            #expect(answer.envelope?.status?.code == .resourceExhausted, "\(answer)")
            peer.close()
            await server.shutdown()
        }
    }
}
