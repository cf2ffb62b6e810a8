/// Decides which feed events a change appends, and what each carries (pure: the service stores
/// them in the transaction that makes the change).
///
/// One change may append several events, in this order: what happened to the case, the refund
/// event that goes with it, then the order's new after-sale state when the order page must change.
/// Every buyer- or merchant-visible status change carries its notifications.
public enum EventPlanner {
    /// The events of `transition` (a new case when `before` is nil).
    /// - Parameters:
    ///   - refund: the refund order the change created or moved, if any.
    ///   - orderBefore: the order's view before the change (nil when the order is unknown).
    ///   - orderAfter: the order's view after it.
    public static func events(for transition: Transition, before: AfterSaleCase?, refund: RefundOrder?,
                              orderBefore: OrderAfterSaleView?, orderAfter: OrderAfterSaleView?) -> [DomainEvent] {
        let after = transition.afterSale
        let trace = transition.trace
        let from = before?.status
        func event(_ type: EventType) -> DomainEvent {
            DomainEvent(type, about: after, from: from, by: trace.actor, at: trace.at)
        }
        var events: [DomainEvent] = []
        switch trace.step {
        case .create:
            var created = event(.caseCreated)
            created.amount = after.amounts.displayed
            created.note = after.buyerNote
            created.notifications = notify(after, [.merchant, .buyer], "created")
            events.append(created)
        case .autoApprove, .approve:
            var approved = event(.caseApproved)
            approved.amount = after.amounts.approved
            approved.note = transition.entries.last?.note ?? ""
            approved.notifications = notify(after, [.buyer], "approved")
            events.append(approved)
        case .reject:
            var rejected = event(.caseRejected)
            rejected.note = after.rejectionReason ?? ""
            rejected.notifications = notify(after, [.buyer], "rejected")
            events.append(rejected)
        case .withdraw:
            var withdrawn = event(.caseWithdrawn)
            withdrawn.note = transition.entries.last?.note ?? ""
            withdrawn.notifications = notify(after, [.merchant], "withdrawn")
            events.append(withdrawn)
        case .submitReturnShipment:
            var shipped = event(.returnShipped)
            shipped.shipment = after.returnShipment
            shipped.shipmentDestination = after.returnAddress
            shipped.notifications = notify(after, [.merchant], "return_shipped")
            events.append(shipped)
        case .bookPickup:
            var pickup = event(.returnPickupRequested)
            if let shipment = after.returnShipment, let address = shipment.pickupAddress {
                pickup.pickup = PickupInstruction(carrier: shipment.carrier, pickupAddress: address,
                                                  destination: after.returnAddress, window: shipment.pickupWindow,
                                                  items: items(of: after, condition: nil))
            }
            pickup.shipment = after.returnShipment
            pickup.shipmentDestination = after.returnAddress
            pickup.notifications = notify(after, [.merchant], "pickup_booked")
            events.append(pickup)
        case .trackingUpdate:
            var tracked = event(.trackingUpdated)
            let outbound = after.status == .exchanging || after.status == .repairedShipped
            tracked.shipment = outbound ? after.outboundShipment : after.returnShipment
            tracked.shipmentDestination = outbound ? nil : after.returnAddress
            tracked.note = transition.entries.last?.note ?? ""
            if from != after.status { tracked.notifications = notify(after, [.merchant], "return_delivered") }
            events.append(tracked)
        case .confirmReturnReceived:
            var received = event(.returnReceived)
            let condition = after.receipt?.condition
            received.restockItems = items(of: after, condition: condition)
            if after.kind == .exchange { received.reserveItems = items(of: after, condition: nil) }
            received.note = after.receipt?.note ?? ""
            received.notifications = notify(after, [.buyer], "return_received")
            events.append(received)
        case .shipReplacement:
            var shipped = event(.replacementShipped)
            shipped.shipment = after.outboundShipment
            shipped.notifications = notify(after, [.buyer], "replacement_shipped")
            events.append(shipped)
        case .confirmReplacementReceived:
            var completed = event(.caseCompleted)
            completed.notifications = notify(after, [.buyer, .merchant], "completed")
            events.append(completed)
        case .forceRefund:
            break  // the refund event below says it all, with the ruling
        case .refundSucceeded:
            break  // the refund event below, then the completion
        case .refundFailed, .refundRequeued:
            break
        case .close:
            var closed = event(.caseClosed)
            closed.note = transition.entries.last?.note ?? ""
            closed.notifications = notify(after, [.buyer, .merchant], "closed")
            events.append(closed)
        }
        if let refund {
            switch trace.step {
            case .refundSucceeded:
                var paid = event(.refundSucceeded)
                paid.refund = refund
                paid.amount = refund.refundedAmount
                events.append(paid)
                var completed = event(.caseCompleted)
                completed.amount = refund.refundedAmount
                completed.notifications = notify(after, [.buyer, .merchant], "refunded")
                events.append(completed)
            case .refundFailed:
                var failed = event(.refundFailed)
                failed.refund = refund
                failed.amount = refund.amount
                failed.note = refund.lastFailureReason.isEmpty ? refund.lastFailureCode : "\(refund.lastFailureCode): \(refund.lastFailureReason)"
                events.append(failed)
                if refund.status == .needsAttention {
                    var stuck = event(.refundNeedsAttention)
                    stuck.refund = refund
                    stuck.amount = refund.amount
                    stuck.note = failed.note
                    events.append(stuck)
                }
            default:
                var requested = event(.refundRequested)
                requested.refund = refund
                requested.amount = refund.amount
                requested.note = trace.step == .forceRefund ? (transition.entries.last?.note ?? "") : ""
                if trace.step == .forceRefund { requested.notifications = notify(after, [.buyer, .merchant], "refund_forced") }
                events.append(requested)
            }
        }
        if let orderAfter, orderAfter.differs(from: orderBefore) {
            var changed = event(.orderAfterSaleStateChanged)
            changed.orderState = orderAfter
            events.append(changed)
        }
        return events
    }

