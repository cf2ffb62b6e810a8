import Foundation
import Synchronization
import Testing
@testable import AfterSalePostgres

/// The server the tests run against: `AFTERSALE_TEST_DATABASE`, or libpq's environment (`PGHOST`).
/// Without either the tests fail, on purpose: a PostgreSQL backend that is never tested must not
/// look green.
enum TestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "no PostgreSQL server: AFTERSALE_TEST_DATABASE (or PGHOST) is not set; run through "
                + "scripts/with-postgres.sh or scripts/test.sh, e.g. `scripts/with-postgres.sh swift test --filter AfterSalePostgresTests`"
        }
    }

    static func target() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["AFTERSALE_TEST_DATABASE"], !url.isEmpty { return url }
        if let host = environment["PGHOST"], !host.isEmpty { return "" }
        throw NotConfigured()
    }

    /// The engine's defaults on the test server, under an application name tests can look for.
    static func configuration(applicationName: String = "aftersale-test") throws -> PostgresConfiguration {
        PostgresConfiguration(try target(), applicationName: applicationName)
    }

    /// A connection with no schema of its own, for looking at and terminating other sessions.
    static func admin() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration(applicationName: "aftersale-test-admin"))
    }

    /// A short random suffix, so parallel tests never share a name.
    static func unique(_ label: String) -> String {
        "\(label)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Terminates `pid` and waits (bounded) until the server process is gone.
    static func terminate(_ pid: Int32, using admin: PostgresConnection) throws {
        try admin.execute("SELECT pg_terminate_backend($1)", .int32(pid))
        for _ in 0..<500 {
            let alive = try admin.queryOne("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", .int32(pid)) { try $0.int(0) } ?? 0
            if alive == 0 { return }
            usleep(10_000)
        }
    }
}

/// A schema of one test's own (first on its `search_path`), dropped when the test ends.
struct TestSchema: Sendable {
    let name: String
    let configuration: PostgresConfiguration

    /// Runs `body` with a fresh schema, then drops it whatever happened.
    static func with<T: Sendable>(_ label: String, applicationName: String? = nil,
                                  _ body: @Sendable (TestSchema) async throws -> T) async throws -> T {
        let name = TestDatabase.unique("t_\(label)")
        var configuration = try TestDatabase.configuration(applicationName: applicationName ?? name)
        configuration.settings["search_path"] = name
        let schema = TestSchema(name: name, configuration: configuration)
        try await onThread {
            let admin = try TestDatabase.admin()
            try admin.executeScript("CREATE SCHEMA \(name)")
        }
        do {
            let value = try await body(schema)
            try await schema.drop()
            return value
        } catch {
            try? await schema.drop()
            throw error
        }
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration)
    }

    private func drop() async throws {
        try await onThread { [name] in
            let admin = try TestDatabase.admin()
            try admin.executeScript("DROP SCHEMA \(name) CASCADE")
        }
    }
}

/// Runs blocking database work on a thread of its own, off the Swift task pool (which has only as
/// many threads as cores, and which a blocked test would take from the others). Expectations stay
/// in the test: the closure returns what the test checks.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}

/// Runs `body` and returns the error it threw as a `PostgresError`, or nil when it did not throw one.
func postgresError(_ body: () throws -> Void) -> PostgresError? {
    do {
        try body()
        return nil
    } catch let error as PostgresError {
        return error
    } catch {
        return PostgresError(message: "not a PostgresError: \(error)")
    }
}

/// Collects values from callbacks on other threads, with when each arrived.
final class Mailbox<T: Sendable>: Sendable {
    private let items = Mutex<[(value: T, at: ContinuousClock.Instant)]>([])

    func put(_ value: T) {
        let now = ContinuousClock.now
        items.withLock { $0.append((value, now)) }
    }

    var count: Int { items.withLock { $0.count } }

    /// Waits (bounded) for an item that matches and returns it with its arrival time.
    func wait(for timeout: Duration, where matches: @Sendable (T) -> Bool = { _ in true })
        async -> (value: T, at: ContinuousClock.Instant)? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let found = items.withLock({ $0.first { matches($0.value) } }) { return found }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}
