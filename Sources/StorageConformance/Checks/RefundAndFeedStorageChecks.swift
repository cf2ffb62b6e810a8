import AfterSaleDomain
import Foundation
import Testing
import AfterSaleStorage

// Issue 4 storage: refund orders created with their transition, claimed under leases in one
// transaction, listed with totals; the outbox appended with the change and read by cursor;
// consumer cursors; tracking numbers.

/// Refund orders and the event feed in SQLite.
public struct RefundAndFeedStorageChecks: Sendable {
    let repository: any AfterSaleRepository

    /// A return-and-refund case approved, shipped back and received: its receipt asks for a refund.
    public static func receivedCase(_ repository: any AfterSaleRepository) async throws -> (AfterSaleCase, Transition) {
        let opened = try await TransitionChecks.openCase(repository)
        let approved = try TransitionChecks.approve(opened)
        try await repository.applyTransition(approved, expectedVersion: 1)
        let shipped = try decide(approved.afterSale, .shipReturn(carrier: "SF", trackingNumber: "SF100"), by: StorageFixture.buyer,
                                 at: StorageFixture.now.adding(milliseconds: 2_000), expectedVersion: 2)
        try await repository.applyTransition(shipped, expectedVersion: 2,
                                             effects: CaseChangeEffects(trackingKeys: [TrackingKey(carrier: "sf", trackingNumber: "SF100")]))
        let received = try decide(shipped.afterSale, .confirmReturnReceived(condition: .intact, note: "", evidence: []),
                                  by: StorageFixture.merchant, at: StorageFixture.now.adding(milliseconds: 3_000), expectedVersion: 3)
        return (shipped.afterSale, received)
    }


    public static func event(_ type: EventType, _ number: CaseNumber?, _ payload: [UInt8] = [1, 2, 3]) -> OutboxEvent {
        OutboxEvent(type: type, caseNumber: number, orderID: "o-1", occurredAt: StorageFixture.now, payload: payload)
    }


    func refundWithTransition() async throws {
        let (before, received) = try await Self.receivedCase(repository)
        let request = try #require(received.refundRequest)
        let refund = RefundOrder.requested(request, order: StorageFixture.order(), policy: .standard, at: received.afterSale.updatedAt)
        let headBefore = try await repository.eventFeedHead()
        try await repository.applyTransition(received, expectedVersion: before.version, effects: CaseChangeEffects(
            newRefund: refund, events: [Self.event(.returnReceived, before.number), Self.event(.refundRequested, before.number, [9])]))

        #expect(try await repository.refund(of: before.number) == refund)
        #expect(try await repository.refund(refund.id)?.status == .pending)
        let batch = try await repository.events(after: headBefore, types: nil, limit: 10, scanLimit: 100)
        #expect(batch.events.map(\.type) == [.returnReceived, .refundRequested])
        #expect(batch.events.map(\.cursor) == [headBefore + 1, headBefore + 2])
        #expect(batch.events.last?.payload == [9])

        // A second refund order for the same case is refused by the UNIQUE constraint (the state
        // machine never asks for one; this is the backstop), and the whole change with it.
        let stored = try #require(try await repository.afterSale(before.number))
        let second = Transition(afterSale: stored.bumped(), entries: [], trace: received.trace)
        await #expect(throws: RepositoryError.self) {
            try await repository.applyTransition(second, expectedVersion: stored.version,
                                                 effects: CaseChangeEffects(newRefund: refund, events: [Self.event(.refundRequested, before.number)]))
        }
        #expect(try await repository.eventFeedHead() == headBefore + 2)
        #expect(try await repository.afterSale(before.number) == stored)
    }

    func claims() async throws {
        let (before, received) = try await Self.receivedCase(repository)
        let refund = RefundOrder.requested(try #require(received.refundRequest), order: nil, policy: .standard,
                                           at: StorageFixture.now)
        try await repository.applyTransition(received, expectedVersion: before.version, effects: CaseChangeEffects(newRefund: refund))
        let t0 = StorageFixture.now.adding(milliseconds: 10_000)
        let first = try await repository.claimRefunds(RefundClaim(owner: "w-1", limit: 5, channels: [], leaseMs: 1_000, at: t0, tokens: ["a", "b"]))
        #expect(first.map(\.id) == [refund.id])
        #expect(first.first?.lease == RefundLease(owner: "w-1", token: "a", expiresAt: t0.adding(milliseconds: 1_000)))
        // Held: nobody else gets it before the lease expires.
        let second = try await repository.claimRefunds(RefundClaim(owner: "w-2", limit: 5, channels: [], leaseMs: 1_000,
                                                                   at: t0.adding(milliseconds: 999), tokens: ["c"]))
        #expect(second.isEmpty)
        // Another channel only: not this one.
        let otherChannel = try await repository.claimRefunds(RefundClaim(owner: "w-2", limit: 5, channels: ["wechat"], leaseMs: 1_000,
                                                                         at: t0.adding(milliseconds: 1_000), tokens: ["d"]))
        #expect(otherChannel.isEmpty)
        // Expired: the next worker gets it, under its own token, as a second attempt.
        let third = try await repository.claimRefunds(RefundClaim(owner: "w-2", limit: 5, channels: [], leaseMs: 1_000,
                                                                  at: t0.adding(milliseconds: 1_000), tokens: ["e"]))
        #expect(third.map { $0.lease?.token } == ["e"])
        #expect(third.first?.attempts == 2)
        #expect(try await repository.refund(refund.id)?.lease?.owner == "w-2")
    }

    func listing() async throws {
        let (before, received) = try await Self.receivedCase(repository)
        let refund = RefundOrder.requested(try #require(received.refundRequest), order: nil, policy: .standard,
                                           at: StorageFixture.now)
        try await repository.applyTransition(received, expectedVersion: before.version, effects: CaseChangeEffects(newRefund: refund))
        var query = RefundQuery()
        query.statuses = [.pending]
        query.pageSize = 1
        let page = try await repository.listRefunds(query)
        #expect(page.rows.map(\.id) == [refund.id])
        #expect(page.next == nil)
        #expect(page.totals == [RefundTotal(status: .pending, count: 1, amount: refund.amount, refunded: .cny(0))])
        query.statuses = [.succeeded]
        #expect(try await repository.listRefunds(query).rows.isEmpty)
        query.statuses = []
        query.shopID = "nobody"
        #expect(try await repository.listRefunds(query).totals.isEmpty)
        // An agent's set of cases: this one among others, none, or only others.
        query.shopID = nil
        let other = try CaseNumber(at: StorageFixture.story, sequence: 99)
        query.caseNumbers = [other, before.number]
        #expect(try await repository.listRefunds(query).rows.map(\.id) == [refund.id])
        query.caseNumbers = []
        #expect(try await repository.listRefunds(query).rows.isEmpty)
        query.caseNumbers = [other]
        let none = try await repository.listRefunds(query)
        #expect(none.rows.isEmpty && none.totals.isEmpty)
    }

    func feed() async throws {
        let (before, received) = try await Self.receivedCase(repository)
        let events = (0..<10).map { Self.event($0 % 2 == 0 ? .messageAdded : .trackingUpdated, before.number, [UInt8($0)]) }
        try await repository.applyTransition(received, expectedVersion: before.version, effects: CaseChangeEffects(events: events))
        let head = try await repository.eventFeedHead()
        #expect(head == 10)
        let messages = try await repository.events(after: 0, types: [.messageAdded], limit: 3, scanLimit: 100)
        #expect(messages.events.map(\.payload) == [[0], [2], [4]])
        #expect(messages.scannedThrough == 5)
        let rest = try await repository.events(after: messages.scannedThrough, types: [.messageAdded], limit: 100, scanLimit: 3)
        #expect(rest.events.map(\.payload) == [[6]])
        #expect(rest.scannedThrough == 8)

        #expect(try await repository.consumerCursor("inventory") == nil)
        #expect(try await repository.acknowledge(consumer: "inventory", cursor: 7, at: StorageFixture.now) == 7)
        #expect(try await repository.acknowledge(consumer: "inventory", cursor: 3, at: StorageFixture.now) == 7)
        await #expect(throws: DomainError.self) {
            try await repository.acknowledge(consumer: "inventory", cursor: 11, at: StorageFixture.now)
        }
        #expect(try await repository.consumerCursor("inventory") == 7)
    }

    func wakeUp() async throws {
        let (before, received) = try await Self.receivedCase(repository)
        let head = try await repository.eventFeedHead()
        let clock = ContinuousClock()
        let quiet = clock.now
        await repository.waitForEvents(after: head, timeout: .milliseconds(50))
        #expect(clock.now - quiet >= .milliseconds(45))

        let waiter = Task { () -> Duration in
            let start = clock.now
            await repository.waitForEvents(after: head, timeout: .seconds(10))
            return clock.now - start
        }
        try await Task.sleep(for: .milliseconds(50))
        try await repository.applyTransition(received, expectedVersion: before.version,
                                             effects: CaseChangeEffects(events: [Self.event(.returnReceived, before.number)]))
        #expect(await waiter.value < .seconds(5))
    }

    func tracking() async throws {
        let (shipped, _) = try await Self.receivedCase(repository)
        #expect(try await repository.caseNumber(shippingWith: TrackingKey(carrier: "SF", trackingNumber: "SF100")) == shipped.number)
        #expect(try await repository.caseNumber(shippingWith: TrackingKey(carrier: "YTO", trackingNumber: "SF100")) == nil)
    }
}

