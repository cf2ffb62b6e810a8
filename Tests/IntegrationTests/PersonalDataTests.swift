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
    }
}
