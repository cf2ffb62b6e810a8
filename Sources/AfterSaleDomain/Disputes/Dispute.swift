/// Why a dispute (维权) exists.
public enum DisputeGrounds: String, Sendable, Hashable, CaseIterable {
    /// The buyer escalates a rejected case within the escalation window (平台介入).
    case afterRejection = "after_rejection"
    /// The platform steps in by itself: the merchant let a deadline pass on an open case.
    case merchantOverdue = "merchant_overdue"
    /// A quality or counterfeit claim (保障) on a completed exchange or repair, within the guarantee period.
    case guarantee
}

/// Where a dispute stands.
public enum DisputeStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for the merchant's response, until the response deadline.
    case awaitingMerchant = "awaiting_merchant"
    /// Waiting for evidence from one or both parties, each until its own deadline.
    case awaitingEvidence = "awaiting_evidence"
    /// Under review by a platform agent (a ticket needing the `arbitration` skill).
    case underReview = "under_review"
    /// Ruled; the merchant may appeal a ruling against them until the appeal deadline.
    case ruled
    /// The merchant appealed; under review again. The next ruling is final.
    case appealed
    /// Final: nothing changes any more.
    case final

    /// True while the dispute is being argued: the order shows 维权中.
    public var isOpen: Bool {
        switch self {
        case .awaitingMerchant, .awaitingEvidence, .underReview, .appealed: true
        case .ruled, .final: false
        }
    }

    /// The snake_case name.
    public var description: String { rawValue }
}

/// The steps recorded in a dispute's flow record.
public enum DisputeStep: String, Sendable, Hashable, CaseIterable {
    /// The buyer (or the platform) opened the dispute.
    case opened
    /// A party said something, with evidence.
    case statement
    /// The merchant's response arrived: the dispute goes to review.
    case merchantResponded = "merchant_responded"
    /// The merchant's response deadline passed without one: the dispute goes to review.
    case merchantResponseLapsed = "merchant_response_lapsed"
    /// An agent or the platform asked one or both parties for evidence.
    case evidenceRequested = "evidence_requested"
    /// A party's evidence deadline passed without evidence.
    case evidenceLapsed = "evidence_lapsed"
    /// Every requested party answered or lapsed: back to review.
    case reviewResumed = "review_resumed"
    /// An agent or the platform ruled.
    case ruled
    /// The merchant appealed the ruling.
    case appealed
    /// The ruling became final (the appeal window passed, or a ruling on appeal).
    case finalized
}

/// How a dispute was ruled.
public enum DisputeOutcome: String, Sendable, Hashable, CaseIterable {
    /// For the buyer: a refund of the ruled amount through the case's refund order.
    case forBuyer = "for_buyer"
    /// For the merchant: the case closes (a rejected case stays rejected), nothing is refunded.
    case forMerchant = "for_merchant"
    /// Mediated: the parties agreed an amount, refunded like a ruling for the buyer.
    case mediated
}

/// One entry of a dispute's flow record: who said or did what, with which evidence.
public struct DisputeEntry: Sendable, Hashable {
    /// When.
    public var at: Timestamp
    /// Who (a timer's steps are the system's ``Dispute/deadlineActor``).
    public var actor: Principal
    /// What kind of step.
    public var step: DisputeStep
    /// What they said (a statement, a reason, a ruling).
    public var text: String
    /// What they submitted (photos, chat exports, tracking screenshots).
    public var evidence: [EvidenceRef]
    /// The status before.
    public var from: DisputeStatus?
    /// The status after.
    public var to: DisputeStatus

    /// Creates an entry.
    public init(at: Timestamp, actor: Principal, step: DisputeStep, text: String, evidence: [EvidenceRef] = [], from: DisputeStatus?,
                to: DisputeStatus) {
        self.at = at
        self.actor = actor
        self.step = step
        self.text = text
        self.evidence = evidence
        self.from = from
        self.to = to
    }
}

