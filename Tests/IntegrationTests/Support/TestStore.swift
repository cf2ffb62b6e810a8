import AfterSaleDomain
import AfterSalePostgres
import AfterSaleServices
import Foundation
import ServiceKit
import SignedTokens
import StoreBackends
import Testing

/// The backend the integration tests run on: SQLite unless `AFTERSALE_TEST_BACKEND=postgres`.
/// `scripts/test.sh` runs the whole suite, then the integration tests once more on PostgreSQL, so
/// every story told here holds on both backends.
enum TestBackend: String, Sendable {
    case sqlite
    case postgres

    static let current: TestBackend =
        ProcessInfo.processInfo.environment["AFTERSALE_TEST_BACKEND"] == "postgres" ? .postgres : .sqlite
}

/// The PostgreSQL server of the test run (`scripts/with-postgres.sh` exports it). Tests that need
/// it fail without it: a backend that is never tested must not look green.
enum TestPostgres {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "no PostgreSQL server: AFTERSALE_TEST_DATABASE is not set; run through scripts/test.sh or "
                + "`scripts/with-postgres.sh swift test --filter IntegrationTests`"
        }
    }

    /// The URL of the run's database (`postgresql:///aftersale_test?host=…`).
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["AFTERSALE_TEST_DATABASE"], !url.isEmpty else {
            throw NotConfigured()
        }
        return url
    }

    /// The URL of database `name` on `server` (a server URL; the run's server when nil).
    static func url(database name: String, server: String? = nil) throws -> String {
        let server = try server ?? serverURL()
        guard var components = URLComponents(string: server) else { return server + " dbname=\(name)" }
        components.path = "/" + name
        return components.string ?? server
    }

    /// Runs `sql` on the run's database, or on `server` (CREATE DATABASE, DROP DATABASE, …), on a thread of its own.
    static func admin(_ sql: String, server: String? = nil) async throws {
        let url = try server ?? serverURL()
        try await Task.detached {
            let connection = try PostgresConnection(configuration: PostgresConfiguration(url, applicationName: "aftersale-test-admin"))
            defer { connection.close() }
            try connection.executeScript(sql)
        }.value
    }

    /// A new, empty database on the run's server, or on `server`; its name.
    static func createDatabase(_ label: String, server: String? = nil) async throws -> String {
        let name = "it_\(label.lowercased().filter { $0.isLetter || $0.isNumber })_\(UInt32.random(in: 0...UInt32.max))"
        try await admin("CREATE DATABASE \(name)", server: server)
        return name
    }

    /// Drops database `name` (on the run's server, or on `server`), ending the sessions still in it.
    static func dropDatabase(_ name: String, server: String? = nil) async {
        try? await admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", server: server)
    }
}

/// A store of one test's own: a temporary data directory, and on PostgreSQL a new database as well.
/// Open it in process (``open()``) or hand it to `aftersaled` (``daemonArguments``); ``destroy()``
/// removes both.
struct TestStore: Sendable {
    let backend: TestBackend
    /// The SQLite data directory (also created on PostgreSQL, for scratch files).
    let directory: String
    /// The PostgreSQL database's name and URL, on PostgreSQL.
    let database: (name: String, url: String)?
    /// The PostgreSQL server the database is on, when it is not the run's server (a ``PrivatePostgres``).
    var server: String? = nil

    /// A fresh store on `backend`; on PostgreSQL a new database on the run's server, or on `server`.
    static func create(_ label: String, backend: TestBackend = .current, server: String? = nil) async throws -> TestStore {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("aftersale-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try MasterKey.loadOrCreate(file: directory + "/master.key")
        switch backend {
        case .sqlite:
            return TestStore(backend: backend, directory: directory, database: nil)
        case .postgres:
            let name: String
            do {
                name = try await TestPostgres.createDatabase(label, server: server)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
            return TestStore(backend: backend, directory: directory, database: (name, try TestPostgres.url(database: name, server: server)),
                             server: server)
        }
    }

    /// How the store is opened: four pooled connections on PostgreSQL, enough for tests.
    var storeBackend: StoreBackend {
        if let database {
            return .postgres(PostgresConfiguration(database.url, applicationName: "aftersale-it"),
                             PostgresRepository.Options(poolSize: 4))
        }
        return .sqlite(dataDirectory: directory)
    }

    /// Opens the store in this process.
    func open() async throws -> OpenedStore { try await storeBackend.open() }

    /// The arguments that point `aftersaled` at this store (and make it trust the tests' token key).
    var daemonArguments: [String] {
        if let database {
            return ["--database", database.url, "--database-pool-size", "4", "--master-key-file", masterKeyPath] + TestTokens.daemonArguments
        }
        return ["--data-dir", directory] + TestTokens.daemonArguments
    }

    /// The store's master key file: what aftersaled reads (every replica the same), and in-process servers too.
    var masterKeyPath: String { directory + "/master.key" }

    /// A vault over `repository` under the store's master key (made on first use).
    func personalData(_ repository: any AfterSaleRepository) throws -> PersonalDataVault {
        PersonalDataVault(masterKey: try MasterKey.loadOrCreate(file: masterKeyPath), keys: repository, clock: SystemClock())
    }

    /// Removes the data directory and drops the database.
    func destroy() async {
        try? FileManager.default.removeItem(atPath: directory)
        if let database { await TestPostgres.dropDatabase(database.name, server: server) }
    }
}

extension TestStore {
    /// Runs `body` with a fresh store of `backend` (on PostgreSQL: on the run's server, or on `server`),
    /// then destroys the store (also when `body` throws).
    static func with<T>(_ label: String, backend: TestBackend = .current, server: String? = nil,
                        _ body: (TestStore) async throws -> T) async throws -> T {
        let store = try await create(label, backend: backend, server: server)
        do {
            let value = try await body(store)
            await store.destroy()
            return value
        } catch {
            await store.destroy()
            throw error
        }
    }
}
