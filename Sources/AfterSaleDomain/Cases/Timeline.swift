/// What happened in one step of a case: the vocabulary of timeline entries and trace records.
public enum CaseStep: String, Sendable, Hashable, CaseIterable {
    /// The buyer applied.
    case create
    /// The system approved without review (refund only, or the merchant stayed silent).
    case autoApprove = "auto_approve"
    /// The merchant approved, possibly with a service fee.
    case approve
    /// The merchant rejected with a reason.
    case reject
    /// The buyer withdrew the application.
    case withdraw
    /// The buyer shipped the goods back.
    case submitReturnShipment = "submit_return_shipment"
    /// The buyer booked a courier pickup.
    case bookPickup = "book_pickup"
    /// A carrier tracking event was recorded.
    case trackingUpdate = "tracking_update"
    /// The merchant (or its timer) confirmed receipt of the returned goods.
    case confirmReturnReceived = "confirm_return_received"
    /// The payment system reported the refund paid.
    case refundSucceeded = "refund_succeeded"
    /// The payment system reported a failed refund attempt.
    case refundFailed = "refund_failed"
    /// The merchant shipped the replacement or the repaired goods.
    case shipReplacement = "ship_replacement"
    /// The buyer (or its timer) confirmed receipt of the replacement or repaired goods.
    case confirmReplacementReceived = "confirm_replacement_received"
    /// The platform or an agent forced a refund.
    case forceRefund = "force_refund"
    /// A dispute's ruling refunded the ruled amount (it may reopen a rejected or completed case).
    case arbitrationRefund = "arbitration_refund"
    /// An agent put a refund that needed attention back in the queue (the case itself does not change).
    case refundRequeued = "refund_requeued"
    /// A timer or the platform closed the case.
    case close
    /// An agent or the platform saw the buyer's personal data unmasked (the case itself does not change).
    case revealPersonalData = "reveal_personal_data"
    /// The platform erased the buyer's personal data (the case itself does not change).
    case erasePersonalData = "erase_personal_data"
}

/// One step of a case's timeline (进度), shown on the detail page.
public struct TimelineEntry: Sendable, Hashable {
    /// When it happened.
    public var at: Timestamp
    /// What happened.
    public var step: CaseStep
    /// Who did it, in which role.
    public var actor: Principal
    /// The status before (nil for the creation step).
    public var from: CaseStatus?
    /// The status after (equal to `from` when the status did not change).
    public var to: CaseStatus
    /// A human-readable note: rejection reason, withdrawal note, ruling, tracking number...
    public var note: String

    /// Creates a timeline entry.
    public init(at: Timestamp, step: CaseStep, actor: Principal, from: CaseStatus?, to: CaseStatus, note: String = "") {
        self.at = at
        self.step = step
        self.actor = actor
        self.from = from
        self.to = to
        self.note = note
    }
}

/// The result of an action as a trace record states it.
public enum TraceOutcome: String, Sendable, Hashable, CaseIterable {
    /// Applied.
    case applied
    /// A repeat of something already applied; nothing changed.
    case duplicate
    /// Refused; nothing changed.
    case rejected
}

/// A trace record (追溯记录): who did what, in which role, when, from which status to which, and the result.
public struct TraceRecord: Sendable, Hashable {
    /// The case acted on.
    public var caseNumber: CaseNumber
    /// Who acted, in which role.
    public var actor: Principal
    /// What was done.
    public var step: CaseStep
    /// The status before (nil for the creation step).
    public var from: CaseStatus?
    /// The status after (equal to `from` when refused or unchanged).
    public var to: CaseStatus
    /// When.
    public var at: Timestamp
    /// The result.
    public var outcome: TraceOutcome
    /// Details: amounts, fees, reasons, the refusal message.
    public var details: String
    /// The refund order acted on, when the action created or moved one (or reported on one).
    public var refundID: String?
    /// The caller's trace id (`x-trace-id` metadata), empty when the call carried none.
    public var traceID: String

    /// Creates a trace record.
    public init(caseNumber: CaseNumber, actor: Principal, step: CaseStep, from: CaseStatus?, to: CaseStatus,
                at: Timestamp, outcome: TraceOutcome, details: String, refundID: String? = nil, traceID: String = "") {
        self.caseNumber = caseNumber
        self.actor = actor
        self.step = step
        self.from = from
        self.to = to
        self.at = at
        self.outcome = outcome
        self.details = details
        self.refundID = refundID
        self.traceID = traceID
    }

    /// The record of a refused action: the case is unchanged, the error says why.
    public static func refused(_ afterSale: AfterSaleCase, _ action: Action, by actor: Principal, at now: Timestamp,
                               error: DomainError) -> TraceRecord {
        TraceRecord(caseNumber: afterSale.number, actor: actor, step: action.kind.step, from: afterSale.status,
                    to: afterSale.status, at: now, outcome: .rejected, details: error.message)
    }
}
