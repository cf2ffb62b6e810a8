import AfterSaleDomain
import AfterSaleStorage
import Testing

/// The audit chain: every trace record gets the next position and a hash over the one before, in
/// one order every reader sees; checkpoints are stored once per size.
struct AuditChecks: Sendable {
    let repository: any AfterSaleRepository

    static let start = StorageFixture.now

    func everyTraceIsChained() async throws {
        #expect(try await repository.auditHead() == .empty)
        #expect(try await repository.auditEntries(after: 0, limit: 10).isEmpty)

        let first = StorageFixture.syntheticCase(sequence: 1, createdAt: Self.start)
        let second = StorageFixture.syntheticCase(sequence: 2, createdAt: Self.start.adding(milliseconds: 1))
        try await StorageFixture.store(repository, first)
        try await StorageFixture.store(repository, second)
        let approved = try decide(first.afterSale, .approve(serviceFee: nil, returnAddress: StorageFixture.returnAddress, note: "好的"),
                                  by: .merchant("m-1", shop: "s-1"), at: Self.start.adding(milliseconds: 2), expectedVersion: 1)
        try await repository.applyTransition(approved, expectedVersion: 1)
        var refused = TraceRecord(caseNumber: second.afterSale.number, actor: .merchant("m-1", shop: "s-1"), step: .reject,
                                  from: .pendingReview, to: .pendingReview, at: Self.start.adding(milliseconds: 3), outcome: .rejected,
                                  details: "理由 \"quoted\"\nnew line", refundID: "RF1", traceID: "trace-1")
        try await repository.recordTrace(refused)
        // A trace about no case is refused and leaves the chain as it was.
        refused.caseNumber = try CaseNumber(at: Self.start, sequence: 99)
        await #expect(throws: RepositoryError.caseNotFound(refused.caseNumber)) { try await repository.recordTrace(refused) }

        let head = try await repository.auditHead()
        #expect(head.size == 4)
        let entries = try await repository.auditEntries(after: 0, limit: 100)
        #expect(entries.map(\.position) == [1, 2, 3, 4])
        #expect(entries.last?.hash == head.hash)
        try AuditChain.verify(entries, head: head)
        // The chain holds exactly the trace records of the cases, each case's in its own order.
        let firstTraces = try await repository.traceRecords(of: first.afterSale.number)
        let secondTraces = try await repository.traceRecords(of: second.afterSale.number)
        #expect(entries.map(\.record).filter { $0.caseNumber == first.afterSale.number } == firstTraces)
        #expect(entries.map(\.record).filter { $0.caseNumber == second.afterSale.number } == secondTraces)
        #expect(firstTraces.count == 2 && secondTraces.count == 2)

        // Pages: after a position, up to a limit.
        #expect(try await repository.auditEntries(after: 2, limit: 1) == [entries[2]])
        #expect(try await repository.auditEntries(after: 4, limit: 10).isEmpty)
        await #expect(throws: RepositoryError.self) { try await repository.auditEntries(after: 0, limit: 0) }
        await #expect(throws: RepositoryError.self) { try await repository.auditEntries(after: -1, limit: 10) }

        // A later write continues the chain from the head.
        let withdrawn = try decide(second.afterSale, .withdraw(note: ""), by: .buyer("b-1"), at: Self.start.adding(milliseconds: 4),
                                   expectedVersion: 1)
        try await repository.applyTransition(withdrawn, expectedVersion: 1)
        let longer = try await repository.auditEntries(after: 0, limit: 100)
        #expect(Array(longer.prefix(4)) == entries)
        try AuditChain.verify(longer, head: try await repository.auditHead())
    }

    func checkpointsOncePerSize() async throws {
        #expect(try await repository.latestAuditCheckpoint() == nil)
        let hash = [UInt8](repeating: 1, count: 32)
        let two = AuditCheckpoint(size: 2, hash: hash, note: "origin\n2\nAQ==\n\n— origin sig\n", signedAt: Self.start)
        let four = AuditCheckpoint(size: 4, hash: [UInt8](repeating: 4, count: 32), note: "four", signedAt: Self.start.adding(milliseconds: 5))
        try await repository.saveAuditCheckpoint(four)
        try await repository.saveAuditCheckpoint(two)
        var again = two
        again.note = "another replica's signature of the same head"
        try await repository.saveAuditCheckpoint(again)
        #expect(try await repository.auditCheckpoints(after: 0, limit: 10) == [two, four])
        #expect(try await repository.auditCheckpoints(after: 2, limit: 10) == [four])
        #expect(try await repository.auditCheckpoints(after: 0, limit: 1) == [two])
        #expect(try await repository.latestAuditCheckpoint() == four)
        await #expect(throws: RepositoryError.self) {
            try await repository.saveAuditCheckpoint(AuditCheckpoint(size: 5, hash: [1], note: "short hash", signedAt: Self.start))
        }
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("every trace record joins the audit chain at the next position, and the chain verifies") {
            try await AuditChecks(repository: $0).everyTraceIsChained()
        },
        ConformanceCheck("audit checkpoints are stored once per size and listed smallest first") {
            try await AuditChecks(repository: $0).checkpointsOncePerSize()
        },
    ]
}
