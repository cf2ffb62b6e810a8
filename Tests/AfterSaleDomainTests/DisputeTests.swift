import AfterSaleDomain
import Testing

/// Disputes (维权): opening on each grounds, statements, evidence requests, deadlines, rulings and
/// the appeal, each step and each refusal; and the case action a ruling for the buyer takes.
@Suite("Disputes: every step and every refusal")
struct DisputeTests {
    static let day = Timestamp.millisecondsPerDay
    static let policy = DisputePolicy()

    /// A return case rejected by the merchant at `Fixture.now`.
    static func rejected() throws -> AfterSaleCase {
        try Fixture.open(.returnAndRefund, [("l-2", 1)]).then(.reject(reason: "worn"), by: Fixture.merchant).afterSale
    }

    /// An exchange case completed at `Fixture.now`.
    static func completedExchange() throws -> AfterSaleCase {
        try Fixture.open(.exchange, [("l-3", 1)])
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            .then(.confirmReturnReceived(condition: .intact, note: "", evidence: []), by: Fixture.merchant)
            .then(.shipReplacement(carrier: "SF", trackingNumber: "SF2", note: ""), by: Fixture.merchant)
            .then(.confirmReplacementReceived(note: ""), by: Fixture.buyer).afterSale
    }

    static func opened(at: Timestamp = Fixture.now) throws -> Dispute {
        try Dispute.open(try rejected(), grounds: .afterRejection, statement: "the socks were new", evidence: [Fixture.photo],
                         by: Fixture.buyer, at: at, policy: policy)
    }

    static func underReview() throws -> Dispute {
        try opened().statement("they were worn", evidence: [], by: Fixture.merchant, at: Fixture.now.adding(milliseconds: 1_000))
    }

    static func later(_ ms: Int64) -> Timestamp { Fixture.now.adding(milliseconds: ms) }

    // MARK: Opening

    @Test("a buyer escalates a rejection within the window; it waits for the merchant until the response deadline")
    func openAfterRejection() throws {
        let dispute = try Self.opened(at: Self.later(6 * Self.day))
        #expect(dispute.id == Dispute.id(of: Fixture.number(1)))
        #expect(dispute.status == .awaitingMerchant)
        #expect(dispute.status.isOpen)
        #expect(dispute.nextAt == Self.later(8 * Self.day))
        #expect(dispute.entries.map(\.step) == [.opened])
        #expect(dispute.entries[0].evidence == [Fixture.photo])
        #expect(dispute.version == 1)
    }

