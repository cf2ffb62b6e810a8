import Foundation
import Testing
@testable import AfterSalePostgres

@Suite("A PostgreSQL connection")
struct ConnectionTests {
    struct Sample: Equatable, Sendable {
        var id: Int
        var big: Int64?
        var small: Int32?
        var label: String?
        var flag: Bool?
        var blob: [UInt8]?
    }

    static let samples: [Sample] = [
        // NULLs first: the statement is prepared with these, and later values must still fit.
        Sample(id: 1, big: nil, small: nil, label: nil, flag: nil, blob: nil),
        Sample(id: 2, big: .max, small: .max, label: "张三 📱 é \u{1F600} \"quoted\" \\ 'single'\nnext line", flag: true,
               blob: [0, 1, 0, 255, 0]),
        Sample(id: 3, big: .min, small: .min, label: "", flag: false, blob: []),
        Sample(id: 4, big: 0, small: 0, label: " leading and trailing ", flag: nil, blob: Array(0...255)),
    ]

    @Test("parameters of every type round-trip, NULLs, zero bytes, unicode and Int64 extremes included")
    func roundTrip() async throws {
        let read = try await TestSchema.with("roundtrip") { schema in
            try await onThread {
                let connection = try schema.connect()
                try connection.executeScript(
                    "CREATE TABLE sample (id int PRIMARY KEY, big bigint, small int, label text, flag boolean, blob bytea)")
                for sample in Self.samples {
                    try connection.execute("INSERT INTO sample VALUES ($1, $2, $3, $4, $5, $6)",
                                           PostgresValue(sample.id), PostgresValue(sample.big), PostgresValue(sample.small),
                                           PostgresValue(sample.label), PostgresValue(sample.flag), PostgresValue(sample.blob))
                }
                return try connection.query("SELECT id, big, small, label, flag, blob FROM sample ORDER BY id") { row in
                    Sample(id: try row.int(0), big: try row.optionalInt64(1), small: try row.optionalInt(2).map { Int32($0) },
                           label: try row.optionalString(3), flag: try row.optionalBool(4), blob: try row.optionalBytes(5))
                }
            }
        }
        #expect(read == Self.samples)
    }

    @Test("literals convert to parameters, and bytes reach a parameter the server typed as text in hex form")
    func literalsAndTypes() async throws {
        let (sum, text, flag, isNull, firstAsText, laterAsText) = try await onThread {
            let connection = try PostgresConnection(configuration: TestDatabase.configuration())
            let row = try connection.queryOne("SELECT $1::bigint + 1, $2::text, $3::boolean, $4::text IS NULL", 41, "x", true, nil) {
                (try $0.int64(0), try $0.string(1), try $0.bool(2), try $0.bool(3))
            }
            // Prepared first with NULL, so the server typed $1 as text; bytes must then go as bytea's text form.
            let first = try connection.queryOne("SELECT $1::text", .null) { try $0.optionalString(0) }
            let later = try connection.queryOne("SELECT $1::text", .bytes([0x00, 0xab])) { try $0.optionalString(0) }
            return (row?.0, row?.1, row?.2, row?.3, first ?? "row", later ?? nil)
        }
        #expect(sum == 42)
        #expect(text == "x")
        #expect(flag == true)
        #expect(isNull == true)
        #expect(firstAsText == nil)
        #expect(laterAsText == "\\x00ab")
    }

