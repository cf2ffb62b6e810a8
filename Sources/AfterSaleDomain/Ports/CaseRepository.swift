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

    /// ``applyTransition(_:expectedVersion:)`` plus what commits with it in the same transaction:
    /// a new or moved refund order, feed events, tracking numbers; with a basis, only if the order
    /// and its cases are as the events read them.
    /// - Throws: as ``applyTransition(_:expectedVersion:)``; ``RepositoryError/eligibilityChanged(orderID:)``
    ///   when the basis is stale; ``DomainError/versionConflict(expected:actual:)`` when the refund moved on.
    /// - Returns: ``ChangeOutcome/replayed(_:)`` with the stored response, writing nothing, when
    ///   `effects.response`'s key was already spent on the same call (an identical retry).
    /// - Throws: additionally ``RepositoryError/idempotencyKeyReused(key:)`` when that key was spent
    ///   on another call.
    @discardableResult
    func applyTransition(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) async throws -> ChangeOutcome

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

/// An idempotency key as a caller sent it: retries with the same key get the first result.
///
/// Keys are scoped to the principal's role and id: two callers never collide on a key.
public struct IdempotencyRecord: Sendable, Hashable {
    /// The key the caller chose ("idempotency-key" metadata).
    public var key: String
    /// Who sent it (the role and id count; a merchant's shop does not).
    public var principal: Principal
    /// A digest of the request, computed by the caller; the same key with another fingerprint is refused.
    public var fingerprint: String

    /// Creates an idempotency record.
    public init(key: String, principal: Principal, fingerprint: String) {
        self.key = key
        self.principal = principal
        self.fingerprint = fingerprint
    }
}

/// What an eligibility decision read: the order's version and the versions of the cases on it.
///
/// ``CaseRepository/createCase(_:)`` refuses to store a case whose basis is out of date, so two
/// concurrent applications can never both claim the last unit of a line.
public struct EligibilityBasis: Sendable, Hashable {
    /// The order the decision was about.
    public var orderID: String
    /// The version of the order snapshot it read.
    public var orderVersion: Int64
    /// Every case on the order it counted, with the version it read.
    public var caseVersions: [CaseNumber: Int64]
    /// The open disputes (``DisputeStatus/isOpen``) about the order's cases it read, when the
    /// decision derived the order's 维权中 from them (nil: not checked). A dispute saved with the
    /// basis is left out on both sides: it is the one changing.
    public var openDisputeIDs: Set<String>?

    /// Creates a basis from its parts.
    public init(orderID: String, orderVersion: Int64, caseVersions: [CaseNumber: Int64], openDisputeIDs: Set<String>? = nil) {
        self.orderID = orderID
        self.orderVersion = orderVersion
        self.caseVersions = caseVersions
        self.openDisputeIDs = openDisputeIDs
    }

    /// The basis of a decision that read `order` and `existingCases` (and `openDisputeIDs`, when given).
    public init(order: OrderSnapshot, existingCases: [AfterSaleCase], openDisputeIDs: [String]? = nil) {
        orderID = order.id
        orderVersion = order.version
        caseVersions = Dictionary(existingCases.filter { $0.orderID == order.id }.map { ($0.number, $0.version) },
                                  uniquingKeysWith: { first, _ in first })
        self.openDisputeIDs = openDisputeIDs.map(Set.init)
    }

    /// True when `stored`, the open disputes of the order now (the one being saved, `saving`, left
    /// out), are the ones the decision read.
    public func openDisputesMatch(_ stored: [String], saving: String?) -> Bool {
        guard let openDisputeIDs else { return true }
        return Set(stored.filter { $0 != saving }) == openDisputeIDs.subtracting(saving.map { [$0] } ?? [])
    }

    /// The stored names of the statuses a dispute is open in (for the stores' queries).
    public static let openDisputeStatuses: [String] = DisputeStatus.allCases.filter(\.isOpen).map(\.rawValue).sorted()
}

