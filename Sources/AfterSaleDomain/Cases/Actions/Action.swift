/// The actions that move a case, without their payloads: what the rules are keyed by.
public enum ActionKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A timer approves an application the merchant left unreviewed.
    case autoApprove = "auto_approve"
    /// The merchant approves, optionally deducting a service fee.
    case approve
    /// The merchant rejects with a written reason.
    case reject
    /// The buyer withdraws the application.
    case withdraw
    /// The buyer ships the goods back with a carrier and tracking number.
    case shipReturn = "ship_return"
    /// The buyer books a courier pickup for the return.
    case bookPickup = "book_pickup"
    /// Logistics reports a carrier tracking event.
    case recordTracking = "record_tracking"
    /// The merchant (or its timer) confirms the returned goods arrived.
    case confirmReturnReceived = "confirm_return_received"
    /// The merchant ships the replacement (exchange) or the repaired goods (repair).
    case shipReplacement = "ship_replacement"
    /// The buyer (or its timer) confirms receipt of the replacement or repaired goods.
    case confirmReplacementReceived = "confirm_replacement_received"
    /// The platform or an agent rules for the buyer and forces a refund.
    case forceRefund = "force_refund"
    /// A dispute's ruling for the buyer (or a mediated amount) refunds the ruled amount; it may
    /// reopen a rejected case or a completed exchange or repair (the only terminal statuses it may).
    case arbitrationRefund = "arbitration_refund"
    /// The payment system reports the refund paid.
    case refundSucceeded = "refund_succeeded"
    /// The payment system reports a failed refund attempt; the refund stays pending.
    case refundFailed = "refund_failed"
    /// A timer or the platform closes the case without completion.
    case close

    /// The roles allowed to take this action on a case of any kind (see ``allowedRoles(on:)``).
    public var allowedRoles: Set<ActorRole> {
        switch self {
        case .autoApprove, .recordTracking, .refundSucceeded, .refundFailed: [.system]
        case .approve, .reject, .shipReplacement: [.merchant]
        case .withdraw, .shipReturn, .bookPickup: [.buyer]
        case .confirmReturnReceived: [.merchant, .system]
        case .confirmReplacementReceived: [.buyer, .system]
        case .forceRefund, .arbitrationRefund: [.agent, .platform]
        case .close: [.system, .agent, .platform]
        }
    }

    /// The roles allowed to take this action on a case of `kind`: ``allowedRoles``, and for the
    /// rejection of a refund-only case agents and the platform too. A refund-only case waits for
    /// review only when abuse control holds it for a person (§13.17): whoever reviews it, the
    /// agent working its manual-review ticket, the platform or the shop's merchant, may refuse it,
    /// as they may approve it with a forced refund.
    public func allowedRoles(on kind: AfterSaleKind) -> Set<ActorRole> {
        self == .reject && kind == .refundOnly ? allowedRoles.union([.agent, .platform]) : allowedRoles
    }

    /// The roles allowed to take this action on a case of some kind.
    public var rolesOnAnyKind: Set<ActorRole> {
        AfterSaleKind.allCases.reduce(into: Set<ActorRole>()) { $0.formUnion(allowedRoles(on: $1)) }
    }

    /// The step timeline entries and trace records name this action by.
    public var step: CaseStep {
        switch self {
        case .autoApprove: .autoApprove
        case .approve: .approve
        case .reject: .reject
        case .withdraw: .withdraw
        case .shipReturn: .submitReturnShipment
        case .bookPickup: .bookPickup
        case .recordTracking: .trackingUpdate
        case .confirmReturnReceived: .confirmReturnReceived
        case .shipReplacement: .shipReplacement
        case .confirmReplacementReceived: .confirmReplacementReceived
        case .forceRefund: .forceRefund
        case .arbitrationRefund: .arbitrationRefund
        case .refundSucceeded: .refundSucceeded
        case .refundFailed: .refundFailed
        case .close: .close
        }
    }

    /// The action as a verb phrase for messages, e.g. `ship return`.
    public var verb: String {
        switch self {
        case .autoApprove: "auto-approve"
        case .approve: "approve"
        case .reject: "reject"
        case .withdraw: "withdraw"
        case .shipReturn: "ship return"
        case .bookPickup: "book pickup"
        case .recordTracking: "record tracking"
        case .confirmReturnReceived: "confirm return received"
        case .shipReplacement: "ship replacement"
        case .confirmReplacementReceived: "confirm replacement received"
        case .forceRefund: "force refund"
        case .arbitrationRefund: "refund by arbitration"
        case .refundSucceeded: "record refund success"
        case .refundFailed: "record refund failure"
        case .close: "close"
        }
    }

    /// The snake_case name.
    public var description: String { rawValue }
}

