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
/// So cursors are given **after** commit, in two steps:
///
/// 1. A change's transaction inserts its events with `cursor` NULL (``append(_:on:)``). Nothing
///    serializes these writers: they commit in parallel, and PostgreSQL flushes their commits
///    together.
/// 2. The feed sequencer (``FeedSequencer``) numbers what has committed, in rounds
///    (``sequence(limit:lockKey:channel:on:)``): under a transaction-scoped advisory lock (one round
///    at a time, across every replica) one statement takes the unnumbered events its snapshot sees
///    (committed ones only), in `seq` order, gives them the cursors after `feed_head`, moves
///    `feed_head`, and the round commits, announcing the new head with `NOTIFY`.
///
/// - Contiguous: a round's cursors follow the head it read, and rounds run one after another (the
///   next round's statement starts after the previous one's commit is visible, because PostgreSQL
///   makes a commit visible before it releases the transaction's locks).
/// - Never N+1 before N: a round's cursors become visible at once, with the head, at its commit.
/// - Nothing skipped: an event not yet committed when a round reads is still NULL afterwards, and
///   the next round numbers it; a rolled-back event never exists for a round to see.
/// - Cursor order is the order the sequencer found events committed, not `seq` order; each event
///   keeps the cursor it got.
/// - The cost: one more write per event and a few milliseconds between commit and cursor. A writer
///   waits for the round that follows its commit before answering (so a caller that reads the feed
///   after an OK sees its events), and a round numbers every writer that committed meanwhile, with
///   one commit flush for all of them.
///
/// Readers read the head and the events in one statement (one snapshot), so a batch never reaches
/// past what that snapshot committed.
enum FeedRows {
    /// Adds `events` to `write`, unnumbered (the outbox of the caller's transaction); returns whether
    /// there were any (the caller then waits for the sequencer after its commit).
    @discardableResult
    static func append(_ events: [OutboxEvent], onlyIf part: Int? = nil, into write: inout CombinedWrite) -> Bool {
        guard !events.isEmpty else { return false }
        let rows = events.map { event -> [PostgresValue] in
            [.text(event.type.rawValue), PostgresValue(event.caseNumber.map(CaseKey.id(of:))), .text(event.orderID),
             .time(event.occurredAt), .bytes(event.payload)]
        }
        write.insert("events (event_type, case_id, order_id, occurred_at, payload)", rows: rows,
                     types: ["text", "bigint", "text", "bigint", "bytea"], onlyIf: part)
        return true
    }

    /// Appends `events` now; returns whether there were any.
    static func append(_ events: [OutboxEvent], on connection: PostgresConnection) throws -> Bool {
        var write = CombinedWrite()
        guard append(events, into: &write) else { return false }
        try write.run(on: connection)
        return true
    }

    /// One round of the sequencer, as one transaction: numbers up to `limit` committed, unnumbered
    /// events after the head and announces the new head on `channel`.
    /// - Returns: how many events it numbered and the head after the round.
    static func sequence(limit: Int, lockKey: Int64, channel: String,
                         on connection: PostgresConnection) throws -> (numbered: Int, head: Int64) {
        try connection.transaction { connection in
            // One round at a time, on every replica; released at COMMIT, after the round is visible.
            try connection.execute("SELECT pg_advisory_xact_lock($1)", .int64(lockKey))
            guard let (numbered, head) = try connection.queryOne("""
                WITH pending AS (
                    SELECT seq, row_number() OVER (ORDER BY seq) AS position
                    FROM events WHERE cursor IS NULL ORDER BY seq LIMIT $1
                ), total AS (
                    SELECT count(*) AS n FROM pending
                ), head AS (
                    UPDATE feed_head SET cursor = feed_head.cursor + total.n FROM total
                    WHERE feed_head.id = 1 AND total.n > 0
                    RETURNING feed_head.cursor AS last, total.n AS n
                ), numbered AS (
                    UPDATE events SET cursor = head.last - head.n + pending.position
                    FROM pending, head WHERE events.seq = pending.seq
                    RETURNING events.cursor
                )
                SELECT (SELECT count(*) FROM numbered), coalesce((SELECT last FROM head), (SELECT cursor FROM feed_head WHERE id = 1))
                """, .int64(Int64(max(1, limit))), decode: { (try $0.int(0), try $0.int64(1)) }) else {
                throw PostgresError(kind: .other, message: "the feed_head row is missing")
            }
            if numbered > 0 {
                try connection.execute("SELECT pg_notify($1, $2)", .text(channel), .text(String(head)))
            }
            return (numbered, head)
        }
    }

    /// Whether any committed event waits for its cursor (the backstop's cheap look).
    static func hasUnsequenced(on connection: PostgresConnection) throws -> Bool {
        try connection.queryOne("SELECT EXISTS (SELECT 1 FROM events WHERE cursor IS NULL)") { try $0.bool(0) } ?? false
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

    /// Adds to `write` that case `caseID` ships with each of `keys` (empty tracking numbers are
    /// skipped; only if part `onlyIf` changed a row, when given).
    static func insertTracking(_ keys: [TrackingKey], caseID: Int64, onlyIf part: Int? = nil, into write: inout CombinedWrite) {
        let keys = keys.filter { !$0.trackingNumber.isEmpty }
        guard !keys.isEmpty else { return }
        write.insert("shipment_tracking (tracking_number, carrier, case_id)",
                     rows: keys.map { [.text($0.trackingNumber), .text($0.carrier), .int64(caseID)] },
                     types: ["text", "text", "bigint"], onlyIf: part, suffix: "ON CONFLICT DO NOTHING")
    }
}
