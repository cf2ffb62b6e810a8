import Foundation
import Testing
@testable import AfterSalePostgres

@Suite("Transactions")
struct TransactionTests {
    struct Refused: Error {}

    @Test("a transaction commits what its body wrote, and rolls all of it back when the body throws")
    func commitAndRollback() async throws {
        let (value, thrownIsOurs, rows, leftOpen) = try await TestSchema.with("tx") { schema in
            try await onThread {
                let connection = try schema.connect()
                let other = try schema.connect()
                try connection.executeScript("CREATE TABLE t (id int PRIMARY KEY)")
                let value = try connection.transaction { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    return "done"
                }
                var thrownIsOurs = false
                do {
                    try connection.transaction { connection in
                        try connection.execute("INSERT INTO t VALUES (2)")
                        throw Refused()
                    }
                } catch is Refused {
                    thrownIsOurs = true
                }
                let rows = try other.query("SELECT id FROM t ORDER BY id") { try $0.int(0) }
                return (value, thrownIsOurs, rows, connection.isInTransaction)
            }
        }
        #expect(value == "done")
        #expect(thrownIsOurs)
        #expect(rows == [1])
        #expect(leftOpen == false)
    }

    @Test("a body that swallows a failed statement gets a rolled-back error, not a silent ROLLBACK")
    func swallowedFailure() async throws {
        let (error, rows, nested) = try await TestSchema.with("swallow") { schema in
            try await onThread {
                let connection = try schema.connect()
                try connection.executeScript("CREATE TABLE t (id int PRIMARY KEY)")
                let error = postgresError {
                    try connection.transaction { connection in
                        try connection.execute("INSERT INTO t VALUES (1)")
                        _ = try? connection.execute("INSERT INTO t VALUES (1)")
                    }
                }
                let nested = postgresError {
                    try connection.transaction { connection in try connection.transaction { _ in } }
                }
                let rows = try connection.queryOne("SELECT count(*) FROM t") { try $0.int(0) }
                return (error, rows, nested)
            }
        }
        #expect(error?.kind == .rolledBack)
        #expect(rows == 0)
        #expect(nested?.kind == .invalidUse)
    }

    @Test("a write conflict under repeatable read is a retryable serialization failure")
    func serializationFailure() async throws {
        let error = try await TestSchema.with("serial") { schema in
            try await onThread {
                let connection = try schema.connect()
                let other = try schema.connect()
                try connection.executeScript("CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t VALUES (1, 0)")
                return postgresError {
                    try connection.transaction(isolation: .repeatableRead) { connection in
                        _ = try connection.query("SELECT n FROM t WHERE id = 1")
                        try other.execute("UPDATE t SET n = n + 1 WHERE id = 1")
                        try connection.execute("UPDATE t SET n = n + 10 WHERE id = 1")
                    }
                }
            }
        }
        #expect(error?.kind == .serializationFailure)
        #expect(error?.sqlState == "40001")
        #expect(error?.isRetryableTransactionFailure == true)
    }
}

@Suite("The outcome of an interrupted COMMIT")
struct UnknownCommitTests {
    @Test("asking about a committed and a rolled-back transaction id gives committed and aborted")
    func resolvesRealTransactionIDs() async throws {
        let (committed, aborted, stillRunning, unreachable) = try await TestSchema.with("xid") { schema in
            try await onThread {
                let connection = try schema.connect()
                try connection.executeScript("CREATE TABLE t (id int)")
                func transactionID(finishingWith end: String) throws -> UInt64 {
                    try connection.executeScript("BEGIN")
                    try connection.execute("INSERT INTO t VALUES (1)")
                    let xid = try connection.queryOne("SELECT pg_current_xact_id()::text") { try $0.uint64(0) }
                    try connection.executeScript(end)
                    guard let xid else { throw PostgresError(message: "no transaction id") }
                    return xid
                }
                let committedID = try transactionID(finishingWith: "COMMIT")
                let abortedID = try transactionID(finishingWith: "ROLLBACK")
                let committed = try PostgresConnection.resolveCommitOutcome(transactionID: committedID,
                                                                            configuration: schema.configuration)
                let aborted = try PostgresConnection.resolveCommitOutcome(transactionID: abortedID,
                                                                          configuration: schema.configuration)
                // One still open elsewhere: asked about until the patience runs out, then unknown.
                try connection.executeScript("BEGIN")
                let openID = try connection.queryOne("SELECT pg_current_xact_id()::text") { try $0.uint64(0) } ?? 0
                let stillRunning = postgresError {
                    _ = try PostgresConnection.resolveCommitOutcome(transactionID: openID, configuration: schema.configuration,
                                                                    patienceMilliseconds: 200)
                }
                try connection.executeScript("ROLLBACK")
                let unreachable = postgresError {
                    _ = try PostgresConnection.resolveCommitOutcome(transactionID: committedID,
                                                                    configuration: PostgresConfiguration("host=/nonexistent/aftersale"))
                }
                return (committed, aborted, stillRunning, unreachable)
            }
        }
        #expect(committed == .committed)
        #expect(aborted == .aborted)
        #expect(stillRunning?.kind == .commitOutcomeUnknown)
        #expect(unreachable?.kind == .commitOutcomeUnknown)
    }

