import AfterSaleDomain
import Foundation
import Testing
import AfterSaleStorage

/// Creating and loading cases.
struct CaseCreationChecks: Sendable {
    let repository: any AfterSaleRepository



    func everyFieldRoundTrips() async throws {
        let number = try await repository.nextCaseNumber(at: StorageFixture.now)
        let afterSale = StorageFixture.everyField(number: number)
        let trace = TraceRecord(caseNumber: number, actor: .merchant("m-1", shop: "s-1"), step: .approve,
                                from: .pendingReview, to: .awaitingReturn, at: afterSale.updatedAt, outcome: .applied,
                                details: "fee=500 CNY")
        let created = try await repository.createCase(CaseCreation(
            transition: Transition(afterSale: afterSale, entries: afterSale.timeline, trace: trace),
            idempotency: IdempotencyRecord(key: "k", principal: .buyer("b-1"), fingerprint: "f"), basis: nil))
        #expect(created == CreatedCase(number: number, replayed: false))

        let loaded = try #require(try await repository.afterSale(number))
        #expect(loaded == afterSale)
        #expect(try await repository.traceRecords(of: number) == [trace])
        #expect(try await repository.afterSale(try CaseNumber(at: StorageFixture.now, sequence: 999)) == nil)
    }

    func openedCaseRoundTrips() async throws {
        try await repository.saveOrder(StorageFixture.order(status: .paid))
        let created = try await StorageFixture.apply(repository, .refundOnly, [("l-2", 1)])
        let loaded = try #require(try await repository.afterSale(created.number))
        #expect(loaded.status == .pendingRefund)
        #expect(loaded.timeline.map(\.step) == [.create, .autoApprove])
        #expect(try await repository.cases(ofOrder: "o-1") == [loaded])

        let traces = try await repository.traceRecords(of: created.number)
        #expect(traces.map(\.step) == [.create])
        let refund = try #require(try await repository.refund(of: created.number))
        #expect(refund.amount == loaded.amounts.computed)
        #expect(refund.trigger == .refundOnlyCreated)
        #expect(refund.status == .pending)
        #expect(refund.version == 1)
    }

    func sameKeyReplays() async throws {
        try await repository.saveOrder(StorageFixture.order())
        let first = try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 1)], key: "key-1")
        let again = try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 1)], key: "key-1")
        #expect(first.replayed == false)
        #expect(again == CreatedCase(number: first.number, replayed: true))
        #expect(try await repository.cases(ofOrder: "o-1").count == 1)
        // Another caller's identical key is another key.
        let other = try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 1)],
                                                   by: .buyer("b-1"), key: "key-2")
        #expect(other.number != first.number)
    }

    func concurrentSameKey() async throws {
        try await repository.saveOrder(StorageFixture.order())
        let results = try await withThrowingTaskGroup(of: CreatedCase.self) { group in
            for _ in 0..<16 {
                group.addTask { try await StorageFixture.apply(repository, .exchange, [("l-1", 1)], key: "retry-me") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(results.map(\.number)).count == 1)
        #expect(results.filter { !$0.replayed }.count == 1)
        #expect(try await repository.cases(ofOrder: "o-1").count == 1)
    }

    func keyReuseWithAnotherFingerprint() async throws {
        try await repository.saveOrder(StorageFixture.order())
        try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 1)], key: "key-1")
        await #expect(throws: RepositoryError.idempotencyKeyReused(key: "key-1")) {
            try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 2)], key: "key-1")
        }
        #expect(try await repository.cases(ofOrder: "o-1").count == 1)
    }

    func staleEligibilityIsRefused() async throws {
        let order = StorageFixture.order()
        try await repository.saveOrder(order)
        // Two applications for the only phone, decided on the same (empty) list of cases.
        var transitions: [Transition] = []
        for _ in 0..<2 {
            let number = try await repository.nextCaseNumber(at: StorageFixture.now)
            transitions.append(try AfterSaleCase.open(StorageFixture.application(.returnAndRefund, [("l-1", 1)]), number: number,
                                                      order: order, existingCases: [], catalog: .standard,
                                                      by: StorageFixture.buyer, at: StorageFixture.now))
        }
        let basis = EligibilityBasis(order: order, existingCases: [])
        _ = try await repository.createCase(CaseCreation(
            transition: transitions[0], idempotency: IdempotencyRecord(key: "a", principal: StorageFixture.buyer, fingerprint: "a"),
            basis: basis))
        await #expect(throws: RepositoryError.eligibilityChanged(orderID: "o-1")) {
            try await repository.createCase(CaseCreation(
                transition: transitions[1], idempotency: IdempotencyRecord(key: "b", principal: StorageFixture.buyer, fingerprint: "b"),
                basis: basis))
        }
        // Deciding again on the fresh view refuses the application in the domain's terms.
        await #expect(throws: DomainError.self) {
            try await StorageFixture.apply(repository, .returnAndRefund, [("l-1", 1)])
        }
        // A newer order snapshot also invalidates a basis.
        try await repository.saveOrder(StorageFixture.order(version: 2))
        await #expect(throws: RepositoryError.eligibilityChanged(orderID: "o-1")) {
            try await repository.createCase(CaseCreation(
                transition: transitions[1], idempotency: IdempotencyRecord(key: "c", principal: StorageFixture.buyer, fingerprint: "c"),
                basis: EligibilityBasis(order: order, existingCases: try await repository.cases(ofOrder: "o-1"))))
        }
    }

    func takenNumber() async throws {
        let first = StorageFixture.syntheticCase(sequence: 5, createdAt: StorageFixture.now)
        try await StorageFixture.store(repository, first)
        var second = StorageFixture.syntheticCase(sequence: 5, buyerID: "b-2", createdAt: StorageFixture.now)
        second.trace.details = "another"
        await #expect(throws: RepositoryError.caseNumberTaken(first.afterSale.number)) {
            try await StorageFixture.store(repository, second)
        }
    }
}

extension CaseCreationChecks {
    static let checks: [ConformanceCheck] = ([
        [ConformanceCheck("a case with every field set loads back exactly as stored") { try await CaseCreationChecks(repository: $0).everyFieldRoundTrips() }],
        [ConformanceCheck("a case opened through the domain round-trips, with its trace record and refund request") { try await CaseCreationChecks(repository: $0).openedCaseRoundTrips() }],
        [ConformanceCheck("the same key twice returns the first case and writes nothing more") { try await CaseCreationChecks(repository: $0).sameKeyReplays() }],
        [ConformanceCheck("sixteen concurrent creates with one key make exactly one case") { try await CaseCreationChecks(repository: $0).concurrentSameKey() }],
        [ConformanceCheck("the same key with a different request is refused") { try await CaseCreationChecks(repository: $0).keyReuseWithAnotherFingerprint() }],
        [ConformanceCheck("a case decided on an outdated view of its order is refused, so the last unit is claimed once") { try await CaseCreationChecks(repository: $0).staleEligibilityIsRefused() }],
        [ConformanceCheck("a number that already names a case is refused") { try await CaseCreationChecks(repository: $0).takenNumber() }],
    ] as [[ConformanceCheck]]).flatMap { $0 }
}
