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

/// A carrier's tracking number, as cases are found by it.
public struct TrackingKey: Sendable, Hashable {
    /// The carrier (compared without regard to case).
    public var carrier: String
    /// The tracking number.
    public var trackingNumber: String

    /// Creates a key; the carrier is normalised to upper case.
    public init(carrier: String, trackingNumber: String) {
        self.carrier = carrier.uppercased()
        self.trackingNumber = trackingNumber
    }
}

/// A refund order to store over the version it was decided on.
public struct RefundUpdate: Sendable, Hashable {
    /// The refund after the change.
    public var refund: RefundOrder
    /// The stored version it was decided on.
    public var expectedVersion: Int64

    /// Creates an update.
    public init(refund: RefundOrder, expectedVersion: Int64) {
        self.refund = refund
        self.expectedVersion = expectedVersion
    }
}

/// What commits together with a case change, besides the case, its timeline and trace record.
public struct CaseChangeEffects: Sendable, Hashable {
    /// The order and its cases as the change's events read them: the write fails with
    /// ``RepositoryError/eligibilityChanged(orderID:)`` when any moved (decide again).
    public var basis: EligibilityBasis?
    /// A new refund order (at most one per case).
    public var newRefund: RefundOrder?
    /// A refund order the change moves on (compare-and-set on its version).
    public var refundUpdate: RefundUpdate?
    /// The feed events to append.
    public var events: [OutboxEvent]
    /// Tracking numbers the case now ships with.
    public var trackingKeys: [TrackingKey]

    /// Creates effects.
    public init(basis: EligibilityBasis? = nil, newRefund: RefundOrder? = nil, refundUpdate: RefundUpdate? = nil,
                events: [OutboxEvent] = [], trackingKeys: [TrackingKey] = []) {
        self.basis = basis
        self.newRefund = newRefund
        self.refundUpdate = refundUpdate
        self.events = events
        self.trackingKeys = trackingKeys
    }

    /// Nothing else.
    public static let none = CaseChangeEffects()
}

/// Which refunds a payment worker claims.
public struct RefundClaim: Sendable, Hashable {
    /// The worker.
    public var owner: String
    /// At most this many.
    public var limit: Int
    /// Only these payment channels (empty: any).
    public var channels: Set<String>
    /// The lease length.
    public var leaseMs: Int64
    /// Now.
    public var at: Timestamp
    /// One fresh lease token per refund that may be handed out (at least `limit`).
    public var tokens: [String]

    /// Creates a claim.
    public init(owner: String, limit: Int, channels: Set<String>, leaseMs: Int64, at: Timestamp, tokens: [String]) {
        self.owner = owner
        self.limit = limit
        self.channels = channels
        self.leaseMs = leaseMs
        self.at = at
        self.tokens = tokens
    }
}

/// Which timestamp a refund list's time range and order apply to.
public enum RefundTimeBasis: String, Sendable, Hashable {
    case created, updated, succeeded
}

/// A refund list filter and page.
public struct RefundQuery: Sendable, Hashable {
    /// Only these statuses (empty: any).
    public var statuses: Set<RefundStatus> = []
    /// The timestamp the range and the order use.
    public var basis: RefundTimeBasis = .created
    /// At or after.
    public var from: Timestamp?
    /// Strictly before.
    public var before: Timestamp?
    /// Only this shop.
    public var shopID: String?
    /// Only this case.
    public var caseNumber: CaseNumber?
    /// Rows per page.
    public var pageSize: Int = 50
    /// After this row (time by basis, refund id), newest first.
    public var after: RefundCursor?

    /// An unfiltered first page.
    public init() {}
}

/// A position in a refund list.
public struct RefundCursor: Sendable, Hashable {
    /// The time by the list's basis.
    public var at: Int64
    /// The refund id.
    public var refundID: String

    /// Creates a cursor.
    public init(at: Int64, refundID: String) {
        self.at = at
        self.refundID = refundID
    }
}

/// Count and sums of the refunds in one status and currency.
public struct RefundTotal: Sendable, Hashable {
    /// The status.
    public var status: RefundStatus
    /// How many.
    public var count: Int64
    /// Sum of their amounts.
    public var amount: Money
    /// Sum of what was paid.
    public var refunded: Money

    /// Creates a total.
    public init(status: RefundStatus, count: Int64, amount: Money, refunded: Money) {
        self.status = status
        self.count = count
        self.amount = amount
        self.refunded = refunded
    }
}

/// One page of refunds with totals over the whole filter.
public struct RefundPage: Sendable, Hashable {
    /// The rows, newest first.
    public var rows: [RefundOrder]
    /// Where the next page starts; nil on the last page.
    public var next: RefundCursor?
    /// Per status and currency, over every matching row.
    public var totals: [RefundTotal]

    /// Creates a page.
    public init(rows: [RefundOrder], next: RefundCursor?, totals: [RefundTotal]) {
        self.rows = rows
        self.next = next
        self.totals = totals
    }
}

/// A refund report that was refused: recorded for the back office, nothing else changes.
public struct RefusedRefundReport: Sendable, Hashable {
    /// The refund.
    public var refundID: String
    /// The report.
    public var report: RefundReport
    /// Why it was refused.
    public var reason: String
    /// The trace record to add to the refund's case.
    public var trace: TraceRecord

    /// Creates a refused report.
    public init(refundID: String, report: RefundReport, reason: String, trace: TraceRecord) {
        self.refundID = refundID
        self.report = report
        self.reason = reason
        self.trace = trace
    }
}
