/// The event feed: events appended by changes, read by cursor, and each consumer's progress.
public protocol EventFeedRepository: Sendable {
    /// Up to `limit` events after `cursor` whose type is in `types` (nil: all), looking at no
    /// more than `scanLimit` positions.
    func events(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int) async throws -> EventBatch

    /// The cursor of the newest committed event (0 when the feed is empty).
    func eventFeedHead() async throws -> Int64

    /// The consumer's acknowledged cursor, nil when it never acknowledged.
    func consumerCursor(_ consumer: String) async throws -> Int64?

    /// Moves the consumer's cursor to `cursor` unless it is already further.
    /// - Returns: the stored cursor.
    /// - Throws: ``RepositoryError/invalidRequest(_:)`` past the feed's head.
    func acknowledge(consumer: String, cursor: Int64, at instant: Timestamp) async throws -> Int64

    /// Returns once an event after `cursor` has committed in this process, or after `timeout`,
    /// or when the calling task is cancelled.
    func waitForEvents(after cursor: Int64, timeout: Duration) async
}

/// A feed event ready to store: its type, what it is about, and the payload the service encoded
/// (the repository stores the bytes and never reads them).
public struct OutboxEvent: Sendable, Hashable {
    /// What happened.
    public var type: EventType
    /// The case concerned, if any.
    public var caseNumber: CaseNumber?
    /// The order concerned.
    public var orderID: String
    /// When the change was decided.
    public var occurredAt: Timestamp
    /// The encoded event, without its feed position (the reader adds it).
    public var payload: [UInt8]

    /// Creates an outbox event.
    public init(type: EventType, caseNumber: CaseNumber?, orderID: String, occurredAt: Timestamp, payload: [UInt8]) {
        self.type = type
        self.caseNumber = caseNumber
        self.orderID = orderID
        self.occurredAt = occurredAt
        self.payload = payload
    }
}

/// A stored feed event: its position (cursor, strictly increasing in commit order) and payload.
public struct StoredEvent: Sendable, Hashable {
    /// The position in the feed.
    public var cursor: Int64
    /// What happened.
    public var type: EventType
    /// The encoded event as the service stored it.
    public var payload: [UInt8]

    /// Creates a stored event.
    public init(cursor: Int64, type: EventType, payload: [UInt8]) {
        self.cursor = cursor
        self.type = type
        self.payload = payload
    }
}

/// A slice of the feed: the matching events, and how far the read looked (so a filtered reader
/// moves on past events it skipped).
public struct EventBatch: Sendable, Hashable {
    /// The matching events, by cursor.
    public var events: [StoredEvent]
    /// Every event up to this cursor was examined.
    public var scannedThrough: Int64

    /// Creates a batch.
    public init(events: [StoredEvent], scannedThrough: Int64) {
        self.events = events
        self.scannedThrough = scannedThrough
    }
}
