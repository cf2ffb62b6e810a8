import AfterSaleDomain
import Foundation
import Testing
@testable import AfterSaleStorage

@Suite("Schema migrations and connection settings")
struct MigrationTests {
    @Test("a new database gets every migration once, and reopening applies none again")
    func reopenDoesNotReapply() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let first = try SQLiteRepository.open(dataDirectory: directory)
        #expect(first.migrationsApplied == Schema.migrations.map(\.version))
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
