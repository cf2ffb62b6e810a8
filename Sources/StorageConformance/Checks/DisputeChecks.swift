import AfterSaleDomain
import AfterSaleStorage
import Testing

/// Disputes: stored whole, compare-and-set, listed, and swept by their earliest deadline.
struct DisputeChecks: Sendable {
    let repository: any AfterSaleRepository

    /// A dispute of case `sequence`, opened `offset` ms after the fixture's now, awaiting the
    /// merchant until `due` ms after it.
    static func dispute(_ sequence: Int, at offset: Int64 = 0, due: Int64 = 86_400_000, buyer: String = "b-1", shop: String = "s-1",
                        order: String = "o-1") throws -> Dispute {
        let number = try CaseNumber(at: StorageFixture.story, sequence: sequence)
        let at = StorageFixture.now.adding(milliseconds: offset)
        let entry = DisputeEntry(at: at, actor: .buyer(buyer), step: .opened, text: "新的，没穿过 \u{0}", evidence: [StorageFixture.photo],
                                 from: nil, to: .awaitingMerchant)
        return Dispute(id: Dispute.id(of: number), caseNumber: number, orderID: order, buyerID: buyer, shopID: shop, grounds: .afterRejection,
                       status: .awaitingMerchant, caseStatusAtOpening: .rejected, entries: [entry],
                       merchantResponseDueAt: StorageFixture.now.adding(milliseconds: due), evidenceRequests: [], ruling: nil,
                       appealDueAt: nil, appealedAt: nil, appealRuling: nil, ticketID: nil, openedAt: at, updatedAt: at, finishedAt: nil,
                       version: 1)
    }

    static func event(_ d: Dispute, _ type: EventType = .disputeOpened) -> OutboxEvent {
        OutboxEvent(type: type, caseNumber: d.caseNumber, orderID: d.orderID, occurredAt: d.updatedAt, payload: Array(d.id.utf8))
    }