/// Evidence asked of one party, with its deadline and what came of it.
public struct EvidenceRequest: Sendable, Hashable {
    /// What came of a request.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Waiting for the party.
        case pending
        /// The party submitted a statement.
        case answered
        /// The deadline passed first: the review goes on without it.
        case lapsed
    }

    /// The party asked: ``ActorRole/buyer`` or ``ActorRole/merchant``.
    public var party: ActorRole
    /// What was asked for.
    public var note: String
    /// Until when.
    public var dueAt: Timestamp
    /// What came of it.
    public var state: State

    /// Creates a request.
    public init(party: ActorRole, note: String, dueAt: Timestamp, state: State = .pending) {
        self.party = party
        self.note = note
        self.dueAt = dueAt
        self.state = state
    }
}

/// A ruling: the outcome, the money, who ruled and why.
public struct DisputeRuling: Sendable, Hashable {
    /// The outcome.
    public var outcome: DisputeOutcome
    /// What the buyer is refunded (for the buyer, mediated); nil for the merchant.
    public var amount: Money?
    /// Why, shown to both parties.
    public var reason: String
    /// The agent or platform principal who ruled.
    public var ruledBy: Principal
    /// When.
    public var at: Timestamp
    /// The refund order that pays it, once created.
    public var refundID: String?

    /// Creates a ruling.
    public init(outcome: DisputeOutcome, amount: Money?, reason: String, ruledBy: Principal, at: Timestamp, refundID: String? = nil) {
        self.outcome = outcome
        self.amount = amount
        self.reason = reason
        self.ruledBy = ruledBy
        self.at = at
        self.refundID = refundID
    }
}

/// A dispute (维权, 平台介入) about one case: the platform arbitrates between the buyer and the merchant.
///
/// A value with step functions in ``Dispute`` extensions that return the next value (or throw a
/// ``DomainError``); storage keeps it by compare-and-set on ``version``. The earliest deadline is
/// ``nextAt``: the dispute worker applies what happens when it passes.
public struct Dispute: Sendable, Hashable {
    /// `DP` + the case number's digits: at most one dispute per case.
    public var id: String
    /// The case disputed.
    public var caseNumber: CaseNumber
    /// The case's order.
    public var orderID: String
    /// The case's buyer.
    public var buyerID: String
    /// The case's shop.
    public var shopID: String
    /// Why it exists.
    public var grounds: DisputeGrounds
    /// Where it stands.
    public var status: DisputeStatus
    /// The case's status when the dispute opened.
    public var caseStatusAtOpening: CaseStatus
    /// The flow record, oldest first.
    public var entries: [DisputeEntry]
    /// Until when the merchant may respond (while ``DisputeStatus/awaitingMerchant``).
    public var merchantResponseDueAt: Timestamp?
    /// Evidence asked of the parties (the latest round).
    public var evidenceRequests: [EvidenceRequest]
    /// The first ruling.
    public var ruling: DisputeRuling?
    /// Until when the merchant may appeal the ruling (while ``DisputeStatus/ruled``).
    public var appealDueAt: Timestamp?
    /// The merchant's appeal, if any (once).
    public var appealedAt: Timestamp?
    /// The ruling on appeal, if any: it is final.
    public var appealRuling: DisputeRuling?
    /// The service-desk ticket agents review it under.
    public var ticketID: String?
    /// When opened.
    public var openedAt: Timestamp
    /// When last changed.
    public var updatedAt: Timestamp
    /// When it became final.
    public var finishedAt: Timestamp?
    /// 1 when opened, +1 per change.
    public var version: Int64

    /// Rebuilds a dispute from stored fields (new ones come from ``Dispute/open(_:grounds:statement:evidence:by:at:policy:)``).
    public init(id: String, caseNumber: CaseNumber, orderID: String, buyerID: String, shopID: String, grounds: DisputeGrounds,
                status: DisputeStatus, caseStatusAtOpening: CaseStatus, entries: [DisputeEntry], merchantResponseDueAt: Timestamp?,
                evidenceRequests: [EvidenceRequest], ruling: DisputeRuling?, appealDueAt: Timestamp?, appealedAt: Timestamp?,
                appealRuling: DisputeRuling?, ticketID: String?, openedAt: Timestamp, updatedAt: Timestamp, finishedAt: Timestamp?,
                version: Int64) {
        self.id = id
        self.caseNumber = caseNumber
        self.orderID = orderID
        self.buyerID = buyerID
        self.shopID = shopID
        self.grounds = grounds
        self.status = status
        self.caseStatusAtOpening = caseStatusAtOpening
        self.entries = entries
        self.merchantResponseDueAt = merchantResponseDueAt
        self.evidenceRequests = evidenceRequests
        self.ruling = ruling
        self.appealDueAt = appealDueAt
        self.appealedAt = appealedAt
        self.appealRuling = appealRuling
        self.ticketID = ticketID
        self.openedAt = openedAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.version = version
    }