extension AfterSaleCase {
    /// This case one version on (to build a transition the domain would not).
    func bumped() -> AfterSaleCase {
        AfterSaleCase(number: number, orderID: orderID, buyerID: buyerID, shop: shop, kind: kind, reasonCode: reasonCode,
                      reasonTitle: reasonTitle, buyerNote: buyerNote, evidence: evidence, lines: lines,
                      coversWholeOrder: coversWholeOrder, amounts: amounts, status: status, rejectionReason: rejectionReason,
                      returnAddress: returnAddress, returnShipment: returnShipment, outboundShipment: outboundShipment,
                      receipt: receipt, timeline: timeline, version: version + 1, createdAt: createdAt, updatedAt: updatedAt,
                      finishedAt: finishedAt)
    }
}

extension RefundAndFeedStorageChecks {
    static let checks: [ConformanceCheck] = ([
        [ConformanceCheck("the refund order and the events commit with the transition; a second refund order for the case is refused") { try await RefundAndFeedStorageChecks(repository: $0).refundWithTransition() }],
        [ConformanceCheck("claims lease each refund to one worker; expired leases and due retries come back; others wait") { try await RefundAndFeedStorageChecks(repository: $0).claims() }],
        [ConformanceCheck("refund lists page newest first, total over the whole filter, and keep to a set of cases") { try await RefundAndFeedStorageChecks(repository: $0).listing() }],
        [ConformanceCheck("the feed reads by cursor and type; acknowledgements never move back and never pass the head") { try await RefundAndFeedStorageChecks(repository: $0).feed() }],
        [ConformanceCheck("a waiting reader wakes when a commit appends events, and times out when none does") { try await RefundAndFeedStorageChecks(repository: $0).wakeUp() }],
        [ConformanceCheck("cases are found by carrier (any case) and tracking number") { try await RefundAndFeedStorageChecks(repository: $0).tracking() }],
    ] as [[ConformanceCheck]]).flatMap { $0 }
}
