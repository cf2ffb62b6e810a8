import AfterSaleDomain
import Foundation
import StorageConformance
import Testing
@testable import AfterSaleSQLite
import AfterSaleStorage

// Issue 4 storage: refund orders created with their transition, claimed under leases in one
// transaction, listed with totals; the outbox appended with the change and read by cursor;
// consumer cursors; tracking numbers.

@Suite("Refund orders and the event feed in SQLite (SQLite only)")
struct RefundAndFeedStorageTests {
    @Test("every row a case's life writes points at its case: foreign_key_check finds nothing")
    func referencesHold() async throws {
        // The writer does not enforce foreign keys (see SQLiteRepository.configureWriter); this
        // audits that the code keeps them anyway, over every table that references a case.
        try await StorageFixture.withRepository { repository, _ async throws in
            try await repository.saveOrder(StorageFixture.order(id: "o-2", status: .paid))
            let refundOnly = try await StorageFixture.apply(repository, .refundOnly, [("l-2", 1)], orderID: "o-2")
            let (before, received) = try await RefundAndFeedStorageChecks.receivedCase(repository)
            let request = try #require(received.refundRequest)
            let refund = RefundOrder.requested(request, order: StorageFixture.order(), policy: .standard, at: received.afterSale.updatedAt)
            try await repository.applyTransition(received, expectedVersion: before.version, effects: CaseChangeEffects(
                newRefund: refund, events: [RefundAndFeedStorageChecks.event(.returnReceived, before.number)]))
            _ = try await repository.appendMessage(NewMessage(caseNumber: before.number, sender: StorageFixture.buyer,
                                                              text: "sent back", sentAt: StorageFixture.now), idempotency: nil)
            #expect(try await repository.refund(of: refundOnly.number) != nil)

            let (violations, referencing) = try await repository.write { connection in
                (try connection.query("PRAGMA foreign_key_check") { $0.string(0) },
                 try connection.query("""
                    SELECT (SELECT count(*) FROM timeline_entries) + (SELECT count(*) FROM trace_records)
                         + (SELECT count(*) FROM refund_orders) + (SELECT count(*) FROM messages)
                         + (SELECT count(*) FROM shipment_tracking)
                    """) { $0.int(0) })
            }
            #expect(violations == [])
            #expect((referencing.first ?? 0) >= 12)  // the audit looked at real rows
        }
    }

}