    func roundTrip() async throws {
        var d = try Self.dispute(1)
        try await repository.saveDispute(d, expectedVersion: 0, events: [Self.event(d)])
        #expect(try await repository.dispute(d.id) == d)
        #expect(try await repository.dispute("DP-none") == nil)
        await #expect(throws: DomainError.duplicate(message: "dispute \(d.id) exists")) {
            try await repository.saveDispute(d, expectedVersion: 0, events: [])
        }
        // A full record: ruling, appeal, evidence requests, all the optional fields.
        let stored = d
        d.status = .final
        d.evidenceRequests = [EvidenceRequest(party: .merchant, note: "photos", dueAt: StorageFixture.now.adding(days: 1), state: .lapsed)]
        d.ruling = DisputeRuling(outcome: .forBuyer, amount: .cny(4_500), reason: "new", ruledBy: .agent("a-1"), at: StorageFixture.now,
                                 refundID: "RF1")
        d.appealedAt = StorageFixture.now.adding(milliseconds: 5)
        d.appealRuling = DisputeRuling(outcome: .mediated, amount: .cny(1_000), reason: "partly", ruledBy: .platform("p-1"),
                                       at: StorageFixture.now.adding(milliseconds: 9))
        d.entries.append(DisputeEntry(at: StorageFixture.now, actor: .agent("a-1"), step: .ruled, text: "for_buyer", from: .underReview, to: .ruled))
        d.ticketID = "TK" + d.id
        d.finishedAt = StorageFixture.now.adding(milliseconds: 10)
        d.version = 2
        try await repository.saveDispute(d, expectedVersion: 1, events: [Self.event(d, .disputeRuled)])
        #expect(try await repository.dispute(d.id) == d)
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) {
            try await repository.saveDispute(stored.bumped(), expectedVersion: 1, events: [Self.event(d)])
        }
        let events = try await repository.events(after: 0, types: [.disputeOpened, .disputeRuled], limit: 10, scanLimit: 100).events
        #expect(events.map(\.type) == [.disputeOpened, .disputeRuled], "the events of refused writes are not appended")
        #expect(try await repository.disputes(ofOrder: "o-1").map(\.id) == [d.id])
        #expect(try await repository.disputes(ofOrder: "o-2").isEmpty)
    }

    func listed() async throws {
        let disputes = [
            try Self.dispute(1, at: 10),
            try Self.dispute(2, at: 20, buyer: "b-2", shop: "s-2", order: "o-2"),
            try Self.dispute(3, at: 30),
            try Self.dispute(4, at: 30, shop: "s-2"),
        ]
        for d in disputes { try await repository.saveDispute(d, expectedVersion: 0, events: []) }
        var ruled = disputes[2]
        ruled.status = .ruled
        ruled.version = 2
        try await repository.saveDispute(ruled, expectedVersion: 1, events: [])
        func all(_ query: DisputeQuery) async throws -> [String] {
            var q = query
            var out: [String] = []
            for _ in 0..<10 {
                let page = try await repository.listDisputes(q)
                out += page.disputes.map(\.id)
                guard let next = page.next else { break }
                q.after = next
            }
            return out
        }
        let ids = disputes.map(\.id)
        #expect(try await all(DisputeQuery(pageSize: 1)) == [ids[3], ids[2], ids[1], ids[0]])
        #expect(try await all(DisputeQuery(buyerID: "b-1", pageSize: 2)) == [ids[3], ids[2], ids[0]])
        #expect(try await all(DisputeQuery(shopID: "s-2")) == [ids[3], ids[1]])
        #expect(try await all(DisputeQuery(statuses: [.ruled]) ) == [ids[2]])
        #expect(try await all(DisputeQuery(statuses: [.ruled, .awaitingMerchant], openedFrom: StorageFixture.now.adding(milliseconds: 20)))
                == [ids[3], ids[2], ids[1]])
        var ofCases = DisputeQuery()
        ofCases.caseNumbers = [disputes[0].caseNumber, disputes[3].caseNumber]
        #expect(try await all(ofCases) == [ids[3], ids[0]], "an agent's cases")
        ofCases.caseNumbers = []
        #expect(try await all(ofCases).isEmpty)
    }

    func due() async throws {
        let disputes = [try Self.dispute(1, due: 300), try Self.dispute(2, due: 100), try Self.dispute(3, due: 5_000)]
        for d in disputes { try await repository.saveDispute(d, expectedVersion: 0, events: []) }
        var noDeadline = try Self.dispute(4, due: 50)
        try await repository.saveDispute(noDeadline, expectedVersion: 0, events: [])
        noDeadline.status = .underReview
        noDeadline.version = 2
        try await repository.saveDispute(noDeadline, expectedVersion: 1, events: [])
        let at = StorageFixture.now.adding(milliseconds: 300)
        #expect(try await repository.disputesDue(at: at, limit: 10).map(\.id) == [disputes[1].id, disputes[0].id])
        #expect(try await repository.disputesDue(at: at, limit: 1).map(\.id) == [disputes[1].id])
        #expect(try await repository.disputesDue(at: StorageFixture.now, limit: 10).isEmpty)
    }

    /// Several replicas sweep the same due disputes at once: each deadline is applied once (one
    /// compare-and-set wins), with one event.
    func concurrentSweeps() async throws {
        let count = 6
        for sequence in 1...count { try await repository.saveDispute(try Self.dispute(sequence, due: 10), expectedVersion: 0, events: []) }
        let at = StorageFixture.now.adding(milliseconds: 10)
        let repository = repository
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var won = 0
                    for due in try await repository.disputesDue(at: at, limit: 100) {
                        guard let next = due.applyingDeadlines(at: at) else { continue }
                        do {
                            try await repository.saveDispute(next, expectedVersion: due.version, events: [Self.event(next, .disputeDeadlinePassed)])
                            won += 1
                        } catch DomainError.versionConflict {
                            continue
                        }
                    }
                    return won
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(applied == count)
        for sequence in 1...count {
            let stored = try #require(try await repository.dispute(Dispute.id(of: try CaseNumber(at: StorageFixture.story, sequence: sequence))))
            #expect(stored.version == 2)
            #expect(stored.status == .underReview)
        }
        #expect(try await repository.disputesDue(at: at, limit: 100).isEmpty)
        let events = try await repository.events(after: 0, types: [.disputeDeadlinePassed], limit: 100, scanLimit: 1_000).events
        #expect(events.count == count)
    }

    /// A dispute saved with a basis, and a case change whose basis names the order's open
    /// disputes, each pass only while the other did not move: the order's 维权中 is derived
    /// consistently on both sides.
    func orderBasis() async throws {
        let order = StorageFixture.order()
        try await repository.saveOrder(order)
        let created = try await StorageFixture.apply(repository, .returnAndRefund, [("l-2", 1)])
        var d = try Self.dispute(1)
        d.caseNumber = created.number
        d.id = Dispute.id(of: created.number)
        let cases = try await repository.cases(ofOrder: "o-1")
        // Opening: the order, its cases and no other open dispute, as read.
        try await repository.saveDispute(d, expectedVersion: 0, events: [Self.event(d)],
                                         basis: EligibilityBasis(order: order, existingCases: cases, openDisputeIDs: []))
        // A new case decided before the dispute opened (no open dispute read) is refused; after, it passes.
        let number = try await repository.nextCaseNumber(at: StorageFixture.now)
        let second = try AfterSaleCase.open(StorageFixture.application(.returnAndRefund, [("l-3", 1)]), number: number, order: order,
                                            existingCases: cases, catalog: .standard, by: StorageFixture.buyer, at: StorageFixture.now)
        await #expect(throws: RepositoryError.eligibilityChanged(orderID: "o-1")) {
            try await repository.createCase(CaseCreation(
                transition: second, idempotency: IdempotencyRecord(key: "basis-1", principal: StorageFixture.buyer, fingerprint: "b"),
                basis: EligibilityBasis(order: order, existingCases: cases, openDisputeIDs: [])))
        }
        _ = try await repository.createCase(CaseCreation(
            transition: second, idempotency: IdempotencyRecord(key: "basis-2", principal: StorageFixture.buyer, fingerprint: "b"),
            basis: EligibilityBasis(order: order, existingCases: cases, openDisputeIDs: [d.id])))
        // A dispute change derived from the cases before the new one is refused, and so is one that
        // read another open dispute that is not there; the fresh basis passes, and leaves the dispute itself out.
        var ruled = d.bumped()
        ruled.status = .final
        await #expect(throws: RepositoryError.eligibilityChanged(orderID: "o-1")) {
            try await repository.saveDispute(ruled, expectedVersion: 1, events: [Self.event(ruled, .disputeRuled)],
                                             basis: EligibilityBasis(order: order, existingCases: cases, openDisputeIDs: []))
        }
        let fresh = try await repository.cases(ofOrder: "o-1")
        await #expect(throws: RepositoryError.eligibilityChanged(orderID: "o-1")) {
            try await repository.saveDispute(ruled, expectedVersion: 1, events: [Self.event(ruled, .disputeRuled)],
                                             basis: EligibilityBasis(order: order, existingCases: fresh, openDisputeIDs: ["DP-other"]))
        }
        #expect(try await repository.dispute(d.id)?.version == 1)
        try await repository.saveDispute(ruled, expectedVersion: 1, events: [Self.event(ruled, .disputeRuled)],
                                         basis: EligibilityBasis(order: order, existingCases: fresh, openDisputeIDs: [d.id]))
        #expect(try await repository.dispute(d.id)?.status == .final)
        let events = try await repository.events(after: 0, types: [.disputeOpened, .disputeRuled], limit: 10, scanLimit: 100).events
        #expect(events.map(\.type) == [.disputeOpened, .disputeRuled], "the events of refused writes are not appended")
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("a dispute change and a case change on one order each check the other's state in their write (维权中 derived consistently)") {
            try await DisputeChecks(repository: $0).orderBasis()
        },
        ConformanceCheck("a dispute loads back as stored, with its events; a second one per case and a stale version are refused") {
            try await DisputeChecks(repository: $0).roundTrip()
        },
        ConformanceCheck("disputes list newest first by buyer, shop, status and time, across pages") { try await DisputeChecks(repository: $0).listed() },
        ConformanceCheck("the deadline sweep reads due disputes earliest first, and none without a deadline") {
            try await DisputeChecks(repository: $0).due()
        },
        ConformanceCheck("replicas sweeping the same due disputes at once apply each deadline once") {
            try await DisputeChecks(repository: $0).concurrentSweeps()
        },
    ]
}

private extension Dispute {
    func bumped() -> Dispute {
        var next = self
        next.version += 1
        return next
    }
}