    @Test("after the escalation window the rejection is final")
    func escalationWindow() throws {
        let afterSale = try Self.rejected()
        #expect(throws: DomainError.self) {
            try Dispute.open(afterSale, grounds: .afterRejection, statement: "late", evidence: [], by: Fixture.buyer,
                             at: Self.later(7 * Self.day + 1), policy: Self.policy)
        }
        let short = DisputePolicy(escalationWindowMs: 1_000)
        #expect(throws: DomainError.self) {
            try Dispute.open(afterSale, grounds: .afterRejection, statement: "late", evidence: [], by: Fixture.buyer, at: Self.later(1_001), policy: short)
        }
    }

    @Test("who may open on which grounds, and on which cases")
    func openRefusals() throws {
        let afterSale = try Self.rejected()
        func open(_ grounds: DisputeGrounds, _ c: AfterSaleCase, by p: Principal, statement: String = "why") throws(DomainError) -> Dispute {
            try Dispute.open(c, grounds: grounds, statement: statement, evidence: [], by: p, at: Fixture.now, policy: Self.policy)
        }
        #expect(throws: DomainError.self) { try open(.afterRejection, afterSale, by: Fixture.otherBuyer) }
        #expect(throws: DomainError.self) { try open(.afterRejection, afterSale, by: Fixture.merchant) }
        #expect(throws: DomainError.self) { try open(.afterRejection, afterSale, by: Fixture.buyer, statement: "") }
        #expect(throws: DomainError.self) { try open(.merchantOverdue, afterSale, by: Fixture.buyer) }
        #expect(throws: DomainError.self) { try open(.merchantOverdue, afterSale, by: Fixture.platform) }  // terminal
        let pending = try Fixture.open(.returnAndRefund, [("l-2", 1)]).afterSale
        #expect(throws: DomainError.self) { try open(.afterRejection, pending, by: Fixture.buyer) }
        #expect(try open(.merchantOverdue, pending, by: Fixture.platform).grounds == .merchantOverdue)
        #expect(try open(.afterRejection, afterSale, by: Fixture.platform).status == .awaitingMerchant)
    }

    @Test("a guarantee claim needs a completed exchange or repair within the guarantee period")
    func guarantee() throws {
        let exchange = try Self.completedExchange()
        let claim = try Dispute.open(exchange, grounds: .guarantee, statement: "counterfeit", evidence: [Fixture.photo], by: Fixture.buyer,
                                     at: Self.later(30 * Self.day), policy: Self.policy)
        #expect(claim.caseStatusAtOpening == .completed)
        #expect(throws: DomainError.self) {
            try Dispute.open(exchange, grounds: .guarantee, statement: "late", evidence: [], by: Fixture.buyer, at: Self.later(91 * Self.day),
                             policy: Self.policy)
        }
        let refunded = try Fixture.open(.refundOnly, [("l-1", 1)]).then(.refundSucceeded, by: Fixture.payments).afterSale
        #expect(throws: DomainError.self) {
            try Dispute.open(refunded, grounds: .guarantee, statement: "broken", evidence: [], by: Fixture.buyer, at: Fixture.now, policy: Self.policy)
        }
    }

    // MARK: Statements and evidence

    @Test("the merchant's response sends the dispute to review with its ticket; the buyer's statements are recorded")
    func statements() throws {
        let dispute = try Self.opened()
        let buyerSaid = try dispute.statement("more photos", evidence: [Fixture.photo], by: Fixture.buyer, at: Self.later(1))
        #expect(buyerSaid.status == .awaitingMerchant)
        #expect(buyerSaid.version == 2)
        let reviewed = try buyerSaid.statement("they were worn", evidence: [], by: Fixture.merchant, at: Self.later(2))
        #expect(reviewed.status == .underReview)
        #expect(reviewed.ticketID == "TK" + dispute.id)
        #expect(reviewed.nextAt == nil)
        #expect(reviewed.entries.map(\.step) == [.opened, .statement, .merchantResponded])
        #expect(throws: DomainError.self) { try reviewed.statement("me too", evidence: [], by: Fixture.otherBuyer, at: Self.later(3)) }
        #expect(throws: DomainError.self) { try reviewed.statement("me too", evidence: [], by: Fixture.otherMerchant, at: Self.later(3)) }
        #expect(throws: DomainError.self) { try reviewed.statement("ruling", evidence: [], by: Fixture.agent, at: Self.later(3)) }
        #expect(throws: DomainError.self) { try reviewed.statement("", evidence: [], by: Fixture.buyer, at: Self.later(3)) }
    }

    @Test("evidence requested of both parties: one answers, the other lapses, then review resumes")
    func evidence() throws {
        let reviewed = try Self.underReview()
        let asked = try reviewed.requestEvidence(from: [.buyer, .merchant], note: "the parcel's weight", dueAt: nil, by: Fixture.agent,
                                                 at: Self.later(10))
        #expect(asked.status == .awaitingEvidence)
        #expect(asked.evidenceRequests.map(\.party) == [.buyer, .merchant])
        #expect(asked.nextAt == Self.later(10 + 3 * Self.day))
        let answered = try asked.statement("weight slip", evidence: [Fixture.photo], by: Fixture.buyer, at: Self.later(20))
        #expect(answered.status == .awaitingEvidence)
        #expect(answered.evidenceRequests.map(\.state) == [.answered, .pending])
        #expect(answered.applyingDeadlines(at: Self.later(30)) == nil)
        let lapsed = try #require(answered.applyingDeadlines(at: Self.later(10 + 3 * Self.day)))
        #expect(lapsed.status == .underReview)
        #expect(lapsed.evidenceRequests.map(\.state) == [.answered, .lapsed])
        #expect(Array(lapsed.entries.map(\.step).suffix(2)) == [.evidenceLapsed, .reviewResumed])
        #expect(lapsed.version == answered.version + 1)
    }

    @Test("evidence requests are refused to parties, outside review, without parties, and with a deadline out of range")
    func evidenceRefusals() throws {
        let reviewed = try Self.underReview()
        #expect(throws: DomainError.self) { try reviewed.requestEvidence(from: [.buyer], note: "x", dueAt: nil, by: Fixture.buyer, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.requestEvidence(from: [], note: "x", dueAt: nil, by: Fixture.agent, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.requestEvidence(from: [.agent], note: "x", dueAt: nil, by: Fixture.agent, at: Self.later(5)) }
        #expect(throws: DomainError.self) {
            try reviewed.requestEvidence(from: [.buyer], note: "x", dueAt: Self.later(5), by: Fixture.agent, at: Self.later(5))
        }
        #expect(throws: DomainError.self) {
            try reviewed.requestEvidence(from: [.buyer], note: "x", dueAt: Self.later(31 * Self.day), by: Fixture.agent, at: Self.later(5))
        }
        let ruled = try reviewed.rule(.forMerchant, amount: nil, reason: "worn", refundID: nil, by: Fixture.agent, at: Self.later(6))
        #expect(throws: DomainError.self) { try ruled.requestEvidence(from: [.buyer], note: "x", dueAt: nil, by: Fixture.agent, at: Self.later(7)) }
    }

    // MARK: Deadlines

    @Test("the merchant's silence sends the dispute to review when the response deadline passes")
    func merchantSilent() throws {
        let dispute = try Self.opened()
        #expect(dispute.applyingDeadlines(at: Self.later(2 * Self.day - 1)) == nil)
        let lapsed = try #require(dispute.applyingDeadlines(at: Self.later(2 * Self.day)))
        #expect(lapsed.status == .underReview)
        #expect(lapsed.entries.last?.step == .merchantResponseLapsed)
        #expect(lapsed.entries.last?.actor == Dispute.deadlineActor)
        #expect(lapsed.ticketID == "TK" + dispute.id)
        #expect(lapsed.applyingDeadlines(at: Self.later(10 * Self.day)) == nil)
    }

    // MARK: Rulings and the appeal

    @Test("a ruling for the buyer waits for the appeal window, then is final")
    func ruledForBuyer() throws {
        let ruled = try Self.underReview().rule(.forBuyer, amount: .cny(4_500), reason: "goods were new", refundID: "RF1", by: Fixture.agent,
                                                at: Self.later(100))
        #expect(ruled.status == .ruled)
        #expect(!ruled.status.isOpen)
        #expect(ruled.ruling?.amount == .cny(4_500))
        #expect(ruled.ruling?.refundID == "RF1")
        #expect(ruled.nextAt == Self.later(100 + 3 * Self.day))
        let final = try #require(ruled.applyingDeadlines(at: Self.later(100 + 3 * Self.day)))
        #expect(final.status == .final)
        #expect(final.finishedAt == Self.later(100 + 3 * Self.day))
        #expect(throws: DomainError.self) { try final.appeal("too late", evidence: [], by: Fixture.merchant, at: Self.later(100 + 3 * Self.day)) }
    }

    @Test("a ruling for the merchant is final at once and refunds nothing; mediated needs a positive amount")
    func otherOutcomes() throws {
        let reviewed = try Self.underReview()
        let merchant = try reviewed.rule(.forMerchant, amount: nil, reason: "worn", refundID: nil, by: Fixture.platform, at: Self.later(5))
        #expect(merchant.status == .final)
        #expect(merchant.nextAt == nil)
        #expect(throws: DomainError.self) { try merchant.appeal("why", evidence: [], by: Fixture.merchant, at: Self.later(6)) }
        #expect(throws: DomainError.self) { try reviewed.rule(.forMerchant, amount: .cny(1), reason: "x", refundID: nil, by: Fixture.agent, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.rule(.mediated, amount: nil, reason: "x", refundID: nil, by: Fixture.agent, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.rule(.mediated, amount: .cny(0), reason: "x", refundID: nil, by: Fixture.agent, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.rule(.forBuyer, amount: .cny(1), reason: "", refundID: nil, by: Fixture.agent, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.rule(.forBuyer, amount: .cny(1), reason: "x", refundID: nil, by: Fixture.buyer, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try reviewed.rule(.forBuyer, amount: .cny(1), reason: "x", refundID: nil, by: Fixture.merchant, at: Self.later(5)) }
        #expect(throws: DomainError.self) { try Self.opened().rule(.forBuyer, amount: .cny(1), reason: "x", refundID: nil, by: Fixture.agent, at: Self.later(5)) }
        let mediated = try reviewed.rule(.mediated, amount: .cny(2_000), reason: "half", refundID: "RF1", by: Fixture.agent, at: Self.later(5))
        #expect(mediated.status == .ruled)
        #expect(mediated.ruling?.outcome == .mediated)
    }

    @Test("the merchant appeals once within the window; the ruling on appeal is final and may only lower the amount")
    func appeal() throws {
        let ruled = try Self.underReview().rule(.forBuyer, amount: .cny(4_500), reason: "new", refundID: "RF1", by: Fixture.agent, at: Self.later(100))
        #expect(throws: DomainError.self) { try ruled.appeal("no", evidence: [], by: Fixture.buyer, at: Self.later(101)) }
        #expect(throws: DomainError.self) { try ruled.appeal("no", evidence: [], by: Fixture.otherMerchant, at: Self.later(101)) }
        #expect(throws: DomainError.self) { try ruled.appeal("", evidence: [], by: Fixture.merchant, at: Self.later(101)) }
        #expect(throws: DomainError.self) { try ruled.appeal("late", evidence: [], by: Fixture.merchant, at: Self.later(101 + 3 * Self.day)) }
        let appealed = try ruled.appeal("the buyer wore them", evidence: [Fixture.photo], by: Fixture.merchant, at: Self.later(200))
        #expect(appealed.status == .appealed)
        #expect(appealed.status.isOpen)
        #expect(appealed.ticketID == "TK" + ruled.id + "A")
        #expect(appealed.nextAt == nil)
        #expect(throws: DomainError.self) { try appealed.appeal("again", evidence: [], by: Fixture.merchant, at: Self.later(201)) }
        #expect(throws: DomainError.self) {
            try appealed.rule(.forBuyer, amount: .cny(4_501), reason: "more", refundID: nil, by: Fixture.agent, at: Self.later(300))
        }
        let asked = try appealed.requestEvidence(from: [.merchant], note: "wear photos", dueAt: nil, by: Fixture.agent, at: Self.later(250))
        let back = try asked.statement("photos", evidence: [Fixture.photo], by: Fixture.merchant, at: Self.later(260))
        #expect(back.status == .appealed)
        let lowered = try back.rule(.mediated, amount: .cny(1_500), reason: "partly worn", refundID: nil, by: Fixture.agent, at: Self.later(300))
        #expect(lowered.status == .final)
        #expect(lowered.effectiveRuling?.amount == .cny(1_500))
        #expect(lowered.ruling?.amount == .cny(4_500))
        #expect(lowered.merchantCompensation == .cny(3_000))
        let upheld = try appealed.rule(.forBuyer, amount: .cny(4_500), reason: "upheld", refundID: nil, by: Fixture.agent, at: Self.later(300))
        #expect(upheld.merchantCompensation == nil)
        let reversed = try appealed.rule(.forMerchant, amount: nil, reason: "reversed", refundID: nil, by: Fixture.platform, at: Self.later(300))
        #expect(reversed.merchantCompensation == .cny(4_500))
    }

    // MARK: The case side of a ruling

    @Test("arbitration refunds a rejected case: it reopens to pending refund with a forced refund of the ruled amount")
    func arbitrationRefund() throws {
        let afterSale = try Self.rejected()
        #expect(afterSale.finishedAt != nil)
        let refunded = try decide(afterSale, .arbitrationRefund(amount: .cny(3_000), disputeID: "DP1", ruling: "for the buyer"),
                                  by: Fixture.agent, at: Self.later(10))
        #expect(refunded.afterSale.status == .pendingRefund)
        #expect(refunded.afterSale.finishedAt == nil)
        #expect(refunded.afterSale.amounts.approved == .cny(3_000))
        #expect(refunded.refundRequest?.amount == .cny(3_000))
        #expect(refunded.refundRequest?.trigger == .forced)
        #expect(refunded.trace.step == .arbitrationRefund)
        #expect(throws: DomainError.self) {
            try decide(afterSale, .arbitrationRefund(amount: afterSale.maximumRefund.adding(.cny(1)), disputeID: "DP1", ruling: "x"),
                       by: Fixture.agent, at: Self.later(10))
        }
        #expect(throws: DomainError.self) {
            try decide(afterSale, .arbitrationRefund(amount: .cny(1), disputeID: "DP1", ruling: "x"), by: Fixture.merchant, at: Self.later(10))
        }
        let paid = try refunded.then(.refundSucceeded, by: Fixture.payments, at: Self.later(20))
        #expect(paid.afterSale.status == .completed)
        #expect(paid.afterSale.amounts.refunded == .cny(3_000))
        #expect(throws: DomainError.self) {
            try paid.then(.arbitrationRefund(amount: .cny(1), disputeID: "DP1", ruling: "again"), by: Fixture.agent)
        }
    }

    @Test("arbitration refunds a completed exchange up to the goods' value")
    func arbitrationOnExchange() throws {
        let exchange = try Self.completedExchange()
        let refunded = try decide(exchange, .arbitrationRefund(amount: exchange.maximumRefund, disputeID: "DP1", ruling: "counterfeit"),
                                  by: Fixture.platform, at: Self.later(10))
        #expect(refunded.afterSale.status == .pendingRefund)
        #expect(refunded.refundRequest?.amount == exchange.maximumRefund)
    }

    @Test("the feed event of each step")
    func eventTypes() {
        #expect(EventType.dispute(.opened) == .disputeOpened)
        #expect(EventType.dispute(.merchantResponded) == .disputeStatementAdded)
        #expect(EventType.dispute(.merchantResponseLapsed) == .disputeDeadlinePassed)
        #expect(EventType.dispute(.ruled) == .disputeRuled)
        #expect(EventType.dispute(.finalized) == .disputeFinalized)
    }
}

