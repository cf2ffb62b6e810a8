import AfterSaleDomain
import Testing
import AfterSaleStorage

/// Applying transitions.
struct TransitionChecks: Sendable {
    let repository: any AfterSaleRepository

    /// Opens a return-and-refund case on a fresh order and returns it as stored.
    static func openCase(_ repository: any AfterSaleRepository) async throws -> AfterSaleCase {
        try await repository.saveOrder(StorageFixture.order())
        let created = try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 2)])
        return try #require(try await repository.afterSale(created.number))
    }


    static func approve(_ afterSale: AfterSaleCase, fee: Int64 = 0) throws -> Transition {
        try decide(afterSale, .approve(serviceFee: .cny(fee), returnAddress: StorageFixture.returnAddress, note: "ok"),
                   by: StorageFixture.merchant, at: StorageFixture.now.adding(milliseconds: 1_000),
                   expectedVersion: afterSale.version)
    }


    func appliesEverything() async throws {
        let opened = try await Self.openCase(repository)
        let approved = try Self.approve(opened, fee: 100)
        try await repository.applyTransition(approved, expectedVersion: opened.version)
        let shipped = try decide(approved.afterSale, .shipReturn(carrier: "SF", trackingNumber: "SF1"), by: StorageFixture.buyer,
                                 at: StorageFixture.now.adding(milliseconds: 2_000), expectedVersion: 2)
        try await repository.applyTransition(shipped, expectedVersion: 2)

        let loaded = try #require(try await repository.afterSale(opened.number))
        #expect(loaded == shipped.afterSale)
        #expect(loaded.version == 3)
        let traces = try await repository.traceRecords(of: opened.number)
        #expect(traces.map(\.step) == [.create, .approve, .submitReturnShipment])
        #expect(traces.last == shipped.trace)
        let row = try #require(try await repository.listCases(CaseQuery(search: opened.number.rawValue)).rows.first)
        #expect(row == CaseSummary(shipped.afterSale))
    }

    func staleVersion() async throws {
        let opened = try await Self.openCase(repository)
        try await repository.applyTransition(try Self.approve(opened), expectedVersion: 1)
        let current = try #require(try await repository.afterSale(opened.number))

        // Decided on version 1, which is gone.
        let stale = try decide(opened, .reject(reason: "too late"), by: StorageFixture.merchant, at: StorageFixture.now,
                               expectedVersion: 1)
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) {
            try await repository.applyTransition(stale, expectedVersion: 1)
        }
        #expect(try await repository.afterSale(opened.number) == current)
        #expect(try await repository.traceRecords(of: opened.number).count == 2)
    }

    func oneWinner() async throws {
        let opened = try await Self.openCase(repository)
        let outcomes = await withTaskGroup(of: Result<Int64, any Error>.self) { group in
            for fee in 0..<16 {
                group.addTask {
                    do {
                        try await repository.applyTransition(try Self.approve(opened, fee: Int64(fee)), expectedVersion: 1)
                        return .success(Int64(fee))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let losers = outcomes.compactMap { outcome -> (any Error)? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        #expect(losers.count == 15)
        #expect(losers.allSatisfy { ($0 as? DomainError) == .versionConflict(expected: 1, actual: 2) })
        let stored = try #require(try await repository.afterSale(opened.number))
        #expect(stored.version == 2)
        #expect(stored.amounts.serviceFee == .cny(winners[0]))
        #expect(stored.timeline.count == 2)
        #expect(try await repository.traceRecords(of: opened.number).count == 2)
    }

    func unknownCase() async throws {
        let ghost = StorageFixture.syntheticCase(sequence: 42, createdAt: StorageFixture.now).afterSale
        let transition = try decide(ghost, .reject(reason: "no"), by: .merchant("m-1", shop: "s-1"), at: StorageFixture.now)
        await #expect(throws: RepositoryError.caseNotFound(ghost.number)) {
            try await repository.applyTransition(transition, expectedVersion: 1)
        }
    }

    func inconsistentTransition() async throws {
        let opened = try await Self.openCase(repository)
        await #expect(throws: RepositoryError.self) {
            try await repository.applyTransition(try Self.approve(opened), expectedVersion: 5)
        }
    }

    func refusedTrace() async throws {
        let opened = try await Self.openCase(repository)
        let action = Action.shipReplacement(carrier: "SF", trackingNumber: "1", note: "")
        let error = DomainError.illegalTransition(action: .shipReplacement, caseNumber: opened.number, from: opened.status)
        let refused = TraceRecord.refused(opened, action, by: StorageFixture.merchant, at: StorageFixture.now, error: error)
        try await repository.recordTrace(refused)
        #expect(try await repository.traceRecords(of: opened.number).last == refused)
        #expect(try await repository.afterSale(opened.number) == opened)
    }
}

extension TransitionChecks {
    static let checks: [ConformanceCheck] = ([
        [ConformanceCheck("a transition writes the case, its timeline entries and its trace record together") { try await TransitionChecks(repository: $0).appliesEverything() }],
        [ConformanceCheck("a stale expected version gets a version conflict and changes nothing") { try await TransitionChecks(repository: $0).staleVersion() }],
        [ConformanceCheck("sixteen concurrent transitions from one version: exactly one wins") { try await TransitionChecks(repository: $0).oneWinner() }],
        [ConformanceCheck("a transition on an unknown case is refused as not found") { try await TransitionChecks(repository: $0).unknownCase() }],
        [ConformanceCheck("a transition whose version does not follow the expected one is refused before writing") { try await TransitionChecks(repository: $0).inconsistentTransition() }],
        [ConformanceCheck("a refused action's trace record is stored without changing the case") { try await TransitionChecks(repository: $0).refusedTrace() }],
    ] as [[ConformanceCheck]]).flatMap { $0 }
}
