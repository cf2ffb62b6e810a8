/// A ratio with the counts it comes from, so a reader sees what a rate stands on (a dispute rate
/// of 0 over 0 disputes says something else than 0 over 500).
public struct CountedRate: Sendable, Hashable {
    /// What is counted.
    public var numerator: Int64
    /// What it is counted out of.
    public var denominator: Int64

    /// Creates a rate.
    public init(_ numerator: Int64, of denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// numerator ÷ denominator, 0 when the denominator is 0.
    public var value: Double { denominator > 0 ? Double(numerator) / Double(denominator) : 0 }
}

/// A duration metric over merged histograms: the sample count, median and p90 (nil without samples).
public struct DurationSummary: Sendable, Hashable {
    /// Samples.
    public var count: Int64
    /// The nearest-rank median, within ``DurationHistogram/relativeError``.
    public var medianMs: Int64?
    /// The nearest-rank 90th percentile, within ``DurationHistogram/relativeError``.
    public var p90Ms: Int64?

    /// The summary of `counts` (bucket → samples).
    public init(_ counts: [Int: Int64]) {
        count = DurationHistogram.count(counts)
        medianMs = DurationHistogram.percentile(0.5, of: counts)
        p90Ms = DurationHistogram.percentile(0.9, of: counts)
    }
}

/// Every metric of one group (or of the whole answer), summed over its rollup rows. See
/// docs/STATISTICS.md for each definition.
public struct StatisticsSummary: Sendable, Hashable {
    /// Plain counters by metric name.
    public private(set) var counters: [String: Int64] = [:]
    /// Histograms by name: bucket → samples.
    public private(set) var histograms: [StatisticsHistogram: [Int: Int64]] = [:]

    /// An empty summary.
    public init() {}

    /// A summary of these sums.
    init(counters: [String: Int64], histograms: [StatisticsHistogram: [Int: Int64]]) {
        self.counters = counters
        self.histograms = histograms
    }

    /// Adds one rollup row's value.
    public mutating func add(metric: String, value: Int64) {
        if metric.hasPrefix("h.") {
            let parts = metric.split(separator: ".")
            if parts.count == 3, let histogram = StatisticsHistogram(rawValue: String(parts[1])), let bucket = Int(parts[2]) {
                histograms[histogram, default: [:]][bucket, default: 0] += value
            }
            return
        }
        counters[metric, default: 0] += value
    }

    /// Adds `value` to counter `metric` (a plain counter name, not a histogram bucket).
    mutating func addCounter(_ metric: String, _ value: Int64) {
        counters[metric, default: 0] &+= value
    }

    /// Adds each (bucket, samples) of `buckets` to `histogram`, in place: the histogram's
    /// dictionary is taken out while it changes, so it is never copied.
    mutating func addBuckets(_ histogram: StatisticsHistogram, _ buckets: some Sequence<(Int, Int64)>) {
        var counts = histograms.removeValue(forKey: histogram) ?? [:]
        for (bucket, samples) in buckets { counts[bucket, default: 0] &+= samples }
        histograms[histogram] = counts
    }

    /// Adds everything of `other`.
    public mutating func merge(_ other: StatisticsSummary) {
        for (metric, value) in other.counters { counters[metric, default: 0] &+= value }
        for (histogram, buckets) in other.histograms { addBuckets(histogram, buckets.lazy.map { ($0.key, $0.value) }) }
    }

    /// A counter's value (0 when never counted).
    public func counter(_ metric: String) -> Int64 { counters[metric] ?? 0 }

    /// The median and p90 of `histogram`.
    public func duration(_ histogram: StatisticsHistogram) -> DurationSummary { DurationSummary(histograms[histogram] ?? [:]) }

    // MARK: Cases

    public var applied: Int64 { counter(StatisticsMetric.applied) }
    public var completed: Int64 { counter(StatisticsMetric.completed) }
    public var rejected: Int64 { counter(StatisticsMetric.rejected) }
    public var withdrawn: Int64 { counter(StatisticsMetric.withdrawn) }
    public var closed: Int64 { counter(StatisticsMetric.closed) }
    /// Cases that reached a terminal status.
    public var finished: Int64 { completed + rejected + withdrawn + closed }
    /// Completed out of finished.
    public var resolutionRate: CountedRate { CountedRate(completed, of: finished) }
    /// Merchant waits ended by their timer out of merchant waits that ended.
    public var merchantOverdueRate: CountedRate {
        CountedRate(counter(StatisticsMetric.merchantOverdue), of: counter(StatisticsMetric.merchantWaits))
    }
    /// Disputes opened out of cases applied.
    public var disputeRate: CountedRate { CountedRate(counter(StatisticsMetric.disputesOpened), of: applied) }
    /// Disputes ruled for the buyer out of disputes ruled.
    public var buyerWinRate: CountedRate {
        CountedRate(counter(StatisticsMetric.disputesBuyerWon), of: counter(StatisticsMetric.disputesRuled))
    }
    /// Actions of each timer rule.
    public var timerActions: [TimerRule: Int64] {
        Dictionary(uniqueKeysWithValues: TimerRule.allCases.map { ($0, counter(StatisticsMetric.timer($0))) })
    }
    /// Refunds paid.
    public var refunds: Int64 { counter(StatisticsMetric.refunds) }
    /// Money refunded per currency code, in minor units, by code.
    public var refunded: [(currency: String, minorUnits: Int64)] {
        counters.filter { $0.key.hasPrefix("refunded.") && $0.value != 0 }
            .map { (String($0.key.dropFirst("refunded.".count)), $0.value) }.sorted { $0.0 < $1.0 }
    }

