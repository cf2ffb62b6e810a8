import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    /// Adds the increments and moves the projector's cursor in one write; the one writer makes the
    /// compare-and-set on the cursor exact.
    public func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws {
        try StorageContract.checkProjection(expectedCursor: expectedCursor, cursor: cursor)
        let rows = increments.values.map { ($0.key, $0.value) }
        try await write { connection in
            let stored = try EventRows.consumerCursor(projector, on: connection) ?? 0
            guard stored == expectedCursor else { throw DomainError.versionConflict(expected: expectedCursor, actual: stored) }
            let head = try EventRows.head(on: connection)
            guard cursor <= head else { throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)") }
            for (cell, amount) in rows {
                try connection.run("""
                    INSERT INTO statistics_rollups (scope, dimension, day, group_key, metric, amount) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                    ON CONFLICT (scope, dimension, day, group_key, metric) DO UPDATE SET amount = amount + excluded.amount
                    """) { s in
                    s.bind(1, cell.scope).bind(2, cell.grouping.rawValue).bind(3, cell.day).bind(4, cell.group).bind(5, cell.metric)
                    s.bind(6, amount)
                }
            }
            try connection.run("""
                INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES (?1, ?2, 0)
                ON CONFLICT (consumer) DO UPDATE SET cursor = ?2
                """) { $0.bind(1, projector).bind(2, cursor) }
        }
    }

    /// One range seek on the primary key (scope, dimension, day, …).
    public func statisticsRows(_ query: StatisticsRowQuery) async throws -> [StatisticsRow] {
        try StorageContract.check(query)
        let byDay = query.grouping == .day
        // Other groupings are summed over the range here, not returned a day at a time.
        let sql = byDay
            ? "SELECT group_key, day, metric, amount FROM statistics_rollups WHERE scope = ?1 AND dimension = ?2 AND day BETWEEN ?3 AND ?4"
            : "SELECT group_key, ?3, metric, sum(amount) FROM statistics_rollups WHERE scope = ?1 AND dimension = ?2 AND day BETWEEN ?3 AND ?4 "
                + "GROUP BY group_key, metric"
        return try await read { connection in
            try connection.query(sql, bind: { s in
                s.bind(1, query.scope).bind(2, query.grouping.rawValue).bind(3, query.fromDay).bind(4, query.toDay)
            }) { StatisticsRow(group: $0.string(0), day: $0.int64(1), metric: $0.string(2), value: $0.int64(3)) }
        }
    }
}
