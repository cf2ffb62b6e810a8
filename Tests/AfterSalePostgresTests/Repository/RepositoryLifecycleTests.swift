import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Testing
@testable import AfterSalePostgres

@Suite("Opening, migrating and failing")
struct RepositoryLifecycleTests {
    @Test("two replicas opening a new database at the same time apply each migration once")
    func migrationsOnce() async throws {
        let (applied, recorded, reasons, heads) = try await TestSchema.with("migrate_once") { schema in
            let options = PostgresRepository.Options(poolSize: 2, notificationChannel: "feed_\(schema.name)")
            async let first = PostgresRepository.open(configuration: schema.configuration, options: options)
            async let second = PostgresRepository.open(configuration: schema.configuration, options: options)
            let replicas = try await [first, second]
            defer { for replica in replicas { replica.close() } }
            let (recorded, reasons, heads) = try await onThread {
                let connection = try schema.connect()
                return (try connection.query("SELECT version FROM schema_migrations ORDER BY version") { try $0.int(0) },
                        try connection.queryOne("SELECT count(*) FROM reasons") { try $0.int(0) },
                        try connection.queryOne("SELECT count(*) FROM feed_head") { try $0.int(0) })
            }
            return (replicas.map(\.migrationsApplied), recorded, reasons, heads)
        }
        #expect(applied.sorted { $0.count < $1.count } == [[], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]])
        #expect(recorded == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        #expect(reasons == ReasonCatalog.standard.reasons(for: nil, includeInactive: true).count)
        #expect(heads == 1)
    }

    @Test("the migrations are numbered like SQLite's, so 7 and 8 are the same change in both dialects")
    func numbering() {
        #expect(PostgresSchema.migrations.map(\.version) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    }

    @Test("an unreachable database is reported promptly as unavailable, without libpq's text")
    func unreachable() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var configuration = PostgresConfiguration("host=/nonexistent-aftersale-socket-dir dbname=nothing", connectTimeoutSeconds: 2)
        configuration.applicationName = "aftersale-test-unreachable"
        do {
            _ = try await PostgresRepository.open(configuration: configuration)
            Issue.record("opened a repository on no server")
        } catch let error as RepositoryError {
            guard case .unavailable(let message) = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(!message.contains("nonexistent"), "libpq's text reached the caller: \(message)")
        }
        #expect(clock.now - start < .seconds(30), "did not hang")
    }

    @Test("a closed repository refuses calls as closed")
    func closed() async throws {
        try await Replicas.with("closed", count: 1) { replicas in
            replicas[0].close()
            await #expect(throws: RepositoryError.closed) { try await replicas[0].eventFeedHead() }
        }
    }

    @Test("a storage failure reaches the caller without PostgreSQL's text")
    func noServerText() async throws {
        try await Replicas.with("server_text", count: 1) { replicas in
            let repository = replicas[0]
            try await repository.write("sabotage") { connection in try connection.executeScript("DROP TABLE orders") }
            do {
                _ = try await repository.order("o-1")
                Issue.record("read a dropped table")
            } catch let error as RepositoryError {
                #expect(error == .storageFailure("the PostgreSQL store failed; see the server log"))
                #expect(!String(describing: error).contains("orders"))
            }
        }
    }

    @Test("lost connections, timeouts and unknown commits map to unavailable; other server errors to a storage failure")
    func errorMapping() {
        let cases: [(PostgresError.Kind, Bool)] = [(.connection, true), (.timeout, true), (.rolledBack, true),
                                                   (.commitOutcomeUnknown, true), (.other, false), (.uniqueViolation, false)]
        for (kind, unavailable) in cases {
            let error = PostgresRepository.mapped(PostgresError(kind: kind, message: "relation \"secret\" is broken"),
                                                  operation: "test", logger: .disabled)
            guard let repositoryError = error as? RepositoryError else {
                Issue.record("\(kind) became \(error)")
                continue
            }
            if case .unavailable = repositoryError { #expect(unavailable, "\(kind)") } else { #expect(!unavailable, "\(kind)") }
            #expect(!repositoryError.description.contains("secret"))
        }
        #expect(PostgresRepository.mapped(PostgresError.closed("pool"), operation: "test", logger: .disabled) as? RepositoryError == .closed)
    }
}