    /// The dispute id of case `number`.
    public static func id(of number: CaseNumber) -> String {
        "DP" + number.rawValue.filter(\.isNumber)
    }

    /// Who applies deadline outcomes.
    public static let deadlineActor = Principal.system("dispute-deadlines")

    /// The earliest deadline still to be applied: the merchant's response, a pending evidence
    /// request, or the end of the appeal window; nil when none runs.
    public var nextAt: Timestamp? {
        switch status {
        case .awaitingMerchant: merchantResponseDueAt
        case .awaitingEvidence: evidenceRequests.filter { $0.state == .pending }.map(\.dueAt).min()
        case .ruled: appealDueAt
        case .underReview, .appealed, .final: nil
        }
    }

    /// The ruling in force: the one on appeal when there is one.
    public var effectiveRuling: DisputeRuling? { appealRuling ?? ruling }

    /// What the platform owes the merchant after an appeal lowered a paid ruling: the first
    /// ruling's amount minus the appeal's (the buyer's refund is never reversed); nil when nothing.
    public var merchantCompensation: Money? {
        guard let paid = ruling?.amount, let appeal = appealRuling else { return nil }
        let kept = appeal.amount?.minorUnits ?? 0
        guard paid.minorUnits > kept else { return nil }
        return Money(minorUnits: paid.minorUnits - kept, currency: paid.currency)
    }

    /// True when `principal` is one of the parties (the case's buyer, its shop's merchant).
    public func isParty(_ principal: Principal) -> Bool {
        switch principal.role {
        case .buyer: principal.id == buyerID
        case .merchant: principal.actingShopID == shopID
        case .agent, .platform, .system: false
        }
    }

    /// True when `principal` may see the dispute: its parties, agents and the platform (agents are
    /// further limited by the services to disputes of their tickets or the arbitration queue).
    public func isVisible(to principal: Principal) -> Bool {
        switch principal.role {
        case .buyer, .merchant: isParty(principal)
        case .agent, .platform, .system: true
        }
    }
}

/// The windows and limits of disputes, all configurable (`--dispute-*`).
public struct DisputePolicy: Sendable, Hashable {
    /// How long after a rejection the buyer may escalate (WeChat: 7 d); after it the rejection is final.
    public var escalationWindowMs: Int64
    /// How long the merchant has to respond to a dispute.
    public var merchantResponseMs: Int64
    /// The default deadline of an evidence request.
    public var evidenceMs: Int64
    /// How long after a ruling against them the merchant may appeal.
    public var appealWindowMs: Int64
    /// How long after completion a quality or counterfeit claim (保障) may be made.
    public var guaranteePeriodMs: Int64

    /// Creates a policy.
    public init(escalationWindowMs: Int64 = 7 * Timestamp.millisecondsPerDay, merchantResponseMs: Int64 = 2 * Timestamp.millisecondsPerDay,
                evidenceMs: Int64 = 3 * Timestamp.millisecondsPerDay, appealWindowMs: Int64 = 3 * Timestamp.millisecondsPerDay,
                guaranteePeriodMs: Int64 = 90 * Timestamp.millisecondsPerDay) {
        self.escalationWindowMs = escalationWindowMs
        self.merchantResponseMs = merchantResponseMs
        self.evidenceMs = evidenceMs
        self.appealWindowMs = appealWindowMs
        self.guaranteePeriodMs = guaranteePeriodMs
    }

    /// The defaults: escalate within 7 d, the merchant responds in 2 d, evidence in 3 d, appeal within 3 d, guarantee 90 d.
    public static let standard = DisputePolicy()
}
