import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCWire
import Testing

// Issue 13 §1: the dispute saga through the client. The buyer escalates a rejection (or claims a
// guarantee), the merchant responds, the platform rules; a ruling for the buyer or a mediated
// amount is refunded through the case's refund order and paid by a payment worker exactly once;
// the merchant appeals once; the order shows 维权中 while a dispute is open.

extension Integration {
    @Suite("Disputes: escalation, rulings through refund orders, the appeal, paid exactly once")
    struct DisputeSagaTests {
        static func money(_ fen: Int64) -> AfterSaleProto.Money { Requests.money(fen) }

        /// A return case of one phone case (l-2) on order `order`, rejected by the merchant.
        static func rejected(_ f: IntegrationFixture, order: String) async throws -> AfterSaleProto.AfterSaleCase {
            try await f.upsert(TestOrder(id: order, status: .delivered))
            let created = try await f.create(Requests.create(order: order, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-2", 1)]))
            let rejected = try #require(try await f.afterSale.reviewAfterSale(Requests.reject(created, reason: "the case is scratched"),
                                                                              options: Callers.merchant()).afterSale)
            #expect(rejected.status == .rejected)
            return rejected
        }

        static func open(_ f: IntegrationFixture, _ c: AfterSaleProto.AfterSaleCase, grounds: AfterSaleProto.DisputeGrounds = .afterRejection)
            async throws -> AfterSaleProto.Dispute {
            var r = OpenDisputeRequest()
            r.caseNumber = c.caseNumber
            r.grounds = grounds
            r.statement = "收到时就有划痕，不是我弄的"
            r.evidence = [Requests.evidence()]
            return try #require(try await f.client.disputes.openDispute(r, options: Callers.buyer()).dispute)
        }

        /// The merchant responds: the dispute goes to review.
        static func respond(_ f: IntegrationFixture, _ d: AfterSaleProto.Dispute) async throws -> AfterSaleProto.Dispute {
            var r = SubmitStatementRequest()
            r.disputeId = d.disputeId
            r.text = "出库时完好，有出库视频"
            r.evidence = [Requests.evidence()]
            r.expectedVersion = d.version
            let responded = try #require(try await f.client.disputes.submitStatement(r, options: Callers.merchant()).dispute)
            #expect(responded.status == .underReview)
            return responded
        }

        static func ruling(_ d: AfterSaleProto.Dispute, _ outcome: AfterSaleProto.DisputeOutcome, amount: Int64? = nil) -> RuleDisputeRequest {
            var r = RuleDisputeRequest()
            r.disputeId = d.disputeId
            r.outcome = outcome
            if let amount { r.amount = money(amount) }
            r.reason = "平台裁定"
            return r
        }

        static func rule(_ f: IntegrationFixture, _ d: AfterSaleProto.Dispute, _ outcome: AfterSaleProto.DisputeOutcome, amount: Int64? = nil,
                         as platform: String = "platform-1") async throws -> AfterSaleProto.Dispute {
            try #require(try await f.client.disputes.ruleDispute(ruling(d, outcome, amount: amount), options: Callers.platform(platform)).dispute)
        }

        static func drain(_ f: IntegrationFixture, _ worker: PaymentWorker, until caseNumber: String) async throws {
            _ = try await worker.drain(until: ContinuousClock().now + .seconds(10)) {
                try await f.getCase(caseNumber).status == .completed
            }
        }

        @Test("the buyer wins: the ruled refund is paid once, the case completes, 维权中 comes and goes on the feed")
        func buyerWins() async throws {
            try await IntegrationFixture.run { f in
                let c = try await Self.rejected(f, order: "o-dispute-1")
                #expect(try await f.orderState("o-dispute-1").state == .none)
                let opened = try await Self.open(f, c)
                #expect(opened.status == .awaitingMerchant)
                #expect(opened.merchantResponseDueUnixMs > nowUnixMs())
                #expect(try await f.orderState("o-dispute-1").state == .disputed)
                #expect(try await f.orderState("o-dispute-1").mayComplete == false)
                let reviewed = try await Self.respond(f, opened)
                #expect(!reviewed.ticketId.isEmpty)
                let ruled = try await Self.rule(f, reviewed, .forBuyer)
                #expect(ruled.status == .ruled)
                let ruling = try #require(ruled.ruling)
                #expect(ruling.refundId == expectedRefundID(c.caseNumber))
                #expect(ruling.amount?.amountMinor == c.computedAmount?.amountMinor)
                let channel = FakeChannel()
                try await Self.drain(f, PaymentWorker(id: "pay-1", bridge: f.refundBridge, channel: channel), until: c.caseNumber)
                let done = try await f.getCase(c.caseNumber)
                #expect(done.status == .completed)
                #expect(done.refundedAmount?.amountMinor == ruling.amount?.amountMinor)
                #expect(await channel.doublePayments().isEmpty)
                #expect(await channel.paid[ruling.refundId]?.amountMinor == ruling.amount?.amountMinor)
                let state = try await f.orderState("o-dispute-1")
                #expect(state.state == .refunded)
                let feed = try await f.feed()
                #expect(feed.filter { $0.eventType.protoName.hasPrefix("EVENT_TYPE_DISPUTE_") }.map(\.eventType)
                        == [.disputeOpened, .disputeStatementAdded, .disputeRuled])
                let orderStates = feed.filter { $0.eventType == .orderAfterSaleStateChanged }.compactMap { $0.orderState?.state }
                #expect(orderStates.contains(.disputed))
                #expect(orderStates.last == .refunded)
                #expect(feed.contains { $0.eventType == .refundRequested && $0.caseNumber == c.caseNumber })
            }
        }

