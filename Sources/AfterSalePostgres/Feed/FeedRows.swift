import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing `events` (the outbox), `feed_head`, `consumer_cursors` and `shipment_tracking`.
///
/// ## Cursors in commit order, across replicas
///
/// A feed reader remembers the last cursor it saw and asks for what comes after it, so the feed
/// must never show cursor N+1 before N, never skip an event that committed, and never show one that
/// rolled back. A sequence (or identity column) cannot promise that with several writers: its value
/// is taken when the row is inserted, not when the transaction commits, so a transaction that took
/// 11 can commit before the one that took 10, and a reader that saw 11 moves past 10 for good.
///
/// Instead, one row, `feed_head(cursor)`, holds the cursor of the newest committed event, and every
/// transaction that appends events does so in its **last statement**:
///
/// ```sql
/// WITH head AS (UPDATE feed_head SET cursor = cursor + n WHERE id = 1 RETURNING cursor),
///      appended AS (INSERT INTO events (cursor, …) SELECT head.cursor - n + position, … FROM head, (VALUES …))
/// SELECT cursor, pg_notify(channel, cursor::text) FROM head
/// ```
///
/// - The UPDATE takes the row's lock and keeps it until the transaction ends, so appending
///   transactions pass the head one at a time, in the order they will commit: the next one waits on
///   the lock, and once the holder ends it reads the head as the holder left it, plus its own events
///   after it. PostgreSQL makes a transaction visible before it releases its locks, so by the time a
///   later transaction can even take its cursors, the earlier one's events are visible to every new
///   snapshot: no reader can see N+1 without N.
/// - A transaction that rolls back (or dies) leaves the head where it found it; the next one takes
///   the same cursors. No gaps, and a rolled-back event is never visible.
/// - Because it is the last statement, the lock is held only for that statement and the COMMIT:
///   everything else the transaction does (checks, case rows, refund rows) runs in parallel with
///   other writers. Feed-appending commits do serialize, which is the price of commit order (the
///   same answer Commanded and Message DB give).
/// - `pg_notify` in the same statement is delivered at COMMIT, and only if it commits, with the
///   new head as payload: every replica's listener advances its in-process signal to it.
///
/// Readers read the head and the events in one statement (one snapshot), so a batch never reaches
/// past what that snapshot committed.
enum FeedRows {
    /// Appends `events` with the next cursors and announces the new head on `channel`; returns the
    /// last cursor (nil when there were none). Call it as the transaction's last statement.
    static func append(_ events: [OutboxEvent], channel: String, on connection: PostgresConnection) throws -> Int64? {
        guard !events.isEmpty else { return nil }
        var sql = StatementBuilder()
        let count = sql.parameter(.int64(Int64(events.count)))
        let channelParameter = sql.parameter(.text(channel))
        let rows = events.enumerated().map { offset, event -> [PostgresValue] in
            [.int64(Int64(offset + 1)), .text(event.type.rawValue), PostgresValue(event.caseNumber.map(CaseKey.id(of:))),
             .text(event.orderID), .time(event.occurredAt), .bytes(event.payload)]
        }
        let values = sql.values(rows, types: ["bigint", "text", "bigint", "text", "bigint", "bytea"])
        let text = """
            WITH head AS (
                UPDATE feed_head SET cursor = cursor + \(count)::bigint WHERE id = 1 RETURNING cursor
            ), appended AS (
                INSERT INTO events (cursor, event_type, case_id, order_id, occurred_at, payload)
                SELECT head.cursor - \(count)::bigint + v.position, v.event_type, v.case_id, v.order_id, v.occurred_at, v.payload
                FROM head, (VALUES \(values)) AS v (position, event_type, case_id, order_id, occurred_at, payload)
            )
            SELECT cursor, pg_notify(\(channelParameter)::text, cursor::text) FROM head
            """
        guard let last = try connection.queryOne(text, parameters: sql.parameters, decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the feed_head row is missing")
        }
        return last
    }

