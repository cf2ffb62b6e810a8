import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `case_timers` and `timer_settings`.
enum TimerRows {
    static let columns = "case_id, shop_id, rule, started_at, duration_ms, reminder_lead_ms, policy_version, reminded_at, next_at"

    /// The unpaused instant of a row's next step, in SQL (what ``CaseTimer/unpausedNextAt`` computes).
    static let unpausedNextAt = """
        started_at + duration_ms - CASE WHEN reminded_at IS NULL AND reminder_lead_ms > 0 THEN reminder_lead_ms ELSE 0 END
        """

    /// Applies a case write's timer change to case `caseID`.
    static func apply(_ change: TimerChange, caseID: Int64, on connection: SQLiteConnection) throws {
        switch change {
        case .keep:
            return
        case .set(let timer):
            try connection.run("INSERT OR REPLACE INTO case_timers (\(columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)") {
                bind(timer, $0)
            }
        case .clear:
            try connection.run("DELETE FROM case_timers WHERE case_id = ?1") { $0.bind(1, caseID) }
        }
    }

    /// The timers of the cases keyed `ids`.
    static func load(_ ids: [Int64], on connection: SQLiteConnection) throws -> [CaseTimer] {
        guard !ids.isEmpty else { return [] }
        let placeholders = (1...ids.count).map { "?\($0)" }.joined(separator: ", ")
        return try connection.query("SELECT \(columns) FROM case_timers WHERE case_id IN (\(placeholders))", bind: { s in
            for (index, id) in ids.enumerated() { s.bind(Int32(index + 1), id) }
        }, row: decode)
    }

    /// Up to `limit` timers due at `now`, earliest first.
    static func due(at now: Int64, limit: Int, on connection: SQLiteConnection) throws -> [CaseTimer] {
        try connection.query("SELECT \(columns) FROM case_timers WHERE next_at <= ?1 ORDER BY next_at, case_id LIMIT ?2",
                             bind: { $0.bind(1, now).bind(2, limit) }, row: decode)
    }

    /// Replaces the row of `timer`'s case if it is still the same timer at `expectedNextAt`.
    /// - Returns: whether it did.
    static func update(_ timer: CaseTimer, expectedNextAt: Int64, on connection: SQLiteConnection) throws -> Bool {
        try connection.run("""
            UPDATE case_timers SET reminded_at = ?8, next_at = ?9
            WHERE case_id = ?1 AND rule = ?3 AND started_at = ?4 AND next_at = ?10
            """) {
            bind(timer, $0)
            $0.bind(10, expectedNextAt)
        } == 1
    }

    /// Moves timers pushed past their unpaused instant back to it.
    static func rewind(on connection: SQLiteConnection) throws -> Int {
        try connection.run("UPDATE case_timers SET next_at = \(unpausedNextAt) WHERE next_at > \(unpausedNextAt)")
    }

    /// The number of timers due at `now`.
    static func overdueCount(at now: Int64, on connection: SQLiteConnection) throws -> Int {
        try connection.queryOne("SELECT count(*) FROM case_timers WHERE next_at <= ?1", bind: { $0.bind(1, now) },
                                row: { Int($0.int64(0)) }) ?? 0
    }

    /// Every stored setting row.
    static func settings(on connection: SQLiteConnection) throws -> TimerSettings {
        let rows = try connection.query("SELECT kind, key, version, document FROM timer_settings") { row in
            (kind: row.string(0), key: row.string(1), version: row.int64(2), document: row.blob(3))
        }
        return try TimerSettingRow.settings(rows)
    }

    /// Inserts version `version` of setting (`kind`, `key`) if the latest stored is `version - 1`.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` otherwise.
    static func save(kind: String, key: String, version: Int64, document: [UInt8], at instant: Timestamp,
                     on connection: SQLiteConnection) throws {
        let latest = try connection.queryOne("SELECT coalesce(max(version), 0) FROM timer_settings WHERE kind = ?1 AND key = ?2",
                                             bind: { $0.bind(1, kind).bind(2, key) }, row: { $0.int64(0) }) ?? 0
        guard latest == version - 1 else { throw DomainError.versionConflict(expected: version - 1, actual: latest) }
        try connection.run("INSERT INTO timer_settings (kind, key, version, document, saved_at) VALUES (?1, ?2, ?3, ?4, ?5)") {
            $0.bind(1, kind).bind(2, key).bind(3, version).bind(4, blob: document).bind(5, instant.millisecondsSinceEpoch)
        }
    }

    private static func bind(_ timer: CaseTimer, _ s: Statement) {
        s.bind(1, CaseKey.id(of: timer.caseNumber))
        s.bind(2, timer.shopID)
        s.bind(3, timer.rule.rawValue)
        s.bind(4, timer.startedAt.millisecondsSinceEpoch)
        s.bind(5, timer.durationMs)
        s.bind(6, timer.reminderLeadMs)
        s.bind(7, timer.policyVersion)
        s.bind(8, timer.remindedAt?.millisecondsSinceEpoch)
        s.bind(9, timer.nextAt.millisecondsSinceEpoch)
    }

    private static func decode(_ row: Statement) throws -> CaseTimer {
        guard let rule = TimerRule(rawValue: row.string(2)) else {
            throw CorruptDocument(message: "unknown timer rule '\(row.string(2))'")
        }
        return CaseTimer(caseNumber: try CaseKey.number(of: row.int64(0)), shopID: row.string(1), rule: rule,
                         startedAt: Timestamp(millisecondsSinceEpoch: row.int64(3)), durationMs: row.int64(4),
                         reminderLeadMs: row.int64(5), policyVersion: row.string(6),
                         remindedAt: row.optionalInt64(7).map(Timestamp.init(millisecondsSinceEpoch:)),
                         nextAt: Timestamp(millisecondsSinceEpoch: row.int64(8)))
    }
}
