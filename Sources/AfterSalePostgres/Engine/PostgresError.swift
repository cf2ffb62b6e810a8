/// An error from PostgreSQL or from talking to it: what kind of failure it is, the SQLSTATE when the
/// server sent one, and the server's message.
///
/// The ``message``, ``detail`` and ``description`` may hold server text (table and constraint names,
/// values from rows, host names): log them, but never send them to RPC clients; map ``kind`` (and,
/// for a unique violation, ``constraintName``) to a status of your own instead.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, for deciding what to do next (retry, reconnect, report).
    ///
    /// A struct over a private enum, so kinds can be added without breaking callers' `switch`es.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case connection, serializationFailure, uniqueViolation, timeout
            case rolledBack, commitOutcomeUnknown, closed, decoding, invalidUse, other
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The server could not be reached, or the connection broke (SQLSTATE class 08, an
        /// administrator's shutdown or termination, or libpq reporting the connection bad). The
        /// connection is unusable; open another. Whether a write that was under way took effect is
        /// unknown unless the statement was read-only.
        public static let connection = Kind(.connection)
        /// A serialization failure (40001) or a deadlock (40P01): the transaction was rolled back and
        /// may be run again from the start.
        public static let serializationFailure = Kind(.serializationFailure)
        /// A unique or primary key constraint rejected the row (23505); see ``PostgresError/constraintName``.
        public static let uniqueViolation = Kind(.uniqueViolation)
        /// `lock_timeout` (55P03) or `statement_timeout` (57014, also any cancelled query) expired.
        public static let timeout = Kind(.timeout)
        /// The transaction did not commit, for certain: nothing it wrote is in the database.
        public static let rolledBack = Kind(.rolledBack)
        /// The connection broke while COMMIT was under way and the outcome could not be learnt:
        /// the transaction may or may not have committed. Never retry blindly; reconcile.
        public static let commitOutcomeUnknown = Kind(.commitOutcomeUnknown)
        /// The pool or listener was closed before the call could run.
        public static let closed = Kind(.closed)
        /// A column did not hold what the caller asked for (NULL, or a value of another type).
        public static let decoding = Kind(.decoding)
        /// The call could not be made as asked (a NUL character in a text parameter, a transaction
        /// begun inside another); a bug in the caller, not a database failure.
        public static let invalidUse = Kind(.invalidUse)
        /// Any other error the server or libpq reported; see ``PostgresError/sqlState``.
        public static let other = Kind(.other)

        /// The kind's name, for logs.
        public var description: String {
            switch value {
            case .connection: "connection"
            case .serializationFailure: "serialization failure"
            case .uniqueViolation: "unique violation"
            case .timeout: "timeout"
            case .rolledBack: "rolled back"
            case .commitOutcomeUnknown: "commit outcome unknown"
            case .closed: "closed"
            case .decoding: "decoding"
            case .invalidUse: "invalid use"
            case .other: "other"
            }
        }
    }

    /// What kind of failure this is.
    public let kind: Kind
    /// The five-character SQLSTATE the server sent (`23505`), or nil when the error came from the
    /// client side (connecting, a broken socket, decoding).
    public let sqlState: String?
    /// The primary message: the server's, or one of ours. May hold server text; never send it to clients.
    public let message: String
    /// The server's DETAIL line, if any (it often quotes row values).
    public let detail: String?
    /// The constraint the server named (for a unique violation, which key was duplicated).
    public let constraintName: String?

    /// Creates an error; ``kind`` is derived from `sqlState` unless given.
    public init(kind: Kind? = nil, sqlState: String? = nil, message: String, detail: String? = nil,
                constraintName: String? = nil) {
        self.kind = kind ?? Self.classify(sqlState: sqlState)
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraintName = constraintName
    }

    /// True when running the whole transaction again may succeed: a serialization failure or deadlock.
    public var isRetryableTransactionFailure: Bool { kind == .serializationFailure }

    /// For logs only: it may hold server text (see the type's documentation).
    public var description: String {
        var text = "postgres \(kind)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }

    /// The kind a SQLSTATE stands for.
    public static func classify(sqlState: String?) -> Kind {
        guard let sqlState else { return .other }
        switch sqlState {
        case "40001", "40P01": return .serializationFailure
        case "23505": return .uniqueViolation
        case "55P03", "57014": return .timeout
        // admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now,
        // idle_in_transaction_session_timeout and idle_session_timeout all end the session.
        case "57P01", "57P02", "57P03", "25P03", "57P05": return .connection
        default: return sqlState.hasPrefix("08") ? .connection : .other
        }
    }

    static func closed(_ what: String) -> PostgresError {
        PostgresError(kind: .closed, message: "the \(what) is closed")
    }
}