/// What ``CaseRepository/creationContext(orderID:idempotency:)`` read.
public struct CreationContext: Sendable, Hashable {
    /// The case an earlier call with the same key and fingerprint created; when set, nothing else was read.
    public var replay: CreatedCase?
    /// The order, nil when after-sales does not know it.
    public var order: OrderSnapshot?
    /// The cases already on the order. A repository may leave their timelines empty: deciding a
    /// new case reads their lines, amounts, status and versions, never their history.
    public var existingCases: [AfterSaleCase]

    /// Creates a context.
    public init(replay: CreatedCase?, order: OrderSnapshot?, existingCases: [AfterSaleCase]) {
        self.replay = replay
        self.order = order
        self.existingCases = existingCases
    }

    /// The basis to store the decided case with (nil when the order is unknown).
    public var basis: EligibilityBasis? { order.map { EligibilityBasis(order: $0, existingCases: existingCases) } }
}

/// A new case to store: the creation transition, the caller's idempotency key, what eligibility read.
public struct CaseCreation: Sendable, Hashable {
    /// What ``AfterSaleCase/open(_:number:order:existingCases:catalog:policy:by:at:)`` returned.
    public var transition: Transition
    /// The caller's key, principal and request fingerprint.
    public var idempotency: IdempotencyRecord
    /// What the eligibility decision read; nil stores without checking (seeding, imports).
    public var basis: EligibilityBasis?
    /// The refund order a refund-only case creates with itself.
    public var refund: RefundOrder?
    /// The feed events the creation appends.
    public var events: [OutboxEvent]
    /// The timer the new case starts with (the merchant's review), if any.
    public var timer: CaseTimer?

    /// Creates a case creation.
    public init(transition: Transition, idempotency: IdempotencyRecord, basis: EligibilityBasis?,
                refund: RefundOrder? = nil, events: [OutboxEvent] = [], timer: CaseTimer? = nil) {
        self.transition = transition
        self.idempotency = idempotency
        self.basis = basis
        self.refund = refund
        self.events = events
        self.timer = timer
    }
}

/// The result of ``CaseRepository/createCase(_:)``.
public struct CreatedCase: Sendable, Hashable {
    /// The case's number.
    public var number: CaseNumber
    /// True when an earlier call with the same key created the case and nothing was written now.
    public var replayed: Bool

    /// Creates a result.
    public init(number: CaseNumber, replayed: Bool) {
        self.number = number
        self.replayed = replayed
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
    /// The call's idempotency key and the response it answers with: stored in the same transaction,
    /// and replayed instead of the change when the key was spent already.
    public var response: IdempotentResponse?
    /// What becomes of the case's timer: a new wait arms one, the end of a wait clears it.
    public var timer: TimerChange

    /// Creates effects.
    public init(basis: EligibilityBasis? = nil, newRefund: RefundOrder? = nil, refundUpdate: RefundUpdate? = nil,
                events: [OutboxEvent] = [], trackingKeys: [TrackingKey] = [], response: IdempotentResponse? = nil,
                timer: TimerChange = .keep) {
        self.timer = timer
        self.basis = basis
        self.newRefund = newRefund
        self.refundUpdate = refundUpdate
        self.events = events
        self.trackingKeys = trackingKeys
        self.response = response
    }

    /// Nothing else.
    public static let none = CaseChangeEffects()
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

extension CaseRepository {
    /// Stores what ``decide(_:_:by:at:expectedVersion:policy:)`` returned, if the stored case is still
    /// at `expectedVersion` (compare-and-set); otherwise writes nothing.
    /// - Parameter expectedVersion: the version of the case the transition was decided on
    ///   (`transition.afterSale.version` must be one more).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the stored case moved on;
    ///   ``RepositoryError/caseNotFound(_:)`` when there is no such case.
    public func applyTransition(_ transition: Transition, expectedVersion: Int64) async throws {
        try await applyTransition(transition, expectedVersion: expectedVersion, effects: .none)
    }
}