    /// Up to `limit` events in `(cursor, cursor + scanLimit]` whose type is in `types`, read in one
    /// statement with the head they are bounded by.
    static func read(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int,
                     on connection: PostgresConnection) throws -> EventBatch {
        let limit = max(1, limit)
        // Saturating: a cursor near Int64.max must not overflow (the service refuses one past the head).
        let (reach, overflow) = cursor.addingReportingOverflow(Int64(max(1, scanLimit)))
        let reachLimit = overflow ? Int64.max : reach
        var sql = StatementBuilder()
        let after = sql.parameter(.int64(cursor))
        let upTo = sql.parameter(.int64(reachLimit))
        var typeCondition = ""
        if let types {
            let names = sql.parameter(.text(types.map(\.rawValue).sorted().joined(separator: ",")))
            typeCondition = " AND event_type = ANY (string_to_array(\(names)::text, ','))"
        }
        let rowLimit = sql.parameter(.int64(Int64(limit)))
        let text = """
            SELECT h.cursor, e.cursor, e.event_type, e.payload
            FROM feed_head AS h
            LEFT JOIN LATERAL (
                SELECT cursor, event_type, payload FROM events
                WHERE cursor > \(after)::bigint AND cursor <= least(h.cursor, \(upTo)::bigint)\(typeCondition)
                ORDER BY cursor LIMIT \(rowLimit)::bigint
            ) AS e ON true
            WHERE h.id = 1
            ORDER BY e.cursor
            """
        let result = try connection.query(text, parameters: sql.parameters)
        guard let first = result.first else { throw PostgresError(kind: .other, message: "the feed_head row is missing") }
        let head = try first.int64(0)
        let ceiling = min(head, reachLimit)
        guard ceiling > cursor else { return EventBatch(events: [], scannedThrough: max(cursor, head)) }
        var events: [StoredEvent] = []
        for row in result where !row.isNull(1) {
            events.append(StoredEvent(cursor: try row.int64(1), type: try row.name(2, as: EventType.self), payload: try row.bytes(3)))
        }
        let scanned = events.count >= limit ? (events.last?.cursor ?? ceiling) : ceiling
        return EventBatch(events: events, scannedThrough: scanned)
    }

    /// The cursor of the newest committed event (0 for an empty feed).
    static func head(on connection: PostgresConnection) throws -> Int64 {
        guard let head = try connection.queryOne("SELECT cursor FROM feed_head WHERE id = 1", decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the feed_head row is missing")
        }
        return head
    }

    static func consumerCursor(_ consumer: String, on connection: PostgresConnection) throws -> Int64? {
        try connection.queryOne("SELECT cursor FROM consumer_cursors WHERE consumer = $1", .text(consumer)) { try $0.int64(0) }
    }

    /// Moves `consumer` to `cursor` unless it is further already; returns the stored cursor.
    static func acknowledge(_ consumer: String, cursor: Int64, at instant: Timestamp, on connection: PostgresConnection) throws -> Int64 {
        let stored = try connection.queryOne("""
            INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES ($1, $2, $3)
            ON CONFLICT (consumer) DO UPDATE SET cursor = greatest(consumer_cursors.cursor, EXCLUDED.cursor),
                updated_at = EXCLUDED.updated_at
            RETURNING cursor
            """, .text(consumer), .int64(cursor), .time(instant)) { try $0.int64(0) }
        return stored ?? cursor
    }

    /// Records that case `caseID` ships with each of `keys` (empty tracking numbers are skipped).
    static func insertTracking(_ keys: [TrackingKey], caseID: Int64, on connection: PostgresConnection) throws {
        let keys = keys.filter { !$0.trackingNumber.isEmpty }
        guard !keys.isEmpty else { return }
        var sql = StatementBuilder()
        let values = sql.values(keys.map { [.text($0.trackingNumber), .text($0.carrier), .int64(caseID)] },
                                types: ["text", "text", "bigint"])
        try connection.execute("""
            INSERT INTO shipment_tracking (tracking_number, carrier, case_id) VALUES \(values) ON CONFLICT DO NOTHING
            """, parameters: sql.parameters)
    }
}