@Suite("The order shows 维权中 while a dispute is open")
struct DisputedOrderTests {
    @Test("an open dispute wins over every other state, keeps the order from completing, and its end is a change")
    func disputed() throws {
        let order = Fixture.order()
        let rejected = try DisputeTests.rejected()
        let ledger = try OrderLedger(order: order, cases: [rejected])
        let quiet = OrderAfterSaleView(ledger)
        let disputed = OrderAfterSaleView(ledger, openDisputeIDs: ["DP1"])
        #expect(quiet.state == .none)
        #expect(quiet.mayComplete)
        #expect(disputed.state == .disputed)
        #expect(!disputed.mayComplete)
        #expect(disputed.scope == nil)
        #expect(disputed.differs(from: quiet))
        #expect(quiet.differs(from: disputed))
    }
}

@Suite("Abuse control: refund-only auto-approval within a buyer's limits")
struct AbuseControlTests {
    static let limits = AbuseLimits(maximumRefundOnlyCases: 3, maximumRefundOnlyMinorUnits: 10_000, maximumDisputeLossPercent: 50,
                                    minimumDecidedDisputes: 2)

    @Test("each limit decides, in order, and says which rule and figures")
    func rules() {
        #expect(AbuseDecision.decide(BuyerHistory(), adding: .cny(100), limits: Self.limits).rule == "within_limits")
        #expect(!AbuseDecision.decide(BuyerHistory(), adding: .cny(100), limits: Self.limits).holds)
        let many = AbuseDecision.decide(BuyerHistory(refundOnlyCases: 3, refundOnlyMinorUnits: 300), adding: .cny(100), limits: Self.limits)
        #expect(many.rule == "refund_only_count")
        #expect(many.holds)
        #expect(many.details.contains("refund_only_cases=4"))
        #expect(AbuseDecision.decide(BuyerHistory(refundOnlyCases: 1, refundOnlyMinorUnits: 9_950), adding: .cny(100), limits: Self.limits).rule
                == "refund_only_amount")
        #expect(AbuseDecision.decide(BuyerHistory(decidedDisputes: 2, lostDisputes: 2), adding: .cny(1), limits: Self.limits).rule
                == "dispute_loss_share")
        #expect(AbuseDecision.decide(BuyerHistory(decidedDisputes: 2, lostDisputes: 1), adding: .cny(1), limits: Self.limits).rule == "within_limits")
        #expect(AbuseDecision.decide(BuyerHistory(decidedDisputes: 1, lostDisputes: 1), adding: .cny(1), limits: Self.limits).rule == "within_limits")
        #expect(AbuseDecision.decide(BuyerHistory(refundOnlyCases: 1_000, refundOnlyMinorUnits: 1 << 40, decidedDisputes: 9, lostDisputes: 9),
                                     adding: .cny(1), limits: .off).rule == "within_limits")
        #expect(AbuseLimits.off.isOff)
        #expect(!AbuseLimits.standard.isOff)
    }

    @Test("a held refund-only case waits for review without a refund or a timer; a person forces the refund or closes it")
    func held() throws {
        let decision = AbuseDecision(rule: "refund_only_count", holds: true, details: "refund_only_cases=4 limit=3")
        let held = try AfterSaleCase.open(Fixture.application(.refundOnly, [("l-3", 1)]), number: Fixture.number(1),
                                          order: Fixture.order(status: .paid), existingCases: [], catalog: .standard, by: Fixture.buyer,
                                          at: Fixture.now, abuse: decision)
        #expect(held.afterSale.status == .pendingReview)
        #expect(held.refundRequest == nil)
        #expect(held.afterSale.amounts.approved == nil)
        #expect(held.afterSale.timeline.first?.note == "held for manual review: refund_only_count")
        #expect(held.trace.details.contains("held=refund_only_count"))
        #expect(CaseTimer.arm(after: held, previousRule: nil, book: TimerBook(platform: .marketplaceDefaults)) == .keep)
        #expect(throws: DomainError.self) { try held.then(Fixture.approve(), by: Fixture.merchant) }
        let forced = try held.then(.forceRefund(amount: nil, ruling: "reviewed: genuine"), by: Fixture.agent)
        #expect(forced.afterSale.status == .pendingRefund)
        #expect(forced.refundRequest?.amount == held.afterSale.amounts.computed)
        #expect(try held.then(.close(reason: "abuse"), by: Fixture.platform).afterSale.status == .closed)
        let approved = try AfterSaleCase.open(Fixture.application(.refundOnly, [("l-3", 1)]), number: Fixture.number(1),
                                              order: Fixture.order(status: .paid), existingCases: [], catalog: .standard, by: Fixture.buyer,
                                              at: Fixture.now, abuse: AbuseDecision(rule: "within_limits", holds: false, details: "refund_only_cases=1"))
        #expect(approved.afterSale.status == .pendingRefund)
        #expect(approved.trace.details.contains("abuse_check=within_limits"))
    }

    @Test("the reviewer of a held refund-only case may refuse it with a reason: the shop's merchant, an agent or the platform; the buyer may then escalate the rejection")
    func heldRefused() throws {
        let decision = AbuseDecision(rule: "refund_only_amount", holds: true, details: "refund_only_amount=30000 limit=20000")
        let held = try AfterSaleCase.open(Fixture.application(.refundOnly, [("l-3", 1)]), number: Fixture.number(1),
                                          order: Fixture.order(status: .paid), existingCases: [], catalog: .standard, by: Fixture.buyer,
                                          at: Fixture.now, abuse: decision)
        #expect(Transitions.availableActions(kind: .refundOnly, status: .pendingReview).contains(.reject))
        for reviewer in [Fixture.merchant, Fixture.agent, Fixture.platform] {
            let refused = try held.then(.reject(reason: "the parcel was signed for"), by: reviewer)
            #expect(refused.afterSale.status == .rejected)
            #expect(refused.afterSale.rejectionReason == "the parcel was signed for")
            #expect(refused.afterSale.finishedAt == Fixture.now)
            #expect(refused.refundRequest == nil)
            #expect(refused.entries.last?.step == .reject)
            #expect(refused.entries.last?.actor == reviewer)
        }
        // A reason is required; the buyer, another shop and the system may not refuse it.
        #expect(throws: DomainError.invalidArgument(field: "rejection_reason", message: "must not be empty")) {
            try held.then(.reject(reason: ""), by: Fixture.agent)
        }
        for stranger in [Fixture.buyer, Fixture.otherMerchant, Principal.system("timer")] {
            let error = #expect(throws: DomainError.self) { try held.then(.reject(reason: "no"), by: stranger) }
            guard case .permissionDenied = error else {
                Issue.record("\(stranger) refused a held case: \(String(describing: error))")
                continue
            }
        }
        // Agents and the platform refuse only held refund-only cases: the merchant reviews the other kinds.
        let returnCase = try Fixture.open(.returnAndRefund, [("l-2", 1)])
        for support in [Fixture.agent, Fixture.platform] {
            let error = #expect(throws: DomainError.self) { try returnCase.then(.reject(reason: "no"), by: support) }
            #expect(error == .permissionDenied(.roleNotAllowed(principal: support, action: "reject", allowed: [.merchant])))
        }
        #expect(ActionKind.reject.allowedRoles(on: .refundOnly) == [.merchant, .agent, .platform])
        #expect(ActionKind.reject.allowedRoles(on: .exchange) == [.merchant])
        #expect(ActionKind.reject.rolesOnAnyKind == [.merchant, .agent, .platform])
        // An approved refund-only case (money moving) may not be rejected.
        let approved = try Fixture.open(.refundOnly, [("l-3", 1)])
        #expect(approved.afterSale.status == .pendingRefund)
        #expect(throws: DomainError.self) { try approved.then(.reject(reason: "no"), by: Fixture.merchant) }
        // The refusal is a rejection like any other: the buyer escalates it within the window, and a
        // ruling for the buyer reopens it with a refund.
        let refused = try held.then(.reject(reason: "the parcel was signed for"), by: Fixture.agent).afterSale
        let dispute = try Dispute.open(refused, grounds: .afterRejection, statement: "never received it", evidence: [],
                                       by: Fixture.buyer, at: Fixture.now.adding(milliseconds: DisputeTests.day))
        #expect(dispute.status == .awaitingMerchant)
        #expect(dispute.caseStatusAtOpening == .rejected)
        let reopened = try decide(refused, .arbitrationRefund(amount: refused.amounts.computed, disputeID: dispute.id, ruling: "not delivered"),
                                  by: Fixture.platform, at: Fixture.now.adding(milliseconds: 2 * DisputeTests.day))
        #expect(reopened.afterSale.status == .pendingRefund)
        #expect(reopened.refundRequest?.amount == refused.amounts.computed)
    }
}
