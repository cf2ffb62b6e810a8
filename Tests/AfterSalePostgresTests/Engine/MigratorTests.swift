import Foundation
import Synchronization
import Testing
@testable import AfterSalePostgres

@Suite("Advisory locks and migrations")
struct MigratorTests {
    static let migrations: [(version: Int, name: String, sql: String)] = [
        // The sleep keeps the first migrator inside the lock while the second arrives.
        (1, "cases", "CREATE TABLE cases (id bigint PRIMARY KEY); SELECT pg_sleep(0.3)"),
        (2, "events", "CREATE TABLE events (id bigserial PRIMARY KEY, case_id bigint NOT NULL REFERENCES cases)"),
        (3, "seed", "INSERT INTO cases VALUES (1); INSERT INTO events (case_id) VALUES (1)"),
    ]

    @Test("two migrators starting together apply each migration exactly once")
    func concurrentMigratorsApplyOnce() async throws {
        let lockKey = Int64.random(in: 1...Int64.max)
        let (first, second, again, recorded, events) = try await TestSchema.with("migrate") { schema in
            async let first = onThread {
                try PostgresMigrator.migrate(schema.connect(), migrations: Self.migrations, lockKey: lockKey)
            }
            async let second = onThread {
                try PostgresMigrator.migrate(schema.connect(), migrations: Self.migrations, lockKey: lockKey)
            }
            let applied = try await (first, second)
            return try await onThread {
                let connection = try schema.connect()
                let again = try PostgresMigrator.migrate(connection, migrations: Self.migrations, lockKey: lockKey)
                let recorded = try connection.query("SELECT version, name FROM schema_migrations ORDER BY version") {
                    "\(try $0.int(0)) \(try $0.string(1))"
                }
                let events = try connection.queryOne("SELECT count(*) FROM events") { try $0.int(0) }
                return (applied.0, applied.1, again, recorded, events)
            }
        }
        #expect((first + second).sorted() == [1, 2, 3])
        #expect(first.isEmpty || second.isEmpty)
        #expect(again.isEmpty)
        #expect(recorded == ["1 cases", "2 events", "3 seed"])
        #expect(events == 1)
    }

    @Test("a failing migration is not recorded, the ones before it stay, and duplicate versions are refused")
    func failingMigration() async throws {
        let (failure, recorded, duplicate) = try await TestSchema.with("migfail") { schema in
            try await onThread {
                let connection = try schema.connect()
                let failure = postgresError {
                    try PostgresMigrator.migrate(connection, migrations: [
                        PostgresMigration(version: 1, name: "ok", sql: "CREATE TABLE a (id int)"),
                        PostgresMigration(version: 2, name: "broken", sql: "CREATE TABLE b (id int); CREATE TABLE a (id int)"),
                    ])
                }
                let recorded = try connection.query("SELECT version FROM schema_migrations") { try $0.int(0) }
                let tableB = try connection.queryOne("SELECT to_regclass('b') IS NULL") { try $0.bool(0) }
                let duplicate = postgresError {
                    try PostgresMigrator.migrate(connection, migrations: [
                        PostgresMigration(version: 5, name: "x", sql: "SELECT 1"),
                        PostgresMigration(version: 5, name: "y", sql: "SELECT 1"),
                    ])
                }
                return (failure, tableB == true ? recorded : [-1], duplicate)
            }
        }
        #expect(failure?.sqlState == "42P07")
        #expect(recorded == [1])
        #expect(duplicate?.kind == .invalidUse)
    }

    @Test("an advisory lock held by one session makes another wait, and its wait is bounded")
    func advisoryLockExcludes() async throws {
        let key = Int64.random(in: 1...Int64.max)
        let (timedOut, overlapped, maxInside) = try await onThread {
            let first = try TestDatabase.admin()
            let second = try TestDatabase.admin()
            let timedOut = try first.withAdvisoryLock(key: key) {
                postgresError { try second.withAdvisoryLock(key: key, waitMilliseconds: 100) {} }
            }
            // Two threads taking turns: never both inside.
            let inside = Atomic<Int>(0)
            let most = Atomic<Int>(0)
            let overlapped = Atomic<Bool>(false)
            let done = DispatchSemaphore(value: 0)
            for connection in [first, second] {
                Thread {
                    for _ in 0..<5 {
                        _ = try? connection.withAdvisoryLock(key: key) {
                            let now = inside.add(1, ordering: .sequentiallyConsistent).newValue
                            if now > 1 { overlapped.store(true, ordering: .sequentiallyConsistent) }
                            _ = most.max(now, ordering: .sequentiallyConsistent)
                            usleep(5_000)
                            inside.subtract(1, ordering: .sequentiallyConsistent)
                        }
                    }
                    done.signal()
                }.start()
            }
            done.wait()
            done.wait()
            return (timedOut, overlapped.load(ordering: .sequentiallyConsistent), most.load(ordering: .sequentiallyConsistent))
        }
        #expect(timedOut?.kind == .timeout)
        #expect(!overlapped)
        #expect(maxInside == 1)
    }
}
