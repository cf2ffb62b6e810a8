import AfterSaleDomain
import AfterSaleStorage
import Testing

/// Statistics rollups: increments add up in blocks of days, reads return the blocks that tile one
/// scope, grouping and day range, and the projector's cursor moves by compare-and-set with them.
struct StatisticsChecks: Sendable {
    let repository: any AfterSaleRepository
    static let projector = "statistics-check"

    /// Appends `count` feed events (ticket events without a ticket: only their cursors matter here).
    func appendEvents(_ count: Int) async throws {
        let events = (0..<count).map { _ in
            OutboxEvent(type: .ticketUpdated, caseNumber: nil, orderID: "", occurredAt: StorageFixture.now, payload: [])
        }
        try await repository.commitDesk(DeskWrite(events: events))
    }

    static func increments(_ values: [(StatisticsCell, Int64)]) -> StatisticsIncrements {
        var increments = StatisticsIncrements()
        for (cell, value) in values { increments.add(value, to: cell) }
        return increments
    }

    static func cell(_ scope: StatisticsScope = .platform, _ grouping: StatisticsGrouping = .day, day: Int64, group: String = "",
                     _ metric: String) -> StatisticsCell {
        StatisticsCell(scope: scope.key, grouping: grouping, day: day, group: group, metric: metric)
    }

    /// The counters of `scope` and `grouping` over `from…to`, per group (per day under the day
    /// grouping), read as the blocks that tile the range and merged; histogram buckets as
    /// `h.<name>.<bucket>`.
    func sums(_ scope: StatisticsScope = .platform, _ grouping: StatisticsGrouping = .day, from: Int64, to: Int64) async throws
        -> [String: [String: Int64]] {
        let blocks = try await repository.statisticsBlocks(StatisticsBlockQuery(scope: scope, grouping: grouping, fromDay: from, toDay: to))
        var summaries: [String: StatisticsSummary] = [:]
        for block in blocks {
            #expect(block.firstDay >= from && block.firstDay + block.span - 1 <= to, "a block outside the range")
            try summaries[grouping == .day ? "\(block.firstDay)" : block.group, default: StatisticsSummary()].add(encoded: block.body)
        }
        return summaries.mapValues { summary in
            var flat = summary.counters.filter { $0.value != 0 }
            for (histogram, buckets) in summary.histograms {
                for (bucket, value) in buckets where value != 0 { flat[StatisticsMetric.histogram(histogram, bucket: bucket)] = value }
            }
            return flat
        }.filter { !$0.value.isEmpty }
    }