    @Test("a connection lost after the server committed resolves to committed, and without resolution is unknown")
    func lostAfterCommit() async throws {
        let (value, brokeFirst, unresolved, rows) = try await TestSchema.with("lostcommit") { schema in
            try await onThread { try Self.loseConnectionAfterCommit(schema) }
        }
        #expect(value == 7)
        #expect(brokeFirst)
        #expect(unresolved?.kind == .commitOutcomeUnknown)
        // Both committed: an unknown outcome must never be reported as a failure to retry.
        #expect(rows == [1, 2])
    }

    static func loseConnectionAfterCommit(_ schema: TestSchema) throws -> (Int, Bool, PostgresError?, [Int]) {
        let setup = try schema.connect()
        try setup.executeScript("CREATE TABLE t (id int PRIMARY KEY)")
        // The server's answer to COMMIT is on its way, so it has committed; the client then
        // loses the connection before reading it.
        let breakOnAnswer: (PostgresConnection) -> Void = { connection in
            _ = connection.waitForInputForTesting(milliseconds: 5_000)
            connection.breakConnectionForTesting()
        }
        let connection = try schema.connect()
        connection.afterCommitSentForTesting = breakOnAnswer
        let value = try connection.transaction(resolveUnknownCommit: true) { connection in
            try connection.execute("INSERT INTO t VALUES (1)")
            return 7
        }
        let second = try schema.connect()
        second.afterCommitSentForTesting = breakOnAnswer
        let unresolved = postgresError {
            _ = try second.transaction { connection in try connection.execute("INSERT INTO t VALUES (2)") }
        }
        let rows = try setup.query("SELECT id FROM t ORDER BY id") { try $0.int(0) }
        return (value, connection.isBroken, unresolved, rows)
    }

    @Test("a server process killed during COMMIT resolves to a definite rollback")
    func killedDuringCommit() async throws {
        let (error, rows) = try await TestSchema.with("killcommit") { schema in
            try await onThread { try Self.killDuringCommit(schema) }
        }
        #expect(error?.kind == .rolledBack)
        #expect(rows == 0)
    }

    static func killDuringCommit(_ schema: TestSchema) throws -> (PostgresError?, Int?) {
        let setup = try schema.connect()
        // A deferred constraint trigger runs inside COMMIT; sleeping there holds the COMMIT open.
        try setup.executeScript("""
            CREATE TABLE t (id int PRIMARY KEY);
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(10); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION slow_commit();
            """)
        let admin = try TestDatabase.admin()
        let connection = try schema.connect()
        connection.afterCommitSentForTesting = { connection in
            let pid = connection.backendPID
            for _ in 0..<500 {
                let sleeping = (try? admin.queryOne(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", .int32(pid)) {
                        try $0.int(0) }) ?? 0
                if sleeping == 1 { break }
                usleep(10_000)
            }
            try? TestDatabase.terminate(pid, using: admin)
        }
        let error = postgresError {
            _ = try connection.transaction(resolveUnknownCommit: true) { connection in
                try connection.execute("INSERT INTO t VALUES (1)")
            }
        }
        let rows = try setup.queryOne("SELECT count(*) FROM t") { try $0.int(0) }
        return (error, rows)
    }
}
