import AfterSaleDomain
import Foundation
import StorageConformance
import Testing
import AfterSaleSQLite
import AfterSaleStorage

/// Rough figures for the storage layer alone, off by default (the real benchmark goes through the
/// RPC, see docs/PERFORMANCE.md). Run with, for example:
///
///     AFTERSALE_STORAGE_BENCH=1000000 swift test --filter StorageBenchmark
///
/// The value is the number of cases to seed before timing reads (default 100,000). A debug build
/// gives pessimistic figures for the Swift side; SQLite itself is the system's optimized library.
@Suite("Storage benchmark", .enabled(if: ProcessInfo.processInfo.environment["AFTERSALE_STORAGE_BENCH"] != nil))
struct StorageBenchmarkTests {
    static var seededCases: Int { Int(ProcessInfo.processInfo.environment["AFTERSALE_STORAGE_BENCH"] ?? "") ?? 100_000 }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("durable creates per second with 16 concurrent callers, then Get and List latency over many cases")
    func figures() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = try SQLiteRepository.open(dataDirectory: directory)
        defer { repository.close() }

        // 1. Creates through the path the service takes: context read, number, decision, create.
        let callers = 16, perCaller = 500
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    for i in 0..<perCaller {
                        try await repository.saveOrder(StorageFixture.order(id: "o-\(caller)-\(i)", buyerID: "b-\(caller)",
                                                                           shopID: "s-\(i % 50)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let before = repository.writeStatistics
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    for i in 0..<perCaller {
                        try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 1)], orderID: "o-\(caller)-\(i)",
                                                       by: .buyer("b-\(caller)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = Self.seconds(since: start)
        let after = repository.writeStatistics
        print("creates: \(callers * perCaller) in \(String(format: "%.2f", elapsed)) s = \(Int(Double(callers * perCaller) / elapsed))/s, "
              + "\(after.transactions - before.transactions) transactions")

        // 2. Seed many cases in large import transactions.
        let seedStart = ContinuousClock.now
        let chunk = 2_000
        let total = Self.seededCases
        let days = max(1, total / 500_000 + 1)
        var next = 0
        while next < total {
            let transitions = (next..<min(total, next + chunk)).map { n in
                StorageFixture.syntheticCase(
                    sequence: n / days + 1, day: StorageFixture.story.adding(days: -1 - n % days), buyerID: "b-\(n % 100_000)",
                    shopID: "s-\(n % 200)", kind: AfterSaleKind.allCases[n % 4], status: CaseStatus.allCases[n % 13],
                    createdAt: StorageFixture.story.adding(milliseconds: -Int64(total - n) * 1_000), orderID: "seed-\(n)")
            }
            try await repository.importCases(transitions)
            next += chunk
        }
        print("seeded \(total) cases in \(String(format: "%.1f", Self.seconds(since: seedStart))) s")

        // 3. GetAfterSale and a filtered page of 20, p50/p99 in milliseconds.
        var gets: [Double] = []
        for n in stride(from: 0, to: total, by: max(1, total / 2_000)) {
            let number = try CaseNumber(at: StorageFixture.story.adding(days: -1 - n % days), sequence: n / days + 1)
            let start = ContinuousClock.now
            let found = try await repository.afterSale(number)
            gets.append(Self.seconds(since: start) * 1_000)
            #expect(found != nil)
        }
        var lists: [Double] = []
        for i in 0..<1_000 {
            let query: CaseQuery = switch i % 4 {
            case 0: CaseQuery(shopID: "s-\(i % 200)", statuses: [.pendingReview])
            case 1: CaseQuery(buyerID: "b-\(i * 37 % 100_000)")
            case 2: CaseQuery(shopID: "s-\(i % 200)", kind: .exchange, statuses: [.completed, .rejected])
            default: CaseQuery(statuses: [.repairing], appliedFrom: StorageFixture.story.adding(days: -30))
            }
            var page = try await repository.listCases(query)
            if let cursor = page.next {
                var second = query
                second.after = cursor
                let start = ContinuousClock.now
                page = try await repository.listCases(second)
                lists.append(Self.seconds(since: start) * 1_000)
            }
            let start = ContinuousClock.now
            _ = try await repository.listCases(query)
            lists.append(Self.seconds(since: start) * 1_000)
        }
        print("get: p50 \(String(format: "%.3f", Self.percentile(gets, 0.5))) ms, p99 \(String(format: "%.3f", Self.percentile(gets, 0.99))) ms; "
              + "list page of 20: p50 \(String(format: "%.3f", Self.percentile(lists, 0.5))) ms, p99 \(String(format: "%.3f", Self.percentile(lists, 0.99))) ms")
    }
}