    func addsUpAndReadsRanges() async throws {
        try await appendEvents(3)
        try await repository.projectStatistics(Self.increments([
            (Self.cell(day: 100, StatisticsMetric.applied), 2),
            (Self.cell(day: 101, StatisticsMetric.applied), 1),
            (Self.cell(day: 102, StatisticsMetric.applied), 7),
            (Self.cell(.shop("s-1"), day: 101, StatisticsMetric.applied), 1),
            (Self.cell(.platform, .kind, day: 101, group: "refund_only", StatisticsMetric.applied), 1),
            (Self.cell(.platform, .kind, day: 300, group: "exchange", StatisticsMetric.applied), 2),
            (Self.cell(.platform, .kind, day: 301, group: "exchange", StatisticsMetric.applied), 3),
            (Self.cell(.platform, .kind, day: 302, group: "exchange", StatisticsMetric.applied), 4),
            (Self.cell(day: 101, StatisticsMetric.histogram(.processingCalendar, bucket: 17)), 1),
        ]), projector: Self.projector, expectedCursor: 0, cursor: 2)
        try await repository.projectStatistics(Self.increments([
            (Self.cell(day: 101, StatisticsMetric.applied), 4),
            (Self.cell(day: 101, StatisticsMetric.histogram(.processingCalendar, bucket: 17)), -1),
            (Self.cell(day: 101, StatisticsMetric.refunded(.cny)), 1_990),
            (Self.cell(day: 101, StatisticsMetric.histogram(.processingCalendar, bucket: 40)), 2),
        ]), projector: Self.projector, expectedCursor: 2, cursor: 3)
        #expect(try await repository.consumerCursor(Self.projector) == 3)
        #expect(try await sums(from: 101, to: 102) == [
            "101": [StatisticsMetric.applied: 5, StatisticsMetric.refunded(.cny): 1_990, "h.processing_calendar.40": 2],
            "102": [StatisticsMetric.applied: 7],
        ])
        #expect(try await sums(.platform, .kind, from: 0, to: 301) == [
            "exchange": [StatisticsMetric.applied: 5], "refund_only": [StatisticsMetric.applied: 1],
        ], "other groupings come summed over the range (days 300 and 301, not 302)")
        // Every sub-range reads the same sums from blocks of 1, 4, 16 and 64 days as day by day.
        for (from, to) in [(300, 300), (300, 301), (299, 302), (256, 319), (240, 360), (0, 365), (101, 101), (64, 127)] as [(Int64, Int64)] {
            let expected = [(300, 2), (301, 3), (302, 4)].filter { $0.0 >= from && $0.0 <= to }.reduce(Int64(0)) { $0 + Int64($1.1) }
            let read = try await sums(.platform, .kind, from: from, to: to)["exchange"]?[StatisticsMetric.applied] ?? 0
            #expect(read == expected, "exchange applied over \(from)…\(to)")
        }
        #expect(try await sums(.shop("s-1"), from: 0, to: 365) == ["101": [StatisticsMetric.applied: 1]])
        #expect(try await sums(.shop("s-2"), from: 0, to: 365).isEmpty)
    }

    /// Increments that cancel out leave no block behind.
    func blocksThatComeToZeroAreRemoved() async throws {
        try await appendEvents(2)
        let cell = Self.cell(.shop("s-9"), .reason, day: 50, group: "quality", StatisticsMetric.rejected)
        try await repository.projectStatistics(Self.increments([(cell, 3)]), projector: Self.projector, expectedCursor: 0, cursor: 1)
        let query = StatisticsBlockQuery(scope: .shop("s-9"), grouping: .reason, fromDay: 0, toDay: 127)
        #expect(query.runs == [StatisticsBlockRun(span: 64, firstStart: 0, lastStart: 64)])
        #expect(try await repository.statisticsBlocks(query).map(\.firstDay) == [0], "only the 64-day block holding day 50 is written")
        try await repository.projectStatistics(Self.increments([(cell, -3)]), projector: Self.projector, expectedCursor: 1, cursor: 2)
        #expect(try await repository.statisticsBlocks(query).isEmpty)
    }

    func compareAndSetOnTheCursor() async throws {
        try await appendEvents(2)
        let one = Self.increments([(Self.cell(day: 5, StatisticsMetric.applied), 1)])
        try await repository.projectStatistics(one, projector: Self.projector, expectedCursor: 0, cursor: 1)
        await #expect(throws: DomainError.versionConflict(expected: 0, actual: 1)) {
            try await repository.projectStatistics(one, projector: Self.projector, expectedCursor: 0, cursor: 2)
        }
        await #expect(throws: DomainError.self) {
            try await repository.projectStatistics(one, projector: Self.projector, expectedCursor: 1, cursor: 9)
        }
        #expect(try await sums(from: 5, to: 5) == ["5": [StatisticsMetric.applied: 1]], "a refused projection writes nothing")
        #expect(try await repository.consumerCursor(Self.projector) == 1)
    }

    /// Eight projectors race over 40 events, one increment per event: each event counts once.
    func concurrentProjectorsCountEachEventOnce() async throws {
        try await appendEvents(40)
        let repository = self.repository
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var cursor = try await repository.consumerCursor(Self.projector) ?? 0
                    while cursor < 40 {
                        let next = min(40, cursor + 3)
                        let increments = Self.increments([(Self.cell(day: 7, StatisticsMetric.ticketsReceived), next - cursor)])
                        do {
                            try await repository.projectStatistics(increments, projector: Self.projector, expectedCursor: cursor, cursor: next)
                            cursor = next
                        } catch DomainError.versionConflict(_, let actual) {
                            cursor = actual
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await sums(from: 7, to: 7) == ["7": [StatisticsMetric.ticketsReceived: 40]])
        #expect(try await repository.consumerCursor(Self.projector) == 40)
    }

    /// One projection of 1,600 groups (6,400 blocks with their 4-, 16- and 64-day blocks): more
    /// than a backend writes in one statement, all of it counted.
    func largeProjectionsCountEveryBlock() async throws {
        try await appendEvents(1)
        var increments = StatisticsIncrements()
        for shop in 0..<1_600 {
            increments.add(Int64(shop + 1), to: Self.cell(.platform, .shop, day: 20_000, group: "s-\(shop)", StatisticsMetric.applied))
        }
        try await repository.projectStatistics(increments, projector: Self.projector, expectedCursor: 0, cursor: 1)
        for (from, to) in [(20_000, 20_000), (19_950, 20_040)] as [(Int64, Int64)] {
            let sums = try await sums(.platform, .shop, from: from, to: to)
            #expect(sums.count == 1_600)
            #expect(sums.values.reduce(Int64(0)) { $0 + ($1[StatisticsMetric.applied] ?? 0) } == 1_600 * 1_601 / 2)
        }
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("one statistics projection larger than a statement counts every block") {
            try await StatisticsChecks(repository: $0).largeProjectionsCountEveryBlock()
        },
        ConformanceCheck("statistics increments add up per block, and a read covers one scope, grouping and day range") {
            try await StatisticsChecks(repository: $0).addsUpAndReadsRanges()
        },
        ConformanceCheck("statistics blocks whose sums come to zero are removed") {
            try await StatisticsChecks(repository: $0).blocksThatComeToZeroAreRemoved()
        },
        ConformanceCheck("a statistics projection is compare-and-set on its cursor; a refused one writes nothing") {
            try await StatisticsChecks(repository: $0).compareAndSetOnTheCursor()
        },
        ConformanceCheck("projectors racing over the feed count each event once") {
            try await StatisticsChecks(repository: $0).concurrentProjectorsCountEachEventOnce()
        },
    ]
}
