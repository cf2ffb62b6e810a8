import AfterSaleDomain
import Foundation
import StorageConformance
import Testing
@testable import AfterSaleSQLite
import AfterSaleStorage

@Suite("The audit chain in SQLite (SQLite only)")
struct AuditChainTests {
    @Test("migration 8 chains the trace records stored before it in the order they happened, and later writes continue the chain")
    func migrationEightChainsOldRecords() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: directory + "/aftersale.sqlite3")
        try SQLiteRepository.configureWriter(connection)
        #expect(try Migrator.migrate(connection, Array(Schema.migrations.prefix(7))) == [1, 2, 3, 4, 5, 6, 7])

        // Trace records as version 7 stored them: no chain columns. Case 2's record is older than case 1's.
        let first = StorageFixture.syntheticCase(sequence: 1, createdAt: StorageFixture.now.adding(milliseconds: 10))
        let second = StorageFixture.syntheticCase(sequence: 2, createdAt: StorageFixture.now)
        for transition in [first, second] {
            try CaseRows.insert(CaseRows.Encoded(transition.afterSale), on: connection)
            let record = transition.trace
            try connection.run("""
                INSERT INTO trace_records (case_id, seq, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                                           outcome, details, refund_id, trace_id)
                VALUES (?1, 1, ?2, 'create', 'buyer', 'b-1', NULL, NULL, ?3, 'applied', ?4, NULL, '')
                """) {
                $0.bind(1, CaseKey.id(of: record.caseNumber))
                $0.bind(2, record.at.millisecondsSinceEpoch)
                $0.bind(3, record.to.rawValue)
                $0.bind(4, record.details)
            }
        }
        #expect(try Migrator.migrate(connection, Schema.migrations.filter { $0.version <= 8 }) == [8])
        connection.close()

        let store = try SQLiteRepository.open(dataDirectory: directory)
        defer { store.close() }
        let head = try await store.auditHead()
        let entries = try await store.auditEntries(after: 0, limit: 10)
        #expect(head.size == 2)
        #expect(entries.map(\.record) == [second.trace, first.trace])
        try AuditChain.verify(entries, head: head)

        try await StorageFixture.store(store, StorageFixture.syntheticCase(sequence: 3, createdAt: StorageFixture.now.adding(milliseconds: 20)))
        let longer = try await store.auditEntries(after: 0, limit: 10)
        #expect(longer.count == 3 && Array(longer.prefix(2)) == entries)
        try AuditChain.verify(longer, head: try await store.auditHead())
    }
}
