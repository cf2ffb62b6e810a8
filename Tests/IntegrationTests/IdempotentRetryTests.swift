import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCWire
import Testing

// Issue 9, §1.5: a client whose change committed but whose answer was lost (the server died between
// the commit and the answer) retries with the same idempotency key and gets the same answer, not a
// version conflict; the same key with another request is refused as INVALID_ARGUMENT. The server is
// the real `aftersaled`, killed by its own test-only fault hook right after the commit.

extension Integration {
    @Suite("Idempotent retries of transitions, across a crash between commit and answer")
    struct IdempotentRetryTests {
        static func startDaemon(_ store: TestStore, crashAfter methods: [String]) async throws -> (ChildProcess, UInt16) {
            let daemon = try #require(Executables.locate("aftersaled"), "build aftersaled first (swift build)")
            var environment = ProcessInfo.processInfo.environment
            environment["AFTERSALE_FAULT_CRASH_AFTER_COMMIT"] = methods.joined(separator: ",")
            let server = try ChildProcess(daemon, ["--listen", "127.0.0.1:0", "--log-level", "warning"] + store.daemonArguments,
                                          environment: environment)
            let ready = try #require(await server.waitForLine(containing: "aftersaled ready", timeout: .seconds(10)),
                                     "aftersaled did not start: \(server.stderr)")
            let port = try #require(Integration.ExecutablesTests.port(fromReadyLine: ready))
            return (server, port)
        }

        @Test("ReviewAfterSale and SubmitReturnShipment retried with their keys after the server died before answering")
        func retriesAcrossACrash() async throws {
            try await TestStore.with("idem") { store in

                // 1. Set up a return case, then review it on a server that dies right after committing the review.
                var (server, port) = try await Self.startDaemon(store, crashAfter: ["ReviewAfterSale"])
                var client = try RPCClient(target: "127.0.0.1:\(port)")
                try await client.orderBridge.upsertOrder(try TestOrder(id: "o-idem", status: .delivered).upsertRequest(),
                                                         options: Callers.orderSystem)
                let created = try #require(try await client.afterSale.createAfterSale(
                    Requests.create(order: "o-idem", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: Callers.buyer(key: "idem-create")).afterSale)
                let review = Requests.approve(created)
                let merchant = Callers.make("merchant", "s-1", key: "idem-review")
                await #expect(throws: RPCError.self) { _ = try await client.afterSale.reviewAfterSale(review, options: merchant) }
                #expect(await server.waitForExit(timeout: .seconds(5)) != nil, "the fault hook killed the server")
                client.close()

                // 2. Restarted (dying after the next shipment commit): the review committed once; its retry is answered as the first was.
                (server, port) = try await Self.startDaemon(store, crashAfter: ["SubmitReturnShipment"])
                client = try RPCClient(target: "127.0.0.1:\(port)")
                let stored = try await client.afterSale.getAfterSale(Self.get(created.caseNumber), options: Callers.merchant()).afterSale
                #expect(stored?.status == .awaitingReturn)
                #expect(stored?.version == created.version + 1, "the review committed exactly once")
                let retried = try await client.afterSale.reviewAfterSale(review, options: merchant)
                #expect(retried.afterSale == stored, "the retry gets the answer the first call would have had")
                let again = try await client.afterSale.getAfterSale(Self.get(created.caseNumber), options: Callers.merchant()).afterSale
                #expect(again?.version == stored?.version, "the retry changed nothing")
                // The same key with another request is refused; without a key the retry meets its own commit.
                let reject = await rpcError { _ = try await client.afterSale.reviewAfterSale(Requests.reject(created, reason: "no"), options: merchant) }
                #expect(reject?.code == .invalidArgument, "\(String(describing: reject))")
                let keyless = await rpcError { _ = try await client.afterSale.reviewAfterSale(review, options: Callers.merchant()) }
                #expect(keyless?.code == .aborted, "\(String(describing: keyless))")

                // 3. The buyer ships; the server dies after the commit.
                let ship = Requests.selfShip(try #require(stored), tracking: "SF-IDEM-1")
                let buyer = Callers.buyer(key: "idem-ship")
                await #expect(throws: RPCError.self) { _ = try await client.afterSale.submitReturnShipment(ship, options: buyer) }
                #expect(await server.waitForExit(timeout: .seconds(5)) != nil)
                client.close()

                // 4. Restarted without faults: the shipment retry replays, once.
                (server, port) = try await Self.startDaemon(store, crashAfter: [])
                defer { server.signal(SIGKILL) }
                client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }
                let shipped = try await client.afterSale.submitReturnShipment(ship, options: buyer)
                #expect(shipped.afterSale?.status == .returnShipped)
                #expect(shipped.afterSale?.version == (stored?.version ?? 0) + 1)
                let trace = try await client.afterSale.getAfterSale(Self.get(created.caseNumber, trace: true), options: Callers.platform()).traceRecords
                #expect(trace.filter { $0.action == .approve }.count == 1)
                #expect(trace.filter { $0.action == .submitReturnShipment }.count == 1)
            }
        }

        @Test("a trace record carries the caller's x-trace-id")
        func traceIDsAreRecorded() async throws {
            try await IntegrationFixture.run { f in
                try await f.upsert(TestOrder(id: "o-trace", status: .delivered))
                var options = Callers.buyer(key: "trace-create")
                options.metadata.add("x-trace-id", "trace-4bf92f3577b34da6")
                let created = try #require(try await f.afterSale.createAfterSale(
                    Requests.create(order: "o-trace", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: options).afterSale)
                var merchant = Callers.merchant()
                merchant.metadata.add("x-trace-id", "trace-review-1")
                _ = try await f.afterSale.reviewAfterSale(Requests.approve(created), options: merchant)
                let records = try await f.trace(created.caseNumber)
                #expect(records.map(\.traceId) == ["trace-4bf92f3577b34da6", "trace-review-1"], "\(records.map(\.traceId))")
                // A trace id longer than 128 bytes is refused before anything happens.
                var long = Callers.merchant()
                long.metadata.add("x-trace-id", String(repeating: "t", count: 129))
                let refused = await rpcError { _ = try await f.afterSale.getAfterSale(Self.get(created.caseNumber), options: long) }
                #expect(refused?.code == .invalidArgument)
            }
        }

        static func get(_ number: String, trace: Bool = false) -> GetAfterSaleRequest {
            var r = GetAfterSaleRequest()
            r.caseNumber = number
            r.includeTrace = trace
            return r
        }
    }
}
