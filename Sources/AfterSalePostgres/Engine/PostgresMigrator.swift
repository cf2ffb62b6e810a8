/// One schema change: a version number, a name for people, and the SQL (one or more statements).
public struct PostgresMigration: Sendable, Equatable {
    /// Its place in the order; applied versions are recorded and never run again.
    public let version: Int
    /// What it does, for people reading `schema_migrations`.
    public let name: String
    /// The statements, run in one transaction.
    public let sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies numbered schema migrations once, even when several replicas start together.
///
/// Under a session advisory lock, it creates `schema_migrations` if needed, then applies each
/// version not yet recorded, in ascending order, each in its own transaction together with its row
/// in `schema_migrations`, so a crash leaves every migration either wholly applied or not at all.
/// Versions recorded in the table but unknown to the caller (applied by a newer release during a
/// rolling upgrade) are left alone.
public enum PostgresMigrator {
    /// The advisory lock key taken while migrating; any Int64 that nothing else uses.
    public static let defaultLockKey: Int64 = 0x4166_7465_7253_616c  // "AfterSal"

    /// Applies the missing `migrations` and returns their versions, in the order applied (empty when
    /// the schema was already up to date).
    /// - Throws: ``PostgresError/Kind/invalidUse`` for two migrations with one version; the first
    ///   failing migration's error (the ones before it stay applied).
    @discardableResult
    public static func migrate(_ connection: PostgresConnection, migrations: [PostgresMigration],
                               lockKey: Int64 = defaultLockKey) throws -> [Int] {
        let ordered = migrations.sorted { $0.version < $1.version }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where earlier.version == later.version {
            throw PostgresError(kind: .invalidUse, message: "two migrations have version \(later.version)")
        }
        return try connection.withAdvisoryLock(key: lockKey) {
            try connection.executeScript("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let applied = Set(try connection.query("SELECT version FROM schema_migrations") { try $0.int(0) })
            var done: [Int] = []
            for migration in ordered where !applied.contains(migration.version) {
                try connection.transaction { connection in
                    try connection.executeScript(migration.sql)
                    try connection.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                           .int64(Int64(migration.version)), .text(migration.name))
                }
                done.append(migration.version)
            }
            return done
        }
    }

    /// Like ``migrate(_:migrations:lockKey:)`` with the migrations as tuples.
    @discardableResult
    public static func migrate(_ connection: PostgresConnection,
                               migrations: [(version: Int, name: String, sql: String)],
                               lockKey: Int64 = defaultLockKey) throws -> [Int] {
        try migrate(connection, migrations: migrations.map { PostgresMigration(version: $0.version, name: $0.name, sql: $0.sql) },
                    lockKey: lockKey)
    }
}
