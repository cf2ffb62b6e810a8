import AfterSaleDomain
import AfterSaleStorage
import Testing

/// Statistics rollups: increments add up, reads cover one scope, grouping and day range, and the
/// projector's cursor moves by compare-and-set with them.
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
        ]), projector: Self.projector, expectedCursor: 2, cursor: 3)
        #expect(try await repository.consumerCursor(Self.projector) == 3)
        let rows = try await repository.statisticsRows(StatisticsRowQuery(scope: .platform, grouping: .day, fromDay: 101, toDay: 102))
        let sorted = rows.sorted { ($0.day, $0.metric) < ($1.day, $1.metric) }
        #expect(sorted.filter { $0.value != 0 }.map { "\($0.day) \($0.metric) \($0.value)" }
                == ["101 cases.applied 5", "101 refunded.CNY 1990", "102 cases.applied 7"])
        let kinds = try await repository.statisticsRows(StatisticsRowQuery(scope: .platform, grouping: .kind, fromDay: 0, toDay: 301))
        #expect(kinds.sorted { $0.group < $1.group } == [
            StatisticsRow(group: "exchange", day: 0, metric: StatisticsMetric.applied, value: 5),
            StatisticsRow(group: "refund_only", day: 0, metric: StatisticsMetric.applied, value: 1),
        ], "other groupings come summed over the range (days 300 and 301, not 302), on its first day")
        let shop = try await repository.statisticsRows(StatisticsRowQuery(scope: .shop("s-1"), grouping: .day, fromDay: 0, toDay: 365))
        #expect(shop.map(\.value) == [1])
        #expect(try await repository.statisticsRows(StatisticsRowQuery(scope: .shop("s-2"), grouping: .day, fromDay: 0, toDay: 365)).isEmpty)
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
        let rows = try await repository.statisticsRows(StatisticsRowQuery(scope: .platform, grouping: .day, fromDay: 5, toDay: 5))
        #expect(rows.map(\.value) == [1], "a refused projection writes nothing")
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
        let rows = try await repository.statisticsRows(StatisticsRowQuery(scope: .platform, grouping: .day, fromDay: 7, toDay: 7))
        #expect(rows.map(\.value) == [40])
        #expect(try await repository.consumerCursor(Self.projector) == 40)
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("statistics increments add up per row, and a read covers one scope, grouping and day range") {
            try await StatisticsChecks(repository: $0).addsUpAndReadsRanges()
        },
        ConformanceCheck("a statistics projection is compare-and-set on its cursor; a refused one writes nothing") {
            try await StatisticsChecks(repository: $0).compareAndSetOnTheCursor()
        },
        ConformanceCheck("projectors racing over the feed count each event once") {
            try await StatisticsChecks(repository: $0).concurrentProjectorsCountEachEventOnce()
        },
    ]
}
