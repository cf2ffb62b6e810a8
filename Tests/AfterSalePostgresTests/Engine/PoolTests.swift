import Foundation
import Synchronization
import Testing
@testable import AfterSalePostgres

@Suite("The connection pool")
struct PoolTests {
    @Test("jobs run concurrently, one connection per thread")
    func concurrentJobs() async throws {
        let pool = PostgresPool(configuration: try TestDatabase.configuration(), size: 4)
        defer { pool.close() }
        // Each of the first four jobs waits (bounded) until all four are running: a pool that ran
        // them one at a time would let none of them see the others.
        let arrived = Tally()
        let sawEveryone = Tally()
        let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await pool.run { connection in
                        arrived.add()
                        let deadline = ContinuousClock.now + .seconds(10)
                        while arrived.value < 4 && ContinuousClock.now < deadline { usleep(1_000) }
                        if arrived.value == 4 { sawEveryone.add() }
                        return try connection.queryOne("SELECT pg_backend_pid()") { try $0.int64(0) }.map { Int32($0) } ?? 0
                    }
                }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(sawEveryone.value == 4, "the four jobs did not run at the same time")
        #expect(pids.count == 4)
        #expect(pool.connectionsOpened == 4)
    }

    @Test("after its server processes are terminated, the pool reconnects for the next jobs")
    func survivesTerminatedBackends() async throws {
        let name = TestDatabase.unique("pool-kill")
        let pool = PostgresPool(configuration: try TestDatabase.configuration(applicationName: name), size: 2)
        defer { pool.close() }
        let first = try await Self.pids(pool, jobs: 2)
        #expect(first.count == 2)

        try await onThread {
            let admin = try TestDatabase.admin()
            for pid in first { try TestDatabase.terminate(pid, using: admin) }
        }
        let second = try await Self.pids(pool, jobs: 4)
        #expect(second.isDisjoint(with: first))
        #expect(pool.connectionsOpened >= 3)

        // A job running when its connection is killed fails with a connection error; the next works.
        let running = Task {
            try await pool.run { connection in try connection.execute("SELECT pg_sleep(10)") }
        }
        try await onThread {
            let admin = try TestDatabase.admin()
            for _ in 0..<500 {
                let pid = try admin.queryOne("""
                    SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'PgSleep'
                    """, .text(name)) { try $0.int(0) }
                if let pid { return try TestDatabase.terminate(Int32(pid), using: admin) }
                usleep(10_000)
            }
        }
        let failure = await #expect(throws: PostgresError.self) { try await running.value }
        #expect(failure?.kind == .connection)
        let after = try await pool.run { connection in try connection.queryOne("SELECT 1") { try $0.int(0) } }
        #expect(after == 1)
    }

    @Test("an unreachable database fails jobs promptly with a connection error, never hangs")
    func unreachable() async throws {
        let pool = PostgresPool(configuration: PostgresConfiguration("host=/nonexistent/aftersale dbname=x"), size: 2)
        defer { pool.close() }
        let started = ContinuousClock.now
        for _ in 0..<5 {
            let error = await #expect(throws: PostgresError.self) {
                try await pool.run { connection in try connection.execute("SELECT 1") }
            }
            #expect(error?.kind == .connection)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("closing runs the queued jobs first, then refuses new ones")
    func closeFinishesQueuedJobs() async throws {
        let pool = PostgresPool(configuration: try TestDatabase.configuration(), size: 1)
        let tasks = (0..<4).map { index in
            Task { try await pool.run { connection in
                try connection.queryOne("SELECT $1::int, pg_sleep(0.2)", .int32(Int32(index))) { try $0.int(0) } ?? -1
            } }
        }
        for _ in 0..<500 where pool.queuedJobs + 1 < tasks.count {
            try await Task.sleep(for: .milliseconds(2))
        }
        try await onThread { pool.close() }
        var results: [Int] = []
        for task in tasks { results.append(try await task.value) }
        #expect(results == [0, 1, 2, 3])
        let error = await #expect(throws: PostgresError.self) {
            try await pool.run { _ in 1 }
        }
        #expect(error?.kind == .closed)
    }

    static func pids(_ pool: PostgresPool, jobs: Int) async throws -> Set<Int32> {
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<jobs {
                group.addTask {
                    try await pool.run { connection in
                        try connection.queryOne("SELECT pg_backend_pid(), pg_sleep(0.1)") { try $0.int64(0) }.map { Int32($0) } ?? 0
                    }
                }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
    }
}

/// A counter shared by pool jobs on their threads.
final class Tally: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
