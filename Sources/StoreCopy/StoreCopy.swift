import AfterSalePostgres
import AfterSaleSQLite
import Foundation

/// Copies an embedded SQLite store into an empty PostgreSQL database, for a team moving from one
/// replica to several (`aftersale-copy`, docs/OPERATIONS.md §7).
///
/// The copy is exact: case numbers, versions, timelines, trace records (in order, with their audit
/// chain positions and hashes), audit checkpoints, idempotency
/// records with the responses they replay, message ids, refund orders with their leases and tokens,
/// refused reports, the event feed with its cursors, consumers' saved cursors and tracking numbers.
/// Then it sets what PostgreSQL keeps beside those rows: the feed's head, each day's last case
/// number, the reason catalog's generation and the audit chain's head, so the first case created on PostgreSQL continues
/// the numbering and the first event continues the feed.
///
/// - The source is opened by ``AfterSaleSQLite/SQLiteRepository`` (which brings its schema to this
///   build's version and holds the data directory's lock, so the copy is refused while a server
///   runs and no server can start during it), then read in one read transaction: one consistent
///   snapshot.
/// - The target is migrated, must hold no order, case or event, and is written in one transaction:
///   a failed copy leaves it as it was.
/// - At the end, every table's row count is compared in both, inside that transaction.
public enum StoreCopy {
    /// What was copied.
    public struct Report: Sendable, CustomStringConvertible {
        /// Rows per table, in copy order.
        public var tables: [(name: String, rows: Int)] = []
        /// The feed's head (the last event's cursor; 0 for an empty feed).
        public var feedHead: Int64 = 0
        /// How long the copy took.
        public var seconds: Double = 0

        /// `copied orders=… cases=… … feed_head=… seconds=…`: one machine-readable line.
        public var description: String {
            "copied " + tables.map { "\($0.name)=\($0.rows)" }.joined(separator: " ")
                + " feed_head=\(feedHead) seconds=\(String(format: "%.1f", seconds))"
        }
    }

    /// Why a copy did not happen; nothing was written to the target.
    public enum Failure: Error, CustomStringConvertible {
        /// There is no store in the data directory.
        case noSource(String)
        /// The target already holds data.
        case targetNotEmpty(String)
        /// A table's row count differs after the copy (the transaction was rolled back).
        case countMismatch(table: String, source: Int, target: Int)

        public var description: String {
            switch self {
            case .noSource(let path): "no SQLite store at \(path)"
            case .targetNotEmpty(let what):
                "the PostgreSQL database is not empty (\(what)); copy into a new database"
            case .countMismatch(let table, let source, let target):
                "\(table): \(source) rows in SQLite but \(target) in PostgreSQL after the copy; nothing was committed"
            }
        }
    }

    /// Copies the store in `dataDirectory` into the database `target` describes.
    /// - Parameters:
    ///   - batchRows: rows per INSERT statement (fewer when they would pass
    ///     ``AfterSalePostgres/PostgresConnection/maximumParameters``).
    ///   - progress: called with a line after each table.
    /// - Throws: ``Failure``; the source's or target's error (nothing committed).
    public static func copy(dataDirectory: String, to target: PostgresConfiguration, batchRows: Int = 500,
                            progress: (String) -> Void = { _ in }) throws -> Report {
        let started = ContinuousClock.now
        let path = (dataDirectory as NSString).appendingPathComponent(SQLiteRepository.fileName)
        guard FileManager.default.fileExists(atPath: path) else { throw Failure.noSource(path) }
        // Migrates the source to this build's schema, and holds the data directory's lock for the
        // whole copy: no aftersaled can open the store while it is read.
        let holder = try SQLiteRepository.open(dataDirectory: dataDirectory)
        defer { holder.close() }

        let source = try SQLiteConnection(path: path, readOnly: true)
        defer { source.close() }
        let destination = try PostgresConnection(configuration: target)
        defer { destination.close() }
        try PostgresMigrator.migrate(destination, migrations: PostgresSchema.migrations)

        var report = try source.readTransaction {
            try destination.transaction { pg in
                try refuseNonEmpty(pg)
                // Migration 2 stored the standard catalog; the source's catalog replaces it.
                try pg.execute("DELETE FROM reasons")
                var report = Report()
                for table in CopiedTable.all {
                    let rows = try copy(table, from: source, to: pg, batchRows: max(1, min(batchRows, PostgresConnection.maximumParameters / table.columns.count)))
                    report.tables.append((table.name, rows))
                    progress("\(table.name): \(rows) rows")
                }
                report.feedHead = try setDerivedState(pg)
                for (name, rows) in report.tables {
                    let copied = try pg.queryOne("SELECT count(*) FROM \(name)") { try $0.int(0) } ?? -1
                    guard copied == rows else { throw Failure.countMismatch(table: name, source: rows, target: copied) }
                }
                return report
            }
        }
        let elapsed = ContinuousClock.now - started
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return report
    }

