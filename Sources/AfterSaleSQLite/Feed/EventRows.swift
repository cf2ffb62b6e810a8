import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `events` (the outbox), `consumer_cursors` and `shipment_tracking`.
enum EventRows {
    /// Appends `events` in order; returns the cursor of the last one (nil when there were none).
    static func append(_ events: [OutboxEvent], on connection: SQLiteConnection) throws -> Int64? {
        var last: Int64?
        for event in events {
            try connection.run("""
                INSERT INTO events (event_type, case_id, order_id, occurred_at, payload) VALUES (?1, ?2, ?3, ?4, ?5)
                """) {
                $0.bind(1, event.type.rawValue)
                $0.bind(2, event.caseNumber.map(CaseKey.id(of:)))
                $0.bind(3, event.orderID)
                $0.bind(4, event.occurredAt.millisecondsSinceEpoch)
                $0.bind(5, blob: event.payload)
            }
            last = connection.lastInsertRowID
        }
        return last
    }

    /// Up to `limit` events in `(cursor, cursor + scanLimit]` whose type is in `types`.
    static func read(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int,
                     on connection: SQLiteConnection) throws -> EventBatch {
        let head = try self.head(on: connection)
        // Saturating: a cursor near Int64.max must not overflow (the service refuses one past the head).
        let (reach, overflow) = cursor.addingReportingOverflow(Int64(max(1, scanLimit)))
        let ceiling = min(head, overflow ? Int64.max : reach)
        guard ceiling > cursor else { return EventBatch(events: [], scannedThrough: max(cursor, head)) }
        let wanted = types.map { Set($0.map(\.rawValue)) }
        var events: [StoredEvent] = []
        var scanned = cursor
        let statement = try connection.prepare("SELECT cursor, event_type, payload FROM events WHERE cursor > ?1 AND cursor <= ?2 ORDER BY cursor")
        defer { statement.reset() }
        statement.bind(1, cursor)
        statement.bind(2, ceiling)
        while try statement.step() {
            scanned = statement.int64(0)
            let typeText = statement.string(1)
            if let wanted, !wanted.contains(typeText) { continue }
            events.append(StoredEvent(cursor: scanned, type: try decodeEnum(typeText, as: EventType.self),
                                      payload: statement.blob(2)))
            if events.count >= limit { break }
        }
        if events.count < limit { scanned = ceiling }
        return EventBatch(events: events, scannedThrough: scanned)
    }

    /// The newest cursor (0 for an empty feed).
    static func head(on connection: SQLiteConnection) throws -> Int64 {
        try connection.queryOne("SELECT max(cursor) FROM events", row: { $0.optionalInt64(0) }).flatMap { $0 } ?? 0
    }

    static func consumerCursor(_ consumer: String, on connection: SQLiteConnection) throws -> Int64? {
        try connection.queryOne("SELECT cursor FROM consumer_cursors WHERE consumer = ?1",
                                bind: { $0.bind(1, consumer) }, row: { $0.int64(0) })
    }

    static func insertTracking(_ keys: [TrackingKey], caseID: Int64, on connection: SQLiteConnection) throws {
        for key in keys where !key.trackingNumber.isEmpty {
            try connection.run("""
                INSERT OR IGNORE INTO shipment_tracking (tracking_number, carrier, case_id) VALUES (?1, ?2, ?3)
                """) {
                $0.bind(1, key.trackingNumber)
                $0.bind(2, key.carrier)
                $0.bind(3, caseID)
            }
        }
    }
}
