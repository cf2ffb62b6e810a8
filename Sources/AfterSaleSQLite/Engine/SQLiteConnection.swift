import CSQLite
import Foundation

/// An error from SQLite: its result code and message.
public struct SQLiteError: Error, Equatable, CustomStringConvertible {
    /// The extended result code.
    public let code: Int32
    /// SQLite's message.
    public let message: String

    /// Creates an error.
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// True for a FOREIGN KEY constraint violation (SQLITE_CONSTRAINT_FOREIGNKEY).
    public var isForeignKeyViolation: Bool { code == 787 }

    /// True for a UNIQUE or PRIMARY KEY constraint violation.
    public var isUniqueViolation: Bool {
        // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (extended codes; the C macros do not import).
        code == 2067 || code == 1555
    }

    public var description: String { "sqlite error \(code): \(message)" }
}

/// One SQLite connection. Not thread-safe: each is owned by one thread (the writer, or a reader),
/// and is only handed to the closures that thread runs; `@unchecked Sendable` lets it cross once,
/// into its thread.
public final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private var isClosed = false

    /// Opens (creating if asked) the database file at `path`.
    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        _ = Self.libraryConfigured
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { close() }

    /// Process-wide settings made once, before the first connection initialises the library:
    /// memory statistics off (nothing reads them, and they cost a global mutex per allocation).
    private static let libraryConfigured: Bool = aftersale_sqlite3_disable_memstatus() == SQLITE_OK

    /// Finalizes the cached statements and closes the database; the connection is unusable afterwards.
    /// The last connection to close checkpoints the WAL into the database file.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        for statement in statements.values { statement.finalize() }
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastError.message
            sqlite3_free(errorMessage)
            throw SQLiteError(code: rc, message: message)
        }
    }

    /// A prepared statement for `sql`, cached on this connection and reset for reuse.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw lastError }
        let statement = Statement(raw, connection: self)
        statements[sql] = statement
        return statement
    }

    /// The first column of the first row of a query, as an integer (nil for no row or NULL).
    public func scalar(_ sql: String) throws(SQLiteError) -> Int64? {
        let s = try prepare(sql)
        defer { s.reset() }
        return try s.step() && !s.isNull(0) ? s.int64(0) : nil
    }

    /// Runs the cached statement for `sql` with the parameters `bind` sets, maps every row with `row`,
    /// and resets the statement (a statement left mid-step would pin a reader's snapshot).
    public func query<T>(_ sql: String, bind: (Statement) -> Void = { _ in },
                         row: (Statement) throws -> T) throws -> [T] {
        let statement = try prepare(sql)
        defer { statement.reset() }
        bind(statement)
        var rows: [T] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// Like ``query(_:bind:row:)`` for at most one row.
    public func queryOne<T>(_ sql: String, bind: (Statement) -> Void = { _ in },
                            row: (Statement) throws -> T) throws -> T? {
        let statement = try prepare(sql)
        defer { statement.reset() }
        bind(statement)
        return try statement.step() ? try row(statement) : nil
    }

    /// Runs the cached statement for `sql`, which returns no rows, with the parameters `bind` sets.
    /// - Returns: the rows it changed.
    @discardableResult
    public func run(_ sql: String, bind: (Statement) -> Void = { _ in }) throws(SQLiteError) -> Int {
        let statement = try prepare(sql)
        defer { statement.reset() }
        bind(statement)
        _ = try statement.step()
        return changes
    }

    /// Runs `body` in a read transaction, so several queries see one snapshot of the database.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try run("BEGIN")
        do {
            let value = try body()
            try run("COMMIT")
            return value
        } catch {
            _ = try? run("ROLLBACK")
            throw error
        }
    }

    var lastError: SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    /// The rowid of the last row inserted on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// True while a transaction is open (SQLite is not in autocommit mode).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rows inserted, updated or deleted on this connection since it opened.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }
}

/// A prepared statement: bind parameters (1-based), step through rows, read columns (0-based).
///
/// Owned by its connection's thread; never crosses to another.
public final class Statement {
    let raw: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    func finalize() { sqlite3_finalize(raw) }

    /// Clears bindings and rewinds.
    public func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @discardableResult
    public func bind(_ index: Int32, _ value: Int64) -> Statement {
        sqlite3_bind_int64(raw, index, value)
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int) -> Statement { bind(index, Int64(value)) }

    @discardableResult
    public func bind(_ index: Int32, _ value: String) -> Statement {
        // The explicit length keeps text with an embedded U+0000 whole.
        var value = value
        value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress {
                    _ = sqlite3_bind_text(raw, index, base, Int32(chars.count), Self.transient)
                } else {
                    _ = sqlite3_bind_text(raw, index, "", 0, Self.transient)
                }
            }
        }
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: String?) -> Statement {
        if let value { return bind(index, value) }
        sqlite3_bind_null(raw, index)
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int64?) -> Statement {
        if let value { return bind(index, value) }
        sqlite3_bind_null(raw, index)
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Bool) -> Statement { bind(index, Int64(value ? 1 : 0)) }

    @discardableResult
    public func bind(_ index: Int32, blob: Data) -> Statement {
        blob.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(raw, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, blob: [UInt8]) -> Statement {
        blob.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(raw, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
        return self
    }

    /// Advances to the next row; false when there is none.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(raw)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = connection.lastError
        sqlite3_reset(raw)
        throw error
    }

    /// Runs a statement that returns no rows.
    public func run() throws(SQLiteError) {
        _ = try step()
        sqlite3_reset(raw)
    }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }
    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(raw, column)) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

    public func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(raw, column) else { return "" }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    public func optionalString(_ column: Int32) -> String? {
        isNull(column) ? nil : string(column)
    }

    public func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    public func bool(_ column: Int32) -> Bool { int64(column) != 0 }

    /// The column's bytes, copied.
    public func data(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