/// An action on a case with what it carries (fee, reason, tracking number...).
public enum Action: Sendable, Hashable {
    /// A timer approves an application the merchant left unreviewed; the shop's default return address, if known.
    case autoApprove(returnAddress: Address?)
    /// The merchant approves; `serviceFee` (0 ≤ fee ≤ computed) lowers the refund; kinds that return
    /// goods need the `returnAddress` the buyer ships to.
    case approve(serviceFee: Money?, returnAddress: Address?, note: String)
    /// The merchant rejects; `reason` is required and shown to the buyer.
    case reject(reason: String)
    /// The buyer withdraws the application.
    case withdraw(note: String)
    /// The buyer ships the goods back; both fields required.
    case shipReturn(carrier: String, trackingNumber: String)
    /// The buyer books a courier pickup at `address`, optionally in a time window and with a preferred carrier.
    case bookPickup(carrier: String, address: Address, window: ClosedRange<Timestamp>?)
    /// Logistics reports a tracking event; `trackingNumber` binds a booked pickup's number when it first appears.
    case recordTracking(TrackingEvent, trackingNumber: String?)
    /// The merchant confirms the goods arrived and records their condition (nil when a timer confirms).
    case confirmReturnReceived(condition: GoodsCondition?, note: String, evidence: [EvidenceRef])
    /// The merchant ships the replacement or repaired goods; both fields required.
    case shipReplacement(carrier: String, trackingNumber: String, note: String)
    /// The buyer confirms receipt of the replacement or repaired goods.
    case confirmReplacementReceived(note: String)
    /// The platform or an agent forces a refund of `amount` (nil: the approved or computed amount,
    /// or the goods' value for exchange and repair); `ruling` is required.
    case forceRefund(amount: Money?, ruling: String)
    /// A dispute's ruling refunds `amount` (at most what the case may refund); `ruling` is required.
    case arbitrationRefund(amount: Money, disputeID: String, ruling: String)
    /// The payment system reports the refund paid.
    case refundSucceeded
    /// The payment system reports a failed attempt.
    case refundFailed(reason: String)
    /// A timer or the platform closes the case; `reason` is required.
    case close(reason: String)

    /// The action without its payload.
    public var kind: ActionKind {
        switch self {
        case .autoApprove: .autoApprove
        case .approve: .approve
        case .reject: .reject
        case .withdraw: .withdraw
        case .shipReturn: .shipReturn
        case .bookPickup: .bookPickup
        case .recordTracking: .recordTracking
        case .confirmReturnReceived: .confirmReturnReceived
        case .shipReplacement: .shipReplacement
        case .confirmReplacementReceived: .confirmReplacementReceived
        case .forceRefund: .forceRefund
        case .arbitrationRefund: .arbitrationRefund
        case .refundSucceeded: .refundSucceeded
        case .refundFailed: .refundFailed
        case .close: .close
        }
    }
}

extension Action {
    /// The rule that applies this action's payload in ``decide(_:_:by:at:expectedVersion:policy:)``.
    var rule: any ActionRule {
        switch self {
        case .autoApprove(let returnAddress): AutoApproveRule(returnAddress: returnAddress)
        case .approve(let fee, let returnAddress, let note): ApproveRule(serviceFee: fee, returnAddress: returnAddress, note: note)
        case .reject(let reason): RejectRule(reason: reason)
        case .withdraw(let note): WithdrawRule(note: note)
        case .shipReturn(let carrier, let trackingNumber): ShipReturnRule(carrier: carrier, trackingNumber: trackingNumber)
        case .bookPickup(let carrier, let address, let window): BookPickupRule(carrier: carrier, address: address, window: window)
        case .recordTracking(let event, let trackingNumber): RecordTrackingRule(event: event, trackingNumber: trackingNumber)
        case .confirmReturnReceived(let condition, let note, let evidence):
            ConfirmReturnReceivedRule(condition: condition, note: note, evidence: evidence)
        case .shipReplacement(let carrier, let trackingNumber, let note):
            ShipReplacementRule(carrier: carrier, trackingNumber: trackingNumber, note: note)
        case .confirmReplacementReceived(let note): ConfirmReplacementReceivedRule(note: note)
        case .forceRefund(let amount, let ruling): ForceRefundRule(amount: amount, ruling: ruling)
        case .arbitrationRefund(let amount, let disputeID, let ruling): ArbitrationRefundRule(amount: amount, disputeID: disputeID, ruling: ruling)
        case .refundSucceeded: RefundSucceededRule()
        case .refundFailed(let reason): RefundFailedRule(reason: reason)
        case .close(let reason): CloseRule(reason: reason)
        }
    }
}
