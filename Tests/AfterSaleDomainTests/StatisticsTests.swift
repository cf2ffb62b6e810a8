@testable import AfterSaleDomain
import Testing

@Suite("Statistics: duration histograms, percentiles, rates and the recorder's fan-out")
struct StatisticsTests {
    @Test("every duration lands in the bucket whose bounds hold it, and is reported within the stated error")
    func buckets() {
        #expect(DurationHistogram.bucket(milliseconds: -5) == 0)
        #expect(DurationHistogram.bucket(milliseconds: 999) == 0)
        #expect(DurationHistogram.bucket(milliseconds: 1_000) == 1)
        #expect(DurationHistogram.bucket(milliseconds: 2_000) == 9, "one doubling is eight buckets")
        #expect(DurationHistogram.bucket(milliseconds: Int64.max) == DurationHistogram.maximumBucket)
        var ms: Int64 = 1_000
        while ms < 400 * 86_400_000 {
            let b = DurationHistogram.bucket(milliseconds: ms)
            #expect(DurationHistogram.lowerBoundMilliseconds(b) <= Double(ms))
            #expect(Double(ms) < DurationHistogram.lowerBoundMilliseconds(b + 1))
            let reported = Double(DurationHistogram.representativeMilliseconds(b))
            #expect(abs(reported - Double(ms)) <= Double(ms) * DurationHistogram.relativeError + 1)
            ms = ms * 3 / 2 + 7
        }
        #expect(abs(DurationHistogram.relativeError - 0.04427) < 0.0001)
    }

    @Test("percentiles are nearest-rank over merged buckets; taken-back samples cancel")
    func percentiles() {
        let hour: Int64 = 3_600_000
        let counts: [Int: Int64] = [
            DurationHistogram.bucket(milliseconds: hour): 5,
            DurationHistogram.bucket(milliseconds: 10 * hour): 4,
            DurationHistogram.bucket(milliseconds: 100 * hour): 1,
        ]
        #expect(DurationHistogram.percentile(0.5, of: counts) == DurationHistogram.representativeMilliseconds(DurationHistogram.bucket(milliseconds: hour)))
        #expect(DurationHistogram.percentile(0.9, of: counts) == DurationHistogram.representativeMilliseconds(DurationHistogram.bucket(milliseconds: 10 * hour)))
        #expect(DurationHistogram.percentile(1.0, of: counts) == DurationHistogram.representativeMilliseconds(DurationHistogram.bucket(milliseconds: 100 * hour)))
        #expect(DurationHistogram.percentile(0.5, of: [:]) == nil)
        #expect(DurationHistogram.percentile(0.5, of: [3: 1, 4: -1, 9: 0]) == DurationHistogram.representativeMilliseconds(3))
        #expect(DurationHistogram.count([3: 2, 4: 0]) == 2)
    }

    @Test("a fact counts once per scope under every grouping; a shop's scope has no shop grouping")
    func fanOut() {
        var recorder = StatisticsRecorder(sla: .standard)
        let d = StatisticsDimensions(shop: "s-1", kind: "refund_only", reason: "r", category: "c")
        // 2026-11-26 23:30 China time is 2026-11-26 15:30 UTC: the calendar's offset decides the day.
        let at = Timestamp(millisecondsSinceEpoch: 1_795_708_800_000 - 30 * 60_000)
        recorder.caseApplied(d, at: at)
        let cells = recorder.increments.values.keys
        #expect(cells.count == 5 + 4)
        #expect(Set(cells.map(\.day)).map(StatisticsDays.text) == ["2026-11-26"])
        #expect(!cells.contains { $0.scope == "shop:s-1" && $0.grouping == .shop })
        #expect(cells.contains { $0.scope == "" && $0.grouping == .shop && $0.group == "s-1" })
        var report = StatisticsSummary()
        for (cell, value) in recorder.increments.values where cell.scope == "" && cell.grouping == .day { report.add(metric: cell.metric, value: value) }
        #expect(report.applied == 1)
        #expect(report.disputeRate == CountedRate(0, of: 1))
        #expect(report.buyerWinRate.value == 0)
    }

    @Test("day ranges are checked: dates, order, at most 366 days")
    func ranges() throws {
        #expect(try StatisticsDays.range(from: "2026-11-01", to: "2026-11-30").count == 30)
        #expect(throws: DomainError.self) { try StatisticsDays.range(from: "2026-11-31", to: "2026-12-01") }
        #expect(throws: DomainError.self) { try StatisticsDays.range(from: "2026-12-02", to: "2026-12-01") }
        #expect(throws: DomainError.self) { try StatisticsDays.range(from: "2025-01-01", to: "2026-12-01") }
    }
}
