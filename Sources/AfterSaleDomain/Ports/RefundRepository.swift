/// Refund orders: what payment workers claim, report on, and agents list and re-queue.
/// (New refund orders are created with the case transition that calls for them.)
public protocol RefundRepository: Sendable {
    /// The refund order with `id`, or nil.
    func refund(_ id: String) async throws -> RefundOrder?

    /// The refund order of case `number`, or nil.
    func refund(of number: CaseNumber) async throws -> RefundOrder?

    /// Leases up to `claim.limit` claimable refunds (pending, retry due, lease expired; oldest
    /// first) to `claim.owner` in one transaction, so no refund goes to two workers.
    func claimRefunds(_ claim: RefundClaim) async throws -> [RefundOrder]

    /// ``claimRefunds(_:)`` under an idempotency key: the claim's response (what `respond` makes of
    /// the leased refunds) is stored with the leases, and an identical retry gets it back, leasing
    /// nothing more.
    /// - Returns: the encoded response, made now or stored by the identical call that spent the key.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when the key was spent on another call.
    func claimRefunds(_ claim: RefundClaim, call: IdempotentCall,
                      respond: @escaping @Sendable ([RefundOrder]) -> [UInt8]) async throws -> [UInt8]

    /// Stores `update` if the stored refund is still at its expected version, with `events` and
    /// the trace record of who changed it (on the refund's case).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)``; ``RepositoryError/refundNotFound(_:)``.
    /// - Returns: ``ChangeOutcome/replayed(_:)`` when `response`'s key was already spent on the same call.
    @discardableResult
    func updateRefund(_ update: RefundUpdate, trace: TraceRecord?, events: [OutboxEvent],
                      response: IdempotentResponse?) async throws -> ChangeOutcome

    /// Records a refused report (and its trace record on the case); nothing else changes.
    func recordRefusedReport(_ refused: RefusedRefundReport) async throws

    /// One page of refunds matching `query`, newest first, with totals over the whole filter.
    func listRefunds(_ query: RefundQuery) async throws -> RefundPage
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
    /// Only these cases (an agent's: the cases of their tickets; at most ``CaseQuery/maximumCaseNumbers``).
    public var caseNumbers: Set<CaseNumber>?
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
