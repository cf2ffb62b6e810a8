/// Where the statistics rollups live: one summary per scope, grouping, group and **block of days**.
///
/// A block is `span` days starting at a day that `span` divides (days since 1970-01-01). Every
/// fact is added to its day's block and, for the groupings other than the day, also to the
/// blocks of 4, 16 and 64 days that hold that day. A range of days is then read as the fewest
/// aligned blocks that tile it (``cover(from:to:grouping:)``): at most 3 blocks of each span on
/// either side of the largest ones, so a 90-day range takes at most 19 blocks per group instead
/// of 90 days, and a year at most 24 instead of 365. The day grouping answers per day, so it keeps
/// only the blocks of one day.
public enum StatisticsBlocks {
    /// The spans kept, smallest first; each divides the next.
    public static let spans: [Int64] = [1, 4, 16, 64]

    /// The spans kept for `grouping`: only days for the day grouping, every span otherwise.
    public static func spans(for grouping: StatisticsGrouping) -> [Int64] {
        grouping == .day ? [1] : spans
    }

    /// The first day of the block of `span` days that holds `day` (rounding down, also before 1970).
    public static func start(of day: Int64, span: Int64) -> Int64 {
        let remainder = day % span
        return remainder < 0 ? day - remainder - span : day - remainder
    }

    /// The fewest aligned blocks that tile `from…to` exactly, as runs of consecutive blocks of one
    /// span, in day order. Empty when `to < from`.
    public static func cover(from: Int64, to: Int64, grouping: StatisticsGrouping) -> [StatisticsBlockRun] {
        let spans = spans(for: grouping)
        var runs: [StatisticsBlockRun] = []
        var day = from
        while day <= to {
            // The largest span that starts here and ends within the range (1 always does).
            let span = spans.last { start(of: day, span: $0) == day && day + $0 - 1 <= to } ?? 1
            if let last = runs.last, last.span == span, last.lastStart + span == day {
                runs[runs.count - 1].lastStart = day
            } else {
                runs.append(StatisticsBlockRun(span: span, firstStart: day, lastStart: day))
            }
            day += span
        }
        return runs
    }
}

/// Consecutive blocks of one span: the blocks starting at `firstStart`, `firstStart + span`, …,
/// `lastStart`.
public struct StatisticsBlockRun: Sendable, Hashable {
    /// Days per block.
    public var span: Int64
    /// The first block's first day.
    public var firstStart: Int64
    /// The last block's first day.
    public var lastStart: Int64

    /// Creates a run.
    public init(span: Int64, firstStart: Int64, lastStart: Int64) {
        self.span = span
        self.firstStart = firstStart
        self.lastStart = lastStart
    }
}

/// One stored block's key: scope, grouping, span, first day and group.
public struct StatisticsBlockKey: Sendable, Hashable {
    /// ``StatisticsScope/key``.
    public var scope: String
    /// The grouping.
    public var grouping: StatisticsGrouping
    /// Days in the block (one of ``StatisticsBlocks/spans``).
    public var span: Int64
    /// The block's first day.
    public var firstDay: Int64
    /// The group's value ("" under the day grouping).
    public var group: String

    /// Creates a key.
    public init(scope: String, grouping: StatisticsGrouping, span: Int64, firstDay: Int64, group: String) {
        self.scope = scope
        self.grouping = grouping
        self.span = span
        self.firstDay = firstDay
        self.group = group
    }
}

/// A stored block as a read returns it: its group, span, first day and encoded summary
/// (``StatisticsSummary/encoded()``).
public struct StatisticsBlock: Sendable, Hashable {
    /// The group's value.
    public var group: String
    /// Days in the block.
    public var span: Int64
    /// The block's first day.
    public var firstDay: Int64
    /// The block's sums, encoded.
    public var body: [UInt8]

    /// Creates a block.
    public init(group: String, span: Int64, firstDay: Int64, body: [UInt8]) {
        self.group = group
        self.span = span
        self.firstDay = firstDay
        self.body = body
    }
}

/// Which blocks to read: one scope and grouping, the runs of blocks that tile a day range.
public struct StatisticsBlockQuery: Sendable, Hashable {
    /// ``StatisticsScope/key``.
    public var scope: String
    /// The grouping.
    public var grouping: StatisticsGrouping
    /// The runs of blocks (``StatisticsBlocks/cover(from:to:grouping:)``).
    public var runs: [StatisticsBlockRun]

    /// The query for `scope` and `grouping` over the inclusive days `fromDay…toDay`.
    public init(scope: StatisticsScope, grouping: StatisticsGrouping, fromDay: Int64, toDay: Int64) {
        self.scope = scope.key
        self.grouping = grouping
        runs = StatisticsBlocks.cover(from: fromDay, to: toDay, grouping: grouping)
    }
}

extension StatisticsIncrements {
    /// The increments as block deltas: each cell's amount added to its day's block and, for the
    /// groupings other than the day, to the 4-, 16- and 64-day blocks holding it.
    public func blockDeltas() -> [StatisticsBlockKey: StatisticsSummary] {
        var deltas: [StatisticsBlockKey: StatisticsSummary] = [:]
        for (cell, amount) in values {
            for span in StatisticsBlocks.spans(for: cell.grouping) {
                let key = StatisticsBlockKey(scope: cell.scope, grouping: cell.grouping, span: span,
                                             firstDay: StatisticsBlocks.start(of: cell.day, span: span), group: cell.group)
                deltas[key, default: StatisticsSummary()].add(metric: cell.metric, value: amount)
            }
        }
        return deltas
    }
}