    /// The event of a message added to `afterSale`'s conversation, notifying the other side.
    public static func events(forMessage message: CaseMessage, on afterSale: AfterSaleCase) -> [DomainEvent] {
        var added = DomainEvent(.messageAdded, about: afterSale, from: afterSale.status, by: message.sender, at: message.sentAt)
        added.message = message
        let recipients: [ActorRole] = switch message.sender.role {
        case .buyer: [.merchant]
        case .merchant: [.buyer]
        case .agent, .platform, .system: [.buyer, .merchant]
        }
        added.notifications = notify(afterSale, recipients, "message")
        return [added]
    }

    /// The event of a refund an agent put back in the queue.
    public static func events(forRequeued refund: RefundOrder, of afterSale: AfterSaleCase, by agent: Principal,
                              note: String, at now: Timestamp) -> [DomainEvent] {
        var requested = DomainEvent(.refundRequested, about: afterSale, from: afterSale.status, by: agent, at: now)
        requested.refund = refund
        requested.amount = refund.amount
        requested.note = note.isEmpty ? "re-queued" : "re-queued: \(note)"
        return [requested]
    }

    /// The case's lines as stock movements.
    static func items(of afterSale: AfterSaleCase, condition: GoodsCondition?) -> [StockItem] {
        afterSale.lines.map { StockItem(orderLineID: $0.orderLineID, sku: $0.sku, quantity: $0.quantity, condition: condition) }
    }

    /// One notification per recipient, with the template `aftersale.<what>.<role>`.
    static func notify(_ afterSale: AfterSaleCase, _ recipients: [ActorRole], _ what: String) -> [NotificationInstruction] {
        var params = ["case_number": afterSale.number.rawValue, "order_id": afterSale.orderID,
                      "status": afterSale.status.rawValue, "kind": afterSale.kind.rawValue]
        params["amount"] = (afterSale.amounts.approved ?? (afterSale.kind.refundsMoney ? afterSale.amounts.computed : nil))?.description
        return recipients.map { role in
            NotificationInstruction(recipientRole: role, recipientID: role == .buyer ? afterSale.buyerID : afterSale.shop.id,
                                    templateKey: "aftersale.\(what).\(role.rawValue)", params: params)
        }
    }
}
