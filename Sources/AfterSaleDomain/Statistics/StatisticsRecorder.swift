/// What a counted fact is about, for the rollup keys: its shop, its team, and its case's kind,
/// reason and category ("" where a fact has none, e.g. a ticket without a case).
public struct StatisticsDimensions: Sendable, Hashable {
    /// The shop.
    public var shop: String
    /// The agent team (tickets, workload and ticket ratings; "" for cases).
    public var team: String
    /// The case's kind (``AfterSaleKind/rawValue``).
    public var kind: String
    /// The case's reason code.
    public var reason: String
    /// The case's category: its first line's.
    public var category: String

    /// Creates dimensions.
    public init(shop: String = "", team: String = "", kind: String = "", reason: String = "", category: String = "") {
        self.shop = shop
        self.team = team
        self.kind = kind
        self.reason = reason
        self.category = category
    }

    /// The dimensions of a case's facts.
    public init(of afterSale: AfterSaleCase) {
        self.init(shop: afterSale.shop.id, kind: afterSale.kind.rawValue, reason: afterSale.reasonCode,
                  category: afterSale.lines.first?.category ?? "")
    }

    /// The scopes a fact with these dimensions counts in.
    var scopes: [StatisticsScope] {
        var scopes: [StatisticsScope] = [.platform]
        if !shop.isEmpty { scopes.append(.shop(shop)) }
        if !team.isEmpty { scopes.append(.team(team)) }
        return scopes
    }

    /// The group value of `grouping` (nil: the fact is not kept under it).
    func group(_ grouping: StatisticsGrouping, in scope: StatisticsScope) -> String? {
        switch grouping {
        case .day: ""
        case .kind: kind
        case .reason: reason
        case .category: category
        case .shop: if case .shop = scope { nil } else { shop }
        case .agent: nil
        }
    }
}

/// Turns facts (a case applied, a ticket solved, a rating given…) into rollup increments: each
/// fact is counted once per scope it belongs to (the platform, its shop, its team) under every
/// grouping, on the day it happened in the calendar's UTC offset. Pure: the projector decides
/// which facts an event stands for and stores the increments.
public struct StatisticsRecorder: Sendable {
    /// Day boundaries (its UTC offset) and business hours.
    public let calendar: BusinessCalendar
    /// What the ticket SLA attainment is measured against.
    public let sla: SLAPolicy
    /// The increments so far.
    public private(set) var increments = StatisticsIncrements()

    /// A recorder over `sla`'s targets and business calendar.
    public init(sla: SLAPolicy) {
        self.calendar = sla.calendar
        self.sla = sla
    }

    /// The day of `instant` in `calendar`'s offset (days since 1970-01-01).
    public static func day(of instant: Timestamp, in calendar: BusinessCalendar) -> Int64 {
        BusinessCalendar.floorDiv(instant.millisecondsSinceEpoch + Int64(calendar.utcOffsetMinutes) * 60_000, Timestamp.millisecondsPerDay)
    }

    /// Adds `amount` to `metric` for a fact with dimensions `d` at `at`.
    public mutating func count(_ metric: String, _ amount: Int64 = 1, at: Timestamp, _ d: StatisticsDimensions) {
        let day = Self.day(of: at, in: calendar)
        for scope in d.scopes {
            for grouping in StatisticsGrouping.allCases {
                guard let group = d.group(grouping, in: scope) else { continue }
                increments.add(amount, to: StatisticsCell(scope: scope.key, grouping: grouping, day: day, group: group, metric: metric))
            }
        }
    }

    /// Adds one sample of `milliseconds` (or takes one back, `sign` −1) to `histogram`.
    public mutating func sample(_ histogram: StatisticsHistogram, milliseconds: Int64, at: Timestamp, _ d: StatisticsDimensions,
                                sign: Int64 = 1) {
        count(StatisticsMetric.histogram(histogram, bucket: DurationHistogram.bucket(milliseconds: milliseconds)), sign, at: at, d)
    }

    /// Adds one unit of an agent's workload `metric` (in the platform's and the team's scope).
    public mutating func agentWork(_ metric: String, agent: String, team: String, at: Timestamp) {
        guard !agent.isEmpty else { return }
        let day = Self.day(of: at, in: calendar)
        var scopes: [StatisticsScope] = [.platform]
        if !team.isEmpty { scopes.append(.team(team)) }
        for scope in scopes {
            increments.add(1, to: StatisticsCell(scope: scope.key, grouping: .agent, day: day, group: agent, metric: metric))
        }
    }

    // MARK: - Cases

    /// A buyer applied (counted on the application's day).
    public mutating func caseApplied(_ d: StatisticsDimensions, at: Timestamp) {
        count(StatisticsMetric.applied, at: at, d)
    }

    /// A case reached a terminal status at `at`; a completed one adds its processing time from
    /// `createdAt`, in calendar and business time.
    public mutating func caseFinished(_ status: CaseStatus, createdAt: Timestamp, at: Timestamp, _ d: StatisticsDimensions) {
        switch status {
        case .completed:
            count(StatisticsMetric.completed, at: at, d)
            sample(.processingCalendar, milliseconds: at.millisecondsSinceEpoch - createdAt.millisecondsSinceEpoch, at: at, d)
            sample(.processingBusiness, milliseconds: calendar.elapsed(from: createdAt, to: at), at: at, d)
        case .rejected: count(StatisticsMetric.rejected, at: at, d)
        case .withdrawn: count(StatisticsMetric.withdrawn, at: at, d)
        case .closed: count(StatisticsMetric.closed, at: at, d)
        default: break
        }
    }

