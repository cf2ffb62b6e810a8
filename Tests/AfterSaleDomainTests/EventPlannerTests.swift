import AfterSaleDomain
import Testing

@Suite("Feed events: what each change appends and carries")
struct EventPlannerTests {
    static let logistics = Principal.system("logistics")
    static let pickupAddress = Address(contactName: "Buyer b-1", phone: "139****1111", city: "Shanghai", street: "9 Home Street")

    /// The events of `transition` on the fixture order, with the order's views before and after computed
    /// from the ledger; checks ORDER_AFTER_SALE_STATE_CHANGED appears exactly when the view changed.
    static func plan(_ transition: Transition, before: AfterSaleCase?, refund: RefundOrder? = nil, order: OrderSnapshot = Fixture.order(),
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [DomainEvent] {
        let viewBefore = OrderAfterSaleView(try OrderLedger(order: order, cases: before.map { [$0] } ?? []))
        let viewAfter = OrderAfterSaleView(try OrderLedger(order: order, cases: [transition.afterSale]))
        let events = EventPlanner.events(for: transition, before: before, refund: refund, orderBefore: viewBefore, orderAfter: viewAfter)
        let changes = events.filter { $0.type == .orderAfterSaleStateChanged }
        #expect(changes.count == (viewAfter.differs(from: viewBefore) ? 1 : 0),
                "state changed events \(changes.count), view \(viewBefore.state) → \(viewAfter.state)", sourceLocation: sourceLocation)
        if let change = changes.first {
            #expect(events.last == change, "the order's state comes last", sourceLocation: sourceLocation)
            #expect(change.orderState == viewAfter, sourceLocation: sourceLocation)
        }
        // Every event is about the case after the change, at the change's time, by its actor.
        for event in events {
            #expect(event.caseNumber == transition.afterSale.number, sourceLocation: sourceLocation)
            #expect(event.orderID == "o-1" && event.shopID == "s-1" && event.buyerID == "b-1", sourceLocation: sourceLocation)
            #expect(event.kind == transition.afterSale.kind, sourceLocation: sourceLocation)
            #expect(event.fromStatus == before?.status && event.toStatus == transition.afterSale.status, sourceLocation: sourceLocation)
            #expect(event.caseVersion == transition.afterSale.version, sourceLocation: sourceLocation)
            #expect(event.actor == transition.trace.actor, sourceLocation: sourceLocation)
            #expect(event.occurredAt == transition.trace.at, sourceLocation: sourceLocation)
        }
        return events
    }

    /// The notifications as (role, recipient id, template key).
    static func recipients(_ event: DomainEvent?) -> [String] {
        (event?.notifications ?? []).map { "\($0.recipientRole.rawValue) \($0.recipientID) \($0.templateKey)" }
    }

    /// The refund order a transition's request creates, claimed and paid by a payment worker.
    static func paidRefund(for transition: Transition, at now: Timestamp) throws -> (requested: RefundOrder, paid: RefundOrder, action: Action) {
        let request = try #require(transition.refundRequest)
        let requested = RefundOrder.requested(request, order: Fixture.order(), policy: .standard, at: now)
        let claimed = requested.claimed(by: "payments", token: "t-1", leaseMs: 30_000, at: now)
        let decision = try claimed.reporting(RefundReport(worker: "payments", leaseToken: "t-1",
                                                          outcome: .succeeded(channelTransactionID: "ch-1", amount: request.amount, paidAt: now)),
                                             at: now, policy: .standard)
        guard case .applied(let paid, let action) = decision else {
            Issue.record("refund not applied: \(decision)")
            throw DomainError.duplicate(message: "refund not applied")
        }
        return (requested, paid, action)
    }

