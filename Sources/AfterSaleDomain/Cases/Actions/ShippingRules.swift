/// The buyer ships the goods back with a carrier and tracking number.
struct ShipReturnRule: ActionRule {
    let carrier: String
    let trackingNumber: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.code(carrier, field: "carrier")
        try TextRules.code(trackingNumber, field: "tracking_number")
        draft.next.returnShipment = Shipment(direction: .return, method: .selfShip, carrier: carrier,
                                             trackingNumber: trackingNumber, shippedAt: draft.now)
        draft.note = "\(carrier) \(trackingNumber)"
        draft.details = draft.note
    }
}

/// The buyer books a courier pickup; the carrier learns the tracking number later.
struct BookPickupRule: ActionRule {
    let carrier: String
    let address: Address
    let window: ClosedRange<Timestamp>?

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        if !carrier.isEmpty { try TextRules.code(carrier, field: "carrier") }
        try TextRules.required(address.street, field: "pickup_address.street")
        draft.next.returnShipment = Shipment(direction: .return, method: .pickup, carrier: carrier, trackingNumber: "",
                                             shippedAt: draft.now, pickupAddress: address, pickupWindow: window)
        draft.note = carrier.isEmpty ? "pickup booked" : "pickup booked with \(carrier)"
        draft.details = draft.note
    }
}

/// Logistics reports a carrier event on the shipment in transit (the return, or the replacement
/// on its way to the buyer); a return reported delivered may advance the case by policy.
struct RecordTrackingRule: ActionRule {
    let event: TrackingEvent
    let trackingNumber: String?

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        let current = draft.current
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
        if outbound { draft.next.outboundShipment = shipment } else { draft.next.returnShipment = shipment }
        if !outbound && event.status == .delivered && current.status == .returnShipped && draft.policy.tracking.advanceReturnOnDelivery {
            draft.target = .awaitingReceipt
        }
        draft.note = [event.status.rawValue, event.location, event.detail].filter { !$0.isEmpty }.joined(separator: " ")
        draft.details = "tracking=\(shipment.trackingNumber) " + draft.note
    }
}

/// The merchant (or its timer) confirms the returned goods arrived; a return and refund then
/// requests its refund.
struct ConfirmReturnReceivedRule: ActionRule {
    let condition: GoodsCondition?
    let note: String
    let evidence: [EvidenceRef]

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.optional(note, field: "note")
        try draft.policy.evidence.validate(evidence)
        draft.next.receipt = ReturnReceipt(condition: condition, note: note, evidence: evidence, receivedAt: draft.now)
        draft.note = note.isEmpty ? (condition.map { "received: \($0.rawValue)" } ?? "received") : note
        draft.details = "condition=\(condition?.rawValue ?? "not recorded")"
        if draft.current.kind == .returnAndRefund {
            let amount = draft.next.amounts.approved ?? draft.next.amounts.computed
            if draft.next.amounts.approved == nil { try draft.approveMoney(fee: nil) }
            draft.refund = RefundRequest(for: draft.next, amount: amount, trigger: .returnReceived)
            draft.details += " refund=\(amount)"
        }
    }
}

/// The merchant ships the replacement (exchange) or the repaired goods (repair).
struct ShipReplacementRule: ActionRule {
    let carrier: String
    let trackingNumber: String
    let note: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.code(carrier, field: "carrier")
        try TextRules.code(trackingNumber, field: "tracking_number")
        try TextRules.optional(note, field: "note")
        draft.next.outboundShipment = Shipment(direction: .outbound, carrier: carrier, trackingNumber: trackingNumber,
                                               shippedAt: draft.now)
        draft.note = note.isEmpty ? "\(carrier) \(trackingNumber)" : note
        draft.details = "\(carrier) \(trackingNumber)"
    }
}

/// The buyer (or its timer) confirms the replacement or repaired goods arrived.
struct ConfirmReplacementReceivedRule: ActionRule {
    let note: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.optional(note, field: "note")
        draft.note = note
    }
}
