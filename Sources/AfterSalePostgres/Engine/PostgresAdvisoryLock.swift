extension PostgresConnection {
    /// Runs `body` while this session holds the advisory lock `key`, so that of several replicas
    /// only one at a time runs it (migrations at start-up, say); the others wait their turn.
    ///
    /// The lock is session-level (`pg_advisory_lock`): it outlives transactions inside `body`, is
    /// released by `pg_advisory_unlock` afterwards, and by the server if the session dies. Waiting is
    /// bounded by `waitMilliseconds` rather than the session's `lock_timeout`, which is set for
    /// short row-lock waits, not for another replica's migration.
    /// - Throws: a ``PostgresError/Kind/timeout`` error when the lock is not had in time; `body`'s error.
    public func withAdvisoryLock<T>(key: Int64, waitMilliseconds: Int = 300_000,
                                    _ body: () throws -> T) throws -> T {
        // SET LOCAL confines the longer waits to this transaction; a session-level advisory lock
        // taken inside a transaction stays held after it ends.
        try transaction { connection in
            try connection.simpleQuery("SET LOCAL lock_timeout = \(waitMilliseconds)")
            try connection.simpleQuery("SET LOCAL statement_timeout = \(waitMilliseconds)")
            try connection.execute("SELECT pg_advisory_lock($1)", .int64(key))
        }
        let value: T
        do {
            value = try body()
        } catch {
            rollBackQuietly()
            releaseAdvisoryLockQuietly(key: key)
            throw error
        }
        // A failed unlock means the session is gone, and with it the lock.
        releaseAdvisoryLockQuietly(key: key)
        return value
    }

    private func releaseAdvisoryLockQuietly(key: Int64) {
        guard !isBroken else { return }
        _ = try? execute("SELECT pg_advisory_unlock($1)", .int64(key))
    }

    /// Sends a notification on `channel` (`pg_notify`); listeners get it when the current transaction
    /// commits, or at once outside one. PostgreSQL limits the payload to under 8000 bytes.
    public func notify(channel: String, payload: String = "") throws(PostgresError) {
        try execute("SELECT pg_notify($1, $2)", .text(channel), .text(payload))
    }
}
