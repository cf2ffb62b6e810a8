/// Decides which feed events a change appends, and what each carries (pure: the service stores
/// them in the transaction that makes the change).
///
/// One change may append several events, in this order: what happened to the case, the refund
/// event that goes with it, then the order's new after-sale state when the order page must change.
/// Every buyer- or merchant-visible status change carries its notifications.
///
/// What each step publishes is a small piece in ``caseEvents`` and ``refundEvents``: a new step
/// (a timer, a ruling) adds a piece there rather than a branch here.
public enum EventPlanner {
    /// What a piece reads: the change and the case before and after it.
    public struct Change: Sendable {
        /// The decided transition.
        public let transition: Transition
        /// The case before (nil for a new case).
        public let before: AfterSaleCase?
        /// The refund order the change created or moved, if any.
        public let refund: RefundOrder?

        /// The case after the change.
        public var after: AfterSaleCase { transition.afterSale }
        /// The note of the change's timeline entry.
        public var note: String { transition.entries.last?.note ?? "" }

        /// An event of `type` about the changed case, by the change's actor at its time.
        public func event(_ type: EventType) -> DomainEvent {
            DomainEvent(type, about: after, from: before?.status, by: transition.trace.actor, at: transition.trace.at)
        }
    }

    /// A step's events about the case (before any refund event).
    public typealias Piece = @Sendable (Change) -> [DomainEvent]
    /// A step's events about the refund it created or moved.
    public typealias RefundPiece = @Sendable (Change, RefundOrder) -> [DomainEvent]

    /// The events of `transition` (a new case when `before` is nil).
    /// - Parameters:
    ///   - refund: the refund order the change created or moved, if any.
    ///   - orderBefore: the order's view before the change (nil when the order is unknown).
    ///   - orderAfter: the order's view after it.
    public static func events(for transition: Transition, before: AfterSaleCase?, refund: RefundOrder?,
                              orderBefore: OrderAfterSaleView?, orderAfter: OrderAfterSaleView?) -> [DomainEvent] {
        let change = Change(transition: transition, before: before, refund: refund)
        let step = transition.trace.step
        var events = caseEvents[step]?(change) ?? []
        if let refund { events += (refundEvents[step] ?? requested)(change, refund) }
        if let orderAfter, orderAfter.differs(from: orderBefore) {
            var changed = change.event(.orderAfterSaleStateChanged)
            changed.orderState = orderAfter
            events.append(changed)
        }
        return events
    }

