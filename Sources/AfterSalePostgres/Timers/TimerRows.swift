import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `case_timers` and `timer_settings` (as SQLite's `TimerRows`).
enum TimerRows {
    static let columns = "case_id, shop_id, rule, started_at, duration_ms, reminder_lead_ms, policy_version, reminded_at, next_at"
    private static let types = ["bigint", "text", "text", "bigint", "bigint", "bigint", "text", "bigint", "bigint"]

    /// The unpaused instant of a row's next step, in SQL (what ``CaseTimer/unpausedNextAt`` computes).
    static let unpausedNextAt = """
        started_at + duration_ms - CASE WHEN reminded_at IS NULL AND reminder_lead_ms > 0 THEN reminder_lead_ms ELSE 0 END
        """

    /// Adds a case write's timer change for case `caseID`; with `part`, only if that part changed a row.
    static func apply(_ change: TimerChange, caseID: Int64, onlyIf part: Int? = nil, into write: inout CombinedWrite) {
        switch change {
        case .keep:
            return
        case .set(let timer):
            write.insert("case_timers (\(columns))", rows: [values(timer)], types: types, onlyIf: part, suffix: """
                ON CONFLICT (case_id) DO UPDATE SET shop_id = excluded.shop_id, rule = excluded.rule,
                    started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                    reminder_lead_ms = excluded.reminder_lead_ms, policy_version = excluded.policy_version,
                    reminded_at = excluded.reminded_at, next_at = excluded.next_at
                """)
        case .clear:
            write.add { sql in
                let id = sql.parameter(.int64(caseID))
                let guardPart = part.map { " AND EXISTS (SELECT 1 FROM w\($0))" } ?? ""
                return "DELETE FROM case_timers WHERE case_id = \(id)\(guardPart)"
            }
        }
    }

    /// The timers of the cases keyed `ids`.
    static func load(_ ids: [Int64], on connection: PostgresConnection) throws -> [CaseTimer] {
        guard !ids.isEmpty else { return [] }
        let list = ids.map(String.init).joined(separator: ",")
        return try connection.query("SELECT \(columns) FROM case_timers WHERE case_id = ANY ($1::bigint[])",
                                    .text("{\(list)}"), decode: decode)
    }

    /// Up to `limit` timers due at `now`, earliest first.
    static func due(at now: Int64, limit: Int, on connection: PostgresConnection) throws -> [CaseTimer] {
        try connection.query("SELECT \(columns) FROM case_timers WHERE next_at <= $1 ORDER BY next_at, case_id LIMIT $2",
                             .int64(now), .int64(Int64(limit)), decode: decode)
    }

    /// Replaces the row of `timer`'s case if it is still the same timer at `expectedNextAt`, and
    /// appends `events` in the same statement only then.
    /// - Returns: whether it did, and whether events went in.
    static func update(_ timer: CaseTimer, expectedNextAt: Int64, events: [OutboxEvent],
                       on connection: PostgresConnection) throws -> (updated: Bool, appended: Bool) {
        var write = CombinedWrite()
        let updated = write.add(counted: true) { sql in
            // Only the parameters the statement uses: PostgreSQL cannot type one it never sees.
            let remindedAt = sql.parameter(.time(timer.remindedAt))
            let nextAt = sql.parameter(.time(timer.nextAt))
            let caseID = sql.parameter(.int64(CaseKey.id(of: timer.caseNumber)))
            let rule = sql.parameter(.text(timer.rule.rawValue))
            let startedAt = sql.parameter(.time(timer.startedAt))
            let expected = sql.parameter(.int64(expectedNextAt))
            return """
                UPDATE case_timers SET reminded_at = \(remindedAt)::bigint, next_at = \(nextAt)::bigint
                WHERE case_id = \(caseID)::bigint AND rule = \(rule)::text AND started_at = \(startedAt)::bigint
                  AND next_at = \(expected)::bigint
                RETURNING 1
                """
        }
        let appended = FeedRows.append(events, onlyIf: updated, into: &write)
        let counts = try write.run(on: connection)
        let done = counts.rows(of: updated) == 1
        return (done, done && appended)
    }

    /// Moves timers pushed past their unpaused instant back to it.
    static func rewind(on connection: PostgresConnection) throws -> Int {
        try connection.execute("UPDATE case_timers SET next_at = \(unpausedNextAt) WHERE next_at > \(unpausedNextAt)")
    }

    /// The number of timers due at `now`.
    static func overdueCount(at now: Int64, on connection: PostgresConnection) throws -> Int {
        try connection.queryOne("SELECT count(*) FROM case_timers WHERE next_at <= $1", .int64(now)) { try $0.int(0) } ?? 0
    }

    /// Every stored setting row, as settings.
    static func settings(on connection: PostgresConnection) throws -> TimerSettings {
        let rows = try connection.query("SELECT kind, key, version, document FROM timer_settings") { row in
            (kind: try row.string(0), key: try row.string(1), version: try row.int64(2), document: try row.bytes(3))
        }
        return try TimerSettingRow.settings(rows)
    }

    /// Inserts version `version` of setting (`kind`, `key`) if the latest stored is `version - 1`;
    /// of two replicas saving the same version, the primary key lets one win.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` otherwise.
    static func save(kind: String, key: String, version: Int64, document: [UInt8], at instant: Timestamp,
                     on connection: PostgresConnection) throws {
        func latest() throws -> Int64 {
            try connection.queryOne("SELECT coalesce(max(version), 0) FROM timer_settings WHERE kind = $1 AND key = $2",
                                    .text(kind), .text(key)) { try $0.int64(0) } ?? 0
        }
        let stored = try latest()
        guard stored == version - 1 else { throw DomainError.versionConflict(expected: version - 1, actual: stored) }
        let inserted = try connection.execute("""
            INSERT INTO timer_settings (kind, key, version, document, saved_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT DO NOTHING
            """, .text(kind), .text(key), .int64(version), .bytes(document), .time(instant))
        guard inserted == 1 else { throw DomainError.versionConflict(expected: version - 1, actual: try latest()) }
    }

    private static func values(_ timer: CaseTimer) -> [PostgresValue] {
        [.int64(CaseKey.id(of: timer.caseNumber)), .text(timer.shopID), .text(timer.rule.rawValue), .time(timer.startedAt),
         .int64(timer.durationMs), .int64(timer.reminderLeadMs), .text(timer.policyVersion), .time(timer.remindedAt),
         .time(timer.nextAt)]
    }

    private static func decode(_ row: PostgresRow) throws -> CaseTimer {
        let ruleName = try row.string(2)
        guard let rule = TimerRule(rawValue: ruleName) else { throw CorruptDocument(message: "unknown timer rule '\(ruleName)'") }
        return CaseTimer(caseNumber: try CaseKey.number(of: try row.int64(0)), shopID: try row.string(1), rule: rule,
                         startedAt: try row.timestamp(3), durationMs: try row.int64(4), reminderLeadMs: try row.int64(5),
                         policyVersion: try row.string(6), remindedAt: try row.optionalTimestamp(7), nextAt: try row.timestamp(8))
    }
}
