/// What created a refund request.
public enum RefundTrigger: String, Sendable, Hashable, CaseIterable {
    /// A refund-only case was created and approved automatically.
    case refundOnlyCreated = "refund_only_created"
    /// The merchant confirmed receipt of returned goods.
    case returnReceived = "return_received"
    /// The platform or an agent forced a refund.
    case forced
}

/// A refund the service must hand to the payment system, in the same transaction as the case change.
public struct RefundRequest: Sendable, Hashable {
    /// The case it pays.
    public var caseNumber: CaseNumber
    /// The order it refunds.
    public var orderID: String
    /// The shop that pays.
    public var shopID: String
    /// The buyer who receives the money.
    public var buyerID: String
    /// The amount: the case's approved amount (zero needs no payment and may be reported paid at once).
    public var amount: Money
    /// What created it.
    public var trigger: RefundTrigger

    /// A refund request for `afterSale`.
    public init(for afterSale: AfterSaleCase, amount: Money, trigger: RefundTrigger) {
        caseNumber = afterSale.number
        orderID = afterSale.orderID
        shopID = afterSale.shop.id
        buyerID = afterSale.buyerID
        self.amount = amount
        self.trigger = trigger
    }
}

/// The outcome of an accepted action: the case after it, what to record, and what to request.
public struct Transition: Sendable, Hashable {
    /// The case after the action (version + 1; version 1 for a new case).
    public var afterSale: AfterSaleCase
    /// The timeline entries the action added, oldest first.
    public var entries: [TimelineEntry]
    /// The trace record to store with the change.
    public var trace: TraceRecord
    /// A refund order to create with the change, if the action asks for money to move.
    public var refundRequest: RefundRequest?

    /// Creates a transition.
    public init(afterSale: AfterSaleCase, entries: [TimelineEntry], trace: TraceRecord, refundRequest: RefundRequest? = nil) {
        self.afterSale = afterSale
        self.entries = entries
        self.trace = trace
        self.refundRequest = refundRequest
    }
}

