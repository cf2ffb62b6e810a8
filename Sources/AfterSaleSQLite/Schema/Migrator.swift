import Foundation

/// One versioned change of the schema: applied once, in its own transaction, recorded in `schema_migrations`.
public struct Migration: Sendable {
    /// The version this migration brings the schema to; versions are applied in increasing order.
    public let version: Int
    /// What it does, for people reading `schema_migrations`.
    public let name: String
    /// The change itself, run inside the migration's transaction.
    public let apply: @Sendable (SQLiteConnection) throws -> Void

    /// Creates a migration.
    public init(version: Int, name: String, apply: @escaping @Sendable (SQLiteConnection) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }

    /// A migration that runs SQL statements.
    public init(version: Int, name: String, sql: String) {
        self.init(version: version, name: name) { connection in try connection.execute(sql) }
    }
}

/// The database was written by a newer build than this one.
public struct SchemaTooNew: Error, CustomStringConvertible {
    /// The newest version recorded in the database.
    public let found: Int
    /// The newest version this build knows.
    public let known: Int
    /// Says which versions disagree.
    public var description: String {
        "the database schema is at version \(found), newer than this build knows (\(known)); refusing to open it"
    }
}

/// Applies the migrations a database has not seen yet.
public enum Migrator {
    /// Applies, in version order, each migration whose version `schema_migrations` does not list,
    /// each in its own transaction with its record, so a crash leaves it either applied and
    /// recorded or not at all.
    /// - Returns: the versions applied now (empty when the schema was up to date).
    /// - Throws: ``SchemaTooNew`` when the database knows a version newer than every migration given.
    @discardableResult
    public static func migrate(_ connection: SQLiteConnection, _ migrations: [Migration]) throws -> [Int] {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT    NOT NULL,
                applied_at INTEGER NOT NULL  -- Unix ms
            )
            """)
        let applied = Set(try connection.query("SELECT version FROM schema_migrations") { Int($0.int64(0)) })
        let known = migrations.map(\.version).max() ?? 0
        if let newest = applied.max(), newest > known { throw SchemaTooNew(found: newest, known: known) }
        var appliedNow: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                try migration.apply(connection)
                try connection.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)") {
                    $0.bind(1, migration.version)
                    $0.bind(2, migration.name)
                    $0.bind(3, Int64(Date().timeIntervalSince1970 * 1000))
                }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
            appliedNow.append(migration.version)
        }
        return appliedNow
    }
}
