import AfterSaleClient
import AfterSaleProto
import Foundation
import Glibc
import Testing

// Issue 14 §4: a buyer's phone, name and street reach the real aftersaled process (in the order
// snapshot and the pickup booking); responses mask them by role, and the process's log (at debug
// level, call log included) never holds them.

extension Integration {
    @Suite("Personal data: masked by role in responses, never in the log")
    struct PersonalDataTests {
        static let phone = "13912345678"
        static let name = "张三丰"
        static let street = "文三路 100 号 3 单元 502"

        static func pickupAddress() -> AfterSaleProto.Address {
            var a = AfterSaleProto.Address()
            a.contactName = name
            a.phone = phone
            a.province = "浙江省"
            a.city = "杭州市"
            a.district = "西湖区"
            a.street = street
            a.postalCode = "310012"
            return a
        }

        @Test("a pickup booked with a phone: the merchant sees 139****5678, the agent district level, the buyer everything; the log none of it")
        func maskedAndNotLogged() async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("pii-log") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store,
                                                                        extraArguments: ["--log-level", "debug", "--call-log-level", "debug"])
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }

                let order = TestOrder(id: "o-pii-1")
                var snapshot = try order.snapshot()
                snapshot.deliveryAddress = Self.pickupAddress()
                var upsert = try order.upsertRequest()
                upsert.order = snapshot
                #expect(try await client.orderBridge.upsertOrder(upsert, options: Callers.orderSystem).outcome == .applied)

                var c = try #require(try await client.afterSale.createAfterSale(
                    Requests.create(order: order.id, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: Callers.buyer(key: "k-pii-1")).afterSale)
                c = try #require(try await client.afterSale.reviewAfterSale(Requests.approve(c), options: Callers.merchant()).afterSale)
                var booking = Requests.pickup(c, windowStart: nowUnixMs() + 3_600_000, windowEnd: nowUnixMs() + 7_200_000)
                booking.pickupAddress = Self.pickupAddress()
                c = try #require(try await client.afterSale.submitReturnShipment(booking, options: Callers.buyer()).afterSale)
                #expect(c.returnShipment?.fromAddress == Self.pickupAddress(), "the buyer sees their own address in full")

                // A refused call carrying the phone: the call log records the refusal, not the phone.
                await #expect(throws: (any Error).self) {
                    _ = try await client.afterSale.submitReturnShipment(booking, options: Callers.buyer())
                }

                // Agents see the cases of the tickets they may see: the buyer asks the desk about this one.
                var ticket = OpenTicketRequest()
                ticket.subject = "when will the courier come?"
                ticket.caseNumber = c.caseNumber
                _ = try await client.serviceDesk.openTicket(ticket, options: Callers.buyer())

                var get = GetAfterSaleRequest()
                get.caseNumber = c.caseNumber
                let merchantView = try #require(try await client.afterSale.getAfterSale(get, options: Callers.merchant()).afterSale?.returnShipment?.fromAddress)
                #expect(merchantView.phone == "139****5678")
                #expect(merchantView.contactName == "张*")
                #expect(merchantView.street == Self.street, "the return shipment is open: the merchant's courier needs the street")
                let agentView = try #require(try await client.afterSale.getAfterSale(get, options: Callers.agent()).afterSale?.returnShipment?.fromAddress)
                #expect(agentView.phone == "139****5678" && agentView.contactName == "张*")
                #expect(agentView.street.isEmpty && agentView.postalCode.isEmpty && agentView.district == "西湖区")
                let platformView = try #require(try await client.afterSale.getAfterSale(get, options: Callers.platform()).afterSale?.returnShipment?.fromAddress)
                #expect(platformView == Self.pickupAddress())

                // The audited reveal: agents and the platform, with a reason; the trace names who and why.
                var reveal = RevealPersonalDataRequest()
                reveal.caseNumber = c.caseNumber
                let unreasoned = await rpcError { try await client.afterSale.revealPersonalData(reveal, options: Callers.agent()) }
                #expect(unreasoned?.code == .invalidArgument && unreasoned?.message.contains("reason") == true)
                reveal.reason = "courier cannot find the building; calling the buyer"
                for refused in [Callers.merchant(), Callers.buyer()] {
                    let error = await rpcError { try await client.afterSale.revealPersonalData(reveal, options: refused) }
                    #expect(error?.code == .permissionDenied)
                }
                let revealed = try await client.afterSale.revealPersonalData(reveal, options: Callers.agent("agent-7"))
                #expect(revealed.buyerId == "b-1")
                #expect(revealed.pickupAddress == Self.pickupAddress())
                #expect(revealed.deliveryAddress == Self.pickupAddress())
                get.includeTrace = true
                let traces = try await client.afterSale.getAfterSale(get, options: Callers.platform()).traceRecords
                let audit = try #require(traces.first { $0.action == .revealPersonalData })
                #expect(audit.actorRole == .agent && audit.actorId == "agent-7")
                #expect(audit.details.contains("pickup_address") && audit.details.contains("delivery_address")
                        && audit.details.contains("courier cannot find the building"), "\(audit.details)")
                #expect(traces.filter { $0.action == .revealPersonalData }.count == 1, "refused reveals show nothing and record nothing")

                server.signal(SIGTERM)
                #expect(await server.waitForExit(timeout: .seconds(10)) == 0)
                let log = server.stderr + server.stdout
                #expect(log.contains("msg=call"), "the call log was written at debug level")
                #expect(log.contains("SubmitReturnShipment"))
                #expect(!log.contains(Self.phone), "the log holds the buyer's phone")
                #expect(!log.contains(Self.name) && !log.contains("文三路"), "the log holds the buyer's name or street")
            }
        }

        @Test("a populated store holds no plaintext phone, name or street: not the SQLite files, not a pg_dump",
              arguments: [TestBackend.sqlite, .postgres])
        func nothingInClearAtRest(_ backend: TestBackend) async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("pii-rest", backend: backend) { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store,
                                                                        extraArguments: ["--personal-data-retention", "0s"])
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }

                // The delivery address (order), the pickup address (case, feed event) and a response
                // stored under an idempotency key all carry the buyer's phone, name and street.
                let order = TestOrder(id: "o-rest-1")
                var upsert = try order.upsertRequest()
                upsert.order?.deliveryAddress = Self.pickupAddress()
                _ = try await client.orderBridge.upsertOrder(upsert, options: Callers.orderSystem)
                var c = try #require(try await client.afterSale.createAfterSale(
                    Requests.create(order: order.id, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-1", 1)]),
                    options: Callers.buyer(key: "k-rest-1")).afterSale)
                c = try #require(try await client.afterSale.reviewAfterSale(Requests.approve(c), options: Callers.merchant()).afterSale)
                var booking = Requests.pickup(c, windowStart: nowUnixMs() + 3_600_000, windowEnd: nowUnixMs() + 7_200_000)
                booking.pickupAddress = Self.pickupAddress()
                c = try #require(try await client.afterSale.submitReturnShipment(booking, options: Callers.buyer(key: "k-rest-2")).afterSale)
                #expect(c.returnShipment?.fromAddress == Self.pickupAddress())
                let replayed = try await client.afterSale.submitReturnShipment(booking, options: Callers.buyer(key: "k-rest-2"))
                #expect(replayed.afterSale?.returnShipment?.fromAddress == Self.pickupAddress(), "the stored response opens on replay")

                // Logistics reads the pickup from the feed in full.
                let events = try await readFeed(client.afterSale, consumer: "logistics", options: Callers.system("logistics", timeout: .seconds(10)))
                let pickup = try #require(events.first { $0.eventType == .returnPickupRequested }?.pickup)
                #expect(pickup.pickupAddress == Self.pickupAddress())

                // Another buyer's finished case: their data is erased (retention 0s) and reads empty.
                let other = TestOrder(id: "o-rest-2", buyer: "b-2")
                var upsertOther = try other.upsertRequest()
                upsertOther.order?.deliveryAddress = Self.pickupAddress()
                _ = try await client.orderBridge.upsertOrder(upsertOther, options: Callers.orderSystem)
                let opened = try #require(try await client.afterSale.createAfterSale(
                    Requests.create(order: other.id, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-1", 1)]),
                    options: Callers.buyer("b-2", key: "k-rest-3")).afterSale)
                #expect(opened.status == .pendingReview)
                _ = try await client.afterSale.withdrawAfterSale(Requests.withdraw(opened, note: "changed my mind"), options: Callers.buyer("b-2"))
                var erase = ErasePersonalDataRequest()
                erase.buyerId = "b-1"
                erase.reason = "retention over"
                let refused = await rpcError { try await client.afterSale.erasePersonalData(erase, options: Callers.platform()) }
                #expect(refused?.code == .failedPrecondition, "b-1's return is open")
                erase.buyerId = "b-2"
                let erased = try await client.afterSale.erasePersonalData(erase, options: Callers.platform())
                #expect(erased.keysDestroyed == 1 && erased.caseNumbers == [opened.caseNumber])
                var reveal = RevealPersonalDataRequest()
                reveal.caseNumber = opened.caseNumber
                reveal.reason = "checking the erasure"
                let shown = try #require(try await client.afterSale.revealPersonalData(reveal, options: Callers.platform()).deliveryAddress)
                #expect(shown.phone.isEmpty && shown.contactName.isEmpty && shown.street.isEmpty && shown.city == "杭州市")

                server.signal(SIGTERM)
                #expect(await server.waitForExit(timeout: .seconds(10)) == 0)
                // pg_dump writes bytea (documents, payloads, stored responses) as hex: look for both forms.
                let needles = [Self.phone, Self.name, "文三路"].flatMap { [Array($0.utf8), Self.hex($0)] }
                var haystacks: [(String, [UInt8])] = []
                switch backend {
                case .sqlite:
                    let files = FileManager.default.enumerator(atPath: store.directory)?.compactMap { $0 as? String } ?? []
                    for file in files where file.hasPrefix("aftersale") {
                        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.directory + "/" + file)))
                        haystacks.append((file, bytes))
                    }
                    #expect(haystacks.contains { $0.0.hasSuffix(".sqlite3") }, "the database file is read: \(files)")
                case .postgres:
                    haystacks.append(("pg_dump", try Self.pgDump(try #require(store.database).url)))
                }
                var sealedSeen = false
                for (name, bytes) in haystacks {
                    for needle in needles {
                        #expect(!Self.contains(bytes, needle), "\(name) holds \(String(decoding: needle, as: UTF8.self)) in clear")
                    }
                    sealedSeen = sealedSeen || Self.contains(bytes, Array("pdk1.".utf8)) || Self.contains(bytes, Self.hex("pdk1."))
                }
                #expect(sealedSeen, "the sealed fields are in what was searched")
            }
        }

        /// A plain-SQL dump of the database at `url`, by the run's own pg_dump.
        static func pgDump(_ url: String) throws -> [UInt8] {
            let bin = try #require(ProcessInfo.processInfo.environment["AFTERSALE_PG_BINDIR"], "run through scripts/with-postgres.sh")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: bin + "/pg_dump")
            process.arguments = ["--dbname=" + url, "--no-owner"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let bytes = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(bytes.count > 10_000, "a dump of the whole schema and its rows")
            return [UInt8](bytes)
        }

        /// `text`'s UTF-8 as lower-case hex digits (how pg_dump shows it inside a bytea).
        static func hex(_ text: String) -> [UInt8] {
            Array(text.utf8.map { String(format: "%02x", $0) }.joined().utf8)
        }

        static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
            guard needle.count <= bytes.count else { return false }
            var index = 0
            while index <= bytes.count - needle.count {
                if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return true }
                index += 1
            }
            return false
        }
    }
}