    @Test("a statement is prepared once per connection and reused; past the limit statements run unprepared")
    func preparedStatementReuse() async throws {
        let (cached, onServer, rows, uncached, uncachedRows) = try await TestSchema.with("prepared") { schema in
            try await onThread {
                let connection = try schema.connect()
                try connection.executeScript("CREATE TABLE p (n bigint)")
                for n in 0..<20 { try connection.execute("INSERT INTO p VALUES ($1)", .int64(Int64(n))) }
                let cached = connection.preparedStatementCount
                let onServer = try connection.queryOne(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", "INSERT INTO p VALUES ($1)") { try $0.int(0) }
                let rows = try connection.queryOne("SELECT count(*) FROM p") { try $0.int(0) }

                let unprepared = try schema.connect()
                unprepared.preparedStatementLimit = 0
                for n in 0..<5 { try unprepared.execute("INSERT INTO p VALUES ($1)", .int64(Int64(n))) }
                let uncachedRows = try unprepared.queryOne("SELECT count(*) FROM p") { try $0.int(0) }
                return (cached, onServer, rows, unprepared.preparedStatementCount, uncachedRows)
            }
        }
        #expect(cached == 1)
        #expect(onServer == 1)
        #expect(rows == 20)
        #expect(uncached == 0)
        #expect(uncachedRows == 25)
    }

    @Test("a cached statement whose table changed shape is prepared again instead of failing")
    func preparedStatementAfterAlter() async throws {
        let (before, after) = try await TestSchema.with("alter") { schema in
            try await onThread {
                let connection = try schema.connect()
                try connection.executeScript("CREATE TABLE a (id int); INSERT INTO a VALUES (1)")
                let before = try connection.query("SELECT * FROM a").columnCount
                try connection.executeScript("ALTER TABLE a ADD COLUMN note text")
                let after = try connection.query("SELECT * FROM a").columnCount
                return (before, after)
            }
        }
        #expect(before == 1)
        #expect(after == 2)
    }

    @Test("a statement with as many parameters as libpq can describe runs; one more is refused and the connection stays usable")
    func parameterLimit() async throws {
        let (sum, refused, usable) = try await TestSchema.with("params") { schema in
            try await onThread {
                let connection = try schema.connect()
                func statement(_ count: Int) -> (String, [PostgresValue]) {
                    let values = (1...count).map { "($\($0)::bigint)" }.joined(separator: ", ")
                    return ("SELECT sum(v)::bigint FROM (VALUES \(values)) AS t (v)", Array(repeating: .int64(1), count: count))
                }
                let (most, parameters) = statement(PostgresConnection.maximumParameters)
                let sum = try connection.queryOne(most, parameters: parameters) { try $0.int64(0) }
                let (tooMany, more) = statement(PostgresConnection.maximumParameters + 1)
                let refused = postgresError { _ = try connection.query(tooMany, parameters: more) }
                let usable = try connection.queryOne("SELECT 1") { try $0.int(0) }
                return (sum, refused, usable)
            }
        }
        #expect(sum == Int64(PostgresConnection.maximumParameters))
        #expect(refused?.kind == .invalidUse)
        #expect(usable == 1)
    }

    @Test("errors carry the SQLSTATE, the constraint and a kind; the connection stays usable")
    func errorsCarrySQLState() async throws {
        let (unique, syntax, usableAfter, nul, decodingNull, decodingText) = try await TestSchema.with("errors") { schema in
            try await onThread {
                let connection = try schema.connect()
                try connection.executeScript("CREATE TABLE u (id int CONSTRAINT u_key PRIMARY KEY, note text)")
                try connection.execute("INSERT INTO u VALUES ($1, $2)", 1, "first")
                let unique = postgresError { try connection.execute("INSERT INTO u VALUES ($1, $2)", 1, "again") }
                let syntax = postgresError { try connection.execute("SELEC 1") }
                let usable = try connection.queryOne("SELECT count(*) FROM u") { try $0.int(0) }
                let nul = postgresError { try connection.execute("INSERT INTO u VALUES ($1, $2)", 2, "a\u{0}b") }
                let decodingNull = postgresError { _ = try connection.queryOne("SELECT NULL::bigint") { try $0.int64(0) } }
                let decodingText = postgresError { _ = try connection.queryOne("SELECT 'abc'") { try $0.int64(0) } }
                return (unique, syntax, usable, nul, decodingNull, decodingText)
            }
        }
        #expect(unique?.kind == .uniqueViolation)
        #expect(unique?.sqlState == "23505")
        #expect(unique?.constraintName == "u_key")
        #expect(syntax?.kind == .other)
        #expect(syntax?.sqlState == "42601")
        #expect(usableAfter == 1)
        #expect(nul?.kind == .invalidUse)
        #expect(decodingNull?.kind == .decoding)
        #expect(decodingText?.kind == .decoding)
    }

    @Test("statement_timeout and lock_timeout end a statement with a timeout error")
    func timeouts() async throws {
        let (statement, elapsed, lock) = try await TestSchema.with("timeouts") { schema in
            try await onThread {
                var quick = schema.configuration
                quick.statementTimeoutMilliseconds = 100
                let impatient = try PostgresConnection(configuration: quick)
                let started = ContinuousClock.now
                let statement = postgresError { try impatient.execute("SELECT pg_sleep(5)") }
                let elapsed = ContinuousClock.now - started

                var lockBound = schema.configuration
                lockBound.lockTimeoutMilliseconds = 100
                let waiter = try PostgresConnection(configuration: lockBound)
                let holder = try schema.connect()
                try holder.executeScript("CREATE TABLE l (id int PRIMARY KEY); INSERT INTO l VALUES (1)")
                let lock = try holder.transaction { holder in
                    try holder.execute("SELECT id FROM l WHERE id = 1 FOR UPDATE")
                    return postgresError { try waiter.execute("UPDATE l SET id = 1 WHERE id = 1") }
                }
                return (statement, elapsed, lock)
            }
        }
        #expect(statement?.kind == .timeout)
        #expect(statement?.sqlState == "57014")
        #expect(elapsed < .seconds(10))
        #expect(lock?.kind == .timeout)
        #expect(lock?.sqlState == "55P03")
    }

    @Test("the session gets the configured timeouts, synchronous_commit and application name")
    func sessionSettings() async throws {
        let settings = try await onThread {
            var configuration = try TestDatabase.configuration(applicationName: "settings-check")
            configuration.statementTimeoutMilliseconds = 1234
            configuration.settings["work_mem"] = "8MB"
            let connection = try PostgresConnection(configuration: configuration)
            return try connection.queryOne("""
                SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),
                       current_setting('idle_in_transaction_session_timeout'), current_setting('synchronous_commit'),
                       current_setting('application_name'), current_setting('work_mem')
                """) { row in try (0..<6).map { try row.string($0) } }
        }
        #expect(settings == ["1234ms", "10s", "1min", "on", "settings-check", "8MB"])
    }

    @Test("an empty target connects through libpq's own environment variables")
    func environmentOnly() async throws {
        let environment = ProcessInfo.processInfo.environment
        try #require(environment["PGHOST"] != nil,
                     "PGHOST is not set: run through scripts/with-postgres.sh, which sets libpq's variables")
        let database = try await onThread {
            try PostgresConnection("").queryOne("SELECT current_database()") { try $0.string(0) }
        }
        #expect(database == environment["PGDATABASE"])
    }

    @Test("an unreachable server fails promptly with a connection error")
    func unreachable() async throws {
        let (missingSocket, refused, elapsed) = try await onThread {
            let started = ContinuousClock.now
            let missingSocket = postgresError { _ = try PostgresConnection("host=/nonexistent/aftersale dbname=x") }
            let refused = postgresError { _ = try PostgresConnection("host=127.0.0.1 port=1 dbname=x connect_timeout=2") }
            return (missingSocket, refused, ContinuousClock.now - started)
        }
        #expect(missingSocket?.kind == .connection)
        #expect(refused?.kind == .connection)
        #expect(elapsed < .seconds(5))
    }
}
