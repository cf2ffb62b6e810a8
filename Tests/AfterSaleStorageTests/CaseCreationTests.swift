import AfterSaleDomain
import Foundation
import Testing
@testable import AfterSaleStorage

@Suite("Creating and loading cases")
struct CaseCreationTests {
    /// A case with every optional field set, every kind of value, and awkward text.
    static func everyField(number: CaseNumber) -> AfterSaleCase {
        let at = StorageFixture.now
        let later = at.adding(milliseconds: 3_600_000)
        let pickup = Address(contactName: "张三", phone: "138****0000", province: "浙江", city: "杭州", district: "西湖",
                             street: "1 Road, \"quoted\" \\ back\u{0}slash", postalCode: "310000")
        let lines = [
            CaseLine(orderLineID: "l-1", sku: "PHONE-1", title: "Phone 📱", spec: "256 GB", imageURL: "https://img/1.jpg",
                     category: "phones", unitPrice: .cny(299_900), quantity: 1, claimAmount: .cny(298_900),
                     refundAmount: .cny(298_900), approvedAmount: .cny(298_400), refundedAmount: .cny(298_400)),
            CaseLine(orderLineID: "l-2", sku: "CASE-1", title: "Case", category: "accessories",
                     unitPrice: Money(minorUnits: Int64.max, currency: try! CurrencyCode("USD")), quantity: 2,
                     claimAmount: .cny(-1), refundAmount: .cny(0), approvedAmount: nil, refundedAmount: .cny(0)),
        ]
        return AfterSaleCase(
            number: number, orderID: "o-1", buyerID: "b-1", shop: ShopInfo(id: "s-1", name: "Shop One", contact: "400"),
            kind: .returnAndRefund, reasonCode: "quality_fault", reasonTitle: "质量问题 Performance fault",
            buyerNote: "line one\nline two\t\u{1F600}",
            evidence: [StorageFixture.photo,
                       EvidenceRef(location: .url("https://cdn.example/v.mp4?a=1&b=2"), contentType: "video/mp4", sizeBytes: 1)],
            lines: lines, coversWholeOrder: true,
            amounts: CaseAmounts(goods: .cny(298_900), shipping: .cny(1_000), computed: .cny(299_900), serviceFee: .cny(500),
                                 approved: .cny(299_400), refunded: .cny(299_400)),
            status: .completed, rejectionReason: "not rejected, but stored anyway", returnAddress: StorageFixture.returnAddress,
            returnShipment: Shipment(direction: .return, method: .pickup, carrier: "SF", trackingNumber: "SF1", shippedAt: at,
                                     pickupAddress: pickup, pickupWindow: at...later,
                                     events: [TrackingEvent(status: .collected, occurredAt: at, location: "杭州", detail: "picked up"),
                                              TrackingEvent(status: .delivered, occurredAt: later)]),
            outboundShipment: Shipment(direction: .outbound, method: nil, carrier: "JD", trackingNumber: "JD9", shippedAt: later),
            receipt: ReturnReceipt(condition: .opened, note: "box opened", evidence: [StorageFixture.photo], receivedAt: later),
            timeline: [
                TimelineEntry(at: at, step: .create, actor: .buyer("b-1"), from: nil, to: .pendingReview, note: "please\u{0}now"),
                TimelineEntry(at: later, step: .approve, actor: .merchant("m-1", shop: "s-1"), from: .pendingReview,
                              to: .awaitingReturn, note: ""),
                TimelineEntry(at: later, step: .refundSucceeded, actor: .system("payments"), from: .pendingRefund, to: .completed),
            ],
            version: 7, createdAt: at, updatedAt: later, finishedAt: later)
    }

    @Test("a case with every field set loads back exactly as stored")
    func everyFieldRoundTrips() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
            let number = try await repository.nextCaseNumber(at: StorageFixture.now)
            let afterSale = Self.everyField(number: number)
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
    }

    @Test("a case opened through the domain round-trips, with its trace record and refund request")
    func openedCaseRoundTrips() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
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
    }

    @Test("case numbers follow one sequence per day and continue after reopening")
    func numbersPerDay() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let day1 = StorageFixture.now
        let day2 = day1.adding(days: 1)
        var repository = try SQLiteRepository.open(dataDirectory: directory)
        #expect(try await repository.nextCaseNumber(at: day1).sequence == 1)
        #expect(try await repository.nextCaseNumber(at: day1).sequence == 2)
        #expect(try await repository.nextCaseNumber(at: day2).sequence == 1)
        let stored = try await repository.nextCaseNumber(at: day1)
        try await StorageFixture.store(repository, StorageFixture.syntheticCase(sequence: stored.sequence, day: day1, createdAt: day1))
        repository.close()

        repository = try SQLiteRepository.open(dataDirectory: directory)
        defer { repository.close() }
        #expect(try await repository.nextCaseNumber(at: day1).sequence == stored.sequence + 1)
    }

    @Test("the same key twice returns the first case and writes nothing more")
    func sameKeyReplays() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
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
    }

    @Test("sixteen concurrent creates with one key make exactly one case")
    func concurrentSameKey() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
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
    }

    @Test("the same key with a different request is refused")
    func keyReuseWithAnotherFingerprint() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
            try await repository.saveOrder(StorageFixture.order())
            try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 1)], key: "key-1")
            await #expect(throws: RepositoryError.idempotencyKeyReused(key: "key-1")) {
                try await StorageFixture.apply(repository, .returnAndRefund, [("l-3", 2)], key: "key-1")
            }
            #expect(try await repository.cases(ofOrder: "o-1").count == 1)
        }
    }

    @Test("a case decided on an outdated view of its order is refused, so the last unit is claimed once")
    func staleEligibilityIsRefused() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
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
    }

    @Test("a number that already names a case is refused")
    func takenNumber() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
            let first = StorageFixture.syntheticCase(sequence: 5, createdAt: StorageFixture.now)
            try await StorageFixture.store(repository, first)
            var second = StorageFixture.syntheticCase(sequence: 5, buyerID: "b-2", createdAt: StorageFixture.now)
            second.trace.details = "another"
            await #expect(throws: RepositoryError.caseNumberTaken(first.afterSale.number)) {
                try await StorageFixture.store(repository, second)
            }
        }
    }
}