        @Test("the merchant wins: the dispute is final at once, nothing is refunded, the rejection stands")
        func merchantWins() async throws {
            try await IntegrationFixture.run { f in
                let c = try await Self.rejected(f, order: "o-dispute-2")
                let reviewed = try await Self.respond(f, try await Self.open(f, c))
                let ruled = try await Self.rule(f, reviewed, .forMerchant)
                #expect(ruled.status == .final)
                #expect(ruled.ruling?.refundId == "")
                #expect(try await f.getCase(c.caseNumber).status == .rejected)
                #expect(try await f.allRefunds().filter { $0.caseNumber == c.caseNumber }.isEmpty)
                #expect(try await f.orderState("o-dispute-2").state == .none)
                // The merchant has nothing to appeal; the buyer cannot appeal at all.
                var appeal = AppealRulingRequest()
                appeal.disputeId = ruled.disputeId
                appeal.reason = "why"
                await #expect(throws: RPCError.self) { _ = try await f.client.disputes.appealRuling(appeal, options: Callers.merchant()) }
                let code = await Self.code { _ = try await f.client.disputes.appealRuling(appeal, options: Callers.buyer()) }
                #expect(code == .permissionDenied)
            }
        }

        @Test("a guarantee claim on a completed exchange is mediated: the agreed amount is refunded once")
        func mediated() async throws {
            try await IntegrationFixture.run { f in
                try await f.upsert(TestOrder(id: "o-dispute-3", status: .delivered))
                var c = try await f.create(Requests.create(order: "o-dispute-3", kind: .exchange, reason: "size_does_not_fit", lines: [("l-3", 1)]))
                c = try #require(try await f.afterSale.reviewAfterSale(Requests.approve(c), options: Callers.merchant()).afterSale)
                c = try #require(try await f.afterSale.submitReturnShipment(Requests.selfShip(c, tracking: "SF-DP-3"), options: Callers.buyer()).afterSale)
                c = try #require(try await f.afterSale.confirmReturnReceived(Requests.receive(c), options: Callers.merchant()).afterSale)
                c = try #require(try await f.afterSale.shipReplacement(Requests.shipBack(c, tracking: "YT-DP-3"), options: Callers.merchant()).afterSale)
                c = try #require(try await f.afterSale.confirmReplacementReceived(Requests.confirmReplacement(c), options: Callers.buyer()).afterSale)
                #expect(c.status == .completed)
                let claim = try await Self.open(f, c, grounds: .guarantee)
                #expect(claim.grounds == .guarantee)
                let reviewed = try await Self.respond(f, claim)
                let ruled = try await Self.rule(f, reviewed, .mediated, amount: 500)
                #expect(ruled.status == .ruled)
                #expect(ruled.ruling?.outcome == .mediated)
                let channel = FakeChannel()
                try await Self.drain(f, PaymentWorker(id: "pay-1", bridge: f.refundBridge, channel: channel), until: c.caseNumber)
                let done = try await f.getCase(c.caseNumber)
                #expect(done.status == .completed)
                #expect(done.refundedAmount?.amountMinor == 500)
                #expect(await channel.doublePayments().isEmpty)
                // Above what the case may refund is refused, before any money moves.
                let again = try await Self.rejected(f, order: "o-dispute-3b")
                let big = try await Self.respond(f, try await Self.open(f, again))
                let code = await Self.code { _ = try await Self.rule(f, big, .mediated, amount: 1_000_000) }
                #expect(code == .invalidArgument)
                #expect(try await f.allRefunds().filter { $0.caseNumber == again.caseNumber }.isEmpty)
            }
        }

