/// Disputes (维权): stored whole, with the columns that lists and the deadline sweep filter on.
///
/// Every change is a compare-and-set on the dispute's version, written with its feed events in one
/// transaction: several replicas applying one deadline, or racing rulings, change it once.
public protocol DisputeRepository: Sendable {
    /// The dispute with `id`, or nil.
    func dispute(_ id: String) async throws -> Dispute?

    /// Every dispute about a case of order `orderID`, oldest first (an order has few cases).
    func disputes(ofOrder orderID: String) async throws -> [Dispute]

    /// One page of disputes matching `query`, newest first (by opening time, then id).
    func listDisputes(_ query: DisputeQuery) async throws -> DisputePage

    /// Up to `limit` disputes whose earliest deadline (``Dispute/nextAt``) is at or before `now`,
    /// earliest first.
    func disputesDue(at now: Timestamp, limit: Int) async throws -> [Dispute]

    /// Stores `dispute` (new when `expectedVersion` is 0) and appends `events`, all or nothing;
    /// with a `basis`, only while the order, its cases and its other open disputes are as the
    /// events' order state was derived from (checked in the same transaction).
    /// - Throws: ``DomainError/duplicate(message:)`` when a new dispute's id exists (one per case);
    ///   ``DomainError/versionConflict(expected:actual:)`` when the stored dispute moved;
    ///   ``RepositoryError/eligibilityChanged(orderID:)`` when the basis moved: derive again.
    func saveDispute(_ dispute: Dispute, expectedVersion: Int64, events: [OutboxEvent], basis: EligibilityBasis?) async throws
}

extension DisputeRepository {
    /// Stores `dispute` with `events`, without a basis (the events derive nothing from the order).
    public func saveDispute(_ dispute: Dispute, expectedVersion: Int64, events: [OutboxEvent]) async throws {
        try await saveDispute(dispute, expectedVersion: expectedVersion, events: events, basis: nil)
    }
}

/// Which disputes to list.
public struct DisputeQuery: Sendable, Hashable {
    /// Only this buyer's.
    public var buyerID: String?
    /// Only this shop's.
    public var shopID: String?
    /// Only the disputes of these cases (an agent's: the cases of their tickets).
    public var caseNumbers: Set<CaseNumber>?
    /// Only these statuses (empty: any).
    public var statuses: Set<DisputeStatus>
    /// Opened at or after.
    public var openedFrom: Timestamp?
    /// Rows per page (1…1000).
    public var pageSize: Int
    /// The last row of the previous page.
    public var after: DisputeCursor?

    /// Creates a query.
    public init(buyerID: String? = nil, shopID: String? = nil, statuses: Set<DisputeStatus> = [], openedFrom: Timestamp? = nil,
                pageSize: Int = 50, after: DisputeCursor? = nil) {
        self.buyerID = buyerID
        self.shopID = shopID
        self.statuses = statuses
        self.openedFrom = openedFrom
        self.pageSize = pageSize
        self.after = after
    }

    /// True when `dispute` passes the filters (the in-memory reference).
    public func matches(_ dispute: Dispute) -> Bool {
        if let buyerID, dispute.buyerID != buyerID { return false }
        if let shopID, dispute.shopID != shopID { return false }
        if let caseNumbers, !caseNumbers.contains(dispute.caseNumber) { return false }
        if !statuses.isEmpty, !statuses.contains(dispute.status) { return false }
        if let openedFrom, dispute.openedAt < openedFrom { return false }
        if let after, (dispute.openedAt, dispute.id) >= (after.openedAt, after.id) { return false }
        return true
    }
}

/// Where a dispute page continues.
public struct DisputeCursor: Sendable, Hashable {
    /// The last row's opening time.
    public var openedAt: Timestamp
    /// The last row's id.
    public var id: String

    /// Creates a cursor.
    public init(openedAt: Timestamp, id: String) {
        self.openedAt = openedAt
        self.id = id
    }

    /// The cursor as a page token.
    public var token: String { "\(openedAt.millisecondsSinceEpoch)|\(id)" }

    /// The cursor `token` stands for.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public init(token: String) throws(DomainError) {
        let parts = token.split(separator: "|", maxSplits: 1).map(String.init)
        guard parts.count == 2, let ms = Int64(parts[0]), !parts[1].isEmpty else {
            throw .invalidArgument(field: "page_token", message: "not a token this server gave")
        }
        self.init(openedAt: Timestamp(millisecondsSinceEpoch: ms), id: parts[1])
    }
}

/// One page of disputes.
public struct DisputePage: Sendable, Hashable {
    /// The disputes, newest first.
    public var disputes: [Dispute]
    /// Where the next page starts; nil on the last.
    public var next: DisputeCursor?

    /// Creates a page.
    public init(disputes: [Dispute], next: DisputeCursor?) {
        self.disputes = disputes
        self.next = next
    }
}
