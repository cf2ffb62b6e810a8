/// How to reach the server and how every session is set up.
///
/// The target is a libpq connection string (`host=/run/pg dbname=app`) or URL
/// (`postgresql://user@host/db?sslmode=require`); the empty string means libpq's environment
/// variables alone (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, …), which also fill in
/// whatever the string leaves out.
///
/// The engine adds `connect_timeout`, TCP keepalives, `tcp_user_timeout`, `application_name` and
/// `client_encoding` as defaults the string can override, then sets the session's timeouts and
/// `synchronous_commit = on` with one statement once connected.
public struct PostgresConfiguration: Sendable {
    /// The connection string or URL; empty for the environment only.
    public var target: String
    /// Shown in `pg_stat_activity`, so an operator can tell which replica holds a lock.
    public var applicationName: String
    /// Seconds libpq waits for one connection attempt (per host address). Bounds how long a job waits
    /// when the server is unreachable. libpq treats values under 2 as 2.
    public var connectTimeoutSeconds: Int
    /// `statement_timeout` in milliseconds (0 turns it off): a runaway query cannot hold locks forever.
    public var statementTimeoutMilliseconds: Int
    /// `lock_timeout` in milliseconds (0 turns it off): a statement gives up waiting for a lock.
    public var lockTimeoutMilliseconds: Int
    /// `idle_in_transaction_session_timeout` in milliseconds (0 turns it off): the server ends a session
    /// that sits in an open transaction, so a stuck replica cannot keep its row locks.
    public var idleInTransactionTimeoutMilliseconds: Int
    /// Seconds of silence before the first TCP keepalive probe (ignored on Unix sockets).
    public var keepalivesIdleSeconds: Int
    /// Seconds between keepalive probes.
    public var keepalivesIntervalSeconds: Int
    /// Unanswered probes before the connection counts as dead.
    public var keepalivesCount: Int
    /// `tcp_user_timeout` in milliseconds: how long sent data may stay unacknowledged before the
    /// kernel drops the connection (0 leaves the system default). Bounds a write to a dead peer.
    public var tcpUserTimeoutMilliseconds: Int
    /// More session settings, applied with `set_config` after the ones above (for example
    /// `["search_path": "tenant_a"]`).
    public var settings: [String: String]

    /// A configuration with the engine's defaults: 5 s to connect, 30 s per statement, 10 s per lock
    /// wait, 60 s idle in a transaction, keepalives after 30 s then every 10 s, dead after 3 misses.
    public init(_ target: String = "",
                applicationName: String = "aftersale",
                connectTimeoutSeconds: Int = 5,
                statementTimeoutMilliseconds: Int = 30_000,
                lockTimeoutMilliseconds: Int = 10_000,
                idleInTransactionTimeoutMilliseconds: Int = 60_000,
                keepalivesIdleSeconds: Int = 30,
                keepalivesIntervalSeconds: Int = 10,
                keepalivesCount: Int = 3,
                tcpUserTimeoutMilliseconds: Int = 30_000,
                settings: [String: String] = [:]) {
        self.target = target
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
        self.idleInTransactionTimeoutMilliseconds = idleInTransactionTimeoutMilliseconds
        self.keepalivesIdleSeconds = keepalivesIdleSeconds
        self.keepalivesIntervalSeconds = keepalivesIntervalSeconds
        self.keepalivesCount = keepalivesCount
        self.tcpUserTimeoutMilliseconds = tcpUserTimeoutMilliseconds
        self.settings = settings
    }

    /// The keywords passed to `PQconnectdbParams` ahead of the target, so the target's own values win.
    var connectionDefaults: [(String, String)] {
        [
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("keepalives", "1"),
            ("keepalives_idle", String(keepalivesIdleSeconds)),
            ("keepalives_interval", String(keepalivesIntervalSeconds)),
            ("keepalives_count", String(keepalivesCount)),
            ("tcp_user_timeout", String(tcpUserTimeoutMilliseconds)),
            ("application_name", applicationName),
            ("client_encoding", "UTF8"),
        ]
    }

    /// The session settings made right after connecting, in order.
    var sessionSettings: [(String, String)] {
        var list: [(String, String)] = [
            ("statement_timeout", String(statementTimeoutMilliseconds)),
            ("lock_timeout", String(lockTimeoutMilliseconds)),
            ("idle_in_transaction_session_timeout", String(idleInTransactionTimeoutMilliseconds)),
            // Never acknowledge a commit that is not yet on disk, whatever the server's default.
            ("synchronous_commit", "on"),
            // The row decoder reads bytea in hex form.
            ("bytea_output", "hex"),
        ]
        list += settings.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return list
    }
}
