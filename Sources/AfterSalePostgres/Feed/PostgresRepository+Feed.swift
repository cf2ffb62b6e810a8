import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// Up to `limit` events after `cursor` of the given types, looking at no more than `scanLimit`
    /// positions (saturating near `Int64.max`); read with the head in one statement (see ``FeedRows``).
    public func events(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int) async throws -> EventBatch {
        try await feedRead("events") { connection in
            try FeedRows.read(after: cursor, types: types, limit: limit, scanLimit: scanLimit, on: connection)
        }
    }

    /// The cursor of the newest committed event, on any replica (0 when the feed is empty).
    public func eventFeedHead() async throws -> Int64 {
        try await feedRead("eventFeedHead") { connection in try FeedRows.head(on: connection) }
    }

    /// The consumer's acknowledged cursor, nil when it never acknowledged.
    public func consumerCursor(_ consumer: String) async throws -> Int64? {
        try await read("consumerCursor") { connection in try FeedRows.consumerCursor(consumer, on: connection) }
    }

    /// Moves the consumer's cursor forward, never back; the head only grows, so checking it first
    /// and storing after cannot let a cursor pass it.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` past the feed's head, as the reference does.
    public func acknowledge(consumer: String, cursor: Int64, at instant: Timestamp) async throws -> Int64 {
        try await write("acknowledge") { connection in
            let head = try FeedRows.head(on: connection)
            guard cursor <= head else {
                throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)")
            }
            return try FeedRows.acknowledge(consumer, cursor: cursor, at: instant, on: connection)
        }
    }

    /// Returns once an event after `cursor` is sequenced on any replica (this one's rounds at once,
    /// others' when their notification arrives), after `timeout`, or when the task is cancelled.
    public func waitForEvents(after cursor: Int64, timeout: Duration) async {
        await wakeUps.signal.wait(after: cursor, timeout: timeout)
    }

    /// After a commit: when it appended events, waits for the sequencer's round that numbers them
    /// (and wakes this process's readers), so the caller's answer follows its events' cursors.
    func settle(appended: Bool) async {
        if appended { await sequencer.sequence() }
    }
}