    @Test("return and refund: every transition's events, payloads and order state, in order")
    func returnAndRefund() throws {
        let order = Fixture.order()
        var now = Fixture.now

        // Created: the case, then the order goes NONE → IN_PROGRESS.
        let opened = try Fixture.open(.returnAndRefund, [("l-3", 2)], order: order, at: now)
        let created = try Self.plan(opened, before: nil)
        #expect(created.map(\.type) == [.caseCreated, .orderAfterSaleStateChanged])
        #expect(created[0].amount == .cny(1_980))
        #expect(created[0].note == "please")
        #expect(created[0].fromStatus == nil && created[0].toStatus == .pendingReview)
        #expect(created[0].actor == Fixture.buyer)
        #expect(Self.recipients(created[0]) == ["merchant s-1 aftersale.created.merchant", "buyer b-1 aftersale.created.buyer"])
        let params = try #require(created[0].notifications.first?.params)
        #expect(params["case_number"] == opened.afterSale.number.rawValue)
        #expect(params["order_id"] == "o-1")
        #expect(params["status"] == "pending_review")
        #expect(params["kind"] == "return_and_refund")
        #expect(params["amount"] == Money.cny(1_980).description)
        #expect(created[1].orderState?.state == .inProgress)
        #expect(created[1].orderState?.openCaseNumbers == [opened.afterSale.number])
        #expect(created[1].orderState?.mayComplete == false)
        #expect(created[1].orderState?.scope == nil)
        #expect(created[1].notifications.isEmpty)
        #expect(OrderAfterSaleView(try OrderLedger(order: order, cases: [])).state == .none)

        // Approved with a fee: the buyer hears the approved amount; the order page does not change.
        now = now.adding(milliseconds: 60_000)
        let approved = try opened.then(Fixture.approve(fee: .cny(500)), by: Fixture.merchant, at: now)
        let approval = try Self.plan(approved, before: opened.afterSale)
        #expect(approval.map(\.type) == [.caseApproved])
        #expect(approval[0].amount == .cny(1_480))
        #expect(approval[0].note == "ok")
        #expect(approval[0].occurredAt == now)
        #expect(Self.recipients(approval[0]) == ["buyer b-1 aftersale.approved.buyer"])
        #expect(approval[0].notifications.first?.params["amount"] == Money.cny(1_480).description)
        #expect(approval[0].notifications.first?.params["status"] == "awaiting_return")

        // Shipped back: the merchant hears, logistics learns the parcel and where it goes.
        let shipped = try approved.then(.shipReturn(carrier: "SF", trackingNumber: "SF123"), by: Fixture.buyer, at: now)
        let shipping = try Self.plan(shipped, before: approved.afterSale)
        #expect(shipping.map(\.type) == [.returnShipped])
        #expect(shipping[0].shipment?.trackingNumber == "SF123")
        #expect(shipping[0].shipment == shipped.afterSale.returnShipment)
        #expect(shipping[0].shipmentDestination == Fixture.returnAddress)
        #expect(shipping[0].pickup == nil)
        #expect(Self.recipients(shipping[0]) == ["merchant s-1 aftersale.return_shipped.merchant"])

        // In transit: recorded, nobody told.
        let moving = try shipped.then(.recordTracking(TrackingEvent(status: .inTransit, occurredAt: now, location: "Hangzhou"), trackingNumber: "SF123"),
                                      by: Self.logistics, at: now)
        let transit = try Self.plan(moving, before: shipped.afterSale)
        #expect(moving.afterSale.status == .returnShipped)
        #expect(transit.map(\.type) == [.trackingUpdated])
        #expect(transit[0].notifications.isEmpty)
        #expect(transit[0].note == "in_transit Hangzhou")
        #expect(transit[0].shipment?.events.count == 1)
        #expect(transit[0].shipmentDestination == Fixture.returnAddress)

        // Delivered: the case waits for the merchant, who is told.
        let deliveredAt = now.adding(milliseconds: 1_000)
        let delivered = try moving.then(.recordTracking(TrackingEvent(status: .delivered, occurredAt: deliveredAt), trackingNumber: nil),
                                        by: Self.logistics, at: deliveredAt)
        let delivery = try Self.plan(delivered, before: moving.afterSale)
        #expect(delivered.afterSale.status == .awaitingReceipt)
        #expect(delivery.map(\.type) == [.trackingUpdated])
        #expect(delivery[0].fromStatus == .returnShipped && delivery[0].toStatus == .awaitingReceipt)
        #expect(delivery[0].shipment?.events.map(\.status) == [.inTransit, .delivered])
        #expect(Self.recipients(delivery[0]) == ["merchant s-1 aftersale.return_delivered.merchant"])

        // Received: restock with the condition, then the refund is requested; still in progress.
        now = deliveredAt.adding(milliseconds: 60_000)
        let received = try delivered.then(.confirmReturnReceived(condition: .opened, note: "box opened", evidence: []), by: Fixture.merchant, at: now)
        let (requested, paid, caseAction) = try Self.paidRefund(for: received, at: now)
        let receipt = try Self.plan(received, before: delivered.afterSale, refund: requested)
        #expect(receipt.map(\.type) == [.returnReceived, .refundRequested])
        #expect(receipt[0].restockItems == [StockItem(orderLineID: "l-3", sku: "SOCK-1", quantity: 2, condition: .opened)])
        #expect(receipt[0].reserveItems.isEmpty)
        #expect(receipt[0].note == "box opened")
        #expect(Self.recipients(receipt[0]) == ["buyer b-1 aftersale.return_received.buyer"])
        #expect(receipt[1].refund == requested)
        #expect(receipt[1].refund?.status == .pending)
        #expect(receipt[1].amount == .cny(1_480))
        #expect(receipt[1].note == "")
        #expect(receipt[1].notifications.isEmpty)
        #expect(receipt.allSatisfy { $0.toStatus == .pendingRefund })

        // Paid: the refund, the completion, and the order goes IN_PROGRESS → RETURNED.
        #expect(caseAction == .refundSucceeded)
        now = now.adding(milliseconds: 5_000)
        let completed = try received.then(caseAction, by: Fixture.payments, at: now)
        let completion = try Self.plan(completed, before: received.afterSale, refund: paid)
        #expect(completion.map(\.type) == [.refundSucceeded, .caseCompleted, .orderAfterSaleStateChanged])
        #expect(completion[0].refund == paid)
        #expect(completion[0].refund?.channelTransactionID == "ch-1")
        #expect(completion[0].amount == .cny(1_480))
        #expect(completion[0].notifications.isEmpty)
        #expect(completion[1].amount == .cny(1_480))
        #expect(completion[1].toStatus == .completed)
        #expect(Self.recipients(completion[1]) == ["buyer b-1 aftersale.refunded.buyer", "merchant s-1 aftersale.refunded.merchant"])
        let state = try #require(completion[2].orderState)
        #expect(state.state == .returned)
        #expect(state.scope == .partial)
        #expect(state.mayComplete)
        #expect(state.openCaseNumbers.isEmpty)
        #expect(state.refundedTotal == .cny(1_480))
        #expect(state.orderID == "o-1")
    }

