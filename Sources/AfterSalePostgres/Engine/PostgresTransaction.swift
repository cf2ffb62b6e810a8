import CLibpq
import Glibc

/// A transaction isolation level.
public enum PostgresIsolation: Sendable {
    /// Each statement sees what was committed before it began (PostgreSQL's default).
    case readCommitted
    /// The whole transaction sees one snapshot; a conflicting write fails with a serialization failure.
    case repeatableRead
    /// As if transactions ran one at a time; conflicts fail with a serialization failure.
    case serializable

    var sql: String {
        switch self {
        case .readCommitted: "READ COMMITTED"
        case .repeatableRead: "REPEATABLE READ"
        case .serializable: "SERIALIZABLE"
        }
    }
}

/// What became of a transaction, by its id (`pg_xact_status`).
public enum PostgresTransactionStatus: Sendable, Equatable {
    /// It committed.
    case committed
    /// It rolled back (or its server process died before committing).
    case aborted
    /// It is still running, or still committing.
    case inProgress
}

extension PostgresConnection {
    /// Runs `body` between BEGIN and COMMIT; if `body` throws, rolls back and rethrows.
    ///
    /// When the connection breaks while COMMIT is under way, nobody knows whether it committed. With
    /// `resolveUnknownCommit`, the transaction's id is read (`pg_current_xact_id()`) with BEGIN,
    /// and a fresh connection asks the server what became of it: committed returns normally, aborted
    /// throws ``PostgresError/Kind/rolledBack``. Without it, or when the answer cannot be had, the
    /// error is ``PostgresError/Kind/commitOutcomeUnknown``: the engine never guesses. The id is read
    /// with BEGIN, in the same round trip, so the option costs nothing but an id for every such
    /// transaction (also one that ends up writing nothing).
    ///
    /// - Throws: `body`'s error; ``PostgresError/Kind/rolledBack`` when a statement in `body` failed
    ///   but `body` caught the error and went on (PostgreSQL turns that COMMIT into a ROLLBACK);
    ///   the server's error when it refuses the COMMIT (a deferred constraint, a serialization
    ///   failure), after which nothing was written; ``PostgresError/Kind/invalidUse`` when a
    ///   transaction is already open.
    public func transaction<T>(isolation: PostgresIsolation = .readCommitted, readOnly: Bool = false,
                               resolveUnknownCommit: Bool = false,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        try checkOpen()
        guard !isInTransaction else {
            throw PostgresError(kind: .invalidUse, message: "a transaction is already open on this connection")
        }
        let begin = "BEGIN ISOLATION LEVEL \(isolation.sql)\(readOnly ? " READ ONLY" : "")"
        var xid: UInt64?
        if resolveUnknownCommit {
            // The transaction's id comes with BEGIN, in the same round trip (the last result of the two).
            let result = try checked(PQexec(handle, begin + "; SELECT pg_current_xact_id()::text"))
            do {
                guard let row = result.first else { throw PostgresError(kind: .other, message: "no transaction id") }
                xid = try row.uint64(0)
            } catch {
                rollBackQuietly()
                throw error
            }
        } else {
            try simpleQuery(begin)
        }
        let value: T
        do {
            value = try body(self)
            if isInFailedTransaction {
                rollBackQuietly()
                throw PostgresError(kind: .rolledBack, message: "a statement in the transaction failed, so it was rolled back")
            }
        } catch {
            rollBackQuietly()
            throw error
        }
        try commit(transactionID: xid)
        return value
    }

    /// Rolls back the open transaction, if the connection still works; errors are ignored because
    /// the caller is already reporting one, and a dead session rolls back by itself.
    func rollBackQuietly() {
        guard !isBroken, isInTransaction else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    private func commit(transactionID: UInt64?) throws(PostgresError) {
        // Sent and read in two steps (what PQexec does inside) so a test can break the connection
        // between them.
        var failure: PostgresError?
        var tag = ""
        if PQsendQuery(handle, "COMMIT") == 0 {
            failure = lastError(nil)
        } else {
            afterCommitSentForTesting?(self)
            while let result = PQgetResult(handle) {
                do {
                    tag = try checked(result).commandTag
                } catch {
                    failure = failure ?? error
                }
            }
        }
        if let failure {
            guard failure.kind == .connection || isBroken else {
                // The server answered and refused: the transaction is rolled back, for certain.
                throw failure
            }
            guard let transactionID else {
                throw PostgresError(kind: .commitOutcomeUnknown, sqlState: failure.sqlState,
                                    message: "the connection broke during COMMIT: \(failure.message)")
            }
            switch try Self.resolveCommitOutcome(transactionID: transactionID, configuration: configuration) {
            case .committed: return
            case .aborted, .inProgress:
                throw PostgresError(kind: .rolledBack, message: "the connection broke during COMMIT and the transaction did not commit")
            }
        }
        // COMMIT of a transaction that failed answers with the tag ROLLBACK and no error.
        if tag == "ROLLBACK" {
            throw PostgresError(kind: .rolledBack, message: "the transaction had failed, so COMMIT rolled it back")
        }
    }

    /// What became of the transaction `transactionID` (an `xid8` from `pg_current_xact_id()`), or nil
    /// when the server no longer knows (the id is too old).
    public func transactionStatus(transactionID: UInt64) throws(PostgresError) -> PostgresTransactionStatus? {
        let result = try query("SELECT pg_xact_status($1::text::xid8)", .text(String(transactionID)))
        guard let row = result.first, !row.isNull(0) else { return nil }
        switch try row.string(0) {
        case "committed": return .committed
        case "aborted": return .aborted
        case "in progress": return .inProgress
        default: return nil
        }
    }

    /// Learns on a fresh connection whether `transactionID` committed, after the connection that ran
    /// its COMMIT broke.
    ///
    /// A transaction still in progress (its server process may still be finishing the COMMIT) is asked
    /// about again every 50 ms for up to `patienceMilliseconds`.
    /// - Returns: ``PostgresTransactionStatus/committed`` or ``PostgresTransactionStatus/aborted``,
    ///   never ``PostgresTransactionStatus/inProgress``.
    /// - Throws: ``PostgresError/Kind/commitOutcomeUnknown`` when no connection can be opened, the
    ///   transaction is still in progress at the end, or the server no longer knows the id.
    public static func resolveCommitOutcome(transactionID: UInt64, configuration: PostgresConfiguration,
                                            patienceMilliseconds: Int = 5_000) throws(PostgresError) -> PostgresTransactionStatus {
        func unknown(_ why: String) -> PostgresError {
            PostgresError(kind: .commitOutcomeUnknown, message: "the outcome of transaction \(transactionID) is unknown: \(why)")
        }
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(configuration: configuration)
        } catch {
            throw unknown("cannot reconnect to ask (\(error.message))")
        }
        defer { connection.close() }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(patienceMilliseconds))
        while true {
            let status: PostgresTransactionStatus?
            do {
                status = try connection.transactionStatus(transactionID: transactionID)
            } catch {
                throw unknown("asking failed (\(error.message))")
            }
            switch status {
            case .committed: return .committed
            case .aborted: return .aborted
            case nil: throw unknown("the server no longer knows the transaction id")
            case .inProgress:
                guard clock.now < deadline else { throw unknown("still in progress") }
                usleep(50_000)
            }
        }
    }
}