        @Test("the merchant appeals once; the ruling on appeal is final and records what the platform owes the merchant")
        func appeal() async throws {
            try await IntegrationFixture.run { f in
                let c = try await Self.rejected(f, order: "o-dispute-4")
                let reviewed = try await Self.respond(f, try await Self.open(f, c))
                let ruled = try await Self.rule(f, reviewed, .forBuyer, amount: 4_000)
                #expect(ruled.appealDueUnixMs > nowUnixMs())
                #expect(try await f.orderState("o-dispute-4").state == .inProgress)
                var appeal = AppealRulingRequest()
                appeal.disputeId = ruled.disputeId
                appeal.reason = "买家使用过，有使用痕迹"
                appeal.evidence = [Requests.evidence()]
                let appealed = try #require(try await f.client.disputes.appealRuling(appeal, options: Callers.merchant()).dispute)
                #expect(appealed.status == .appealed)
                #expect(appealed.ticketId.hasSuffix("A"))
                #expect(try await f.orderState("o-dispute-4").state == .disputed)
                let twice = await Self.code { _ = try await f.client.disputes.appealRuling(appeal, options: Callers.merchant()) }
                #expect(twice == .failedPrecondition)
                let final = try await Self.rule(f, appealed, .mediated, amount: 1_500)
                #expect(final.status == .final)
                #expect(final.appealRuling?.amount?.amountMinor == 1_500)
                #expect(final.merchantCompensation?.amountMinor == 2_500)
                #expect(final.entries.map(\.step) == ["opened", "merchant_responded", "ruled", "appealed", "ruled"])
                let channel = FakeChannel()
                try await Self.drain(f, PaymentWorker(id: "pay-1", bridge: f.refundBridge, channel: channel), until: c.caseNumber)
                #expect(await channel.paid[expectedRefundID(c.caseNumber)]?.amountMinor == 4_000)
                #expect(await channel.doublePayments().isEmpty)
                let feed = try await f.feed()
                #expect(feed.filter { $0.eventType.protoName.hasPrefix("EVENT_TYPE_DISPUTE_") }.map(\.eventType)
                        == [.disputeOpened, .disputeStatementAdded, .disputeRuled, .disputeAppealed, .disputeRuled])
            }
        }

        @Test("rulings retried and raced by several callers while payment workers run: one refund order, paid exactly once")
        func racingRulings() async throws {
            try await IntegrationFixture.run(defaultLeaseMs: 500) { f in
                let c = try await Self.rejected(f, order: "o-dispute-5")
                let reviewed = try await Self.respond(f, try await Self.open(f, c))
                let channel = FakeChannel()
                let workers = (1...3).map { PaymentWorker(id: "pay-\($0)", bridge: f.refundBridge, channel: channel) }
                let request = Self.ruling(reviewed, .forBuyer, amount: 4_000)
                let client = f.client
                let caseNumber = c.caseNumber
                let results = try await withThrowingTaskGroup(of: (String, String?).self) { group in
                    for index in 0..<8 {
                        group.addTask {
                            // Each ruling call is retried on a transient conflict, as a client would.
                            for _ in 0..<20 {
                                do {
                                    let d = try await client.disputes.ruleDispute(request, options: Callers.platform("platform-\(index % 3)"))
                                    return ("ruling", d.dispute?.ruling?.refundId)
                                } catch let error as RPCError where error.code == .aborted || error.code == .unavailable {
                                    try await Task.sleep(for: .milliseconds(5))
                                }
                            }
                            return ("ruling", nil)
                        }
                    }
                    for worker in workers {
                        group.addTask {
                            _ = try await worker.drain(until: ContinuousClock().now + .seconds(10)) {
                                try await f.getCase(caseNumber).status == .completed
                            }
                            return ("worker", nil)
                        }
                    }
                    var out: [(String, String?)] = []
                    for try await result in group { out.append(result) }
                    return out
                }
                let refundIDs = Set(results.filter { $0.0 == "ruling" }.map(\.1))
                #expect(refundIDs == [expectedRefundID(c.caseNumber)], "every ruling call answered with the one refund")
                let done = try await f.getCase(c.caseNumber)
                #expect(done.status == .completed)
                #expect(done.refundedAmount?.amountMinor == 4_000)
                #expect(await channel.doublePayments().isEmpty)
                #expect(await channel.paid.count == 1)
                #expect(try await f.allRefunds().filter { $0.caseNumber == c.caseNumber }.count == 1)
                let stored = try #require(try await f.client.disputes.getDispute({ var r = GetDisputeRequest(); r.disputeId = reviewed.disputeId; return r }(),
                                                                                  options: Callers.platform()).dispute)
                #expect(stored.entries.filter { $0.step == "ruled" }.count == 1)
                let trace = try await f.trace(c.caseNumber)
                #expect(trace.filter { $0.action == .arbitrationRefund && $0.outcome == .applied }.count == 1)
            }
        }

        static func code(_ body: () async throws -> Void) async -> StatusCode? {
            do {
                try await body()
                return nil
            } catch {
                return (error as? RPCError)?.code
            }
        }
    }
}