    @Test("a booked pickup tells logistics where to collect and where to deliver")
    func pickup() throws {
        let approved = try Fixture.open(.returnAndRefund, [("l-1", 1), ("l-2", 2)]).then(Fixture.approve(), by: Fixture.merchant)
        let window = Fixture.now.adding(days: 1)...Fixture.now.adding(days: 1).adding(milliseconds: 4 * 3_600_000)
        let booked = try approved.then(.bookPickup(carrier: "YT", address: Self.pickupAddress, window: window), by: Fixture.buyer)
        let events = try Self.plan(booked, before: approved.afterSale)
        #expect(events.map(\.type) == [.returnPickupRequested])
        let pickup = try #require(events[0].pickup)
        #expect(pickup.carrier == "YT")
        #expect(pickup.pickupAddress == Self.pickupAddress)
        #expect(pickup.destination == Fixture.returnAddress)
        #expect(pickup.window == window)
        #expect(pickup.items == [StockItem(orderLineID: "l-1", sku: "PHONE-1", quantity: 1),
                                 StockItem(orderLineID: "l-2", sku: "CASE-1", quantity: 2)])
        #expect(pickup.items.allSatisfy { $0.condition == nil })
        #expect(events[0].shipment?.method == .pickup)
        #expect(events[0].shipmentDestination == Fixture.returnAddress)
        #expect(Self.recipients(events[0]) == ["merchant s-1 aftersale.pickup_booked.merchant"])
    }

    @Test("an exchange's received return restocks what came back and reserves the replacement, with no refund")
    func exchangeReservation() throws {
        let shipped = try Fixture.open(.exchange, [("l-3", 1)])
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
        let received = try shipped.then(.confirmReturnReceived(condition: .intact, note: "", evidence: []), by: Fixture.merchant)
        #expect(received.refundRequest == nil)
        let events = try Self.plan(received, before: shipped.afterSale)
        #expect(events.map(\.type) == [.returnReceived])
        #expect(events[0].restockItems == [StockItem(orderLineID: "l-3", sku: "SOCK-1", quantity: 1, condition: .intact)])
        #expect(events[0].reserveItems == [StockItem(orderLineID: "l-3", sku: "SOCK-1", quantity: 1, condition: nil)])
        #expect(events[0].note == "")
        #expect(Self.recipients(events[0]) == ["buyer b-1 aftersale.return_received.buyer"])
        #expect(events[0].toStatus == .awaitingExchange)
    }

    @Test("a failed refund attempt is a refund event; out of attempts it also needs attention")
    func refundFailures() throws {
        let opened = try Fixture.open(.refundOnly, [("l-2", 1)], order: Fixture.order(status: .paid))
        let policy = RefundPolicy(maxAttempts: 2)
        let request = try #require(opened.refundRequest)
        var refund = RefundOrder.requested(request, order: Fixture.order(status: .paid), policy: policy, at: Fixture.now)
        var afterSale = opened.afterSale
        var now = Fixture.now
        for attempt in 1...2 {
            refund = refund.claimed(by: "payments", token: "t-\(attempt)", leaseMs: 30_000, at: now)
            let decision = try refund.reporting(RefundReport(worker: "payments", leaseToken: "t-\(attempt)",
                                                             outcome: .failed(code: "timeout", reason: "no answer", permanent: false)),
                                                at: now, policy: policy)
            guard case .applied(let next, let action) = decision else {
                Issue.record("failure not applied: \(decision)")
                return
            }
            refund = next
            let failed = try decide(afterSale, action, by: Fixture.payments, at: now, expectedVersion: afterSale.version)
            let events = try Self.plan(failed, before: afterSale, refund: refund, order: Fixture.order(status: .paid))
            #expect(events.first?.type == .refundFailed)
            #expect(events.first?.refund == refund)
            #expect(events.first?.amount == .cny(4_942))
            #expect(events.first?.note == "timeout: no answer")
            if attempt == 1 {
                #expect(events.map(\.type) == [.refundFailed])
            } else {
                #expect(events.map(\.type) == [.refundFailed, .refundNeedsAttention])
                #expect(events.last?.refund?.status == .needsAttention)
                #expect(events.last?.note == "timeout: no answer")
            }
            #expect(failed.afterSale.status == .pendingRefund)
            afterSale = failed.afterSale
            now = refund.nextAttemptAt ?? now
        }
    }

    @Test("a refund-only case's creation is approved at once: created, approved, its refund requested, the order in progress")
    func refundOnlyCreation() throws {
        let order = Fixture.order(status: .paid)
        let opened = try Fixture.open(.refundOnly, [("l-2", 1)], order: order)
        let refund = RefundOrder.requested(try #require(opened.refundRequest), order: order, policy: .standard, at: Fixture.now)
        let events = try Self.plan(opened, before: nil, refund: refund, order: order)
        #expect(events.map(\.type) == [.caseCreated, .caseApproved, .refundRequested, .orderAfterSaleStateChanged])
        #expect(events[1].amount == .cny(4_942))
        #expect(events[1].notifications.map(\.templateKey) == ["aftersale.approved.buyer"])
        #expect(events[2].refund == refund)
        #expect(events[2].amount == .cny(4_942))
        #expect(events[3].orderState?.state == .inProgress)
    }

    @Test("an agent's re-queue is a refund request with the agent's note")
    func requeued() throws {
        let opened = try Fixture.open(.refundOnly, [("l-2", 1)], order: Fixture.order(status: .paid))
        let refund = RefundOrder.requested(try #require(opened.refundRequest), order: nil, policy: .standard, at: Fixture.now)
        let events = EventPlanner.events(forRequeued: refund, of: opened.afterSale, by: Fixture.agent, note: "account reopened", at: Fixture.now)
        #expect(events.map(\.type) == [.refundRequested])
        #expect(events[0].note == "re-queued: account reopened")
        #expect(events[0].actor == Fixture.agent)
        #expect(events[0].refund == refund)
        #expect(events[0].amount == refund.amount)
        #expect(EventPlanner.events(forRequeued: refund, of: opened.afterSale, by: Fixture.agent, note: "", at: Fixture.now).first?.note == "re-queued")
    }

    @Test("a message notifies the other party; the platform's both")
    func messages() throws {
        let afterSale = try Fixture.open(.returnAndRefund, [("l-1", 1)]).afterSale
        func message(from sender: Principal) -> CaseMessage {
            CaseMessage(id: 7, caseNumber: afterSale.number, sender: sender, text: "hello", attachments: [], sentAt: Fixture.now)
        }
        let fromBuyer = EventPlanner.events(forMessage: message(from: Fixture.buyer), on: afterSale)
        #expect(fromBuyer.map(\.type) == [.messageAdded])
        #expect(fromBuyer[0].message == message(from: Fixture.buyer))
        #expect(fromBuyer[0].actor == Fixture.buyer)
        #expect(fromBuyer[0].fromStatus == .pendingReview && fromBuyer[0].toStatus == .pendingReview)
        #expect(fromBuyer[0].caseVersion == afterSale.version)
        #expect(Self.recipients(fromBuyer[0]) == ["merchant s-1 aftersale.message.merchant"])

        let fromMerchant = EventPlanner.events(forMessage: message(from: Fixture.merchant), on: afterSale)
        #expect(Self.recipients(fromMerchant.first) == ["buyer b-1 aftersale.message.buyer"])

        for sender in [Fixture.agent, Fixture.platform] {
            let events = EventPlanner.events(forMessage: message(from: sender), on: afterSale)
            #expect(Self.recipients(events.first) == ["buyer b-1 aftersale.message.buyer", "merchant s-1 aftersale.message.merchant"])
        }
    }

    @Test("with advanceReturnOnDelivery off, a delivered return is recorded but the case waits for the merchant")
    func deliveryDoesNotAdvance() throws {
        let shipped = try Fixture.open(.returnAndRefund, [("l-3", 1)])
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF123"), by: Fixture.buyer)
        let manual = PolicyConfig(tracking: TrackingPolicy(advanceReturnOnDelivery: false))
        let delivered = try decide(shipped.afterSale, .recordTracking(TrackingEvent(status: .delivered, occurredAt: Fixture.now), trackingNumber: "SF123"),
                                   by: Self.logistics, at: Fixture.now, expectedVersion: shipped.afterSale.version, policy: manual)
        #expect(delivered.afterSale.status == .returnShipped)
        #expect(delivered.afterSale.returnShipment?.events.map(\.status) == [.delivered])
        #expect(delivered.afterSale.version == shipped.afterSale.version + 1)
        #expect(delivered.trace.to == .returnShipped)
        let events = try Self.plan(delivered, before: shipped.afterSale)
        #expect(events.map(\.type) == [.trackingUpdated])
        #expect(events[0].toStatus == .returnShipped)
        #expect(events[0].notifications.isEmpty)

        // The merchant still moves it on.
        let received = try delivered.then(.confirmReturnReceived(condition: .intact, note: "", evidence: []), by: Fixture.merchant)
        #expect(received.afterSale.status == .pendingRefund)

        // The default policy advances the same event.
        let advanced = try decide(shipped.afterSale, .recordTracking(TrackingEvent(status: .delivered, occurredAt: Fixture.now), trackingNumber: "SF123"),
                                  by: Self.logistics, at: Fixture.now, expectedVersion: shipped.afterSale.version)
        #expect(advanced.afterSale.status == .awaitingReceipt)
    }
}
