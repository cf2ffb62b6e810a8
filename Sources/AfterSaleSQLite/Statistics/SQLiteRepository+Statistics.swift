import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    /// Adds the increments to their blocks (read, add, write back) and moves the projector's
    /// cursor in one write; the one writer makes the compare-and-set on the cursor exact.
    public func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws {
        try StorageContract.checkProjection(expectedCursor: expectedCursor, cursor: cursor)
        let deltas = increments.blockDeltas()
        try await write { connection in
            let stored = try EventRows.consumerCursor(projector, on: connection) ?? 0
            guard stored == expectedCursor else { throw DomainError.versionConflict(expected: expectedCursor, actual: stored) }
            let head = try EventRows.head(on: connection)
            guard cursor <= head else { throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)") }
            for (key, delta) in deltas {
                let bind = { (s: Statement) in
                    s.bind(1, key.scope).bind(2, key.grouping.rawValue).bind(3, key.span).bind(4, key.firstDay).bind(5, key.group)
                }
                var summary = try connection.queryOne("""
                    SELECT body FROM statistics_blocks
                    WHERE scope = ?1 AND dimension = ?2 AND span = ?3 AND first_day = ?4 AND group_key = ?5
                    """, bind: { _ = bind($0) }) { try StatisticsSummary(encoded: $0.blob(0)) } ?? StatisticsSummary()
                summary.merge(delta)
                if summary.isEmpty {
                    try connection.run("""
                        DELETE FROM statistics_blocks WHERE scope = ?1 AND dimension = ?2 AND span = ?3 AND first_day = ?4 AND group_key = ?5
                        """) { _ = bind($0) }
                } else {
                    let body = summary.encoded()
                    try connection.run("""
                        INSERT INTO statistics_blocks (scope, dimension, span, first_day, group_key, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                        ON CONFLICT (scope, dimension, span, first_day, group_key) DO UPDATE SET body = excluded.body
                        """) { bind($0).bind(6, blob: body) }
                }
            }
            try connection.run("""
                INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES (?1, ?2, 0)
                ON CONFLICT (consumer) DO UPDATE SET cursor = ?2
                """) { $0.bind(1, projector).bind(2, cursor) }
        }
    }

    /// One range seek on the primary key (scope, dimension, span, first_day, …) per run of blocks.
    public func statisticsBlocks(_ query: StatisticsBlockQuery) async throws -> [StatisticsBlock] {
        try StorageContract.check(query)
        return try await read { connection in try connection.readTransaction {
            var blocks: [StatisticsBlock] = []
            for run in query.runs {
                blocks += try connection.query("""
                    SELECT group_key, first_day, body FROM statistics_blocks
                    WHERE scope = ?1 AND dimension = ?2 AND span = ?3 AND first_day BETWEEN ?4 AND ?5
                    """, bind: { s in
                    s.bind(1, query.scope).bind(2, query.grouping.rawValue).bind(3, run.span).bind(4, run.firstStart).bind(5, run.lastStart)
                }) { StatisticsBlock(group: $0.string(0), span: run.span, firstDay: $0.int64(1), body: $0.blob(2)) }
            }
            return blocks
        } }
    }
}
