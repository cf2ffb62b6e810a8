import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Synchronization
import Testing
@testable import AfterSalePostgres

@Suite("Refund claims across replicas")
struct RefundClaimReplicaTests {
    /// Opens `count` refund-only cases on orders of their own; each creates a pending refund order.
    static func pendingRefunds(_ repository: PostgresRepository, count: Int) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let orderID = "o-\(index)"
            try await repository.saveOrder(StorageFixture.order(id: orderID, status: .paid))
            let created = try await StorageFixture.apply(repository, .refundOnly, [("l-2", 1)], orderID: orderID)
            ids.append(try #require(try await repository.refund(of: created.number)).id)
        }
        return ids
    }

    /// Who holds which refund right now, by the workers' own account.
    final class Holders: Sendable {
        private let state = Mutex<(held: [String: String], doubleClaims: [String], successes: [String: Int])>(([:], [], [:]))
        func take(_ id: String, by worker: String) {
            state.withLock { state in
                if let holder = state.held[id] { state.doubleClaims.append("\(id) held by \(holder), claimed by \(worker)") }
                state.held[id] = worker
            }
        }
        func release(_ id: String) { _ = state.withLock { $0.held.removeValue(forKey: id) } }
        func succeeded(_ id: String) { state.withLock { $0.successes[id, default: 0] += 1 } }
        var doubleClaims: [String] { state.withLock { $0.doubleClaims } }
        var successes: [String: Int] { state.withLock { $0.successes } }
    }

    @Test("two replicas with two workers each: every refund is held by one worker at a time and succeeds exactly once")
    func racingWorkers() async throws {
        let (ids, holders, stored) = try await Replicas.with("claims_race", count: 2) { replicas in
            let ids = try await Self.pendingRefunds(replicas[0], count: 24)
            let holders = Holders()
            // Short backoff, so failed attempts come back quickly on the database's clock.
            let policy = RefundPolicy(initialBackoffMs: 20, maximumBackoffMs: 50)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    let replica = replicas[worker % 2]
                    let name = "w-\(worker)"
                    group.addTask {
                        var idle = 0
                        for _ in 0..<400 {
                            let claimed = try await replica.claimRefunds(RefundClaim(
                                owner: name, limit: 3, channels: [], leaseMs: 60_000, at: wallClockNow(),
                                tokens: (0..<3).map { _ in UUID().uuidString }))
                            if claimed.isEmpty {
                                idle += 1
                                if holders.successes.count == ids.count || idle > 200 { return }
                                try await Task.sleep(for: .milliseconds(10))
                                continue
                            }
                            for refund in claimed { holders.take(refund.id, by: name) }
                            for refund in claimed {
                                let lease = try #require(refund.lease)
                                // One attempt in three fails for now and is retried later.
                                let outcome: RefundReport.Outcome = Int.random(in: 0..<3) == 0 && refund.attempts < 3
                                    ? .failed(code: "CHANNEL_BUSY", reason: "try later", permanent: false)
                                    : .succeeded(channelTransactionID: "ch-\(refund.id)", amount: refund.amount, paidAt: wallClockNow())
                                let report = RefundReport(worker: name, leaseToken: lease.token, outcome: outcome)
                                guard case .applied(let next, _) = try refund.reporting(report, at: wallClockNow(), policy: policy) else {
                                    Issue.record("a first report was taken for a duplicate")
                                    continue
                                }
                                // Released before the change commits: nobody can claim it until then.
                                holders.release(refund.id)
                                try await replica.updateRefund(RefundUpdate(refund: next, expectedVersion: refund.version),
                                                               trace: nil, events: [], response: nil)
                                if next.status == .succeeded { holders.succeeded(refund.id) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            var stored: [RefundOrder] = []
            for id in ids { stored.append(try #require(try await replicas[1].refund(id))) }
            return (ids, holders, stored)
        }
        #expect(holders.doubleClaims.isEmpty, "\(holders.doubleClaims)")
        #expect(holders.successes == Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }))
        #expect(stored.allSatisfy { $0.status == .succeeded && $0.lease == nil })
        #expect(stored.contains { $0.attempts > 1 }, "no refund was retried, so the run showed nothing about retries")
    }

    @Test("leases are judged by the database's clock, whatever instant the caller passes")
    func databaseClock() async throws {
        try await Replicas.with("claims_clock", count: 2) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            let ids = try await Self.pendingRefunds(a, count: 2)
            let epoch = Timestamp(millisecondsSinceEpoch: 0)
            let farFuture = Timestamp(millisecondsSinceEpoch: 4_102_444_800_000)  // 2100-01-01

            // A caller whose clock says 1970 still sees the refunds created in 2026 as claimable.
            let first = try await a.claimRefunds(RefundClaim(owner: "w-a", limit: 1, channels: [], leaseMs: 600_000, at: epoch,
                                                             tokens: ["t-1"]))
            let claimed = try #require(first.first)
            #expect(claimed.id == ids[0])
            // The lease runs from the database's "now", which is neither of the callers' instants.
            let lease = try #require(claimed.lease)
            #expect(lease.expiresAt == claimed.updatedAt.adding(milliseconds: 600_000))
            #expect(claimed.updatedAt > StorageFixture.now && claimed.updatedAt < farFuture)
            #expect(try await b.refund(claimed.id) == claimed, "what a claim returns is what it stored")

            // A caller whose clock says 2100 cannot take a ten-minute lease early.
            let early = try await b.claimRefunds(RefundClaim(owner: "w-b", limit: 5, channels: [], leaseMs: 100, at: farFuture,
                                                             tokens: ["t-2", "t-3"]))
            #expect(early.map(\.id) == [ids[1]])
            let short = try #require(early.first)

            // The 100 ms lease does expire by the database's clock: some claim takes it again (bounded wait).
            var retaken: [RefundOrder] = []
            for _ in 0..<500 where retaken.isEmpty {
                retaken = try await a.claimRefunds(RefundClaim(owner: "w-a", limit: 5, channels: [], leaseMs: 600_000, at: epoch,
                                                               tokens: ["t-4"]))
                if retaken.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(retaken.map(\.id) == [short.id])
            #expect(retaken.first?.attempts == 2)
            #expect(try await a.refund(claimed.id)?.lease?.token == "t-1", "the long lease was never taken")
        }
    }
}
