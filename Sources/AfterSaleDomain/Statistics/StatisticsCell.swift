/// How a statistics answer is broken down. Every fact is counted once under each grouping, so
/// each grouping's groups add up to the same totals.
public enum StatisticsGrouping: String, Sendable, Hashable, CaseIterable {
    /// By calendar day (in the business calendar's UTC offset).
    case day
    /// By the case's kind (`refund_only`, …); tickets and ticket ratings without a case: "".
    case kind
    /// By the case's reason code.
    case reason
    /// By the case's category: the category of its first line.
    case category
    /// By shop (not kept under a shop's own scope, where it would be one group).
    case shop
    /// By agent: the agents' workload only (assignments, replies, solves).
    case agent
}

/// Whose statistics a rollup row belongs to.
public enum StatisticsScope: Sendable, Hashable, CustomStringConvertible {
    /// Everything.
    case platform
    /// One shop's cases, tickets about it and ratings of it.
    case shop(String)
    /// One agent team's tickets, workload and ratings (cases have no team).
    case team(String)

    /// The scope as stored: "", `shop:<id>` or `team:<name>`.
    public var key: String {
        switch self {
        case .platform: ""
        case .shop(let id): "shop:\(id)"
        case .team(let name): "team:\(name)"
        }
    }

    public var description: String {
        switch self {
        case .platform: "the platform"
        case .shop(let id): "shop \(id)"
        case .team(let name): "team \(name)"
        }
    }
}

/// One rollup row's key: the scope, the grouping and its value, the day, and the metric.
public struct StatisticsCell: Sendable, Hashable {
    /// ``StatisticsScope/key``.
    public var scope: String
    /// How the row breaks facts down.
    public var grouping: StatisticsGrouping
    /// Days since 1970-01-01 in the calendar's offset.
    public var day: Int64
    /// The group's value (a kind, a reason code, a shop id, an agent id; "" under ``StatisticsGrouping/day``).
    public var group: String
    /// The metric (see ``StatisticsMetric``).
    public var metric: String

    /// Creates a cell.
    public init(scope: String, grouping: StatisticsGrouping, day: Int64, group: String, metric: String) {
        self.scope = scope
        self.grouping = grouping
        self.day = day
        self.group = group
        self.metric = metric
    }
}

/// Amounts to add to rollup rows (a batch of the projector, merged per cell).
public struct StatisticsIncrements: Sendable, Hashable {
    /// The amount to add per cell; never zero.
    public private(set) var values: [StatisticsCell: Int64] = [:]

    /// No increments.
    public init() {}

    /// Adds `amount` to `cell` (a cell whose total comes to zero is dropped).
    public mutating func add(_ amount: Int64, to cell: StatisticsCell) {
        guard amount != 0 else { return }
        let total = (values[cell] ?? 0) + amount
        values[cell] = total == 0 ? nil : total
    }

    /// Adds every increment of `other`.
    public mutating func merge(_ other: StatisticsIncrements) {
        for (cell, amount) in other.values { add(amount, to: cell) }
    }

    /// True when nothing is to be added.
    public var isEmpty: Bool { values.isEmpty }
}

/// The metric names of the rollups. Counters are plain names; money is `refunded.<currency>`;
/// histograms are `h.<name>.<bucket>` (see ``DurationHistogram``); a timer's actions
/// `timer.<rule>`; ratings' stars `ratings.stars.<1…5>`.
public enum StatisticsMetric {
    public static let applied = "cases.applied"
    public static let completed = "cases.completed"
    public static let rejected = "cases.rejected"
    public static let withdrawn = "cases.withdrawn"
    public static let closed = "cases.closed"
    public static let refunds = "cases.refunds"
    public static let merchantWaits = "merchant.waits"
    public static let merchantOverdue = "merchant.overdue"
    /// Disputes (维权) opened: counted from DISPUTE_OPENED events once disputes exist.
    public static let disputesOpened = "disputes.opened"
    /// Disputes ruled: counted from DISPUTE_RULED events once disputes exist.
    public static let disputesRuled = "disputes.ruled"
    /// Disputes ruled for the buyer.
    public static let disputesBuyerWon = "disputes.buyer_won"
    public static let ticketsReceived = "tickets.received"
    public static let ticketsResolved = "tickets.resolved"
    public static let ticketsOneTouch = "tickets.one_touch"
    public static let ticketsSLAMet = "tickets.sla_met"
    public static let ticketsReopened = "tickets.reopened"
    public static let ratings = "ratings.count"
    public static let agentAssigned = "agent.assigned"
    public static let agentReplies = "agent.replies"
    public static let agentSolved = "agent.solved"

    /// Money refunded in `currency`, in minor units.
    public static func refunded(_ currency: CurrencyCode) -> String { "refunded.\(currency.code)" }
    /// Actions taken by the timer of `rule`.
    public static func timer(_ rule: TimerRule) -> String { "timer.\(rule.rawValue)" }
    /// Ratings of `stars` stars.
    public static func stars(_ stars: Int) -> String { "ratings.stars.\(stars)" }
    /// Bucket `bucket` of histogram `histogram`.
    public static func histogram(_ histogram: StatisticsHistogram, bucket: Int) -> String { "h.\(histogram.rawValue).\(bucket)" }
}

/// The duration histograms the rollups keep.
public enum StatisticsHistogram: String, Sendable, Hashable, CaseIterable {
    /// A case's application → completion, wall-clock time.
    case processingCalendar = "processing_calendar"
    /// The same in business time (the business calendar's working hours).
    case processingBusiness = "processing_business"
    /// A ticket's creation → first public agent reply, wall-clock time.
    case firstReplyCalendar = "first_reply_calendar"
    /// The same in business time.
    case firstReplyBusiness = "first_reply_business"
    /// A ticket's creation → latest solve, wall-clock time.
    case resolutionCalendar = "resolution_calendar"
    /// The same in business time, outside the spans it was pending on the customer.
    case resolutionBusiness = "resolution_business"
}
