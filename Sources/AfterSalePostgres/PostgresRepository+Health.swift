import AfterSaleDomain

extension PostgresRepository {
    /// Reads the schema's version on a pool connection: returns when the database answers and has
    /// every migration this build knows; throws ``AfterSaleDomain/RepositoryError/unavailable(_:)``
    /// while it cannot be reached (the pool reconnects on the next call, so health recovers by itself).
    public func checkHealth() async throws {
        let known = PostgresSchema.migrations.map(\.version).max() ?? 0
        let current = try await read("check health") { connection in
            try connection.queryOne("SELECT COALESCE(max(version), 0) FROM schema_migrations") { try $0.int(0) } ?? 0
        }
        guard current >= known else {
            throw RepositoryError.unavailable("the database schema is at version \(current); this build needs \(known)")
        }
    }
}