    private static func refuseNonEmpty(_ pg: PostgresConnection) throws {
        for table in ["orders", "cases", "events", "refund_orders"] {
            let rows = try pg.queryOne("SELECT count(*) FROM \(table)") { try $0.int(0) } ?? 0
            if rows > 0 { throw Failure.targetNotEmpty("\(table) has \(rows) rows") }
        }
    }

    /// Streams `table` out of SQLite in its order and inserts it in batches; returns the row count.
    private static func copy(_ table: CopiedTable, from source: SQLiteConnection, to pg: PostgresConnection,
                             batchRows: Int) throws -> Int {
        let names = table.columns.map(\.name)
        let select = try source.prepare("SELECT \(names.joined(separator: ", ")) FROM \(table.name) ORDER BY \(table.order)")
        defer { select.reset() }
        var batch: [PostgresValue] = []
        batch.reserveCapacity(batchRows * names.count)
        var rows = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            let count = batch.count / names.count
            let tuples = (0..<count).map { row in
                "(" + (0..<names.count).map { "$\(row * names.count + $0 + 1)" }.joined(separator: ", ") + ")"
            }
            let overriding = table.keepsIdentity == nil ? "" : " OVERRIDING SYSTEM VALUE"
            try pg.execute("INSERT INTO \(table.name) (\(names.joined(separator: ", ")))\(overriding) VALUES "
                           + tuples.joined(separator: ", "), parameters: batch)
            batch.removeAll(keepingCapacity: true)
        }
        while try select.step() {
            for (index, column) in table.columns.enumerated() {
                batch.append(value(select, Int32(index), column.copy))
            }
            rows += 1
            if rows % batchRows == 0 { try flush() }
        }
        try flush()
        if let identity = table.keepsIdentity {
            // The next generated id follows the largest copied one.
            try pg.execute("""
                SELECT setval(pg_get_serial_sequence('\(table.name)', '\(identity)'),
                              COALESCE((SELECT max(\(identity)) FROM \(table.name)), 1),
                              (SELECT max(\(identity)) FROM \(table.name)) IS NOT NULL)
                """)
        }
        return rows
    }

    private static func value(_ row: Statement, _ column: Int32, _ copy: ColumnCopy) -> PostgresValue {
        if row.isNull(column) { return .null }
        switch copy {
        case .integer: return .int64(row.int64(column))
        case .text: return .text(row.string(column))
        case .utf8Bytes, .bytes: return .bytes(row.blob(column))
        case .flag: return .bool(row.int64(column) != 0)
        }
    }

    /// Sets the rows PostgreSQL keeps beside the copied ones; returns the feed's head.
    private static func setDerivedState(_ pg: PostgresConnection) throws -> Int64 {
        try pg.execute("UPDATE feed_head SET cursor = COALESCE((SELECT max(cursor) FROM events), 0) WHERE id = 1")
        // cases.id is yyyyMMdd * 1,000,000 + the day's sequence.
        try pg.execute("""
            INSERT INTO case_number_days (day, last)
            SELECT id / 1000000, max(id % 1000000) FROM cases GROUP BY id / 1000000
            ON CONFLICT (day) DO UPDATE SET last = GREATEST(case_number_days.last, excluded.last)
            """)
        // The audit chain continues from the copied head (every SQLite record is chained).
        try pg.execute("""
            UPDATE audit_head SET size = t.chain_position, hash = t.chain_hash
            FROM (SELECT chain_position, chain_hash FROM trace_records WHERE chain_position IS NOT NULL
                  ORDER BY chain_position DESC LIMIT 1) AS t
            WHERE audit_head.id = 1
            """)
                // Replicas that cached the standard catalog read the copied one.
        try pg.execute("UPDATE reason_catalog SET generation = generation + 1 WHERE id = 1")
        return try pg.queryOne("SELECT cursor FROM feed_head WHERE id = 1") { try $0.int64(0) } ?? 0
    }
}