    /// What each step publishes about the case. Steps without a piece publish nothing of their
    /// own: a forced refund, a payment report and a re-queue speak through their refund event.
    public static let caseEvents: [CaseStep: Piece] = [
        .create: { change in
            var created = change.event(.caseCreated)
            created.amount = change.after.amounts.displayed
            created.note = change.after.buyerNote
            created.notifications = notify(change.after, [.merchant, .buyer], "created")
            // A refund-only case is approved in the same step as its creation: consumers key on
            // approval, so it publishes CASE_APPROVED as any approval does.
            guard change.after.amounts.approved != nil else { return [created] }
            return [created] + approved(change)
        },
        .autoApprove: approved,
        .approve: approved,
        .reject: { change in
            var rejected = change.event(.caseRejected)
            rejected.note = change.after.rejectionReason ?? ""
            rejected.notifications = notify(change.after, [.buyer], "rejected")
            return [rejected]
        },
        .withdraw: { change in
            var withdrawn = change.event(.caseWithdrawn)
            withdrawn.note = change.note
            withdrawn.notifications = notify(change.after, [.merchant], "withdrawn")
            return [withdrawn]
        },
        .submitReturnShipment: { change in
            var shipped = change.event(.returnShipped)
            shipped.shipment = change.after.returnShipment
            shipped.shipmentDestination = change.after.returnAddress
            shipped.notifications = notify(change.after, [.merchant], "return_shipped")
            return [shipped]
        },
        .bookPickup: { change in
            let after = change.after
            var pickup = change.event(.returnPickupRequested)
            if let shipment = after.returnShipment, let address = shipment.pickupAddress {
                pickup.pickup = PickupInstruction(carrier: shipment.carrier, pickupAddress: address,
                                                  destination: after.returnAddress, window: shipment.pickupWindow,
                                                  items: items(of: after, condition: nil))
            }
            pickup.shipment = after.returnShipment
            pickup.shipmentDestination = after.returnAddress
            pickup.notifications = notify(after, [.merchant], "pickup_booked")
            return [pickup]
        },
        .trackingUpdate: { change in
            let after = change.after
            var tracked = change.event(.trackingUpdated)
            let outbound = after.status == .exchanging || after.status == .repairedShipped
            tracked.shipment = outbound ? after.outboundShipment : after.returnShipment
            tracked.shipmentDestination = outbound ? nil : after.returnAddress
            tracked.note = change.note
            if change.before?.status != after.status { tracked.notifications = notify(after, [.merchant], "return_delivered") }
            return [tracked]
        },
        .confirmReturnReceived: { change in
            let after = change.after
            var received = change.event(.returnReceived)
            received.restockItems = items(of: after, condition: after.receipt?.condition)
            if after.kind == .exchange { received.reserveItems = items(of: after, condition: nil) }
            received.note = after.receipt?.note ?? ""
            received.notifications = notify(after, [.buyer], "return_received")
            return [received]
        },
        .shipReplacement: { change in
            var shipped = change.event(.replacementShipped)
            shipped.shipment = change.after.outboundShipment
            shipped.notifications = notify(change.after, [.buyer], "replacement_shipped")
            return [shipped]
        },
        .confirmReplacementReceived: { change in
            var completed = change.event(.caseCompleted)
            completed.notifications = notify(change.after, [.buyer, .merchant], "completed")
            return [completed]
        },
        .close: { change in
            var closed = change.event(.caseClosed)
            closed.note = change.note
            closed.notifications = notify(change.after, [.buyer, .merchant], "closed")
            return [closed]
        },
    ]

    /// What each step publishes about its refund order; other steps that carry one publish
    /// ``requested``.
    public static let refundEvents: [CaseStep: RefundPiece] = [
        .refundSucceeded: { change, refund in
            var paid = change.event(.refundSucceeded)
            paid.refund = refund
            paid.amount = refund.refundedAmount
            var completed = change.event(.caseCompleted)
            completed.amount = refund.refundedAmount
            completed.notifications = notify(change.after, [.buyer, .merchant], "refunded")
            return [paid, completed]
        },
        .refundFailed: { change, refund in
            var failed = change.event(.refundFailed)
            failed.refund = refund
            failed.amount = refund.amount
            failed.note = refund.lastFailureReason.isEmpty ? refund.lastFailureCode : "\(refund.lastFailureCode): \(refund.lastFailureReason)"
            guard refund.status == .needsAttention else { return [failed] }
            var stuck = change.event(.refundNeedsAttention)
            stuck.refund = refund
            stuck.amount = refund.amount
            stuck.note = failed.note
            return [failed, stuck]
        },
    ]

    /// Approved by the merchant or automatically.
    static let approved: Piece = { change in
        var approved = change.event(.caseApproved)
        approved.amount = change.after.amounts.approved
        approved.note = change.note
        approved.notifications = notify(change.after, [.buyer], "approved")
        return [approved]
    }

    /// A refund order was created: the payment system may claim it. A forced refund carries the
    /// ruling and tells both parties.
    static let requested: RefundPiece = { change, refund in
        var requested = change.event(.refundRequested)
        requested.refund = refund
        requested.amount = refund.amount
        let forced = change.transition.trace.step == .forceRefund || change.transition.trace.step == .arbitrationRefund
        requested.note = forced ? change.note : ""
        if forced { requested.notifications = notify(change.after, [.buyer, .merchant], "refund_forced") }
        return [requested]
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