    /// The timer of `rule` acted on a case (approved, closed, confirmed receipt or completed it).
    public mutating func timerActed(_ rule: TimerRule, at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.timer(rule), at: at, d)
    }

    /// A wait on the merchant ended (a review answered, a return's receipt confirmed); `overdue`
    /// when its timer ended it because the merchant did not act in time.
    public mutating func merchantWaitEnded(overdue: Bool, at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.merchantWaits, at: at, d)
        if overdue { count(StatisticsMetric.merchantOverdue, at: at, d) }
    }

    /// A refund was paid.
    public mutating func refundPaid(_ amount: Money, at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.refunds, at: at, d)
        count(StatisticsMetric.refunded(amount.currency), amount.minorUnits, at: at, d)
    }

    /// A dispute was opened on a case (for the dispute feature's DISPUTE_OPENED events).
    public mutating func disputeOpened(at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.disputesOpened, at: at, d)
    }

    /// A dispute was ruled, for the buyer or not (for the dispute feature's DISPUTE_RULED events).
    public mutating func disputeRuled(forBuyer: Bool, at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.disputesRuled, at: at, d)
        if forBuyer { count(StatisticsMetric.disputesBuyerWon, at: at, d) }
    }

    // MARK: - Tickets

    /// A ticket was opened.
    public mutating func ticketReceived(at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.ticketsReceived, at: at, d)
    }

    /// A ticket got its first public agent reply at `at`.
    public mutating func ticketFirstReply(createdAt: Timestamp, at: Timestamp, _ d: StatisticsDimensions) {
        sample(.firstReplyCalendar, milliseconds: at.millisecondsSinceEpoch - createdAt.millisecondsSinceEpoch, at: at, d)
        sample(.firstReplyBusiness, milliseconds: calendar.elapsed(from: createdAt, to: at), at: at, d)
    }

    /// A ticket was solved (`sign` 1), or the solve a reopen undid is taken back (`sign` −1):
    /// a ticket counts once, at its latest solve.
    public mutating func ticketResolved(_ r: TicketResolution, _ d: StatisticsDimensions, sign: Int64 = 1) {
        count(StatisticsMetric.ticketsResolved, sign, at: r.solvedAt, d)
        if r.oneTouch { count(StatisticsMetric.ticketsOneTouch, sign, at: r.solvedAt, d) }
        if r.slaMet { count(StatisticsMetric.ticketsSLAMet, sign, at: r.solvedAt, d) }
        sample(.resolutionCalendar, milliseconds: r.calendarMs, at: r.solvedAt, d, sign: sign)
        sample(.resolutionBusiness, milliseconds: r.businessMs, at: r.solvedAt, d, sign: sign)
    }

    /// A solved ticket was reopened for the first time.
    public mutating func ticketReopened(at: Timestamp, _ d: StatisticsDimensions) {
        count(StatisticsMetric.ticketsReopened, at: at, d)
    }

    // MARK: - Satisfaction

    /// A rating of `stars` was given (`sign` 1) or taken back by an edit (`sign` −1), on the day
    /// it was first given.
    public mutating func rated(stars: Int, ratedAt: Timestamp, _ d: StatisticsDimensions, sign: Int64 = 1) {
        guard (1...5).contains(stars) else { return }
        count(StatisticsMetric.ratings, sign, at: ratedAt, d)
        count(StatisticsMetric.stars(stars), sign, at: ratedAt, d)
    }
}

/// What one solve of a ticket counts: when, how long it took, and whether it was one-touch and
/// within its SLA targets.
public struct TicketResolution: Sendable, Hashable {
    /// When it was solved.
    public var solvedAt: Timestamp
    /// Created → solved, wall-clock.
    public var calendarMs: Int64
    /// Created → solved in business time, outside the spans pending on the customer.
    public var businessMs: Int64
    /// Solved with fewer than two public agent replies.
    public var oneTouch: Bool
    /// The first reply (when one came before the solve) and the resolution were within the
    /// ticket's targets.
    public var slaMet: Bool
    /// Who solved it.
    public var solver: Principal
}

extension Ticket {
    /// The index of the last entry of `step` at `at`, nil when none: the entry a feed event of
    /// that step stands for (entries only grow, so it stays where it is).
    public func entryIndex(of step: TicketStep, at: Timestamp) -> Int? {
        entries.lastIndex { $0.step == step && $0.at == at }
    }

    /// What the solve (or a close of a ticket never solved) at entry `index` counts, under `policy`.
    public func resolution(at index: Int, policy: SLAPolicy) -> TicketResolution? {
        guard entries.indices.contains(index) else { return nil }
        let solved = entries[index]
        let before = entries[..<index]
        let replies = before.filter { $0.step == .replied && $0.isPublic && ($0.actor.role == .agent || $0.actor.role == .platform) }
        let pauses = pendingPeriods.filter { $0.from < solved.at }.map { PausePeriod(from: $0.from, to: min($0.to ?? solved.at, solved.at)) }
        let calendar = policy.calendar
        let targets = policy.targets(for: priority)
        var met = true
        if let due = calendar.instant(after: targets.resolutionMs, from: createdAt, pauses: pauses), solved.at > due { met = false }
        if let first = replies.first, let due = calendar.instant(after: targets.firstResponseMs, from: createdAt), first.at > due { met = false }
        return TicketResolution(solvedAt: solved.at, calendarMs: solved.at.millisecondsSinceEpoch - createdAt.millisecondsSinceEpoch,
                                businessMs: calendar.elapsed(from: createdAt, to: solved.at, pauses: pauses),
                                oneTouch: replies.count < 2, slaMet: met, solver: solved.actor)
    }
}
