import AfterSaleDomain
import AfterSalePostgres
import AfterSaleSQLite
import ServiceKit

/// Where the after-sale store lives, and how to open it: the embedded SQLite default (one
/// replica) or a shared PostgreSQL (any number of replicas). The processes that choose a backend
/// (`aftersaled`, `aftersale-seed`) and the tests that run on both go through this one type;
/// everything else sees only the domain's ports.
public enum StoreBackend: Sendable {
    /// SQLite in a data directory.
    case sqlite(dataDirectory: String)
    /// PostgreSQL: how to connect and set sessions up, and the repository's options (pool size, …).
    case postgres(PostgresConfiguration, PostgresRepository.Options)

    /// `sqlite` or `postgres`, for logs and the ready line.
    public var name: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// Where it is, safe to log: the data directory, or the database URL with its password redacted.
    public var location: String {
        switch self {
        case .sqlite(let directory): directory
        case .postgres(let configuration, _):
            configuration.target.isEmpty ? "(libpq environment)" : Setting.redactingPassword(configuration.target)
        }
    }

    /// Opens (creating and migrating when needed) the store.
    /// - Throws: the backend's error when it cannot be opened: the data directory is unusable, the
    ///   database cannot be reached within its connect timeout, a migration failed.
    public func open(logger: Logger = .disabled) async throws -> OpenedStore {
        switch self {
        case .sqlite(let directory):
            let repository = try SQLiteRepository.open(dataDirectory: directory, logger: logger)
            return OpenedStore(repository: repository, close: { repository.close() })
        case .postgres(let configuration, let options):
            let repository = try await PostgresRepository.open(configuration: configuration, options: options, logger: logger)
            return OpenedStore(repository: repository, close: { repository.close() })
        }
    }
}

/// An open store: every port, and how to close it (waits for queued writes, then releases files,
/// connections and threads).
public struct OpenedStore: Sendable {
    /// The store behind every port.
    public let repository: any AfterSaleRepository
    /// Closes it; safe to call twice.
    public let close: @Sendable () -> Void
}
