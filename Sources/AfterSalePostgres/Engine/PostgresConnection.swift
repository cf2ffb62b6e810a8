import CLibpq
import Glibc

/// One PostgreSQL session (a `PGconn`): statements with parameters, a per-connection cache of
/// prepared statements, and transactions.
///
/// Calls block the calling thread until the server answers, so run them on a thread of your own
/// (``PostgresPool`` and ``PostgresListener`` own theirs), never on the Swift task pool or a Dispatch
/// global queue. Not thread-safe: one thread uses it at a time; `@unchecked Sendable` lets it move
/// to the thread that owns it.
///
/// After a ``PostgresError/Kind/connection`` error the connection is dead (``isBroken``); drop it and
/// open another. Nothing here reconnects by itself, because a session's state (an open transaction,
/// session locks) does not survive a reconnect.
public final class PostgresConnection: @unchecked Sendable {
    let handle: OpaquePointer
    /// How this connection was opened; also used to open the fresh connection that learns the
    /// outcome of an interrupted COMMIT.
    public let configuration: PostgresConfiguration
    private var statements: [String: PreparedStatement] = [:]
    private var statementsPrepared = 0
    private var isClosed = false
    /// Statements beyond this many run unprepared: a caller that builds SQL text dynamically must not
    /// grow the cache (and the server's memory) without bound.
    public var preparedStatementLimit = 512
    /// Called after COMMIT is sent and before its answer is read; tests use it to break the
    /// connection at exactly that moment.
    var afterCommitSentForTesting: ((PostgresConnection) -> Void)?

    /// Connects and sets up the session (timeouts, `synchronous_commit = on`, extra settings).
    /// - Throws: a ``PostgresError/Kind/connection`` error when the server cannot be reached within
    ///   ``PostgresConfiguration/connectTimeoutSeconds`` or refuses the login; any error the session
    ///   settings raise.
    public init(configuration: PostgresConfiguration) throws(PostgresError) {
        self.configuration = configuration
        handle = try Self.connect(configuration)
        // libpq's default prints every server NOTICE and WARNING to stderr; a service has its own log.
        PQsetNoticeReceiver(handle, { _, _ in }, nil)
        do {
            try applySessionSettings()
        } catch {
            PQfinish(handle)
            isClosed = true
            throw error
        }
    }

    /// Connects with the engine's defaults to `target`: a connection string, a `postgresql://` URL,
    /// or "" for libpq's environment variables alone.
    public convenience init(_ target: String) throws(PostgresError) {
        try self.init(configuration: PostgresConfiguration(target))
    }

    deinit { close() }

