import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCServer
import RPCTransport
import RPCWire
import Testing

extension Integration {
    @Suite("Limits")
    struct Limits {
        @Test("with 4 calls allowed per connection, 8 concurrent slow calls get some RESOURCE_EXHAUSTED and the rest succeed")
        func maxCallsPerConnection() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe)) { $0.maxCallsPerConnection = 4 }
            let client = try server.client()
            defer { client.close() }

            let codes = await withTaskGroup(of: StatusCode.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        let error = await rpcError {
                            try await client.unary(TestMethods.sleep, healthRequest("500ms#limit-\(i)"), options: .init(timeout: .seconds(5)))
                        }
                        return error?.code ?? .ok
                    }
                }
                var all: [StatusCode] = []
                for await code in group { all.append(code) }
                return all
            }
            let ok = codes.filter { $0 == .ok }.count
            let exhausted = codes.filter { $0 == .resourceExhausted }.count
            #expect(ok + exhausted == 8, "\(codes)")
            #expect(exhausted >= 1, "\(codes)")
            #expect(ok >= 4, "\(codes)")
            #expect(probe.count(.started) == ok, "refused calls never reached the handler")
            #expect(await eventually { server.metrics.count(method: TestMethods.sleep.path, code: .resourceExhausted) == UInt64(exhausted) })
            // The connection is fine once the calls are done.
            #expect(try await client.health.check(healthRequest()).status == .serving)
            #expect(server.server.connectionCount == 1)
            await server.shutdown()
        }

        @Test("metadata over the limit gets RESOURCE_EXHAUSTED without running the handler; the connection goes on")
        func metadataLimit() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe)) { $0.wire.maxMetadataBytes = 1024 }
            let client = try server.client()
            defer { client.close() }

            var big = Metadata()
            big.add("x-trace-id", String(repeating: "t", count: 1100))
            let error = await rpcError {
                try await client.unary(TestMethods.sleep, healthRequest("0ms#meta"), options: .init(timeout: .seconds(2), metadata: big))
            }
            #expect(error?.code == .resourceExhausted)
            #expect(error?.message.contains("metadata") == true)
            #expect(!probe.saw("meta", .started))

            // Exactly at the limit is fine: keys and values count, 10 + 1014 = 1024 bytes.
            var atLimit = Metadata()
            atLimit.add("x-trace-id", String(repeating: "t", count: 1014))
            #expect(try await client.unary(TestMethods.sleep, healthRequest("0ms#meta2"), options: .init(metadata: atLimit)).status == .serving)
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("a request over the frame limit fails alone with RESOURCE_EXHAUSTED; other calls on the connection go on")
        func oversizedRequestFailsAlone() async throws {
            let probe = Probe()
            let limit = 64 * 1024
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe)) { $0.wire.maxFrameBytes = limit }
            let client = try server.client { $0.wire.maxFrameBytes = limit }
            defer { client.close() }

            let slow = Task {
                await rpcError { try await client.unary(TestMethods.sleep, healthRequest("300ms#bystander"), options: .init(timeout: .seconds(3))) }
            }
            #expect(await eventually { probe.saw("bystander", .started) })
            let big = await rpcError {
                try await client.unary(TestMethods.echo, healthRequest(String(repeating: "x", count: 2 * limit)), options: .init(timeout: .seconds(3)))
            }
            let bystander = await slow.value
            // The oversized call fails; how is a matter of where the limit is enforced, but the call
            // in flight next to it must not be lost with the connection.
            #expect(big?.code == .resourceExhausted || big?.code == .unavailable, "\(String(describing: big))")
            #expect(big?.code == .resourceExhausted, "\(String(describing: big))")
            #expect(bystander == nil, "the call in flight next to it failed: \(String(describing: bystander))")
            // Either way the client recovers for the next call.
            #expect(try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2))).status == .serving)
            await server.shutdown()
        }

        @Test("the connection over the limit is told GOAWAY RESOURCE_EXHAUSTED and closed; the others go on")
        func maxConnections() async throws {
            let server = try await TestServer.start(router: ServiceHost().router) { $0.maxConnections = 2 }
            let first = try server.client()
            defer { first.close() }
            let second = try server.client()
            defer { second.close() }
            #expect(try await first.health.check(healthRequest()).status == .serving)
            #expect(try await second.health.check(healthRequest()).status == .serving)

            let extra = try RawPeer(port: server.port)
            let result = await extra.read(timeout: .seconds(2))
            #expect(result.envelope?.kind == .goAway)
            #expect(result.envelope?.status?.code == .resourceExhausted)
            #expect(await extra.waitForClose(timeout: .seconds(2)))
            extra.close()

            #expect(try await first.health.check(healthRequest()).status == .serving)
            #expect(try await second.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }
    }

    @Suite("Metrics")
    struct MetricsTests {
        @Test("render() counts calls per method and status code, with a latency histogram")
        func renderCountsCalls() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            for _ in 0..<7 { _ = try await client.health.check(healthRequest()) }
            for _ in 0..<2 { _ = await rpcError { try await client.health.check(healthRequest("nope")) } }
            _ = await rpcError { try await client.call(path: "/x.y/Z", payload: []) }

            // The server records a call just after answering it: wait for the last one.
            #expect(await eventually { server.metrics.count(method: Health.check.path, code: .notFound) == 2 })
            #expect(await eventually { server.metrics.render().contains(#"code="UNIMPLEMENTED"} 1"#) })
            let text = server.metrics.render()
            #expect(text.contains(#"aftersale_rpc_calls_total{method="/aftersale.v1.Health/Check",code="OK"} 7"#), "\(text)")
            #expect(text.contains(#"aftersale_rpc_calls_total{method="/aftersale.v1.Health/Check",code="NOT_FOUND"} 2"#))
            #expect(text.contains(#"aftersale_rpc_errors_total{method="/aftersale.v1.Health/Check",code="NOT_FOUND"} 2"#))
            #expect(!text.contains(#"aftersale_rpc_errors_total{method="/aftersale.v1.Health/Check",code="OK"}"#))
            #expect(text.contains(#"aftersale_rpc_duration_seconds_bucket{method="/aftersale.v1.Health/Check",le="+Inf"} 9"#))
            #expect(text.contains(#"aftersale_rpc_duration_seconds_count{method="/aftersale.v1.Health/Check"} 9"#))
            #expect(text.contains(#"aftersale_rpc_duration_seconds_sum{method="/aftersale.v1.Health/Check"}"#))
            #expect(text.contains("# TYPE aftersale_rpc_duration_seconds histogram"))
            #expect(text.contains("# TYPE aftersale_rpc_calls_total counter"))
            #expect(text.contains(#"code="UNIMPLEMENTED"} 1"#), "unknown methods are counted too")
            #expect(server.metrics.count(method: Health.check.path, code: .ok) == 7)

            // Buckets are cumulative and end at the total.
            let buckets = text.split(separator: "\n").filter { $0.hasPrefix(#"aftersale_rpc_duration_seconds_bucket{method="/aftersale.v1.Health/Check""#) }
            let counts = buckets.compactMap { Int($0.split(separator: " ").last ?? "") }
            #expect(counts.count == buckets.count && counts.count > 2)
            #expect(counts == counts.sorted())
            #expect(counts.last == 9)
            await server.shutdown()
        }

        @Test("the HTTP endpoint answers GET /metrics with 200 and the Prometheus text, other paths with 404")
        func httpEndpoint() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }
            for _ in 0..<3 { _ = try await client.health.check(healthRequest()) }
            #expect(await eventually { server.metrics.count(method: Health.check.path, code: .ok) == 3 })

            let metrics = server.metrics
            let endpoint = try MetricsEndpoint(address: SocketAddress(host: "127.0.0.1", port: 0)) { metrics.render() }
            defer { endpoint.close() }
            #expect(endpoint.port != 0)

            let ok = try await Self.httpGet(port: endpoint.port, path: "/metrics")
            #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok)")
            #expect(ok.contains("Content-Type: text/plain; version=0.0.4"))
            #expect(ok.contains(#"aftersale_rpc_calls_total{method="/aftersale.v1.Health/Check",code="OK"} 3"#))
            let body = ok.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            let length = ok.split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }.flatMap { Int($0.dropFirst(16)) }
            #expect(length == body.utf8.count)

            let missing = try await Self.httpGet(port: endpoint.port, path: "/other")
            #expect(missing.hasPrefix("HTTP/1.1 404"), "\(missing)")
            await server.shutdown()
        }

        @Test("the business gauges: open cases by status, the ticket backlog and overdue timers, counted by the store, on /metrics")
        func businessGauges() async throws {
            try await IntegrationFixture.run { f in
                let order = TestOrder(id: "o-gauge-1")
                _ = try await f.upsert(order)
                _ = try await f.create(Requests.create(order: order.id, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-1", 1)]),
                                       key: "k-gauge-1")
                var ticket = OpenTicketRequest()
                ticket.subject = "a question"
                _ = try await f.client.serviceDesk.openTicket(ticket, options: Callers.buyer())
                let gauges = BusinessGaugeMonitor(store: f.repository)
                #expect(gauges.render().isEmpty, "nothing before the first count")
                await gauges.count()
                let endpoint = try MetricsEndpoint(address: SocketAddress(host: "127.0.0.1", port: 0)) { gauges.render() }
                defer { endpoint.close() }
                let answer = try await Self.httpGet(port: endpoint.port, path: "/metrics")
                #expect(answer.contains("# TYPE aftersale_open_cases gauge"))
                #expect(answer.contains(#"aftersale_open_cases{status="pending_review"} 1"#), "\(answer)")
                #expect(answer.contains(#"aftersale_open_cases{status="awaiting_return"} 0"#))
                #expect(!answer.contains(#"status="completed""#), "terminal statuses are not open")
                #expect(answer.contains(#"aftersale_ticket_backlog{status="new"} 1"#) || answer.contains(#"aftersale_ticket_backlog{status="assigned"} 1"#))
                #expect(answer.contains("aftersale_overdue_timers 0"))
                #expect(answer.contains("aftersale_business_gauges_age_seconds"))
            }
        }

        @Test("the committed Grafana dashboard is valid JSON and queries only metrics the server emits")
        func grafanaDashboard() async throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let data = try Data(contentsOf: root.appendingPathComponent("docs/grafana/aftersale-business.json"))
            let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let panels = try #require(dashboard["panels"] as? [[String: Any]])
            let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
            #expect(expressions.count >= panels.count)

            // Every name the server's text can hold: the RPC metrics after one call, the gauges after one count.
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            _ = try await client.health.check(healthRequest())
            client.close()
            #expect(await eventually { server.metrics.count(method: Health.check.path, code: .ok) == 1 })
            let gaugeText = try await TestStore.with("grafana") { store in
                let opened = try await store.open()
                defer { opened.close() }
                let gauges = BusinessGaugeMonitor(store: opened.repository)
                await gauges.count()
                return gauges.render()
            }
            let text = server.metrics.render() + gaugeText
            await server.shutdown()
            // Samples' names, and the names "# TYPE" declares (a counter without samples yet, such as errors).
            var emitted = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init) })
            for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                if let name = line.split(separator: " ").dropFirst(2).first { emitted.insert(String(name)) }
            }
            let pattern = try NSRegularExpression(pattern: "aftersale_[a-z_]+")
            for expression in expressions {
                for match in pattern.matches(in: expression, range: NSRange(expression.startIndex..., in: expression)) {
                    let name = (expression as NSString).substring(with: match.range)
                    #expect(emitted.contains(name), "the dashboard queries \(name), which the server does not emit")
                }
            }
        }

        /// One HTTP/1.1 GET over a raw socket; the whole response (the server closes after it).
        static func httpGet(port: UInt16, path: String) async throws -> String {
            let peer = try RawPeer(port: port)
            defer { peer.close() }
            #expect(await peer.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)))
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: .seconds(3))
            while clock.now < end {
                let n = chunk.withUnsafeMutableBytes { recv(peer.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 { received += chunk[0..<n]; continue }
                if n == 0 { break }
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            return String(decoding: received, as: UTF8.self)
        }
    }
}
