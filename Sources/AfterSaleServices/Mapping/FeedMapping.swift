import AfterSaleDomain
import AfterSaleProto

// Feed events between the domain and the wire.
extension ProtoMapping {
    static func eventType(_ type: AfterSaleDomain.EventType) -> AfterSaleProto.EventType {
        switch type {
        case .caseCreated: .caseCreated
        case .caseApproved: .caseApproved
        case .caseRejected: .caseRejected
        case .caseWithdrawn: .caseWithdrawn
        case .returnShipped: .returnShipped
        case .returnPickupRequested: .returnPickupRequested
        case .returnReceived: .returnReceived
        case .refundRequested: .refundRequested
        case .refundSucceeded: .refundSucceeded
        case .refundFailed: .refundFailed
        case .replacementShipped: .replacementShipped
        case .caseCompleted: .caseCompleted
        case .caseClosed: .caseClosed
        case .orderAfterSaleStateChanged: .orderAfterSaleStateChanged
        case .messageAdded: .messageAdded
        case .trackingUpdated: .trackingUpdated
        case .refundNeedsAttention: .refundNeedsAttention
        case .timerReminder: .timerReminder
        case .ticketOpened: .ticketOpened
        case .ticketAssigned: .ticketAssigned
        case .ticketUpdated: .ticketUpdated
        case .ticketSLAWarning: .ticketSlaWarning
        case .ticketSLABreached: .ticketSlaBreached
        case .ratingSubmitted: .ratingSubmitted
        case .ratingEdited: .ratingEdited
        case .disputeOpened: .disputeOpened
        case .disputeStatementAdded: .disputeStatementAdded
        case .disputeEvidenceRequested: .disputeEvidenceRequested
        case .disputeDeadlinePassed: .disputeDeadlinePassed
        case .disputeRuled: .disputeRuled
        case .disputeAppealed: .disputeAppealed
        case .disputeFinalized: .disputeFinalized
        }
    }

    static func eventType(_ type: AfterSaleProto.EventType, field: String) throws(DomainError) -> AfterSaleDomain.EventType {
        guard let mapped = AfterSaleDomain.EventType.allCases.first(where: { eventType($0) == type }) else {
            throw .invalidArgument(field: field, message: "is not an event type (\(type.rawValue))")
        }
        return mapped
    }

    static func stockItem(_ item: AfterSaleDomain.StockItem) -> AfterSaleProto.StockItem {
        var p = AfterSaleProto.StockItem()
        p.orderLineId = item.orderLineID
        p.sku = item.sku
        p.quantity = Int32(clamping: item.quantity)
        p.condition = condition(item.condition)
        return p
    }

    /// The feed event as consumers receive it, without its cursor and id (the feed adds those).
    static func event(_ e: AfterSaleDomain.DomainEvent) -> AfterSaleProto.Event {
        var p = AfterSaleProto.Event()
        p.eventType = eventType(e.type)
        p.occurredAtUnixMs = e.occurredAt.millisecondsSinceEpoch
        p.caseNumber = e.caseNumber?.rawValue ?? ""
        p.orderId = e.orderID
        p.shopId = e.shopID
        p.buyerId = e.buyerID
        p.kind = e.kind.map { kind($0) } ?? .unspecified
        p.fromStatus = status(e.fromStatus)
        p.toStatus = status(e.toStatus)
        p.caseVersion = e.caseVersion
        p.actorRole = e.actor.map { role($0.role) } ?? .unspecified
        p.actorId = e.actor?.id ?? ""
        p.amount = e.amount.map(money)
        p.note = e.note
        p.restockItems = e.restockItems.map(stockItem)
        p.reserveItems = e.reserveItems.map(stockItem)
        if let pickup = e.pickup {
            var i = AfterSaleProto.PickupInstruction()
            i.carrier = pickup.carrier
            i.pickupAddress = address(pickup.pickupAddress)
            i.destinationAddress = pickup.destination.map(address)
            i.windowStartUnixMs = pickup.window?.lowerBound.millisecondsSinceEpoch ?? 0
            i.windowEndUnixMs = pickup.window?.upperBound.millisecondsSinceEpoch ?? 0
            i.items = pickup.items.map(stockItem)
            p.pickup = i
        }
        // The feed is read by internal systems only (logistics books pickups from it; Operation.readEventFeed
        // admits system and platform callers), so it carries addresses in full; see PROTOCOL.md.
        p.shipment = e.shipment.map { logistics($0, to: e.shipmentDestination, disclosure: .full) }
        p.notifications = e.notifications.map { n in
            var i = AfterSaleProto.NotificationInstruction()
            i.recipientRole = role(n.recipientRole)
            i.recipientId = n.recipientID
            i.templateKey = n.templateKey
            i.params = n.params.sorted { $0.key < $1.key }.map { key, value in
                var kv = AfterSaleProto.KeyValue()
                kv.key = key
                kv.value = value
                return kv
            }
            return i
        }
        p.orderState = e.orderState.map(orderView)
        p.refund = e.refund.map(refundOrder)
        p.message = e.message.map(message)
        return p
    }

    /// The domain event ready for the outbox.
    static func outbox(_ e: AfterSaleDomain.DomainEvent) -> OutboxEvent {
        OutboxEvent(type: e.type, caseNumber: e.caseNumber, orderID: e.orderID, occurredAt: e.occurredAt,
                    payload: event(e).serializedBytes())
    }
}

/// Completes a stored feed payload on its way out: protobuf lets fields follow in any order (the
/// last value of a field wins), so appending `event_id` (field 1) and `cursor` (field 2) to the
/// stored bytes yields the full `Event` without decoding and re-encoding it.
enum FeedWire {
    /// The id of the event at `cursor`: `EV` and the cursor in 16 digits.
    static func eventID(_ cursor: Int64) -> String {
        let digits = String(cursor)
        return "EV" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// `payload` followed by fields 1 (event_id) and 2 (cursor).
    static func complete(_ payload: [UInt8], cursor: Int64) -> [UInt8] {
        let id = Array(eventID(cursor).utf8)
        var bytes = payload
        bytes.reserveCapacity(payload.count + id.count + 14)
        bytes.append(0x0A)  // field 1, length-delimited
        appendVarint(UInt64(id.count), to: &bytes)
        bytes.append(contentsOf: id)
        bytes.append(0x10)  // field 2, varint
        appendVarint(UInt64(bitPattern: cursor), to: &bytes)
        return bytes
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}
