/// The limits within which a buyer's refund-only applications are still approved automatically
/// (风控): over the last `windowMs`, how many refund-only cases and how much money, and what share
/// of their decided disputes they lost. Beyond any of them a new refund-only case waits for a
/// person's review instead.
public struct AbuseLimits: Sendable, Hashable {
    /// How far back the history is read (30 days).
    public var windowMs: Int64
    /// The most refund-only cases in the window, the new one included (0: no limit).
    public var maximumRefundOnlyCases: Int
    /// The most refund-only money in the window, the new case's included, in minor units (0: no limit).
    public var maximumRefundOnlyMinorUnits: Int64
    /// The largest share of decided disputes the buyer may have lost, in percent (100: no limit).
    public var maximumDisputeLossPercent: Int
    /// Decided disputes needed before the loss share counts.
    public var minimumDecidedDisputes: Int

    /// Creates limits.
    public init(windowMs: Int64 = 30 * Timestamp.millisecondsPerDay, maximumRefundOnlyCases: Int = 20,
                maximumRefundOnlyMinorUnits: Int64 = 2_000_000, maximumDisputeLossPercent: Int = 50, minimumDecidedDisputes: Int = 3) {
        self.windowMs = windowMs
        self.maximumRefundOnlyCases = maximumRefundOnlyCases
        self.maximumRefundOnlyMinorUnits = maximumRefundOnlyMinorUnits
        self.maximumDisputeLossPercent = maximumDisputeLossPercent
        self.minimumDecidedDisputes = minimumDecidedDisputes
    }

    /// The defaults: within 30 days at most 20 refund-only cases and 20,000.00, and no more than half of at least 3 decided disputes lost.
    public static let standard = AbuseLimits()

    /// No limit: every refund-only case is approved at once.
    public static let off = AbuseLimits(maximumRefundOnlyCases: 0, maximumRefundOnlyMinorUnits: 0, maximumDisputeLossPercent: 100)

    /// True when no limit applies (nothing to read).
    public var isOff: Bool { maximumRefundOnlyCases == 0 && maximumRefundOnlyMinorUnits == 0 && maximumDisputeLossPercent >= 100 }
}

/// What a buyer did in the window, as the abuse check reads it.
public struct BuyerHistory: Sendable, Hashable {
    /// Refund-only cases applied for (withdrawn ones included: applying is what counts).
    public var refundOnlyCases: Int
    /// Their computed refunds, in minor units.
    public var refundOnlyMinorUnits: Int64
    /// Disputes ruled (or final) in the window.
    public var decidedDisputes: Int
    /// Of those, ruled for the merchant.
    public var lostDisputes: Int

    /// Creates a history.
    public init(refundOnlyCases: Int = 0, refundOnlyMinorUnits: Int64 = 0, decidedDisputes: Int = 0, lostDisputes: Int = 0) {
        self.refundOnlyCases = refundOnlyCases
        self.refundOnlyMinorUnits = refundOnlyMinorUnits
        self.decidedDisputes = decidedDisputes
        self.lostDisputes = lostDisputes
    }

    /// Counts `disputes` (the buyer's, in the window): decided ones, and those ruled for the merchant.
    public mutating func count(_ disputes: [Dispute]) {
        for dispute in disputes where dispute.status == .ruled || dispute.status == .final {
            guard let ruling = dispute.effectiveRuling else { continue }
            decidedDisputes += 1
            if ruling.outcome == .forMerchant { lostDisputes += 1 }
        }
    }
}

/// The abuse check's verdict on a new refund-only case, with the rule that decided it (recorded
/// on the case's timeline and trace).
public struct AbuseDecision: Sendable, Hashable {
    /// `within_limits`, `refund_only_count`, `refund_only_amount` or `dispute_loss_share`.
    public var rule: String
    /// True when the case must wait for a person's review.
    public var holds: Bool
    /// The figures the rule compared, for the trace record.
    public var details: String

    /// What the first timeline entry of a held case says, before the rule's name.
    public static let heldNotePrefix = "held for manual review: "

    /// Creates a decision.
    public init(rule: String, holds: Bool, details: String) {
        self.rule = rule
        self.holds = holds
        self.details = details
    }

    /// Decides on a new refund-only case of `amount` for a buyer with `history` (the new case not included).
    public static func decide(_ history: BuyerHistory, adding amount: Money, limits: AbuseLimits) -> AbuseDecision {
        let count = history.refundOnlyCases + 1
        let (sum, overflow) = max(0, history.refundOnlyMinorUnits).addingReportingOverflow(max(0, amount.minorUnits))
        let total = overflow ? Int64.max : sum
        let figures = "refund_only_cases=\(count) refund_only_amount=\(total) disputes_lost=\(history.lostDisputes)/\(history.decidedDisputes)"
        if limits.maximumRefundOnlyCases > 0, count > limits.maximumRefundOnlyCases {
            return AbuseDecision(rule: "refund_only_count", holds: true, details: "\(figures) limit=\(limits.maximumRefundOnlyCases)")
        }
        if limits.maximumRefundOnlyMinorUnits > 0, total > limits.maximumRefundOnlyMinorUnits {
            return AbuseDecision(rule: "refund_only_amount", holds: true, details: "\(figures) limit=\(limits.maximumRefundOnlyMinorUnits)")
        }
        if limits.maximumDisputeLossPercent < 100, history.decidedDisputes >= max(1, limits.minimumDecidedDisputes),
           history.lostDisputes * 100 > limits.maximumDisputeLossPercent * history.decidedDisputes {
            return AbuseDecision(rule: "dispute_loss_share", holds: true, details: "\(figures) limit=\(limits.maximumDisputeLossPercent)%")
        }
        return AbuseDecision(rule: "within_limits", holds: false, details: figures)
    }
}
