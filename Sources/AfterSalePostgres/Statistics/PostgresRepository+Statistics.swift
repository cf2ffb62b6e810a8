import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension PostgresRepository {
    /// Blocks per statement: six parameters each, within the driver's
    /// ``PostgresConnection/maximumParameters``; also the blocks per read of those a projection adds to.
    static let statisticsBlocksPerStatement = PostgresConnection.maximumParameters / 6

    /// Adds the increments to their blocks and moves the projector's cursor in one transaction.
    /// The projector's row in consumer_cursors is locked first (`FOR UPDATE`), so replicas
    /// projecting at once take turns: the second sees the cursor moved and writes nothing (a
    /// version conflict), and since every projection locks that one row before any block, two
    /// never deadlock, and the blocks read here do not change until the commit.
    public func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws {
        try StorageContract.checkProjection(expectedCursor: expectedCursor, cursor: cursor)
        let deltas = Array(increments.blockDeltas())
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
            while start < deltas.count {
                let chunk = deltas[start..<min(deltas.count, start + Self.statisticsBlocksPerStatement)]
                try Self.addToBlocks(Array(chunk), on: connection)
                start += chunk.count
            }
            try connection.execute("UPDATE consumer_cursors SET cursor = $2 WHERE consumer = $1", .text(projector), .int64(cursor))
        }
    }

    /// Reads the stored blocks of `deltas` in one statement (the keys as a JSON array), adds each
    /// delta, and writes the sums back in one statement; blocks that come to zero are deleted.
    static func addToBlocks(_ deltas: [(key: StatisticsBlockKey, value: StatisticsSummary)], on connection: PostgresConnection) throws {
        let keys: [[String: Any]] = deltas.enumerated().map { index, delta in
            ["i": index, "s": delta.key.scope, "d": delta.key.grouping.rawValue, "p": delta.key.span, "f": delta.key.firstDay,
             "g": delta.key.group]
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: keys), as: UTF8.self)
        var sums = deltas.map(\.value)
        for (index, body) in try connection.query("""
            SELECT k.i::bigint, b.body FROM json_to_recordset($1::json) AS k(i int, s text, d text, p bigint, f bigint, g text)
            JOIN statistics_blocks b ON b.scope = k.s AND b.dimension = k.d AND b.span = k.p AND b.first_day = k.f AND b.group_key = k.g
            """, .text(json), decode: { (try $0.int64(0), try $0.bytes(1)) }) {
            guard index >= 0, index < sums.count else { continue }
            try sums[Int(index)].add(encoded: body)
        }
        var rows: [[PostgresValue]] = []
        for (delta, sum) in zip(deltas, sums) {
            let key = delta.key
            if sum.isEmpty {
                try connection.execute("""
                    DELETE FROM statistics_blocks WHERE scope = $1 AND dimension = $2 AND span = $3 AND first_day = $4 AND group_key = $5
                    """, .text(key.scope), .text(key.grouping.rawValue), .int64(key.span), .int64(key.firstDay), .text(key.group))
            } else {
                rows.append([.text(key.scope), .text(key.grouping.rawValue), .int64(key.span), .int64(key.firstDay), .text(key.group),
                             .bytes(sum.encoded())])
            }
        }
        guard !rows.isEmpty else { return }
        var write = CombinedWrite()
        write.insert("statistics_blocks (scope, dimension, span, first_day, group_key, body)", rows: rows,
                     types: ["text", "text", "bigint", "bigint", "text", "bytea"],
                     suffix: "ON CONFLICT (scope, dimension, span, first_day, group_key) DO UPDATE SET body = EXCLUDED.body")
        try write.run(on: connection)
    }

    /// One range scan of the primary key (scope, dimension, span, first_day, …) per run of blocks,
    /// in one statement.
    public func statisticsBlocks(_ query: StatisticsBlockQuery) async throws -> [StatisticsBlock] {
        try StorageContract.check(query)
        guard !query.runs.isEmpty else { return [] }
        var parameters: [PostgresValue] = [.text(query.scope), .text(query.grouping.rawValue)]
        var ranges: [String] = []
        for run in query.runs {
            let n = parameters.count
            ranges.append("(span = $\(n + 1) AND first_day BETWEEN $\(n + 2) AND $\(n + 3))")
            parameters += [.int64(run.span), .int64(run.firstStart), .int64(run.lastStart)]
        }
        let sql = "SELECT group_key, span, first_day, body FROM statistics_blocks WHERE scope = $1 AND dimension = $2 AND ("
            + ranges.joined(separator: " OR ") + ")"
        let bound = parameters
        return try await read("statisticsBlocks") { connection in
            try connection.query(sql, parameters: bound) {
                StatisticsBlock(group: try $0.string(0), span: try $0.int64(1), firstDay: try $0.int64(2), body: try $0.bytes(3))
            }
        }
    }
}
