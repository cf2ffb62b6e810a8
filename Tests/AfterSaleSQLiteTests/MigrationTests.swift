import AfterSaleDomain
import Foundation
import StorageConformance
import Testing
@testable import AfterSaleSQLite
import AfterSaleStorage

@Suite("Schema migrations and connection settings")
struct MigrationTests {
    @Test("a new database gets every migration once, and reopening applies none again")
    func reopenDoesNotReapply() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let first = try SQLiteRepository.open(dataDirectory: directory)
        #expect(first.migrationsApplied == Schema.migrations.map(\.version))
        #expect(Schema.migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        #expect(first.path == directory + "/aftersale.sqlite3")
        let recorded = try await first.write { connection in
            try connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version") { [$0.int64(0), $0.int64(1)] }
        }
        first.close()

        let second = try SQLiteRepository.open(dataDirectory: directory)
        defer { second.close() }
        #expect(second.migrationsApplied == [])
        let recordedAgain = try await second.write { connection in
            try connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version") { [$0.int64(0), $0.int64(1)] }
        }
        #expect(recordedAgain == recorded)
        // The seeded catalog was not seeded twice: one row per standard reason, each at version 1.
        let reasons = try await second.storedReasons()
        #expect(reasons.count == ReasonCatalog.standard.reasonsByCode.count)
        #expect(reasons.allSatisfy { $0.version == 1 })
    }

    @Test("migration 5 turns refund requests without an order into pending refund orders, drops the log, and keeps every event cursor")
    func migrationFiveKeepsRefundsAndCursors() throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: directory + "/m.sqlite3")
        try SQLiteRepository.configureWriter(connection)
        #expect(try Migrator.migrate(connection, Array(Schema.migrations.prefix(4))) == [1, 2, 3, 4])

        // A database as version 4 left it: an imported case waiting for its refund, with only its
        // refund request, and a feed whose AUTOINCREMENT counter is ahead of its rows.
        let pending = StorageFixture.syntheticCase(sequence: 1, kind: .refundOnly, status: .pendingRefund, createdAt: StorageFixture.now)
        let waiting = StorageFixture.syntheticCase(sequence: 2, kind: .refundOnly, status: .pendingReview, createdAt: StorageFixture.now)
        for transition in [pending, waiting] {
            // The case row and its timeline as version 4 stored them (its trace records had no trace id yet).
            try CaseRows.insert(CaseRows.Encoded(transition.afterSale), on: connection)
            try CaseRows.insertTimeline(transition.afterSale.timeline, caseID: CaseKey.id(of: transition.afterSale.number),
                                        firstSeq: 0, on: connection)
            try connection.run("""
                INSERT INTO refund_requests (case_id, case_version, order_id, shop_id, buyer_id, amount_units, currency, cause, requested_at)
                VALUES (?1, 1, ?2, 's-1', 'b-1', 1000, 'CNY', 'refund_only_created', 42)
                """) { $0.bind(1, CaseKey.id(of: transition.afterSale.number)); $0.bind(2, transition.afterSale.orderID) }
        }
        for cursor in [1, 2, 7] {
            try connection.run("INSERT INTO events (cursor, event_type, order_id, occurred_at, payload) VALUES (?1, 'case_created', 'o-1', 1, x'01')") {
                $0.bind(1, cursor)
            }
        }

        #expect(try Migrator.migrate(connection, Array(Schema.migrations.prefix(7))) == [5, 6, 7])
        let refunds = try connection.query("SELECT id, status, amount_units, available_at FROM refund_orders") {
            [$0.string(0), $0.string(1), String($0.int64(2)), String($0.int64(3))]
        }
        #expect(refunds == [["RF" + pending.afterSale.number.rawValue.dropFirst(2), "pending", "1000", "42"]])
        #expect(try connection.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'refund_requests'") == 0)
        #expect(try connection.query("SELECT cursor FROM events ORDER BY cursor") { $0.int(0) } == [1, 2, 7])
        try connection.run("INSERT INTO events (event_type, order_id, occurred_at, payload) VALUES ('case_created', 'o-1', 1, x'01')")
        #expect(connection.lastInsertRowID == 8)
        #expect(try connection.query("SELECT sql FROM sqlite_master WHERE name = 'events'") { $0.string(0) }
            .allSatisfy { !$0.uppercased().contains("AUTOINCREMENT") })
        connection.close()
    }

    @Test("a failing migration is rolled back and not recorded; the ones before it stay")
    func failingMigrationRollsBack() throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: directory + "/m.sqlite3")
        let good = Migration(version: 1, name: "t", sql: "CREATE TABLE t (x INTEGER)")
        let bad = Migration(version: 2, name: "half") { connection in
            try connection.execute("CREATE TABLE u (x INTEGER)")
            throw SQLiteError(code: 1, message: "boom")
        }
        #expect(throws: SQLiteError.self) { try Migrator.migrate(connection, [good, bad]) }
        #expect(try connection.scalar("SELECT count(*) FROM schema_migrations") == 1)
        #expect(try connection.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'u'") == 0)
        #expect(try Migrator.migrate(connection, [good]) == [])
    }

    @Test("a database migrated by a newer build is refused")
    func newerSchemaIsRefused() throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: directory + "/m.sqlite3")
        let one = Migration(version: 1, name: "a", sql: "CREATE TABLE a (x)")
        let two = Migration(version: 2, name: "b", sql: "CREATE TABLE b (x)")
        #expect(try Migrator.migrate(connection, [one, two]) == [1, 2])
        #expect(throws: SchemaTooNew.self) { try Migrator.migrate(connection, [one]) }
    }

    @Test("the writer runs in WAL mode with synchronous FULL; foreign keys are audited, not enforced")
    func writerPragmas() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
            let settings = try await repository.write { connection in
                (try connection.queryOne("PRAGMA journal_mode") { $0.string(0) },
                 try connection.scalar("PRAGMA synchronous"), try connection.scalar("PRAGMA foreign_keys"))
            }
            #expect(settings.0 == "wal")
            #expect(settings.1 == 2)  // FULL
            #expect(settings.2 == 0)  // see configureWriter; RefundAndFeedStorageTests audits with foreign_key_check
        }
    }

    @Test("checkpoints run beside the writer, and closing leaves no WAL behind")
    func backgroundCheckpoints() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = try SQLiteRepository.open(dataDirectory: directory)
        for i in 1...20 {
            try await StorageFixture.store(repository, StorageFixture.syntheticCase(sequence: i, createdAt: StorageFixture.now))
        }
        let threshold = try await repository.write { try $0.scalar("PRAGMA wal_autocheckpoint") }
        #expect(threshold == 16384)
        try await Task.sleep(for: .milliseconds(250))
        #expect(repository.checkpointer.checkpoints > 0)
        repository.close()
        #expect(!FileManager.default.fileExists(atPath: repository.path + "-wal"))
    }
}
