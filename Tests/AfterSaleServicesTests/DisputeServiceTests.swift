import AfterSaleDomain
import AfterSaleProto
@testable import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// Disputes over the in-memory store with a manual clock: deadlines applied by the worker, rulings
/// through the case's refund order, the order's 维权中, the arbitration ticket.
@Suite("Disputes: deadlines, rulings through refund orders, 维权中, the arbitration ticket")
struct DisputeServiceTests {
    static let buyer = Principal.buyer("b-1")
    static let merchant = Principal.merchant("s-1")
    static let platform = Principal.platform("p-1")
    static let day = Timestamp.millisecondsPerDay
    static func ctx(_ method: RPCMethodInfo, _ principal: Principal) -> ServerContext { ServiceFixture.context(method, as: principal) }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? RPCError)?.code
        }
    }

    static func fixture() -> ServiceFixture {
        var f = ServiceFixture()
        var settings = DeskSettings()
        settings.sla.calendar = .always
        f.deskSettings = settings
        return f
    }

    /// A return case on line l-2 of order o-1, rejected by the merchant.
    static func rejectedCase(_ f: ServiceFixture) async throws -> String {
        try await f.store.saveOrder(StorageFixture.order(status: .delivered))
        var create = CreateAfterSaleRequest()
        create.orderId = "o-1"
        create.kind = .returnAndRefund
        create.reasonCode = "no_reason_7_days"
        var line = RequestedLine()
        line.orderLineId = "l-2"
        line.quantity = 1
        create.lines = [line]
        var photo = AfterSaleProto.EvidenceRef()
        photo.objectKey = "evidence/b-1/1.jpg"
        photo.contentType = "image/jpeg"
        photo.sizeBytes = 1_000
        create.evidence = [photo]
        let number = try #require(try await f.afterSale.createAfterSale(create, context: ServiceFixture.creating()).afterSale).caseNumber
        var review = ReviewAfterSaleRequest()
        review.caseNumber = number
        review.decision = .reject
        review.rejectionReason = "the goods are worn"
        _ = try await f.afterSale.reviewAfterSale(review, context: ctx(AfterSaleService.reviewAfterSale.info, merchant))
        return number
    }

    static func open(_ f: ServiceFixture, _ number: String, grounds: AfterSaleProto.DisputeGrounds = .afterRejection,
                     as principal: Principal = buyer) async throws -> AfterSaleProto.Dispute {
        var request = OpenDisputeRequest()
        request.caseNumber = number
        request.grounds = grounds
        request.statement = "全新未穿，商家拒绝不合理"
        return try #require(try await f.disputes.openDispute(request, context: ctx(Disputes.openDispute.info, principal)).dispute)
    }

    static func rule(_ f: ServiceFixture, _ id: String, _ outcome: AfterSaleProto.DisputeOutcome, amount: Int64? = nil,
                     as principal: Principal = platform) async throws -> AfterSaleProto.Dispute {
        var request = RuleDisputeRequest()
        request.disputeId = id
        request.outcome = outcome
        request.reason = "the photos show new goods"
        if let amount {
            var money = AfterSaleProto.Money()
            money.amountMinor = amount
            money.currency = "CNY"
            request.amount = money
        }
        return try #require(try await f.disputes.ruleDispute(request, context: ctx(Disputes.ruleDispute.info, principal)).dispute)
    }

    static func orderState(_ f: ServiceFixture) async throws -> AfterSaleProto.OrderAfterSaleState {
        var request = GetOrderAfterSaleStateRequest()
        request.orderId = "o-1"
        return try #require(try await f.orders.getOrderAfterSaleState(request, context: ctx(OrderBridge.getOrderAfterSaleState.info, platform)).state).state
    }

    static func events(_ f: ServiceFixture) async throws -> [AfterSaleProto.Event] {
        try await f.store.events(after: 0, types: nil, limit: 500, scanLimit: 5_000).events.map { try AfterSaleProto.Event(serializedBytes: $0.payload) }
    }

    @Test("the merchant's silence sends the dispute to review; an arbitration agent gets its ticket and rules for the buyer; the refund order pays the ruled amount")
    func silentMerchantRuledForBuyer() async throws {
        let f = Self.fixture()
        let number = try await Self.rejectedCase(f)
        #expect(try await Self.orderState(f) == .none)
        let opened = try await Self.open(f, number)
        #expect(opened.status == .awaitingMerchant)
        #expect(try await Self.orderState(f) == .disputed)
        // Nothing is due yet; after the response window the worker sends it to review, once.
        #expect(await f.disputeWorker.sweep() == 0)
        f.clock.advance(milliseconds: 2 * Self.day)
        #expect(await f.disputeWorker.sweep() == 1)
        #expect(await f.disputeWorker.sweep() == 0)
        var get = GetDisputeRequest()
        get.disputeId = opened.disputeId
        let reviewed = try #require(try await f.disputes.getDispute(get, context: Self.ctx(Disputes.getDispute.info, Self.buyer)).dispute)
        #expect(reviewed.status == .underReview)
        #expect(reviewed.entries.last?.step == "merchant_response_lapsed")
        // The review ticket needs the arbitration skill: an agent without it is not given it, one with it is.
        let ticket = try #require(try await f.store.ticket(reviewed.ticketId))
        #expect(ticket.requirement.required == ["arbitration"])
        _ = try await DeskServiceTests.agent(f, "a-plain", skills: [])
        _ = try await DeskServiceTests.agent(f, "a-judge", skills: ["arbitration"])
        await f.desk.dispatch()
        #expect(try await f.store.ticket(reviewed.ticketId)?.assignee == "a-judge")
        // Only the holder of the ticket rules (or the platform); an agent who sees none of the case's
        // tickets does not see the dispute at all.
        #expect(await Self.code { _ = try await Self.rule(f, opened.disputeId, .forBuyer, as: .agent("a-plain")) } == .notFound)
        let ruled = try await Self.rule(f, opened.disputeId, .forBuyer, amount: 3_000, as: .agent("a-judge"))
        #expect(ruled.status == .ruled)
        let refundID = try #require(ruled.ruling).refundId
        let refund = try #require(try await f.store.refund(refundID))
        #expect(refund.amount == .cny(3_000))
        #expect(refund.trigger == .forced)
        let afterSale = try #require(try await f.store.afterSale(try CaseNumber(parsing: number)))
        #expect(afterSale.status == .pendingRefund)
        #expect(afterSale.timeline.last?.step == .arbitrationRefund)
        #expect(try await Self.orderState(f) == .inProgress)
        // The same ruling again answers with it; another one is refused; the money moved once.
        #expect(try await Self.rule(f, opened.disputeId, .forBuyer, amount: 3_000).version == ruled.version)
        #expect(await Self.code { _ = try await Self.rule(f, opened.disputeId, .forMerchant) } == .failedPrecondition)
        #expect(try await f.store.refund(of: afterSale.number)?.id == refundID)
        // Every step is an event; the order's 维权中 starts and ends.
        let events = try await Self.events(f)
        #expect(events.filter { $0.eventType.protoName.hasPrefix("EVENT_TYPE_DISPUTE_") }.map(\.eventType)
                == [.disputeOpened, .disputeDeadlinePassed, .disputeRuled])
        let states = events.filter { $0.eventType == .orderAfterSaleStateChanged }.compactMap { $0.orderState?.state }
        #expect(states.contains(.disputed))
        #expect(states.last == .inProgress)
        #expect(events.first { $0.eventType == .disputeRuled }?.dispute?.entries.map(\.step) == ["ruled"])
        // The appeal window passes: the ruling is final.
        f.clock.advance(milliseconds: 3 * Self.day)
        #expect(await f.disputeWorker.sweep() == 1)
        #expect(try await f.store.dispute(opened.disputeId)?.status == .final)
    }

    /// A rejected case's dispute, under review once the merchant's response window passed: the
    /// fixture, the case, the dispute as stored, and the case's state.
    static func disputeUnderReview() async throws
        -> (f: ServiceFixture, number: String, opened: AfterSaleProto.Dispute, current: AfterSaleDomain.Dispute, afterSale: AfterSaleDomain.AfterSaleCase) {
        let f = Self.fixture()
        let number = try await Self.rejectedCase(f)
        let opened = try await Self.open(f, number)
        f.clock.advance(milliseconds: 2 * Self.day)
        #expect(await f.disputeWorker.sweep() == 1)
        let current = try #require(try await f.store.dispute(opened.disputeId))
        #expect(current.status == .underReview)
        let afterSale = try #require(try await f.store.afterSale(try CaseNumber(parsing: number)))
        return (f, number, opened, current, afterSale)
    }

    @Test("a ruling interrupted between its case change and its record is recorded by the dispute worker as it was made; the refund is paid once")
    func interruptedRuling() async throws {
        let (f, number, opened, current, afterSale) = try await Self.disputeUnderReview()
        let caseNumber = try CaseNumber(parsing: number)
        // RuleDispute's first step alone, as when the process dies before the second: the case is
        // refunded under the dispute's key, the dispute is still under review.
        let intended = try #require(try current.rule(.mediated, amount: .cny(2_500), reason: "half: the box was opened", refundID: nil,
                                                     by: .agent("a-judge"), at: f.clock.now()).ruling)
        let caller = try Self.ctx(Disputes.ruleDispute.info, .agent("a-judge")).caller
        let made = try await f.disputes.applyToCase(current, afterSale: afterSale, ruling: intended, by: caller)
        let refundID = try #require(made.refundID)
        #expect(try await f.store.dispute(opened.disputeId)?.status == .underReview)
        #expect(try await f.store.afterSale(caseNumber)?.status == .pendingRefund)
        // No deadline is due; the repair pass records the ruling as it was made, once.
        f.clock.advance(milliseconds: 5_000)
        #expect(await f.disputeWorker.sweep() == 0)
        #expect(await f.disputeWorker.repair() == 1)
        #expect(await f.disputeWorker.repair() == 0)
        let ruled = try #require(try await f.store.dispute(opened.disputeId))
        #expect(ruled.status == .ruled)
        let ruling = try #require(ruled.ruling)
        #expect(ruling.outcome == .mediated)
        #expect(ruling.amount == .cny(2_500))
        #expect(ruling.refundID == refundID)
        #expect(ruling.ruledBy == .agent("a-judge"))
        #expect(ruling.reason == "half: the box was opened")
        #expect(ruled.appealDueAt == f.clock.now().adding(milliseconds: 3 * Self.day))
        #expect(try await Self.events(f).last { $0.eventType == .disputeRuled }?.actorId == "a-judge")
        // The same ruling again answers with it; another is refused; the money moved once.
        #expect(try await Self.rule(f, opened.disputeId, .mediated, amount: 2_500).ruling?.refundId == refundID)
        #expect(await Self.code { _ = try await Self.rule(f, opened.disputeId, .forBuyer, amount: 3_000) } == .failedPrecondition)
        #expect(try await f.store.refund(of: caseNumber)?.id == refundID)
        #expect(try await f.store.refund(of: caseNumber)?.amount == .cny(2_500))
        #expect(try await f.store.afterSale(caseNumber)?.timeline.filter { $0.step == .arbitrationRefund }.count == 1)
    }

    @Test("a ruling interrupted between its steps is recorded by a retry of RuleDispute too, even another's: as it was made, never a second refund")
    func interruptedRulingRetried() async throws {
        let (f, number, opened, current, afterSale) = try await Self.disputeUnderReview()
        let caseNumber = try CaseNumber(parsing: number)
        let intended = try #require(try current.rule(.forBuyer, amount: .cny(3_000), reason: "new goods", refundID: nil, by: Self.platform,
                                                     at: f.clock.now()).ruling)
        let made = try await f.disputes.applyToCase(current, afterSale: afterSale, ruling: intended,
                                                    by: try Self.ctx(Disputes.ruleDispute.info, Self.platform).caller)
        // A different ruling finds the case changed for this one, and is refused.
        #expect(await Self.code { _ = try await Self.rule(f, opened.disputeId, .forMerchant) } == .failedPrecondition)
        #expect(await Self.code { _ = try await Self.rule(f, opened.disputeId, .forBuyer, amount: 2_000) } == .failedPrecondition)
        #expect(try await f.store.dispute(opened.disputeId)?.status == .underReview)
        let ruled = try await Self.rule(f, opened.disputeId, .forBuyer, amount: 3_000, as: .platform("p-2"))
        #expect(ruled.status == .ruled)
        #expect(ruled.ruling?.refundId == made.refundID)
        #expect(ruled.ruling?.ruledById == Self.platform.id)
        #expect(await f.disputeWorker.repair() == 0)
        #expect(try await f.store.refund(of: caseNumber)?.id == made.refundID)
    }

    @Test("a review ticket never opened after its dispute's save (the process died) is opened by the dispute worker's repair pass, once; on appeal too")
    func missingReviewTicket() async throws {
        let f = Self.fixture()
        let number = try await Self.rejectedCase(f)
        let opened = try await Self.open(f, number)
        // The merchant's response is saved (under review, naming its ticket), but the ticket is never opened.
        let current = try #require(try await f.store.dispute(opened.disputeId))
        let reviewed = try current.statement("视频显示已穿过", evidence: [], by: Self.merchant, at: f.clock.now())
        try await f.store.saveDispute(reviewed, expectedVersion: current.version, events: [])
        let ticketID = try #require(reviewed.ticketID)
        #expect(ticketID == "TK" + opened.disputeId)
        #expect(try await f.store.ticket(ticketID) == nil)
        #expect(await f.disputeWorker.repair() == 1)
        let ticket = try #require(try await f.store.ticket(ticketID))
        #expect(ticket.requirement.required == ["arbitration"])
        #expect(ticket.caseNumber == reviewed.caseNumber)
        #expect(await f.disputeWorker.repair() == 0)
        #expect(try await f.store.dispute(opened.disputeId)?.version == reviewed.version)
        // The appeal's ticket likewise.
        _ = try await Self.rule(f, opened.disputeId, .forBuyer, amount: 3_000)
        let ruled = try #require(try await f.store.dispute(opened.disputeId))
        let appealed = try ruled.appeal("the buyer wore them", evidence: [], by: Self.merchant, at: f.clock.now())
        try await f.store.saveDispute(appealed, expectedVersion: ruled.version, events: [])
        #expect(appealed.ticketID == "TK" + opened.disputeId + "A")
        #expect(await f.disputeWorker.repair() == 1)
        #expect(try await f.store.ticket("TK" + opened.disputeId + "A")?.priority == .high)
        #expect(await f.disputeWorker.repair() == 0)
    }

    @Test("a held case whose manual-review ticket was never opened gets it from the repair pass, once; a decided one does not")
    func missingManualReviewTicket() async throws {
        let f = Self.fixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        var service = f.afterSale
        service.abuse = AbuseLimits(maximumRefundOnlyCases: 1, maximumRefundOnlyMinorUnits: 0, maximumDisputeLossPercent: 100)
        service.desk = nil   // the opening after the save is lost
        _ = try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-1"))
        let held = try #require(try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-2")).afterSale)
        let decided = try #require(try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-3")).afterSale)
        #expect(held.status == .pendingReview && decided.status == .pendingReview)
        let heldTicket = "TKAB" + held.caseNumber.filter(\.isNumber)
        let decidedTicket = "TKAB" + decided.caseNumber.filter(\.isNumber)
        #expect(try await f.store.ticket(heldTicket) == nil)
        // The platform refuses one before any ticket exists: it is no longer waiting for a person.
        var review = ReviewAfterSaleRequest()
        review.caseNumber = decided.caseNumber
        review.decision = .reject
        review.rejectionReason = "the courier's photo shows it delivered"
        _ = try await service.reviewAfterSale(review, context: Self.ctx(AfterSaleService.reviewAfterSale.info, .platform("p-1")))
        #expect(await f.disputeWorker.repair() == 1)
        let ticket = try #require(try await f.store.ticket(heldTicket))
        #expect(ticket.caseNumber?.rawValue == held.caseNumber)
        #expect(ticket.priority == .high)
        #expect(ticket.subject.contains("refund_only_count"))
        #expect(try await f.store.ticket(decidedTicket) == nil)
        #expect(await f.disputeWorker.repair() == 0, "its id is fixed: opened once")
    }

    @Test("a buyer escalates only within the window, once per case; another buyer's case is not found")
    func openingRules() async throws {
        let f = Self.fixture()
        let number = try await Self.rejectedCase(f)
        #expect(await Self.code { _ = try await Self.open(f, number, as: .buyer("b-2")) } == .notFound)
        #expect(await Self.code { _ = try await Self.open(f, number, grounds: .merchantOverdue) } == .permissionDenied)
        #expect(await Self.code { _ = try await Self.open(f, number, grounds: .unspecified) } == .invalidArgument)
        f.clock.advance(milliseconds: 7 * Self.day + 1)
        #expect(await Self.code { _ = try await Self.open(f, number) } == .failedPrecondition)
        f.clock.advance(milliseconds: -2)
        _ = try await Self.open(f, number)
        #expect(await Self.code { _ = try await Self.open(f, number) } == .alreadyExists)
    }

    @Test("the merchant responds with evidence, the platform asks both for more, a party lapses, the platform rules for the merchant")
    func ruledForMerchant() async throws {
        let f = Self.fixture()
        let number = try await Self.rejectedCase(f)
        let opened = try await Self.open(f, number)
        var statement = SubmitStatementRequest()
        statement.disputeId = opened.disputeId
        statement.text = "视频显示已穿过"
        let responded = try #require(try await f.disputes.submitStatement(statement, context: Self.ctx(Disputes.submitStatement.info, Self.merchant)).dispute)
        #expect(responded.status == .underReview)
        var ask = RequestEvidenceRequest()
        ask.disputeId = opened.disputeId
        ask.parties = [.buyer, .merchant]
        ask.note = "unboxing video"
        let asked = try #require(try await f.disputes.requestEvidence(ask, context: Self.ctx(Disputes.requestEvidence.info, Self.platform)).dispute)
        #expect(asked.status == .awaitingEvidence)
        #expect(await Self.code {
            _ = try await f.disputes.requestEvidence(ask, context: Self.ctx(Disputes.requestEvidence.info, Self.buyer))
        } == .permissionDenied)
        _ = try await f.disputes.submitStatement(statement, context: Self.ctx(Disputes.submitStatement.info, Self.merchant))
        f.clock.advance(milliseconds: 3 * Self.day)
        #expect(await f.disputeWorker.sweep() == 1)
        let resumed = try #require(try await f.store.dispute(opened.disputeId))
        #expect(resumed.status == .underReview)
        #expect(resumed.evidenceRequests.map(\.state) == [.lapsed, .answered])
        let ruled = try await Self.rule(f, opened.disputeId, .forMerchant)
        #expect(ruled.status == .final)
        #expect(try await f.store.refund(of: try CaseNumber(parsing: number)) == nil)
        #expect(try await f.store.afterSale(try CaseNumber(parsing: number))?.status == .rejected)
        #expect(try await Self.orderState(f) == .none)
        var list = ListDisputesRequest()
        list.statuses = [.final]
        let mine = try await f.disputes.listDisputes(list, context: Self.ctx(Disputes.listDisputes.info, Self.buyer))
        #expect(mine.disputes.map(\.disputeId) == [opened.disputeId])
        let others = try await f.disputes.listDisputes(ListDisputesRequest(), context: Self.ctx(Disputes.listDisputes.info, .buyer("b-2")))
        #expect(others.disputes.isEmpty)
    }

    @Test("beyond the buyer's refund-only limit a new case waits for manual review with a ticket, the deciding rule recorded; the platform then forces the refund")
    func abuseControl() async throws {
        let f = Self.fixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        var service = f.afterSale
        service.abuse = AbuseLimits(maximumRefundOnlyCases: 1, maximumRefundOnlyMinorUnits: 0, maximumDisputeLossPercent: 100)
        service.desk = f.desk
        let first = try #require(try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-1")).afterSale)
        #expect(first.status == .pendingRefund)
        let second = try #require(try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-2")).afterSale)
        #expect(second.status == .pendingReview)
        let number = try CaseNumber(parsing: second.caseNumber)
        #expect(try await f.store.refund(of: number) == nil)
        #expect(try await f.store.caseTimer(of: number) == nil)
        let trace = try await f.store.traceRecords(of: number)
        #expect(trace.first?.details.contains("held=refund_only_count") == true)
        #expect(try await f.store.traceRecords(of: try CaseNumber(parsing: first.caseNumber)).first?.details.contains("abuse_check=within_limits") == true)
        let ticket = try #require(try await f.store.ticket("TKAB" + second.caseNumber.filter(\.isNumber)))
        #expect(ticket.caseNumber == number)
        #expect(ticket.origin == .platformReview)
        var force = ForceRefundRequest()
        force.caseNumber = second.caseNumber
        force.ruling = "reviewed: a genuine refund"
        let forced = try await service.forceRefund(force, context: Self.ctx(AfterSaleService.forceRefund.info, Self.platform))
        #expect(forced.afterSale?.status == .pendingRefund)
        #expect(try await f.store.refund(of: number) != nil)
        // Decided: the desk solves the manual-review ticket when it reads the approval from the feed.
        #expect(try await f.store.ticket(ticket.id)?.status.isOpen == true)
        await f.deskWorker.sweep()
        #expect(try await f.store.ticket(ticket.id)?.status == .solved)
    }

    @Test("a held refund-only case is refused through ReviewAfterSale REJECT by the agent reviewing it, or the merchant; the buyer escalates the rejection and a ruling refunds it")
    func heldCaseRefused() async throws {
        let f = Self.fixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        var service = f.afterSale
        service.abuse = AbuseLimits(maximumRefundOnlyCases: 1, maximumRefundOnlyMinorUnits: 0, maximumDisputeLossPercent: 100)
        service.desk = f.desk
        _ = try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-1"))
        let held = try #require(try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-2")).afterSale)
        let other = try #require(try await service.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-3")).afterSale)
        #expect(held.status == .pendingReview && other.status == .pendingReview)
        // The agent reviewing them takes both manual-review tickets (none is left in the queue for others to see).
        _ = try await DeskServiceTests.agent(f, "a-risk", online: false)
        for number in [held.caseNumber, other.caseNumber] {
            var take = TakeTicketRequest()
            take.ticketId = "TKAB" + number.filter(\.isNumber)
            let taken = try await f.serviceDesk.takeTicket(take, context: Self.ctx(ServiceDesk.takeTicket.info, .agent("a-risk")))
            #expect(taken.ticket?.assignee == "a-risk")
        }
        func reject(_ number: String, reason: String = "signed for by the buyer: see the courier's photo", as principal: Principal) async throws
            -> AfterSaleProto.AfterSaleCase {
            var review = ReviewAfterSaleRequest()
            review.caseNumber = number
            review.decision = .reject
            review.rejectionReason = reason
            return try #require(try await service.reviewAfterSale(review, context: Self.ctx(AfterSaleService.reviewAfterSale.info, principal)).afterSale)
        }
        // The buyer may not refuse it; a reason is required; an agent without a ticket of the case does not see it.
        #expect(await Self.code { _ = try await reject(held.caseNumber, as: Self.buyer) } == .permissionDenied)
        #expect(await Self.code { _ = try await reject(held.caseNumber, reason: "", as: .agent("a-risk")) } == .invalidArgument)
        #expect(await Self.code { _ = try await reject(held.caseNumber, as: .agent("a-nobody")) } == .notFound)
        let refused = try await reject(held.caseNumber, as: .agent("a-risk"))
        #expect(refused.status == .rejected)
        #expect(refused.rejectionReason == "signed for by the buyer: see the courier's photo")
        let number = try CaseNumber(parsing: held.caseNumber)
        #expect(try await f.store.refund(of: number) == nil)
        #expect(try await f.store.afterSale(number)?.timeline.last?.actor == .agent("a-risk"))
        #expect(try await Self.events(f).contains { $0.eventType == .caseRejected && $0.caseNumber == held.caseNumber })
        // The desk reads the rejection from the feed: the refused case's manual-review ticket is solved, the other's waits.
        await f.deskWorker.sweep()
        #expect(try await f.store.ticket("TKAB" + held.caseNumber.filter(\.isNumber))?.status == .solved)
        #expect(try await f.store.ticket("TKAB" + other.caseNumber.filter(\.isNumber))?.status == .assigned)
        // The shop's merchant may refuse the other held case too.
        #expect(try await reject(other.caseNumber, as: Self.merchant).status == .rejected)
        await f.deskWorker.sweep()
        let settled = try #require(try await f.store.ticket("TKAB" + other.caseNumber.filter(\.isNumber)))
        #expect(settled.status == .solved)
        #expect(settled.entries.last?.text.contains("rejected") == true)
        // The buyer escalates the refusal like any rejection; a ruling for the buyer reopens it with a refund.
        let dispute = try await Self.open(f, held.caseNumber)
        #expect(dispute.grounds == .afterRejection)
        #expect(dispute.status == .awaitingMerchant)
        f.clock.advance(milliseconds: 2 * Self.day)
        #expect(await f.disputeWorker.sweep() == 1)
        let ruled = try await Self.rule(f, dispute.disputeId, .forBuyer)
        #expect(ruled.status == .ruled)
        let refund = try #require(try await f.store.refund(of: number))
        #expect(refund.id == ruled.ruling?.refundId)
        #expect(try await f.store.afterSale(number)?.status == .pendingRefund)
    }

    @Test("the platform steps in on an open case whose merchant is overdue: a ruling for the merchant closes the case")
    func merchantOverdue() async throws {
        let f = Self.fixture()
        try await f.store.saveOrder(StorageFixture.order(status: .delivered))
        var create = CreateAfterSaleRequest()
        create.orderId = "o-1"
        create.kind = .exchange
        create.reasonCode = "size_does_not_fit"
        var line = RequestedLine()
        line.orderLineId = "l-3"
        line.quantity = 1
        create.lines = [line]
        var photo = AfterSaleProto.EvidenceRef()
        photo.objectKey = "evidence/b-1/2.jpg"
        photo.contentType = "image/jpeg"
        photo.sizeBytes = 1_000
        create.evidence = [photo]
        let number = try #require(try await f.afterSale.createAfterSale(create, context: ServiceFixture.creating()).afterSale).caseNumber
        #expect(await Self.code { _ = try await Self.open(f, number, grounds: .afterRejection) } == .failedPrecondition)
        let opened = try await Self.open(f, number, grounds: .merchantOverdue, as: Self.platform)
        #expect(opened.grounds == .merchantOverdue)
        #expect(try await Self.orderState(f) == .disputed)
        f.clock.advance(milliseconds: 2 * Self.day)
        #expect(await f.disputeWorker.sweep() == 1)
        let ruled = try await Self.rule(f, opened.disputeId, .forMerchant)
        #expect(ruled.status == .final)
        #expect(try await f.store.afterSale(try CaseNumber(parsing: number))?.status == .closed)
        #expect(try await Self.orderState(f) == .none)
    }
}
