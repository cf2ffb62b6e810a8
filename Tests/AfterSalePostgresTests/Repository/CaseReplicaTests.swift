import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Testing
@testable import AfterSalePostgres

@Suite("Cases across replicas")
struct CaseReplicaTests {
    @Test("one idempotency key sent through two replicas at once creates one case, and the other call replays it")
    func sameKeyOnTwoReplicas() async throws {
        try await Replicas.with("cases_key", count: 2) { replicas in
            for round in 0..<8 {
                let orderID = "o-\(round)"
                try await replicas[0].saveOrder(StorageFixture.order(id: orderID))
                let start = StartLine()
                let results = try await withThrowingTaskGroup(of: CreatedCase.self) { group in
                    for replica in replicas + replicas {
                        group.addTask {
                            await start.wait()
                            return try await StorageFixture.apply(replica, .returnAndRefund, [("l-3", 1)], orderID: orderID,
                                                                  key: "key-\(round)")
                        }
                    }
                    start.open()
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(Set(results.map(\.number)).count == 1, "round \(round): \(results)")
                #expect(results.filter { !$0.replayed }.count == 1, "round \(round): \(results)")
                #expect(try await replicas[1].cases(ofOrder: orderID).count == 1)
            }
        }
    }

    @Test("two replicas applying a transition to one case at once: exactly one wins, the other gets a version conflict")
    func transitionRace() async throws {
        try await Replicas.with("cases_race", count: 2) { replicas in
            for round in 0..<8 {
                let orderID = "o-\(round)"
                try await replicas[0].saveOrder(StorageFixture.order(id: orderID))
                let created = try await StorageFixture.apply(replicas[0], .returnAndRefund, [("l-3", 2)], orderID: orderID)
                let opened = try #require(try await replicas[1].afterSale(created.number))
                let start = StartLine()
                let outcomes = await withTaskGroup(of: Result<Int64, any Error>.self) { group in
                    for (index, replica) in replicas.enumerated() {
                        group.addTask {
                            await start.wait()
                            do {
                                let fee = Int64(index * 100)
                                let approved = try decide(opened, .approve(serviceFee: .cny(fee), returnAddress: StorageFixture.returnAddress,
                                                                           note: "replica \(index)"),
                                                          by: StorageFixture.merchant, at: StorageFixture.now.adding(milliseconds: 1_000),
                                                          expectedVersion: 1)
                                try await replica.applyTransition(approved, expectedVersion: 1)
                                return .success(fee)
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                    start.open()
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let winners = outcomes.compactMap { try? $0.get() }
                #expect(winners.count == 1)
                let losers = outcomes.compactMap { outcome -> DomainError? in
                    if case .failure(let error) = outcome { return error as? DomainError }
                    return nil
                }
                #expect(losers == [.versionConflict(expected: 1, actual: 2)])
                let stored = try #require(try await replicas[0].afterSale(created.number))
                #expect(stored.version == 2)
                #expect(stored.timeline.count == 2)
                #expect(stored.amounts.serviceFee == winners.first.map { .cny($0) })
                #expect(try await replicas[1].traceRecords(of: created.number).count == 2)
            }
        }
    }

    @Test("case numbers reserved on several replicas at once are never issued twice, and continue after stored numbers")
    func caseNumbersAcrossReplicas() async throws {
        try await Replicas.with("cases_numbers", count: 3) { replicas in
            // A case stored without the counter (an import): the day's numbers must go past it.
            let imported = StorageFixture.syntheticCase(sequence: 500, day: StorageFixture.now, createdAt: StorageFixture.now)
            try await StorageFixture.store(replicas[0], imported)
            let runs = try await withThrowingTaskGroup(of: [CaseNumber].self) { group in
                for replica in replicas + replicas {
                    group.addTask {
                        var numbers: [CaseNumber] = []
                        for _ in 0..<20 { numbers.append(try await replica.nextCaseNumber(at: StorageFixture.now)) }
                        return numbers
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let numbers = runs.flatMap { $0 }
            #expect(numbers.count == 120)
            #expect(Set(numbers).count == 120, "a number was issued twice")
            #expect(numbers.allSatisfy { $0.sequence > 500 && $0.datePart == imported.afterSale.number.datePart })
            // Each replica reserved blocks of 32 for its 40 numbers: two each, six in all, after 500.
            let block = replicas[0].options.caseNumberBlock
            #expect(numbers.allSatisfy { $0.sequence <= 500 + 6 * block }, "numbers come from the blocks reserved, nothing wasted beyond")
            // Another day starts its own sequence.
            #expect(try await replicas[1].nextCaseNumber(at: StorageFixture.now.adding(days: 1)).sequence == 1)
        }
    }
}
