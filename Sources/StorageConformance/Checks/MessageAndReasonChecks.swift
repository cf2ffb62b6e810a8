import AfterSaleDomain
import Testing
import AfterSaleStorage

/// Messages and the reason catalog.
struct MessageAndReasonChecks: Sendable {
    let repository: any AfterSaleRepository

    func conversation() async throws {
        let afterSale = StorageFixture.syntheticCase(sequence: 1, createdAt: StorageFixture.now).afterSale
        try await StorageFixture.store(repository, Transition(afterSale: afterSale, entries: afterSale.timeline,
                                                              trace: StorageFixture.syntheticCase(sequence: 1, createdAt: StorageFixture.now).trace))
        var stored: [CaseMessage] = []
        for i in 0..<5 {
            let sender: Principal = i % 2 == 0 ? .buyer("b-1") : .merchant("m-1", shop: "s-1")
            let appended = try await repository.appendMessage(
                NewMessage(caseNumber: afterSale.number, sender: sender, text: "message \(i)",
                           attachments: i == 0 ? [StorageFixture.photo] : [], sentAt: StorageFixture.now.adding(milliseconds: Int64(i))),
                idempotency: nil)
            #expect(appended.replayed == false)
            stored.append(appended.message)
        }
        let first = try await repository.messages(of: afterSale.number, after: nil, limit: 2)
        #expect(first.messages == Array(stored[0..<2]))
        let second = try await repository.messages(of: afterSale.number, after: first.next, limit: 2)
        #expect(second.messages == Array(stored[2..<4]))
        let last = try await repository.messages(of: afterSale.number, after: second.next, limit: 2)
        #expect(last == MessagePage(messages: [stored[4]], next: nil))
    }

    func idempotentMessages() async throws {
        let transition = StorageFixture.syntheticCase(sequence: 1, createdAt: StorageFixture.now)
        try await StorageFixture.store(repository, transition)
        let number = transition.afterSale.number
        let key = IdempotencyRecord(key: "m-key", principal: .buyer("b-1"), fingerprint: "hello")
        let message = NewMessage(caseNumber: number, sender: .buyer("b-1"), text: "hello", sentAt: StorageFixture.now)
        let first = try await repository.appendMessage(message, idempotency: key)
        let again = try await repository.appendMessage(message, idempotency: key)
        #expect(again == AppendedMessage(message: first.message, replayed: true))
        #expect(try await repository.messages(of: number, after: nil, limit: 10).messages.count == 1)

        var other = key
        other.fingerprint = "bye"
        await #expect(throws: RepositoryError.idempotencyKeyReused(key: "m-key")) {
            try await repository.appendMessage(message, idempotency: other)
        }
        // A create may not replay a key spent on a message.
        await #expect(throws: RepositoryError.idempotencyKeyReused(key: "m-key")) {
            try await repository.creationContext(orderID: "o-1", idempotency: key)
        }
    }

    func unknownCase() async throws {
        let number = try CaseNumber(at: StorageFixture.now, sequence: 9)
        await #expect(throws: RepositoryError.caseNotFound(number)) {
            try await repository.appendMessage(NewMessage(caseNumber: number, sender: .buyer("b-1"), text: "hi",
                                                          sentAt: StorageFixture.now), idempotency: nil)
        }
    }

    func standardCatalog() async throws {
        #expect(try await repository.reasonCatalog() == ReasonCatalog.standard)
    }

    func upsertReason() async throws {
        let at = StorageFixture.now
        let fresh = Reason(code: "late_delivery", title: "Late", kinds: [.refundOnly, .returnAndRefund], basis: .logistics,
                           requiresEvidence: true, isActive: true, sortOrder: 5)
        let created = try await repository.upsertReason(fresh, expectedVersion: 0, at: at)
        #expect(created == StoredReason(reason: fresh, version: 1, updatedAt: at))
        await #expect(throws: DomainError.versionConflict(expected: 0, actual: 1)) {
            try await repository.upsertReason(fresh, expectedVersion: 0, at: at)
        }
        var retired = fresh
        retired.isActive = false
        #expect(try await repository.upsertReason(retired, expectedVersion: 1, at: at).version == 2)
        #expect(try await repository.upsertReason(retired, expectedVersion: nil, at: at).version == 3)
        let stored = try await repository.storedReasons().first { $0.reason.code == "late_delivery" }
        #expect(stored == StoredReason(reason: retired, version: 3, updatedAt: at))
        #expect(try await repository.reasonCatalog().reason("late_delivery") == retired)
    }
}

extension MessageAndReasonChecks {
    static let checks: [ConformanceCheck] = ([
        [ConformanceCheck("messages are appended to a case and listed oldest first, page by page") { try await MessageAndReasonChecks(repository: $0).conversation() }],
        [ConformanceCheck("a retried message with the same key is stored once; another request with that key is refused") { try await MessageAndReasonChecks(repository: $0).idempotentMessages() }],
        [ConformanceCheck("a message to an unknown case is refused") { try await MessageAndReasonChecks(repository: $0).unknownCase() }],
        [ConformanceCheck("a new database holds the standard catalog") { try await MessageAndReasonChecks(repository: $0).standardCatalog() }],
        [ConformanceCheck("reasons are upserted with compare-and-set on their version") { try await MessageAndReasonChecks(repository: $0).upsertReason() }],
    ] as [[ConformanceCheck]]).flatMap { $0 }
}