    /// Closes the session; the connection is unusable afterwards. Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        statements.removeAll()
        PQfinish(handle)
    }

    private static func connect(_ configuration: PostgresConfiguration) throws(PostgresError) -> OpaquePointer {
        // Defaults first and the target last: libpq lets later keywords override earlier ones, so
        // whatever the connection string or URL says wins. A default whose environment variable is
        // set is left out, so PGCONNECT_TIMEOUT, PGAPPNAME and friends keep working.
        let environmentNames = ["connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME",
                                "client_encoding": "PGCLIENTENCODING"]
        var pairs = configuration.connectionDefaults.filter { keyword, _ in
            guard let name = environmentNames[keyword], let value = getenv(name) else { return true }
            return value.pointee == 0
        }
        if !configuration.target.isEmpty { pairs.append(("dbname", configuration.target)) }
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            for pointer in keywords { free(pointer) }
            for pointer in values { free(pointer) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        // expand_dbname = 1: a "dbname" holding a connection string or URL is parsed as one.
        guard let connection = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(kind: .connection, message: message.isEmpty ? "cannot connect" : message)
        }
        return connection
    }

    private func applySessionSettings() throws(PostgresError) {
        // One round trip for all of them: set_config(name, value, false) is SET for the session.
        var calls: [String] = []
        for (name, value) in configuration.sessionSettings {
            guard let quotedName = escapeLiteral(name), let quotedValue = escapeLiteral(value) else {
                throw lastError(nil)
            }
            calls.append("set_config(\(quotedName), \(quotedValue), false)")
        }
        try simpleQuery("SELECT " + calls.joined(separator: ", "))
    }

    // MARK: State

    /// True once the connection has failed (or was closed): drop it and open another.
    public var isBroken: Bool { isClosed || PQstatus(handle) != CONNECTION_OK }

    /// True inside a transaction block, including one that failed and awaits ROLLBACK.
    public var isInTransaction: Bool {
        !isClosed && [PQTRANS_INTRANS, PQTRANS_INERROR, PQTRANS_ACTIVE].contains(PQtransactionStatus(handle))
    }

    /// True inside a transaction that failed: every statement but ROLLBACK will be refused.
    public var isInFailedTransaction: Bool { !isClosed && PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// The server process serving this session (for `pg_terminate_backend`, or to find it in
    /// `pg_stat_activity`).
    public var backendPID: Int32 { isClosed ? 0 : PQbackendPID(handle) }

    /// The server's version as a number (150004 for 15.4).
    public var serverVersion: Int { isClosed ? 0 : Int(PQserverVersion(handle)) }

    /// How many statements are prepared and cached on this connection.
    public var preparedStatementCount: Int { statements.count }

    // MARK: Statements

    /// Runs a statement with parameters `$1`, `$2`, …, prepared once per connection and reused.
    /// - Returns: the rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ parameters: PostgresValue...) throws(PostgresError) -> Int {
        try perform(sql, parameters).rowsAffected
    }

    /// Like ``execute(_:_:)`` with the parameters in an array.
    @discardableResult
    public func execute(_ sql: String, parameters: [PostgresValue]) throws(PostgresError) -> Int {
        try perform(sql, parameters).rowsAffected
    }

    /// Runs a statement and returns its rows.
    public func query(_ sql: String, _ parameters: PostgresValue...) throws(PostgresError) -> PostgresResult {
        try perform(sql, parameters)
    }

    /// Like ``query(_:_:)`` with the parameters in an array.
    public func query(_ sql: String, parameters: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        try perform(sql, parameters)
    }

    /// Runs a statement and maps every row with `decode`.
    public func query<T>(_ sql: String, _ parameters: PostgresValue...,
                         decode: (PostgresRow) throws -> T) throws -> [T] {
        try perform(sql, parameters).map(decode)
    }

    /// Like ``query(_:_:decode:)`` with the parameters in an array.
    public func query<T>(_ sql: String, parameters: [PostgresValue],
                         decode: (PostgresRow) throws -> T) throws -> [T] {
        try perform(sql, parameters).map(decode)
    }

    /// Runs a statement and maps its first row with `decode`; nil when it returned none.
    public func queryOne<T>(_ sql: String, _ parameters: PostgresValue...,
                            decode: (PostgresRow) throws -> T) throws -> T? {
        let result = try perform(sql, parameters)
        return try result.isEmpty ? nil : decode(result[0])
    }

    /// Like ``queryOne(_:_:decode:)`` with the parameters in an array.
    public func queryOne<T>(_ sql: String, parameters: [PostgresValue],
                            decode: (PostgresRow) throws -> T) throws -> T? {
        let result = try perform(sql, parameters)
        return try result.isEmpty ? nil : decode(result[0])
    }

    /// Runs one or more statements separated by semicolons, without parameters and unprepared
    /// (the simple query protocol): for migrations and other DDL scripts.
    public func executeScript(_ sql: String) throws(PostgresError) {
        try simpleQuery(sql)
    }

    /// Quotes `name` as an SQL identifier (`"My Table"`), for names that cannot be parameters.
    public func quoteIdentifier(_ name: String) throws(PostgresError) -> String {
        try checkOpen()
        var utf8 = Array(name.utf8)
        let quoted = utf8.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQescapeIdentifier(handle, $0.baseAddress, $0.count) }
        }
        guard let quoted else { throw lastError(nil) }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    // MARK: Internals

    struct PreparedStatement {
        let name: String
        /// The parameter types the server settled on, which decide how bytes are sent.
        let parameterTypes: [Oid]
    }

    /// The most parameters one statement may have: libpq treats a ParameterDescription message
    /// over 30,000 bytes (4 per parameter) as a broken stream and drops the connection.
    public static let maximumParameters = 7_400

    private func perform(_ sql: String, _ parameters: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        try checkOpen()
        guard parameters.count <= Self.maximumParameters else {
            throw PostgresError(kind: .invalidUse, message: "a statement with \(parameters.count) parameters; "
                                + "at most \(Self.maximumParameters) fit libpq's limit on a parameter description")
        }
        guard let statement = try preparedStatement(sql, parameters) else {
            return try unprepared(sql, parameters)
        }
        do {
            return try executePrepared(statement, parameters)
        } catch let error where error.sqlState == "0A000" && error.message.contains("cached plan") {
            // The statement's result columns changed under it (a migration altered a table). Forget
            // it; outside a transaction it is safe to prepare it again and run it once more.
            statements[sql] = nil
            guard PQtransactionStatus(handle) == PQTRANS_IDLE else { throw error }
            _ = try? simpleQuery("DEALLOCATE \(statement.name)")
            guard let fresh = try preparedStatement(sql, parameters) else { return try unprepared(sql, parameters) }
            return try executePrepared(fresh, parameters)
        }
    }

    private func preparedStatement(_ sql: String, _ parameters: [PostgresValue]) throws(PostgresError) -> PreparedStatement? {
        if let cached = statements[sql] { return cached }
        guard statements.count < preparedStatementLimit else { return nil }
        statementsPrepared += 1
        let name = "aftersale_\(statementsPrepared)"
        let declared = parameters.map(\.declaredType)
        PQclear(try check(PQprepare(handle, name, sql, Int32(declared.count), declared)))
        let described = try check(PQdescribePrepared(handle, name))
        defer { PQclear(described) }
        let types = (0..<PQnparams(described)).map { PQparamtype(described, $0) }
        let statement = PreparedStatement(name: name, parameterTypes: types)
        statements[sql] = statement
        return statement
    }

    private func executePrepared(_ statement: PreparedStatement, _ parameters: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        var buffers = try ParameterBuffers(parameters, types: statement.parameterTypes)
        defer { buffers.deallocate() }
        let result = PQexecPrepared(handle, statement.name, Int32(parameters.count),
                                    buffers.values, buffers.lengths, buffers.formats, 0)
        return try checked(result)
    }

    private func unprepared(_ sql: String, _ parameters: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        var buffers = try ParameterBuffers(parameters, types: nil)
        defer { buffers.deallocate() }
        let types = parameters.map(\.declaredType)
        let result = PQexecParams(handle, sql, Int32(parameters.count), types,
                                  buffers.values, buffers.lengths, buffers.formats, 0)
        return try checked(result)
    }

    /// Runs `sql` with the simple query protocol and discards its rows.
    @discardableResult
    func simpleQuery(_ sql: String) throws(PostgresError) -> String {
        try checkOpen()
        let result = try checked(PQexec(handle, sql))
        return result.commandTag
    }

    /// The result, or the error it carries (the result is then freed).
    func checked(_ result: OpaquePointer?) throws(PostgresError) -> PostgresResult {
        PostgresResult(try check(result))
    }

    /// The result when it reports success (the caller then owns it), else the error it carries
    /// (and the result is freed).
    private func check(_ result: OpaquePointer?) throws(PostgresError) -> OpaquePointer {
        guard let result else { throw lastError(nil) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return result
        default:
            let error = lastError(result)
            PQclear(result)
            throw error
        }
    }

    /// The error described by `result`, or by the connection when there is no result.
    func lastError(_ result: OpaquePointer?) -> PostgresError {
        let lost = isClosed || PQstatus(handle) == CONNECTION_BAD
        guard let result else {
            let message = isClosed ? "the connection is closed" : Self.trimmed(PQerrorMessage(handle))
            return PostgresError(kind: lost ? .connection : .other, message: message.isEmpty ? "no result" : message)
        }
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let sqlState = field(aftersale_pg_diag_sqlstate)
        let message = field(aftersale_pg_diag_message_primary) ?? Self.trimmed(PQresultErrorMessage(result))
        var kind = PostgresError.classify(sqlState: sqlState)
        if lost { kind = .connection }
        return PostgresError(kind: kind, sqlState: sqlState, message: message.isEmpty ? Self.trimmed(PQerrorMessage(handle)) : message,
                             detail: field(aftersale_pg_diag_message_detail),
                             constraintName: field(aftersale_pg_diag_constraint_name))
    }

    func checkOpen() throws(PostgresError) {
        if isClosed { throw PostgresError(kind: .connection, message: "the connection is closed") }
    }

    private func escapeLiteral(_ text: String) -> String? {
        var utf8 = Array(text.utf8)
        let quoted = utf8.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQescapeLiteral(handle, $0.baseAddress, $0.count) }
        }
        guard let quoted else { return nil }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var text = String(cString: message)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

