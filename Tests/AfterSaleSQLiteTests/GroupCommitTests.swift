import AfterSaleDomain
import Foundation
import Synchronization
import StorageConformance
import Testing
@testable import AfterSaleSQLite
import AfterSaleStorage

@Suite("Group commit")
struct GroupCommitTests {
    struct Refused: Error, Equatable { let index: Int }

    /// A counter tasks share.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// A writer on a scratch database with one table, `t(x)`.
    static func withWriter(_ body: (GroupCommitWriter) async throws -> Void) async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: directory + "/g.sqlite3")
        try SQLiteRepository.configureWriter(connection)
        try connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        let writer = GroupCommitWriter(connection: connection)
        defer { writer.close() }
        try await body(writer)
    }

    /// Occupies the writer with a transaction that waits for `release`, so the writes queued
    /// meanwhile share the next one. Waits for the hold without blocking a thread of the
    /// concurrency pool (which has as few threads as cores: two tests blocking both would deadlock).
    static func holdWriter(_ writer: GroupCommitWriter) async throws -> (release: DispatchSemaphore, blocker: Task<Void, any Error>) {
        let started = Counter()
        let release = DispatchSemaphore(value: 0)
        let blocker = Task {
            try await writer.write { _ in
                started.value.store(1, ordering: .releasing)
                release.wait()  // on the writer's own thread
            }
        }
        while started.value.load(ordering: .acquiring) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        return (release, blocker)
    }

    @Test("200 concurrent case creations commit in far fewer transactions than writes")
    func batches() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
            let before = repository.writeStatistics
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 1...200 {
                    group.addTask {
                        try await StorageFixture.store(repository, StorageFixture.syntheticCase(
                            sequence: i, createdAt: StorageFixture.now.adding(milliseconds: Int64(i))))
                    }
                }
                try await group.waitForAll()
            }
            let after = repository.writeStatistics
            #expect(after.writes - before.writes == 200)
            let transactions = after.transactions - before.transactions
            #expect(transactions <= 50, "200 writes took \(transactions) transactions")
            #expect(try await repository.listCases(CaseQuery(pageSize: 1000)).rows.count == 200)
        }
    }

    @Test("a write that fails in a batch is rolled back alone; the others in its transaction commit")
    func failureIsIsolated() async throws {
        try await Self.withWriter { writer in
            // Hold the writer in a first transaction so the next 100 writes queue up and share one.
            let (release, blocker) = try await Self.holdWriter(writer)
            let queued = Counter()
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for i in 1...100 {
                    group.addTask {
                        queued.value.add(1, ordering: .relaxed)
                        do {
                            try await writer.write { connection in
                                try connection.run("INSERT INTO t (x) VALUES (?1)") { $0.bind(1, i) }
                                if i % 5 == 0 { throw Refused(index: i) }  // after its insert: it must be undone alone
                            }
                            return (i, true)
                        } catch let error as Refused {
                            #expect(error.index == i)
                            return (i, false)
                        }
                    }
                }
                while queued.value.load(ordering: .relaxed) < 100 { try await Task.sleep(for: .milliseconds(5)) }
                try await Task.sleep(for: .milliseconds(50))
                release.signal()
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            try await blocker.value

            #expect(outcomes.count == 100)
            #expect(outcomes.allSatisfy { $0.value == ($0.key % 5 != 0) })
            // The blocker's transaction, then the queued writes in one (two if one came late).
            #expect(writer.transactions <= 3, "the 100 queued writes should share one transaction, took \(writer.transactions - 1)")
            #expect(writer.writes == 1 + 80)
            let stored = try await writer.write { connection in try connection.query("SELECT x FROM t ORDER BY x") { $0.int(0) } }
            #expect(stored == (1...100).filter { $0 % 5 != 0 })
        }
    }

    @Test("a write that fails before changing a row costs the others nothing; one that fails after makes the batch run again, isolated")
    func failureBeforeChangesNeedsNoRerun() async throws {
        try await Self.withWriter { writer in
            for failAfterInsert in [false, true] {
                let (release, blocker) = try await Self.holdWriter(writer)
                let runs = Counter()
                let queued = Counter()
                let base = failAfterInsert ? 1_000 : 0
                let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for i in 1...20 {
                        group.addTask {
                            queued.value.add(1, ordering: .relaxed)
                            do {
                                try await writer.write { connection in
                                    runs.value.add(1, ordering: .relaxed)
                                    if i == 10 && !failAfterInsert { throw Refused(index: i) }  // a check that fails first
                                    try connection.run("INSERT INTO t (x) VALUES (?1)") { $0.bind(1, base + i) }
                                    if i == 10 && failAfterInsert { throw Refused(index: i) }
                                }
                                return true
                            } catch is Refused {
                                return false
                            }
                        }
                    }
                    while queued.value.load(ordering: .relaxed) < 20 { try await Task.sleep(for: .milliseconds(5)) }
                    try await Task.sleep(for: .milliseconds(50))
                    release.signal()
                    return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
                }
                try await blocker.value
                #expect(outcomes == 19)
                let stored = try await writer.write { connection in
                    try connection.query("SELECT x FROM t WHERE x > ?1 AND x <= ?2 ORDER BY x",
                                         bind: { $0.bind(1, base); $0.bind(2, base + 20) }) { $0.int(0) }
                }
                #expect(stored == (1...20).filter { $0 != 10 }.map { base + $0 })
                let total = runs.value.load(ordering: .relaxed)
                if failAfterInsert {
                    // The writes before the failure ran twice (once rolled back), the rest once or twice.
                    #expect(total > 20, "a failure after an insert must roll the batch back and run it again")
                } else {
                    #expect(total == 20, "a failure before any change must not make anything run again, ran \(total)")
                }
            }
        }
    }

    @Test("a write is acknowledged only after its transaction committed, and a closed writer refuses more")
    func acknowledgedAfterCommit() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/g.sqlite3"
        let connection = try SQLiteConnection(path: path)
        try SQLiteRepository.configureWriter(connection)
        try connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        let writer = GroupCommitWriter(connection: connection)
        let observer = try SQLiteConnection(path: path, readOnly: true)
        for i in 1...20 {
            try await writer.write { connection in try connection.run("INSERT INTO t (x) VALUES (?1)") { $0.bind(1, i) } }
            // Another connection sees the row as soon as the caller hears back: it was committed.
            #expect(try observer.scalar("SELECT count(*) FROM t") == Int64(i))
        }
        writer.close()
        await #expect(throws: StorageClosed.self) { try await writer.write { _ in 1 } }
    }
}
