import AfterSaleSQLite
import AfterSalePostgres
import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Synchronization
import Testing

// Every backend runs the same checks: the in-memory reference, the SQLite engine and PostgreSQL.

@Suite("Storage conformance: in memory (the reference)")
struct InMemoryConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conforms(_ check: ConformanceCheck) async throws {
        try await check.run(on: InMemoryHarness())
    }
}

@Suite("Storage conformance: SQLite")
struct SQLiteConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conforms(_ check: ConformanceCheck) async throws {
        try await check.run(on: SQLiteHarness())
    }
}

/// A new SQLite database in a temporary directory per check, deleted afterwards.
struct SQLiteHarness: StorageHarness {
    func withStore(_ body: (any AfterSaleRepository) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-conformance-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteRepository.open(dataDirectory: directory)
        defer { store.close() }
        try await body(store)
    }
}

@Suite("Storage conformance: PostgreSQL")
struct PostgresConformanceTests {
    /// The one check that moves time by hand: it passes `claim.at` instants a second apart without
    /// waiting, which only the caller's clock can follow. Every other check runs with the default
    /// (the database's clock); leases on the database's clock are tested in AfterSalePostgresTests.
    static let callerClockChecks: Set<String> = [
        "claims lease each refund to one worker; expired leases and due retries come back; others wait",
    ]

    @Test(arguments: StorageConformance.checks)
    func conforms(_ check: ConformanceCheck) async throws {
        let clock: PostgresRepository.LeaseClock = Self.callerClockChecks.contains(check.name) ? .caller : .database
        try await check.run(on: PostgresHarness(leaseClock: clock))
    }

    @Test("the checks that use the caller's clock still exist (a renamed check must not silently run on the other clock)")
    func callerClockChecksExist() {
        #expect(Self.callerClockChecks.isSubset(of: Set(StorageConformance.checks.map(\.name))))
    }
}

/// A fresh schema per check on the server named by `AFTERSALE_TEST_DATABASE` (`scripts/with-postgres.sh`
/// sets it), first on the connections' `search_path`, dropped afterwards; its own notification channel,
/// so checks running side by side never hear each other's feeds.
///
/// Without `AFTERSALE_TEST_DATABASE` every check fails, saying how to run it: a backend whose
/// checks never ran must not look green.
struct PostgresHarness: StorageHarness {
    var leaseClock: PostgresRepository.LeaseClock = .database

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "AFTERSALE_TEST_DATABASE is not set, so the PostgreSQL conformance checks cannot run; run them beside a throwaway "
                + "server: scripts/with-postgres.sh swift test --filter StorageConformanceTests"
        }
    }

    /// At most this many stores at once: every check of the suite starts together, and each store
    /// holds a pool and a listener connection.
    static let gate = AsyncGate(limit: 4)

    func withStore(_ body: (any AfterSaleRepository) async throws -> Void) async throws {
        guard let target = ProcessInfo.processInfo.environment["AFTERSALE_TEST_DATABASE"], !target.isEmpty else {
            throw NotConfigured()
        }
        await Self.gate.enter()
        defer { Self.gate.leave() }
        let schema = "conformance_\(UInt32.random(in: 0...UInt32.max))"
        try await Self.admin(target, "CREATE SCHEMA \(schema)")
        do {
            var configuration = PostgresConfiguration(target, applicationName: schema)
            configuration.settings["search_path"] = schema
            let store = try await PostgresRepository.open(
                configuration: configuration,
                options: .init(poolSize: 4, notificationChannel: "aftersale_feed_\(schema)", leaseClock: leaseClock))
            do {
                try await body(store)
            } catch {
                store.close()
                throw error
            }
            store.close()
        } catch {
            try? await Self.admin(target, "DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        try await Self.admin(target, "DROP SCHEMA \(schema) CASCADE")
    }

    /// Runs `sql` on a connection of its own, on a thread of its own (libpq blocks).
    static func admin(_ target: String, _ sql: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread {
                do {
                    let connection = try PostgresConnection(configuration: PostgresConfiguration(target, applicationName: "conformance-admin"))
                    defer { connection.close() }
                    try connection.executeScript(sql)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}

/// Lets at most `limit` tasks in at once; the others wait their turn without blocking a thread.
final class AsyncGate: Sendable {
    private struct State {
        var inside = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = limit }

    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                guard state.inside < limit else {
                    state.waiting.append(continuation)
                    return false
                }
                state.inside += 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.inside -= 1
                return nil
            }
            return state.waiting.removeFirst()  // the place passes to the next in line
        }
        next?.resume()
    }
}