extension PostgresConnection {
    /// Reads whatever the server sent while the session was idle and says whether it is still up,
    /// without a round trip: a server that ended the session (`pg_terminate_backend`, a restart) has
    /// sent an error and closed the socket, which shows here before a statement is wasted on it.
    func isAliveAfterIdle() -> Bool {
        guard !isBroken else { return false }
        // The termination notice and the end of the stream may arrive in separate reads.
        for _ in 0..<3 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return true }
            if PQconsumeInput(handle) == 0 { return false }
            // Notifications a job's own LISTEN collected are of no use to the next job.
            while let notification = PQnotifies(handle) { PQfreemem(notification) }
            if isBroken { return false }
        }
        return !isBroken
    }

    /// Makes the session's socket read as closed by the server, as if the connection broke.
    /// For tests only: it puts the end of a fresh socket pair where the session's socket was.
    func breakConnectionForTesting() {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return }
        Glibc.close(pair[1])
        dup2(pair[0], PQsocket(handle))
        Glibc.close(pair[0])
    }
}

extension PostgresConnection {
    /// Waits up to `milliseconds` for the server to send something; for tests that must act at the
    /// moment an answer is on its way.
    func waitForInputForTesting(milliseconds: Int) -> Bool {
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(milliseconds)) > 0
    }
}