    // MARK: Tickets

    public var ticketsReceived: Int64 { counter(StatisticsMetric.ticketsReceived) }
    public var ticketsResolved: Int64 { counter(StatisticsMetric.ticketsResolved) }
    /// Resolved without an SLA target missed, out of resolved.
    public var slaAttainment: CountedRate { CountedRate(counter(StatisticsMetric.ticketsSLAMet), of: ticketsResolved) }
    /// Resolved with fewer than two public agent replies, out of resolved.
    public var oneTouchRate: CountedRate { CountedRate(counter(StatisticsMetric.ticketsOneTouch), of: ticketsResolved) }
    /// Tickets reopened (first reopen) out of resolved.
    public var reopenRate: CountedRate { CountedRate(counter(StatisticsMetric.ticketsReopened), of: ticketsResolved) }

    // MARK: Satisfaction

    public var ratings: Int64 { counter(StatisticsMetric.ratings) }
    /// Ratings of 1 … 5 stars (index 0 = one star).
    public var starDistribution: [Int64] { (1...5).map { counter(StatisticsMetric.stars($0)) } }
    /// The mean stars, 0 without ratings.
    public var averageStars: Double {
        let distribution = starDistribution
        let total = distribution.reduce(0, +)
        guard total > 0 else { return 0 }
        return Double(distribution.enumerated().reduce(Int64(0)) { $0 + Int64($1.offset + 1) * $1.element }) / Double(total)
    }
}

/// A GetStatistics answer: one summary per group, their total, and the agents' workload.
public struct StatisticsReport: Sendable, Hashable {
    /// The groups by key (a `yyyy-MM-dd` day, a kind, a reason code, a category, a shop), sorted;
    /// every day of the range under ``StatisticsGrouping/day``.
    public var groups: [(key: String, summary: StatisticsSummary)]
    /// Every group summed (histograms merged).
    public var total: StatisticsSummary
    /// Per agent: assigned, replies, solved.
    public var agents: [(agent: String, summary: StatisticsSummary)]

    /// The report of the blocks of one scope and grouping that tile `fromDay…toDay`, with the
    /// agents' blocks.
    /// - Throws: ``RepositoryError/storageFailure(_:)`` when a block's body is corrupt.
    public init(blocks: [StatisticsBlock], grouping: StatisticsGrouping, fromDay: Int64, toDay: Int64,
                agentBlocks: [StatisticsBlock]) throws(RepositoryError) {
        var accumulators: [String: StatisticsAccumulator] = [:]
        for block in blocks {
            let key = grouping == .day ? StatisticsDays.text(block.firstDay) : block.group
            try accumulators[key, default: StatisticsAccumulator()].add(encoded: block.body)
        }
        var byGroup = accumulators.mapValues(\.summary)
        if grouping == .day, toDay >= fromDay {
            for day in fromDay...toDay where byGroup[StatisticsDays.text(day)] == nil { byGroup[StatisticsDays.text(day)] = StatisticsSummary() }
        }
        groups = byGroup.sorted { $0.key < $1.key }.map { (key: $0.key, summary: $0.value) }
        var total = StatisticsSummary()
        for group in groups { total.merge(group.summary) }
        self.total = total
        var byAgent: [String: StatisticsAccumulator] = [:]
        for block in agentBlocks { try byAgent[block.group, default: StatisticsAccumulator()].add(encoded: block.body) }
        agents = byAgent.mapValues(\.summary).sorted { $0.key < $1.key }.map { (agent: $0.key, summary: $0.value) }
    }

    public static func == (lhs: StatisticsReport, rhs: StatisticsReport) -> Bool {
        lhs.total == rhs.total && lhs.groups.map(\.key) == rhs.groups.map(\.key) && lhs.groups.map(\.summary) == rhs.groups.map(\.summary)
            && lhs.agents.map(\.agent) == rhs.agents.map(\.agent) && lhs.agents.map(\.summary) == rhs.agents.map(\.summary)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(total)
        for group in groups { hasher.combine(group.key) }
    }
}

/// Calendar days as the statistics count them: days since 1970-01-01 and their `yyyy-MM-dd` text.
public enum StatisticsDays {
    /// The longest range one answer covers.
    public static let maximumRange: Int64 = 366

    /// `yyyy-MM-dd` of `day`.
    public static func text(_ day: Int64) -> String { BusinessCalendar.dateText(day) }

    /// The day `text` (`yyyy-MM-dd`) names.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming `field`.
    public static func day(_ text: String, field: String) throws(DomainError) -> Int64 {
        guard let day = BusinessCalendar.dayNumber(of: text) else {
            throw .invalidArgument(field: field, message: "'\(text)' is not a yyyy-MM-dd date")
        }
        return day
    }

    /// The inclusive range `from…to`, checked: in order and at most ``maximumRange`` days.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public static func range(from: String, to: String) throws(DomainError) -> ClosedRange<Int64> {
        let first = try day(from, field: "from_date")
        let last = try day(to, field: "to_date")
        guard first <= last else { throw .invalidArgument(field: "to_date", message: "on or after from_date") }
        guard last - first < maximumRange else {
            throw .invalidArgument(field: "to_date", message: "at most \(maximumRange) days after from_date")
        }
        return first...last
    }
}
