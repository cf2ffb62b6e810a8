import AfterSaleDomain
import AfterSaleProto

extension PB {
    typealias RefundStatus = AfterSaleProto.RefundStatus
    typealias EventType = AfterSaleProto.EventType
    typealias Event = AfterSaleProto.Event
    typealias StockItem = AfterSaleProto.StockItem
    typealias Pickup = AfterSaleProto.PickupInstruction
    typealias Notification = AfterSaleProto.NotificationInstruction
    typealias OrderView = AfterSaleProto.OrderAfterSaleView
    typealias OrderState = AfterSaleProto.OrderAfterSaleState
    typealias Scope = AfterSaleProto.AfterSaleScope
    typealias LineState = AfterSaleProto.LineAfterSaleState
}

extension D {
    typealias RefundOrder = AfterSaleDomain.RefundOrder
    typealias RefundStatus = AfterSaleDomain.RefundStatus
    typealias EventType = AfterSaleDomain.EventType
    typealias Event = AfterSaleDomain.DomainEvent
    typealias StockItem = AfterSaleDomain.StockItem
    typealias OrderView = AfterSaleDomain.OrderAfterSaleView
}

// Proto ↔ domain conversions of the integration messages: refund orders, feed events, order views.
extension ProtoMapping {
    static func refundStatus(_ status: D.RefundStatus) -> PB.RefundStatus {
        switch status {
        case .pending: .pending
        case .claimed: .claimed
        case .retryScheduled: .retryScheduled
        case .succeeded: .succeeded
        case .needsAttention: .needsAttention
        }
    }

    static func refundStatus(_ status: PB.RefundStatus, field: String) throws(DomainError) -> D.RefundStatus {
        guard let mapped = D.RefundStatus.allCases.first(where: { refundStatus($0) == status }) else {
            throw .invalidArgument(field: field, message: "is not a refund status (\(status.rawValue))")
        }
        return mapped
    }

    static func eventType(_ type: D.EventType) -> PB.EventType {
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
        }
    }

    static func eventType(_ type: PB.EventType, field: String) throws(DomainError) -> D.EventType {
        guard let mapped = D.EventType.allCases.first(where: { eventType($0) == type }) else {
            throw .invalidArgument(field: field, message: "is not an event type (\(type.rawValue))")
        }
        return mapped
    }

    static func refundOrder(_ r: D.RefundOrder) -> PB.RefundOrder {
        var p = PB.RefundOrder()
        p.refundId = r.id
        p.caseNumber = r.caseNumber.rawValue
        p.orderId = r.orderID
        p.shopId = r.shopID
        p.buyerId = r.buyerID
        p.amount = money(r.amount)
        p.trigger = refundTrigger(r.trigger)
        p.status = refundStatus(r.status)
        p.paymentChannel = r.paymentChannel
        p.paymentTransactionId = r.paymentTransactionID
        p.attempts = Int32(clamping: r.attempts)
        p.maxAttempts = Int32(clamping: r.maxAttempts)
        p.nextAttemptAtUnixMs = r.nextAttemptAt?.millisecondsSinceEpoch ?? 0
        p.leaseOwner = r.lease?.owner ?? ""
        p.leaseExpiresAtUnixMs = r.lease?.expiresAt.millisecondsSinceEpoch ?? 0
        p.lastFailureCode = r.lastFailureCode
        p.lastFailureReason = r.lastFailureReason
        p.channelTransactionId = r.channelTransactionID ?? ""
        p.refundedAmount = money(r.refundedAmount)
        p.succeededAtUnixMs = r.succeededAt?.millisecondsSinceEpoch ?? 0
        p.createdAtUnixMs = r.createdAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = r.updatedAt.millisecondsSinceEpoch
        p.version = r.version
        return p
    }

    static func stockItem(_ item: D.StockItem) -> PB.StockItem {
        var p = PB.StockItem()
        p.orderLineId = item.orderLineID
        p.sku = item.sku
        p.quantity = Int32(clamping: item.quantity)
        p.condition = condition(item.condition)
        return p
    }

    static func orderView(_ view: D.OrderView) -> PB.OrderView {
        var p = PB.OrderView()
        p.orderId = view.orderID
        p.orderVersion = view.orderVersion
        p.state = switch view.state {
        case .none: PB.OrderState.none
        case .inProgress: .inProgress
        case .refunded: .refunded
        case .returned: .returned
        }
        p.scope = switch view.scope {
        case nil: PB.Scope.unspecified
        case .partial?: .partial
        case .whole?: .whole
        }
        p.mayComplete = view.mayComplete
        p.openCaseNumbers = view.openCaseNumbers.map(\.rawValue)
        p.refundedTotal = money(view.refundedTotal)
        p.refundableTotal = money(view.refundableTotal)
        p.lines = view.lines.map { line in
            var l = PB.LineState()
            l.orderLineId = line.orderLineID
            l.sku = line.sku
            l.purchasedQuantity = Int32(clamping: line.purchasedQuantity)
            l.openQuantity = Int32(clamping: line.openQuantity)
            l.completedQuantity = Int32(clamping: line.completedQuantity)
            l.availableQuantity = Int32(clamping: line.availableQuantity)
            l.paidAmount = money(line.paidAmount)
            l.refundedAmount = money(line.refundedAmount)
            l.refundableAmount = money(line.refundableAmount)
            return l
        }
        return p
    }

    /// The feed event as consumers receive it, without its cursor and id (the feed adds those).
    static func event(_ e: D.Event) -> PB.Event {
        var p = PB.Event()
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
            var i = PB.Pickup()
            i.carrier = pickup.carrier
            i.pickupAddress = address(pickup.pickupAddress)
            i.destinationAddress = pickup.destination.map(address)
            i.windowStartUnixMs = pickup.window?.lowerBound.millisecondsSinceEpoch ?? 0
            i.windowEndUnixMs = pickup.window?.upperBound.millisecondsSinceEpoch ?? 0
            i.items = pickup.items.map(stockItem)
            p.pickup = i
        }
        p.shipment = e.shipment.map { logistics($0, to: e.shipmentDestination) }
        p.notifications = e.notifications.map { n in
            var i = PB.Notification()
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
    static func outbox(_ e: D.Event) -> OutboxEvent {
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
