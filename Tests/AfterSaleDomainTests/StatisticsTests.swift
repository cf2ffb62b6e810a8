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

    @Test("blocks of 1, 4, 16 and 64 days tile any range exactly, with few blocks; the day grouping keeps days")
    func blockCover() {
        var random = SplitMix64(seed: 13)
        for _ in 0..<2_000 {
            let from = Int64(random.next() % 3_000) - 200
            let to = from + Int64(random.next() % UInt64(StatisticsDays.maximumRange))
            let runs = StatisticsBlocks.cover(from: from, to: to, grouping: .shop)
            var next = from
            var blocks = 0
            for run in runs {
                #expect(StatisticsBlocks.spans.contains(run.span))
                var start = run.firstStart
                while start <= run.lastStart {
                    #expect(start == next, "blocks follow each other without gap or overlap")
                    #expect(StatisticsBlocks.start(of: start, span: run.span) == start, "aligned")
                    next = start + run.span
                    start += run.span
                    blocks += 1
                }
            }
            #expect(next == to + 1, "the blocks end on the range's last day")
            #expect(runs.count <= 7)
            if to - from < 90 { #expect(blocks <= 19, "\(from)…\(to): \(blocks) blocks") }
            #expect(blocks <= 24)
            #expect(StatisticsBlocks.cover(from: from, to: to, grouping: .day) == [StatisticsBlockRun(span: 1, firstStart: from, lastStart: to)])
        }
        #expect(StatisticsBlocks.start(of: -1, span: 4) == -4)
        #expect(StatisticsBlocks.start(of: 130, span: 64) == 128)
        #expect(StatisticsBlocks.cover(from: 5, to: 4, grouping: .kind).isEmpty)
    }

    @Test("increments go to their day's block and the 4-, 16- and 64-day blocks around it, except under the day grouping")
    func blockDeltas() {
        var increments = StatisticsIncrements()
        increments.add(2, to: StatisticsCell(scope: "", grouping: .kind, day: 130, group: "exchange", metric: StatisticsMetric.applied))
        increments.add(1, to: StatisticsCell(scope: "", grouping: .day, day: 130, group: "", metric: StatisticsMetric.applied))
        let deltas = increments.blockDeltas()
        #expect(Set(deltas.keys.filter { $0.grouping == .kind }.map { "\($0.span)@\($0.firstDay)" }) == ["1@130", "4@128", "16@128", "64@128"])
        #expect(deltas.keys.filter { $0.grouping == .day }.map(\.span) == [1])
        #expect(deltas.values.allSatisfy { $0.applied > 0 })
    }

    @Test("a block's summary encodes compactly and decodes to the same sums; corrupt bodies are refused")
    func summaryEncoding() throws {
        var summary = StatisticsSummary()
        summary.add(metric: StatisticsMetric.applied, value: 12)
        summary.add(metric: StatisticsMetric.refunded(.cny), value: Int64.max / 3)
        summary.add(metric: StatisticsMetric.rejected, value: -4)
        summary.add(metric: StatisticsMetric.withdrawn, value: 0)
        summary.add(metric: StatisticsMetric.histogram(.resolutionBusiness, bucket: 0), value: 3)
        summary.add(metric: StatisticsMetric.histogram(.resolutionBusiness, bucket: DurationHistogram.maximumBucket), value: -1)
        let body = summary.encoded()
        let decoded = try StatisticsSummary(encoded: body)
        #expect(decoded.counters == summary.counters.filter { $0.value != 0 })
        #expect(decoded.histograms == summary.histograms)
        #expect(decoded.encoded() == body, "equal sums, equal bytes")
        var twice = decoded
        try twice.add(encoded: body)
        #expect(twice.applied == 24 && twice.rejected == -8)
        #expect(try StatisticsSummary(encoded: StatisticsSummary().encoded()).isEmpty)
        var accumulator = StatisticsAccumulator()
        try accumulator.add(encoded: body)
        try accumulator.add(encoded: body)
        #expect(accumulator.summary == twice, "merging many blocks for an answer gives the summaries' sum")
        #expect(StatisticsHistogram.allCases.enumerated().allSatisfy { $0.offset == $0.element.index })
        // Every truncation, and bad versions, names or buckets, are refused without changing anything.
        for length in 0..<body.count {
            var target = decoded
            #expect(throws: RepositoryError.self) { try target.add(encoded: Array(body.prefix(length))) }
            #expect(target == decoded)
        }
        #expect(throws: RepositoryError.self) { try StatisticsSummary(encoded: [2, 0, 0]) }
        #expect(throws: RepositoryError.self) { try StatisticsSummary(encoded: [1, 0, 1, 1, 0x41, 0]) }
        #expect(throws: RepositoryError.self) { try StatisticsSummary(encoded: body + [0]) }
    }
}
