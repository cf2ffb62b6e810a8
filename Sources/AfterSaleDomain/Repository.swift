/// Orders as the order system last reported them: the facts eligibility is checked against.
public protocol OrderRepository: Sendable {
    /// Stores `order` unless the stored snapshot of the same order has the same or a newer version
    /// (the order system's messages may arrive late and out of order).
    /// - Returns: what happened to the stored snapshot.
    @discardableResult
    func saveOrder(_ order: OrderSnapshot) async throws -> OrderSaveOutcome

    /// The stored snapshot of order `id`, or nil when after-sales does not know it.
    func order(_ id: String) async throws -> OrderSnapshot?
}

/// After-sale cases: their numbers, creation, changes, lists and trace records.
///
/// Every write happens in one transaction: the case, its new timeline entries, its trace record, a
/// refund request if the transition asks for one, and (on creation) the idempotency record. A write
/// returns only once that transaction is durable.
public protocol CaseRepository: Sendable {
    /// Reserves the next number of the UTC day containing `instant` (one sequence per day).
    ///
    /// A reserved number that is never used leaves a gap; numbers are never issued twice.
    /// - Throws: ``RepositoryError/sequenceExhausted(day:)`` past 999,999 cases in one day.
    func nextCaseNumber(at instant: Timestamp) async throws -> CaseNumber

    /// What deciding a new case needs, read from one snapshot: the earlier result of this
    /// idempotency key if it was used, else the order, the cases already on it and their basis.
    ///
    /// Reading the key and the cases together is what makes retries safe: a retry either sees the
    /// key (and replays), or sees the order as it was before the first attempt committed (and
    /// ``createCase(_:)`` then finds the key and replays), never the first case without its key.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when the key was used for a different request.
    func creationContext(orderID: String, idempotency: IdempotencyRecord) async throws -> CreationContext

    /// Stores a new case (what ``AfterSaleCase/open(_:number:order:existingCases:catalog:policy:by:at:)``
    /// returned) with its idempotency record, unless the key was used before.
    ///
    /// The service's CreateAfterSale: ``creationContext(orderID:idempotency:)`` (replay if it says
    /// so), ``nextCaseNumber(at:)``, decide with the context's order and cases, then this call with
    /// the context's ``CreationContext/basis``; on ``RepositoryError/eligibilityChanged(orderID:)``
    /// start again from the context.
    /// - Returns: the number of the new case, or of the case an earlier call with the same key and
    ///   fingerprint created (then `replayed` is true and nothing was written).
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when the key was used for a different
    ///   request; ``RepositoryError/eligibilityChanged(orderID:)`` when the order or its cases changed
    ///   since the eligibility decision read them (decide again and retry);
    ///   ``RepositoryError/caseNumberTaken(_:)`` when the number already names a case.
    func createCase(_ creation: CaseCreation) async throws -> CreatedCase

    /// The case numbered `number` with its whole timeline, or nil when there is none.
    func afterSale(_ number: CaseNumber) async throws -> AfterSaleCase?

    /// Stores what ``decide(_:_:by:at:expectedVersion:policy:)`` returned, if the stored case is still
    /// at `expectedVersion` (compare-and-set); otherwise writes nothing.
    /// - Parameter expectedVersion: the version of the case the transition was decided on
    ///   (`transition.afterSale.version` must be one more).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the stored case moved on;
    ///   ``RepositoryError/caseNotFound(_:)`` when there is no such case.
    func applyTransition(_ transition: Transition, expectedVersion: Int64) async throws

    /// ``applyTransition(_:expectedVersion:)`` plus what commits with it in the same transaction:
    /// a new or moved refund order, feed events, tracking numbers; with a basis, only if the order
    /// and its cases are as the events read them.
    /// - Throws: as ``applyTransition(_:expectedVersion:)``; ``RepositoryError/eligibilityChanged(orderID:)``
    ///   when the basis is stale; ``DomainError/versionConflict(expected:actual:)`` when the refund moved on.
    func applyTransition(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) async throws

    /// The case whose return or outbound shipment has this tracking number, the newest when several.
    func caseNumber(shippingWith key: TrackingKey) async throws -> CaseNumber?

    /// Stores a trace record without changing the case: a refused or duplicate action.
    /// - Throws: ``RepositoryError/caseNotFound(_:)`` when there is no such case.
    func recordTrace(_ record: TraceRecord) async throws

    /// One page of cases matching `query`, newest first (by applied time, then case number).
    func listCases(_ query: CaseQuery) async throws -> CasePage

    /// Every case opened on order `orderID`, with timelines, oldest number first: what eligibility
    /// and the order's ledger count.
    func cases(ofOrder orderID: String) async throws -> [AfterSaleCase]

    /// The trace records of case `number`, oldest first (empty when there is no such case).
    func traceRecords(of number: CaseNumber) async throws -> [TraceRecord]
}

/// The buyer–merchant conversation on a case.
public protocol MessageRepository: Sendable {
    /// Appends a message to its case's conversation; with an idempotency record, a retry with the
    /// same key returns the message stored the first time.
    /// - Throws: ``RepositoryError/caseNotFound(_:)``; ``RepositoryError/idempotencyKeyReused(key:)``.
    func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?) async throws -> AppendedMessage

    /// ``appendMessage(_:idempotency:)``, appending the events `events` makes of the stored message
    /// in the same transaction (called on the storage's writer; keep it short).
    func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?,
                       events: @escaping @Sendable (CaseMessage) -> [OutboxEvent]) async throws -> AppendedMessage

    /// Up to `limit` messages of case `number` after the message with id `after` (from the start
    /// when nil), oldest first.
    func messages(of number: CaseNumber, after: Int64?, limit: Int) async throws -> MessagePage
}

/// The reason catalog the back office manages.
public protocol ReasonCatalogRepository: Sendable {
    /// Every stored reason, active or retired, with its version.
    func storedReasons() async throws -> [StoredReason]

    /// Creates or replaces the reason with `reason.code`; validation is the caller's (``Reason/validate()``).
    /// - Parameter expectedVersion: the version the caller last saw: 0 means the code must not exist
    ///   yet, nil stores unconditionally.
    /// - Returns: the stored entry with its new version.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` (actual 0 when there is no entry).
    func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp) async throws -> StoredReason

    /// The stored reasons as a catalog (a repository may keep it built between changes).
    func reasonCatalog() async throws -> ReasonCatalog
}

extension ReasonCatalogRepository {
    /// The stored reasons as a catalog, built on every call.
    public func reasonCatalog() async throws -> ReasonCatalog {
        ReasonCatalog(try await storedReasons().map(\.reason))
    }
}

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

    /// Stores `update` if the stored refund is still at its expected version, with `events` and
    /// the trace record of who changed it (on the refund's case).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)``; ``RepositoryError/refundNotFound(_:)``.
    func updateRefund(_ update: RefundUpdate, trace: TraceRecord?, events: [OutboxEvent]) async throws

    /// Records a refused report (and its trace record on the case); nothing else changes.
    func recordRefusedReport(_ refused: RefusedRefundReport) async throws

    /// One page of refunds matching `query`, newest first, with totals over the whole filter.
    func listRefunds(_ query: RefundQuery) async throws -> RefundPage
}

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

/// Everything after-sales stores, behind one value the service holds.
public protocol AfterSaleRepository: OrderRepository, CaseRepository, MessageRepository, ReasonCatalogRepository,
    RefundRepository, EventFeedRepository {}