/// Decides an action on a case (状态机): checks who acts, the version they saw, the status the case
/// is in and the action's payload, and returns the next case with its timeline entry and trace record.
///
/// Pure: it reads no clock and writes nothing; a refused action throws and the case is unchanged.
/// - Parameters:
///   - current: the case as stored.
///   - action: what to do.
///   - principal: who does it.
///   - now: when (from a ``WallClock``).
///   - expectedVersion: the version the caller last saw; nil skips the check.
///   - policy: evidence limits for the merchant's receipt photos; whether a delivered return advances the case.
/// - Throws: ``DomainError/permissionDenied(_:)``, ``DomainError/versionConflict(expected:actual:)``,
///   ``DomainError/illegalTransition(action:caseNumber:from:)``, ``DomainError/invalidArgument(field:message:)``,
///   ``DomainError/serviceFeeOutOfRange(fee:computed:)``, ``DomainError/refundExceedsRefundable(requested:refundable:)``,
///   ``DomainError/duplicate(message:)``, checked in that order.
public func decide(_ current: AfterSaleCase, _ action: Action, by principal: Principal, at now: Timestamp,
                   expectedVersion: Int64? = nil, policy: PolicyConfig = .standard) throws(DomainError) -> Transition {
    let kind = action.kind
    try Permissions.authorize(principal, kind, on: current)
    if let expectedVersion, expectedVersion != current.version {
        throw .versionConflict(expected: expectedVersion, actual: current.version)
    }
    guard var target = Transitions.target(of: kind, kind: current.kind, from: current.status) else {
        throw .illegalTransition(action: kind, caseNumber: current.number, from: current.status)
    }
    var next = current
    var note = ""
    var details = ""
    var refund: RefundRequest?

    switch action {
    case .autoApprove(let returnAddress):
        try approve(&next, fee: nil)
        next.returnAddress = returnAddress
        note = "approved automatically: the merchant did not review in time"
        details = "approved=\(next.amounts.approved.map(\.description) ?? "n/a")"
    case .approve(let fee, let returnAddress, let text):
        try TextRules.optional(text, field: "note")
        guard let returnAddress else {
            throw .invalidArgument(field: "return_address", message: "is required to approve a \(current.kind.rawValue) case")
        }
        try TextRules.required(returnAddress.street, field: "return_address.street")
        try approve(&next, fee: fee)
        next.returnAddress = returnAddress
        note = text
        details = "fee=\(fee.map(\.description) ?? "none") approved=\(next.amounts.approved.map(\.description) ?? "n/a")"
    case .reject(let reason):
        try TextRules.required(reason, field: "rejection_reason")
        next.rejectionReason = reason
        note = reason
        details = "reason=\(reason)"
    case .withdraw(let text):
        try TextRules.optional(text, field: "note")
        note = text
    case .shipReturn(let carrier, let trackingNumber):
        try TextRules.code(carrier, field: "carrier")
        try TextRules.code(trackingNumber, field: "tracking_number")
        next.returnShipment = Shipment(direction: .return, method: .selfShip, carrier: carrier,
                                       trackingNumber: trackingNumber, shippedAt: now)
        note = "\(carrier) \(trackingNumber)"
        details = note
    case .bookPickup(let carrier, let address, let window):
        if !carrier.isEmpty { try TextRules.code(carrier, field: "carrier") }
        try TextRules.required(address.street, field: "pickup_address.street")
        next.returnShipment = Shipment(direction: .return, method: .pickup, carrier: carrier, trackingNumber: "",
                                       shippedAt: now, pickupAddress: address, pickupWindow: window)
        note = carrier.isEmpty ? "pickup booked" : "pickup booked with \(carrier)"
        details = note
    case .recordTracking(let event, let trackingNumber):
        let outbound = current.status == .exchanging || current.status == .repairedShipped
        guard var shipment = outbound ? current.outboundShipment : current.returnShipment else {
            throw .invalidArgument(field: "tracking_number", message: "case \(current.number) has no shipment to track")
        }
        if let trackingNumber, !trackingNumber.isEmpty {
            try TextRules.code(trackingNumber, field: "tracking_number")
            if shipment.trackingNumber.isEmpty {
                shipment.trackingNumber = trackingNumber  // a booked pickup learns its number from the carrier
            } else if shipment.trackingNumber != trackingNumber {
                throw .invalidArgument(field: "tracking_number", message: "case \(current.number) ships with \(shipment.trackingNumber), not \(trackingNumber)")
            }
        }
        // Carriers resend events; one status at one instant is one event, whatever the free text says.
        guard !shipment.events.contains(where: { $0.status == event.status && $0.occurredAt == event.occurredAt }) else {
            throw .duplicate(message: "tracking event \(event.status.rawValue) at \(event.occurredAt) already recorded on case \(current.number)")
        }
        shipment.events.append(event)
        if outbound { next.outboundShipment = shipment } else { next.returnShipment = shipment }
        if !outbound && event.status == .delivered && current.status == .returnShipped && policy.tracking.advanceReturnOnDelivery {
            target = .awaitingReceipt
        }
        note = [event.status.rawValue, event.location, event.detail].filter { !$0.isEmpty }.joined(separator: " ")
        details = "tracking=\(shipment.trackingNumber) " + note
    case .confirmReturnReceived(let condition, let text, let evidence):
        try TextRules.optional(text, field: "note")
        try policy.evidence.validate(evidence)
        next.receipt = ReturnReceipt(condition: condition, note: text, evidence: evidence, receivedAt: now)
        note = text.isEmpty ? (condition.map { "received: \($0.rawValue)" } ?? "received") : text
        details = "condition=\(condition?.rawValue ?? "not recorded")"
        if current.kind == .returnAndRefund {
            let amount = next.amounts.approved ?? next.amounts.computed
            if next.amounts.approved == nil { try approve(&next, fee: nil) }
            refund = RefundRequest(for: next, amount: amount, trigger: .returnReceived)
            details += " refund=\(amount)"
        }
    case .shipReplacement(let carrier, let trackingNumber, let text):
        try TextRules.code(carrier, field: "carrier")
        try TextRules.code(trackingNumber, field: "tracking_number")
        try TextRules.optional(text, field: "note")
        next.outboundShipment = Shipment(direction: .outbound, carrier: carrier, trackingNumber: trackingNumber, shippedAt: now)
        note = text.isEmpty ? "\(carrier) \(trackingNumber)" : text
        details = "\(carrier) \(trackingNumber)"
    case .confirmReplacementReceived(let text):
        try TextRules.optional(text, field: "note")
        note = text
    case .forceRefund(let requested, let ruling):
        try TextRules.required(ruling, field: "ruling")
        let ceiling = current.maximumRefund
        let amount = requested ?? (current.kind.refundsMoney ? (current.amounts.approved ?? current.amounts.computed) : ceiling)
        try ceiling.requireSameCurrency(amount)
        guard amount.minorUnits >= 0, amount.minorUnits <= ceiling.minorUnits else {
            throw .refundExceedsRefundable(requested: amount, refundable: ceiling)
        }
        // Spread the ruling's amount over what each line (and refunded shipping) stands for.
        let parts = try Allocation.allocate(amount, over: current.lines.map(\.claimAmount) + [current.amounts.shipping])
        for index in next.lines.indices { next.lines[index].approvedAmount = parts[index] }
        next.amounts.approved = amount
        refund = RefundRequest(for: next, amount: amount, trigger: .forced)
        note = ruling
        details = "amount=\(amount) ruling=\(ruling)"
    case .refundSucceeded:
        let paid = next.amounts.approved ?? next.amounts.computed
        next.amounts.refunded = paid
        for index in next.lines.indices {
            next.lines[index].refundedAmount = next.lines[index].approvedAmount ?? next.lines[index].refundAmount
        }
        note = "refunded \(paid)"
        details = note
    case .refundFailed(let reason):
        try TextRules.required(reason, field: "failure_reason")
        note = reason
        details = "reason=\(reason)"
    case .close(let reason):
        try TextRules.required(reason, field: "reason")
        note = reason
        details = "reason=\(reason)"
    }

    let entry = TimelineEntry(at: now, step: kind.step, actor: principal, from: current.status, to: target, note: note)
    next.status = target
    next.timeline.append(entry)
    next.version = current.version + 1
    next.updatedAt = now
    if target.isTerminal { next.finishedAt = now }
    let trace = TraceRecord(caseNumber: current.number, actor: principal, step: kind.step, from: current.status,
                            to: target, at: now, outcome: .applied, details: details)
    return Transition(afterSale: next, entries: [entry], trace: trace, refundRequest: refund)
}

/// Approves `afterSale`'s money: approved = computed − fee (0 ≤ fee ≤ computed), spread over the lines.
/// Exchange and repair compute nothing to refund, so their only valid fee is zero and nothing is approved.
private func approve(_ afterSale: inout AfterSaleCase, fee: Money?) throws(DomainError) {
    let computed = afterSale.amounts.computed
    let charged = fee ?? .zero(computed.currency)
    try computed.requireSameCurrency(charged)
    guard charged.minorUnits >= 0, charged.minorUnits <= computed.minorUnits else {
        throw .serviceFeeOutOfRange(fee: charged, computed: computed)
    }
    afterSale.amounts.serviceFee = fee
    guard afterSale.kind.refundsMoney else { return }
    let approved = try computed.subtracting(charged)
    let parts = try Allocation.allocate(approved, over: afterSale.lines.map(\.refundAmount) + [afterSale.amounts.shipping])
    for index in afterSale.lines.indices { afterSale.lines[index].approvedAmount = parts[index] }
    afterSale.amounts.approved = approved
}
