import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// Rows per INSERT statement (six parameters each, under PostgreSQL's 65,535).
    static let rollupRowsPerStatement = 5_000

    /// Adds the increments and moves the projector's cursor in one transaction. The projector's
    /// row in consumer_cursors is locked first (`FOR UPDATE`), so replicas projecting at once take
    /// turns: the second sees the cursor moved and writes nothing (a version conflict), and since
    /// every projection locks that one row before any rollup row, two never deadlock.
    public func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws {
        try StorageContract.checkProjection(expectedCursor: expectedCursor, cursor: cursor)
        let rows = increments.values.map { cell, amount -> [PostgresValue] in
            [.text(cell.scope), .text(cell.grouping.rawValue), .int64(cell.day), .text(cell.group), .text(cell.metric), .int64(amount)]
        }
        try await write("projectStatistics") { connection in
            try connection.execute("""
                INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, 0, 0) ON CONFLICT (consumer) DO NOTHING
                """, .text(projector))
            let stored = try connection.queryOne("SELECT cursor FROM consumer_cursors WHERE consumer = $1 FOR UPDATE", .text(projector)) {
                try $0.int64(0)
            } ?? 0
            guard stored == expectedCursor else { throw DomainError.versionConflict(expected: expectedCursor, actual: stored) }
            let head = try FeedRows.head(on: connection)
            guard cursor <= head else { throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)") }
            var start = 0
            while start < rows.count {
                let chunk = Array(rows[start..<min(rows.count, start + Self.rollupRowsPerStatement)])
                var write = CombinedWrite()
                write.insert("statistics_rollups (scope, dimension, day, group_key, metric, amount)", rows: chunk,
                             types: ["text", "text", "bigint", "text", "text", "bigint"],
                             suffix: "ON CONFLICT (scope, dimension, day, group_key, metric) DO UPDATE SET amount = statistics_rollups.amount + EXCLUDED.amount")
                try write.run(on: connection)
                start += chunk.count
            }
            try connection.execute("UPDATE consumer_cursors SET cursor = $2 WHERE consumer = $1", .text(projector), .int64(cursor))
        }
    }

    /// One range scan of the primary key (scope, dimension, day, …).
    public func statisticsRows(_ query: StatisticsRowQuery) async throws -> [StatisticsRow] {
        try StorageContract.check(query)
        return try await read("statisticsRows") { connection in
            // Other groupings are summed over the range here, not returned a day at a time.
            try connection.query(query.grouping == .day
                ? "SELECT group_key, day, metric, amount FROM statistics_rollups WHERE scope = $1 AND dimension = $2 AND day BETWEEN $3 AND $4"
                : "SELECT group_key, $3::bigint, metric, sum(amount)::bigint FROM statistics_rollups "
                    + "WHERE scope = $1 AND dimension = $2 AND day BETWEEN $3 AND $4 GROUP BY group_key, metric", .text(query.scope), .text(query.grouping.rawValue), .int64(query.fromDay), .int64(query.toDay)) {
                StatisticsRow(group: try $0.string(0), day: try $0.int64(1), metric: try $0.string(2), value: try $0.int64(3))
            }
        }
    }
}
