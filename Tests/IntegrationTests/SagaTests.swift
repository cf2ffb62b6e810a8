import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCWire
import Testing

// Issue 4, section 4.1: the whole saga of each kind of after-sale, as the platform's systems live
// it. The order system upserts the order and follows its after-sale state; the buyer, the merchant
// and the logistics system move the case; a payment worker pays the refund; and four consumers
// (inventory, logistics, notification, order system) follow the event feed, each with its filter.

/// The consumers of the platform, each subscribed live from the start of the feed.
private struct PlatformConsumers {
    static let inventoryTypes: [AfterSaleProto.EventType] = [.returnReceived]
    static let logisticsTypes: [AfterSaleProto.EventType] = [.returnPickupRequested, .returnShipped, .replacementShipped, .trackingUpdated]
    static let orderSystemTypes: [AfterSaleProto.EventType] = [.orderAfterSaleStateChanged]

    let inventory: EventCollector
    let logistics: EventCollector
    let notification: EventCollector
    let orderSystem: EventCollector

    init(_ f: IntegrationFixture) throws {
        inventory = try f.consumer("inventory", types: Self.inventoryTypes)
        logistics = try f.consumer("logistics", types: Self.logisticsTypes)
        notification = try f.consumer("notification")
        orderSystem = try f.consumer("order-system", types: Self.orderSystemTypes)
    }

    /// Waits until each consumer has received everything the feed holds for its filter, then checks
    /// that it received exactly that, in feed order.
    func expectInSync(with f: IntegrationFixture, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let feed = try await f.feed(consumer: "saga-audit")
        for (consumer, types) in [(inventory, Self.inventoryTypes), (logistics, Self.logisticsTypes),
                                  (notification, [AfterSaleProto.EventType]()), (orderSystem, Self.orderSystemTypes)] {
            let wanted = feed.filter { types.isEmpty || types.contains($0.eventType) }.map(\.eventId)
            let arrived = await consumer.wait(timeout: .seconds(5)) { $0.count >= wanted.count }
            #expect(arrived, "\(consumer.name) got \(consumer.events.count) of \(wanted.count) events", sourceLocation: sourceLocation)
            #expect(consumer.events.map(\.eventId) == wanted, "\(consumer.name) saw exactly its part of the feed", sourceLocation: sourceLocation)
        }
    }
}

/// The lifecycle events of a case (order-state changes left out).
private func lifecycle(_ events: [Event], _ caseNumber: String) -> [Event] {
    caseEvents(events, caseNumber).filter { $0.eventType != .orderAfterSaleStateChanged }
}

/// Every case event names the case's order, shop, buyer and kind, an actor and a version; versions
/// follow commit order; each notification goes to the case's buyer or shop; and every transaction
/// that changed the case's status told someone.
private func expectEnvelope(_ events: [Event], order: TestOrder, kind: AfterSaleProto.AfterSaleKind,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    for e in events {
        #expect(e.orderId == order.id && e.shopId == order.shop && e.buyerId == order.buyer && e.kind == kind,
                "\(e.eventType): \(e.orderId) \(e.shopId) \(e.buyerId) \(e.kind)", sourceLocation: sourceLocation)
        #expect(e.caseVersion > 0 && e.actorRole != .unspecified && e.occurredAtUnixMs > 0, "\(e.eventType)", sourceLocation: sourceLocation)
        for n in e.notifications {
            let addressed = (n.recipientRole == .buyer && n.recipientId == order.buyer) || (n.recipientRole == .merchant && n.recipientId == order.shop)
            #expect(addressed && n.templateKey.hasPrefix("aftersale."), "\(e.eventType): \(n)", sourceLocation: sourceLocation)
        }
    }
    #expect(zip(events, events.dropFirst()).allSatisfy { $0.caseVersion <= $1.caseVersion }, "\(events.map(\.caseVersion))",
            sourceLocation: sourceLocation)
    for (version, group) in Dictionary(grouping: events, by: \.caseVersion) where group.contains(where: { $0.fromStatus != $0.toStatus }) {
        #expect(group.contains { !$0.notifications.isEmpty },
                "version \(version) (\(group.map(\.eventType))) changed the status but told nobody", sourceLocation: sourceLocation)
    }
}

/// The order's view as the order page shows it.
private func expectView(_ view: AfterSaleProto.OrderAfterSaleView, _ state: AfterSaleProto.OrderAfterSaleState, open: [String],
                        scope: AfterSaleProto.AfterSaleScope? = nil, refunded: Int64? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(view.state == state, sourceLocation: sourceLocation)
    #expect(view.openCaseNumbers == open, sourceLocation: sourceLocation)
    #expect(view.mayComplete == open.isEmpty, sourceLocation: sourceLocation)
    if let scope { #expect(view.scope == scope, sourceLocation: sourceLocation) }
    if let refunded { #expect((view.refundedTotal?.amountMinor ?? 0) == refunded, sourceLocation: sourceLocation) }
}

/// The order system's view of the order's state changes caused by `caseNumber`, in order.
private func states(_ consumer: EventCollector, order: String) -> [AfterSaleProto.OrderAfterSaleState] {
    orderStateEvents(consumer.events, order: order).map { $0.orderState?.state ?? .unspecified }
}

extension Integration {
    @Suite("Sagas: every kind of after-sale end to end, through every system of the platform")
    struct SagaTests {
        @Test("refund only: upserted, created with its refund order, claimed, paid, completed; the order shows REFUNDED (whole)")
        func refundOnlySaga() async throws {
            try await IntegrationFixture.run { f in
                let consumers = try PlatformConsumers(f)
                let order = TestOrder(id: "o-saga-ro", status: .paid)
                let snapshot = try order.snapshot()
                let totalPaid = try #require(snapshot.totalPaid).amountMinor
                #expect(try await f.upsert(order).outcome == .applied)
                expectView(try await f.orderState(order.id), .none, open: [])

                // The buyer asks for the whole order back before it ships: approved at once, refund order created.
                let c = try await f.create(Requests.create(order: order.id, kind: .refundOnly, reason: "no_longer_wanted",
                                                           lines: [("l-1", 1), ("l-2", 2), ("l-3", 3)]))
                #expect(c.status == .pendingRefund)
                #expect(c.coversWholeOrder)
                #expect(c.shippingRefund?.amountMinor == order.shippingFen, "the whole order: shipping is refunded too")
                #expect(c.computedAmount?.amountMinor == totalPaid)
                #expect(c.approvedAmount == c.computedAmount)
                let refund = try #require(c.refund)
                #expect(refund.refundId == expectedRefundID(c.caseNumber))
                #expect(refund.caseNumber == c.caseNumber && refund.orderId == order.id && refund.shopId == "s-1" && refund.buyerId == "b-1")
                #expect(refund.status == .pending)
                #expect(refund.trigger == .refundOnlyCreated)
                #expect(refund.amount == c.approvedAmount)
                #expect(refund.paymentChannel == "alipay")
                #expect(refund.paymentTransactionId == "tx-o-saga-ro")
                #expect(refund.attempts == 0)
                #expect(refund.maxAttempts == 3)
                var view = try await f.orderState(order.id)
                expectView(view, .inProgress, open: [c.caseNumber])
                #expect(view.lines.allSatisfy { $0.openQuantity == $0.purchasedQuantity && $0.availableQuantity == 0 })
                let opened = await consumers.orderSystem.waitFor(.orderAfterSaleStateChanged, case: c.caseNumber)
                #expect(opened?.orderState?.state == .inProgress)
                #expect(opened?.orderState?.openCaseNumbers == [c.caseNumber])

                // The payment system: a worker on another channel gets nothing; the Alipay worker gets the refund.
                let channel = FakeChannel()
                let wechat = PaymentWorker(id: "wechat-worker", bridge: f.refundBridge, channel: channel)
                #expect(try await wechat.claim(channels: ["wechat_pay"]).isEmpty)
                let worker = PaymentWorker(id: "alipay-worker-1", bridge: f.refundBridge, channel: channel)
                let before = nowUnixMs()
                let leases = try await worker.claim(max: 10, leaseMs: 5_000, channels: ["alipay"])
                #expect(leases.count == 1)
                let lease = try #require(leases.first)
                #expect(lease.refund?.refundId == refund.refundId)
                #expect(lease.refund?.status == .claimed)
                #expect(lease.refund?.attempts == 1)
                #expect(lease.refund?.leaseOwner == "alipay-worker-1")
                #expect(!lease.leaseToken.isEmpty)
                #expect(lease.leaseExpiresAtUnixMs >= before + 5_000 && lease.leaseExpiresAtUnixMs <= nowUnixMs() + 5_000 + 5)
                let report = try await worker.pay(lease)
                #expect(report.disposition == .applied)
                let paid = try #require(report.refund)
                #expect(paid.status == .succeeded)
                #expect(paid.refundedAmount == refund.amount)
                #expect(paid.channelTransactionId == (await channel.paid)[refund.refundId]?.transaction)

                // The case completed; the order shows a whole refund and may complete.
                let done = try await f.getCase(c.caseNumber)
                #expect(done.status == .completed)
                #expect(done.finishedAtUnixMs > 0)
                #expect(done.refundedAmount == refund.amount)
                #expect(done.refund == paid)
                view = try await f.orderState(order.id)
                expectView(view, .refunded, open: [], scope: .whole, refunded: totalPaid)
                #expect((view.refundableTotal?.amountMinor ?? -1) == 0)
                for (line, ordered) in zip(view.lines, snapshot.lines) {
                    #expect(line.completedQuantity == ordered.quantity && line.openQuantity == 0 && line.availableQuantity == 0, "\(line.orderLineId)")
                    #expect(line.refundedAmount == ordered.paidAmount, "\(line.orderLineId)")
                    #expect((line.refundableAmount?.amountMinor ?? -1) == 0, "\(line.orderLineId)")
                }

                // What each consumer saw.
                #expect(await consumers.notification.waitFor(.caseCompleted, case: c.caseNumber) != nil)
                #expect(await consumers.orderSystem.wait { orderStateEvents($0, order: order.id).count >= 2 })
                #expect(states(consumers.orderSystem, order: order.id) == [.inProgress, .refunded])
                #expect(orderStateEvents(consumers.orderSystem.events, order: order.id).last?.orderState == view,
                        "the order system's last event is the view the bridge serves")
                let events = lifecycle(consumers.notification.events, c.caseNumber)
                #expect(events.map(\.eventType).filter { $0 != .caseApproved } == [.caseCreated, .refundRequested, .refundSucceeded, .caseCompleted],
                        "\(events.map(\.eventType))")
                expectEnvelope(events, order: order, kind: .refundOnly)
                let requested = try #require(events.first { $0.eventType == .refundRequested })
                #expect(requested.refund?.refundId == refund.refundId)
                #expect(requested.refund?.status == .pending)
                #expect(requested.amount == refund.amount)
                let succeeded = try #require(events.first { $0.eventType == .refundSucceeded })
                #expect(succeeded.refund?.status == .succeeded)
                #expect(succeeded.refund?.channelTransactionId == paid.channelTransactionId)
                #expect(succeeded.actorRole == .system && succeeded.actorId == "alipay-worker-1")
                #expect(succeeded.notifications.contains { $0.recipientRole == .buyer }
                        || events.first { $0.eventType == .caseCompleted }?.notifications.contains { $0.recipientRole == .buyer } == true,
                        "the buyer hears that the money is back")
                #expect(consumers.inventory.events.isEmpty, "nothing came back to stock")
                #expect(consumers.logistics.events.isEmpty, "nothing shipped")
                try await consumers.expectInSync(with: f)
            }
        }

        @Test("return and refund with a courier pickup: approved with a fee, pickup booked, tracked to delivery, received, refunded; RETURNED (partial)")
        func returnAndRefundSaga() async throws {
            try await IntegrationFixture.run { f in
                let consumers = try PlatformConsumers(f)
                let order = TestOrder(id: "o-saga-rr")
                let snapshot = try order.snapshot()
                try await f.upsert(order)

                var c = try await f.create(Requests.create(order: order.id, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 2)]))
                #expect(c.status == .pendingReview)
                var view = try await f.orderState(order.id)
                expectView(view, .inProgress, open: [c.caseNumber])
                #expect(view.lines.first { $0.orderLineId == "l-3" }?.openQuantity == 2)
                #expect(view.lines.first { $0.orderLineId == "l-3" }?.availableQuantity == 1)
                let computed = try #require(c.computedAmount).amountMinor

                // The merchant approves with a 1.00 service fee.
                c = try #require(try await f.afterSale.reviewAfterSale(Requests.approve(c, fee: 100), options: Callers.merchant()).afterSale)
                #expect(c.status == .awaitingReturn)
                #expect(c.approvedAmount?.amountMinor == computed - 100)
                let approved = await consumers.notification.waitFor(.caseApproved, case: c.caseNumber)
                #expect(approved?.amount == c.approvedAmount)
                #expect(approved?.actorRole == .merchant && approved?.actorId == "s-1")
                #expect(approved?.notifications.contains { $0.recipientRole == .buyer && $0.recipientId == "b-1" && $0.templateKey.contains("approved") } == true,
                        "\(approved?.notifications ?? [])")
                expectView(try await f.orderState(order.id), .inProgress, open: [c.caseNumber])

                // The buyer books a pickup: logistics gets the instruction.
                let windowStart = nowUnixMs() + 3_600_000
                c = try #require(try await f.afterSale.submitReturnShipment(Requests.pickup(c, windowStart: windowStart, windowEnd: windowStart + 7_200_000),
                                                                            options: Callers.buyer()).afterSale)
                #expect(c.status == .returnShipped)
                #expect(c.returnShipment?.method == .pickup)
                #expect(c.returnShipment?.trackingNumber == "")
                let booking = try #require(await consumers.logistics.waitFor(.returnPickupRequested, case: c.caseNumber))
                let pickup = try #require(booking.pickup)
                #expect(pickup.pickupAddress == Requests.buyerAddress())
                #expect(pickup.destinationAddress == Requests.returnAddress())
                #expect(pickup.carrier == "SF")
                #expect(pickup.windowStartUnixMs == windowStart && pickup.windowEndUnixMs == windowStart + 7_200_000)
                #expect(pickup.items.map { "\($0.orderLineId) \($0.sku) \($0.quantity)" } == ["l-3 SOCK-1 2"])

                // The carrier collects (binding its tracking number to the case), moves and delivers the parcel.
                let t0 = nowUnixMs() - 60_000
                let collected = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(case: c.caseNumber, carrier: "SF", number: "SF-PK-001", .collected, at: t0), options: Callers.logistics)
                #expect(collected.caseNumber == c.caseNumber)
                #expect(!collected.duplicate && !collected.advanced)
                #expect(collected.status == .returnShipped)
                let moving = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(carrier: "sf", number: "SF-PK-001", .inTransit, at: t0 + 10_000), options: Callers.logistics)
                #expect(moving.caseNumber == c.caseNumber, "found by carrier (any case) and tracking number")
                #expect(!moving.advanced)
                let delivered = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(carrier: "SF", number: "SF-PK-001", .delivered, at: t0 + 20_000), options: Callers.logistics)
                #expect(delivered.advanced)
                #expect(!delivered.duplicate)
                #expect(delivered.status == .awaitingReceipt)
                let again = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(carrier: "SF", number: "SF-PK-001", .delivered, at: t0 + 20_000), options: Callers.logistics)
                #expect(again.duplicate)
                #expect(!again.advanced)
                #expect(again.version == delivered.version)
                let lost = await rpcError {
                    try await f.afterSale.ingestTrackingEvent(Requests.tracking(carrier: "SF", number: "SF-NOPE", .delivered, at: t0),
                                                              options: Callers.logistics)
                }
                #expect(lost?.code == .notFound)
                let forged = await rpcError {
                    try await f.afterSale.ingestTrackingEvent(Requests.tracking(carrier: "SF", number: "SF-PK-001", .delivered, at: t0 + 30_000),
                                                              options: Callers.buyer())
                }
                #expect(forged?.code == .permissionDenied, "only the logistics system reports tracking")
                c = try await f.getCase(c.caseNumber)
                #expect(c.status == .awaitingReceipt)
                #expect(c.version == delivered.version)
                #expect(c.returnShipment?.trackingNumber == "SF-PK-001")
                #expect(c.returnShipment?.events.map(\.status) == [.collected, .inTransit, .delivered])
                #expect(c.returnShipment?.latestStatus == .delivered)
                #expect(await consumers.logistics.wait { $0.filter { $0.eventType == .trackingUpdated && $0.caseNumber == c.caseNumber }.count >= 3 })
                let tracked = consumers.logistics.events.filter { $0.eventType == .trackingUpdated && $0.caseNumber == c.caseNumber }
                #expect(tracked.count == 3, "the duplicate made no event")
                #expect(tracked.map { $0.shipment?.latestStatus ?? .unspecified } == [.collected, .inTransit, .delivered])
                #expect(tracked.last?.toStatus == .awaitingReceipt)
                expectView(try await f.orderState(order.id), .inProgress, open: [c.caseNumber])

                // The merchant confirms receipt: inventory restocks, the refund order is created in the same transaction.
                c = try #require(try await f.afterSale.confirmReturnReceived(Requests.receive(c, condition: .opened), options: Callers.merchant()).afterSale)
                #expect(c.status == .pendingRefund)
                let refund = try #require(c.refund)
                #expect(refund.refundId == expectedRefundID(c.caseNumber))
                #expect(refund.trigger == .returnReceived)
                #expect(refund.amount == c.approvedAmount)
                let received = try #require(await consumers.inventory.waitFor(.returnReceived, case: c.caseNumber))
                #expect(received.restockItems.map { "\($0.orderLineId) \($0.sku) \($0.quantity) \($0.condition)" }
                        == ["l-3 SOCK-1 2 \(AfterSaleProto.GoodsCondition.opened)"])
                #expect(received.reserveItems.isEmpty, "a return reserves nothing")

                // Paid.
                let channel = FakeChannel()
                let worker = PaymentWorker(id: "alipay-worker-2", bridge: f.refundBridge, channel: channel)
                let lease = try #require(try await worker.claim(leaseMs: 5_000).first)
                #expect(lease.refund?.refundId == refund.refundId)
                #expect(try await worker.pay(lease).disposition == .applied)
                c = try await f.getCase(c.caseNumber)
                #expect(c.status == .completed)
                #expect(c.refundedAmount == c.approvedAmount)

                view = try await f.orderState(order.id)
                let approvedAmount = c.approvedAmount?.amountMinor ?? 0
                expectView(view, .returned, open: [], scope: .partial, refunded: approvedAmount)
                let socks = try #require(view.lines.first { $0.orderLineId == "l-3" })
                #expect(socks.completedQuantity == 2 && socks.openQuantity == 0 && socks.availableQuantity == 1)
                #expect(view.lines.reduce(Int64(0)) { $0 + ($1.refundedAmount?.amountMinor ?? 0) } == approvedAmount)
                let paidForSocks = snapshot.lines[2].paidAmount?.amountMinor ?? 0
                #expect((socks.refundableAmount?.amountMinor ?? 0) <= paidForSocks - (socks.refundedAmount?.amountMinor ?? 0))

                #expect(await consumers.notification.waitFor(.caseCompleted, case: c.caseNumber) != nil)
                let events = lifecycle(consumers.notification.events, c.caseNumber)
                #expect(events.map(\.eventType) == [.caseCreated, .caseApproved, .returnPickupRequested, .trackingUpdated, .trackingUpdated,
                                                    .trackingUpdated, .returnReceived, .refundRequested, .refundSucceeded, .caseCompleted],
                        "\(events.map(\.eventType))")
                expectEnvelope(events, order: order, kind: .returnAndRefund)
                #expect(events.last?.toStatus == .completed)
                #expect(await consumers.orderSystem.wait { orderStateEvents($0, order: order.id).count >= 2 })
                #expect(states(consumers.orderSystem, order: order.id) == [.inProgress, .returned])
                #expect(orderStateEvents(consumers.orderSystem.events, order: order.id).last?.orderState?.scope == .partial)
                try await consumers.expectInSync(with: f)
                try await expectOnePayout(channel, refund.refundId)
            }
        }

        @Test("exchange: self-shipped, tracked, received (restock and reserve), replacement shipped and confirmed; the order shows EXCHANGED")
        func exchangeSaga() async throws {
            try await IntegrationFixture.run { f in
                let consumers = try PlatformConsumers(f)
                let order = TestOrder(id: "o-saga-ex")
                try await f.upsert(order)
                var c = try await f.create(Requests.create(order: order.id, kind: .exchange, reason: "size_does_not_fit", lines: [("l-2", 1)]))
                #expect(c.status == .pendingReview)
                expectView(try await f.orderState(order.id), .inProgress, open: [c.caseNumber])
                c = try #require(try await f.afterSale.reviewAfterSale(Requests.approve(c), options: Callers.merchant()).afterSale)
                #expect(c.status == .awaitingReturn)

                c = try #require(try await f.afterSale.submitReturnShipment(Requests.selfShip(c, tracking: "SF-EX-001"), options: Callers.buyer()).afterSale)
                #expect(c.status == .returnShipped)
                let shipped = try #require(await consumers.logistics.waitFor(.returnShipped, case: c.caseNumber))
                #expect(shipped.shipment?.carrier == "SF" && shipped.shipment?.trackingNumber == "SF-EX-001")
                #expect(shipped.shipment?.direction == .return && shipped.shipment?.method == .selfShip)

                let delivered = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(carrier: "SF", number: "SF-EX-001", .delivered, at: nowUnixMs() - 1_000), options: Callers.logistics)
                #expect(delivered.caseNumber == c.caseNumber && delivered.advanced && delivered.status == .awaitingReceipt)
                c = try await f.getCase(c.caseNumber)

                c = try #require(try await f.afterSale.confirmReturnReceived(Requests.receive(c), options: Callers.merchant()).afterSale)
                #expect(c.status == .awaitingExchange)
                #expect(c.refund == nil)
                let received = try #require(await consumers.inventory.waitFor(.returnReceived, case: c.caseNumber))
                #expect(received.restockItems.map { "\($0.orderLineId) \($0.sku) \($0.quantity) \($0.condition)" }
                        == ["l-2 CASE-1 1 \(AfterSaleProto.GoodsCondition.intact)"])
                #expect(received.reserveItems.map { "\($0.sku) \($0.quantity)" } == ["CASE-1 1"], "the replacement to reserve and ship")
                #expect(received.refund == nil)

                c = try #require(try await f.afterSale.shipReplacement(Requests.shipBack(c, tracking: "YT-EX-001"), options: Callers.merchant()).afterSale)
                #expect(c.status == .exchanging)
                let outbound = try #require(await consumers.logistics.waitFor(.replacementShipped, case: c.caseNumber))
                #expect(outbound.shipment?.direction == .outbound && outbound.shipment?.trackingNumber == "YT-EX-001" && outbound.shipment?.carrier == "YTO")
                // Tracking of the outbound parcel is recorded but moves nothing.
                let outTracked = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(carrier: "yto", number: "YT-EX-001", .delivered, at: nowUnixMs()), options: Callers.logistics)
                #expect(outTracked.caseNumber == c.caseNumber && !outTracked.advanced && outTracked.status == .exchanging)
                c = try await f.getCase(c.caseNumber)
                #expect(c.outboundShipment?.events.map(\.status) == [.delivered])
                expectView(try await f.orderState(order.id), .inProgress, open: [c.caseNumber])

                c = try #require(try await f.afterSale.confirmReplacementReceived(Requests.confirmReplacement(c), options: Callers.buyer()).afterSale)
                #expect(c.status == .completed)
                expectView(try await f.orderState(order.id), .exchanged, open: [], refunded: 0)
                #expect(try await f.allRefunds(Requests.listRefunds(caseNumber: c.caseNumber)).isEmpty, "an exchange pays nothing")

                #expect(await consumers.notification.waitFor(.caseCompleted, case: c.caseNumber) != nil)
                let events = lifecycle(consumers.notification.events, c.caseNumber)
                #expect(events.map(\.eventType) == [.caseCreated, .caseApproved, .returnShipped, .trackingUpdated, .returnReceived,
                                                    .replacementShipped, .trackingUpdated, .caseCompleted], "\(events.map(\.eventType))")
                expectEnvelope(events, order: order, kind: .exchange)
                #expect(events.last?.actorRole == .buyer)
                #expect(await consumers.orderSystem.wait { orderStateEvents($0, order: order.id).count >= 2 })
                #expect(states(consumers.orderSystem, order: order.id) == [.inProgress, .exchanged])
                try await consumers.expectInSync(with: f)
            }
        }

        @Test("repair (tracking does not advance returns by policy): shipped, received, repaired goods shipped back, confirmed; the order shows REPAIRED")
        func repairSaga() async throws {
            try await IntegrationFixture.run(advanceReturnOnDelivery: false) { f in
                let consumers = try PlatformConsumers(f)
                let order = TestOrder(id: "o-saga-rp")
                try await f.upsert(order)
                var c = try await f.create(Requests.create(order: order.id, kind: .repair, reason: "quality_fault", lines: [("l-1", 1)]))
                #expect(c.computedAmount?.amountMinor == 0)
                c = try #require(try await f.afterSale.reviewAfterSale(Requests.approve(c), options: Callers.merchant()).afterSale)
                c = try #require(try await f.afterSale.submitReturnShipment(Requests.selfShip(c, tracking: "SF-RP-001"), options: Callers.buyer()).afterSale)
                #expect(c.status == .returnShipped)

                // Delivered, but this policy leaves the move to the merchant.
                let delivered = try await f.afterSale.ingestTrackingEvent(
                    Requests.tracking(carrier: "SF", number: "SF-RP-001", .delivered, at: nowUnixMs() - 1_000), options: Callers.logistics)
                #expect(delivered.caseNumber == c.caseNumber)
                #expect(!delivered.advanced)
                #expect(delivered.status == .returnShipped)
                c = try await f.getCase(c.caseNumber)
                #expect(c.returnShipment?.latestStatus == .delivered)

                c = try #require(try await f.afterSale.confirmReturnReceived(Requests.receive(c), options: Callers.merchant()).afterSale)
                #expect(c.status == .repairing)
                #expect(c.refund == nil)
                let received = try #require(await consumers.inventory.waitFor(.returnReceived, case: c.caseNumber))
                #expect(received.reserveItems.isEmpty, "a repair takes nothing out of stock")
                expectView(try await f.orderState(order.id), .inProgress, open: [c.caseNumber])

                c = try #require(try await f.afterSale.shipReplacement(Requests.shipBack(c, tracking: "YT-RP-001"), options: Callers.merchant()).afterSale)
                #expect(c.status == .repairedShipped)
                c = try #require(try await f.afterSale.confirmReplacementReceived(Requests.confirmReplacement(c), options: Callers.buyer()).afterSale)
                #expect(c.status == .completed)
                expectView(try await f.orderState(order.id), .repaired, open: [], refunded: 0)

                #expect(await consumers.notification.waitFor(.caseCompleted, case: c.caseNumber) != nil)
                let events = lifecycle(consumers.notification.events, c.caseNumber)
                #expect(events.map(\.eventType) == [.caseCreated, .caseApproved, .returnShipped, .trackingUpdated, .returnReceived,
                                                    .replacementShipped, .caseCompleted], "\(events.map(\.eventType))")
                expectEnvelope(events, order: order, kind: .repair)
                let tracking = try #require(events.first { $0.eventType == .trackingUpdated })
                #expect(tracking.fromStatus == .returnShipped && tracking.toStatus == .returnShipped)
                #expect(await consumers.orderSystem.wait { orderStateEvents($0, order: order.id).count >= 2 })
                #expect(states(consumers.orderSystem, order: order.id) == [.inProgress, .repaired])
                try await consumers.expectInSync(with: f)
            }
        }

        @Test("complaint ruled for the buyer: ForceRefund by the platform (roles, ruling, versions), refund paid; the order shows REFUNDED (partial)")
        func forcedRefundSaga() async throws {
            try await IntegrationFixture.run { f in
                let consumers = try PlatformConsumers(f)
                let order = TestOrder(id: "o-saga-fr")
                try await f.upsert(order)
                let c = try await f.create(Requests.create(order: order.id, kind: .returnAndRefund, reason: "not_as_described", lines: [("l-2", 2)]))
                #expect(c.status == .pendingReview)

                for options in [Callers.buyer(), Callers.merchant(), Callers.system("order-system")] {
                    let refused = await rpcError { try await f.afterSale.forceRefund(Requests.forceRefund(c, ruling: "buyer wins"), options: options) }
                    #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
                }
                let noRuling = await rpcError { try await f.afterSale.forceRefund(Requests.forceRefund(c, ruling: ""), options: Callers.platform()) }
                #expect(noRuling?.code == .invalidArgument)
                #expect(noRuling?.message.contains("ruling") == true)
                var stale = Requests.forceRefund(c, ruling: "buyer wins")
                stale.expectedVersion = c.version + 1
                #expect(await rpcError { try await f.afterSale.forceRefund(stale, options: Callers.platform()) }?.code == .aborted)
                let tooMuch = await rpcError {
                    try await f.afterSale.forceRefund(Requests.forceRefund(c, ruling: "buyer wins", amount: (c.computedAmount?.amountMinor ?? 0) + 1),
                                                      options: Callers.platform())
                }
                #expect(tooMuch != nil, "never more than what is still refundable")
                #expect(try await f.getCase(c.caseNumber).version == c.version, "refused rulings changed nothing")
                #expect(try await f.allRefunds(Requests.listRefunds(caseNumber: c.caseNumber)).isEmpty)

                let ruling = "complaint 42: the cases are not as described"
                let forced = try await f.afterSale.forceRefund(Requests.forceRefund(c, ruling: ruling), options: Callers.platform("arbiter-7"))
                let after = try #require(forced.afterSale)
                let refund = try #require(forced.refund)
                #expect(after.status == .pendingRefund)
                #expect(after.refund == refund)
                #expect(refund.refundId == expectedRefundID(c.caseNumber))
                #expect(refund.trigger == .forced)
                #expect(refund.status == .pending)
                #expect(refund.amount == c.computedAmount)
                #expect(after.approvedAmount == refund.amount)
                let again = await rpcError { try await f.afterSale.forceRefund(Requests.forceRefund(after, ruling: ruling), options: Callers.platform()) }
                #expect(again?.code == .failedPrecondition, "already pending refund: \(String(describing: again))")
                let requested = try #require(await consumers.notification.waitFor(.refundRequested, case: c.caseNumber))
                #expect(requested.note == ruling)
                #expect(requested.actorRole == .platform && requested.actorId == "arbiter-7")
                #expect(requested.refund?.trigger == .forced)
                #expect(requested.fromStatus == .pendingReview && requested.toStatus == .pendingRefund)

                let channel = FakeChannel()
                let worker = PaymentWorker(id: "alipay-worker-3", bridge: f.refundBridge, channel: channel)
                let lease = try #require(try await worker.claim(leaseMs: 5_000).first)
                #expect(try await worker.pay(lease).refund?.status == .succeeded)
                let done = try await f.getCase(c.caseNumber)
                #expect(done.status == .completed)
                let ended = await rpcError { try await f.afterSale.forceRefund(Requests.forceRefund(done, ruling: ruling), options: Callers.platform()) }
                #expect(ended?.code == .failedPrecondition, "a completed case cannot be forced")
                expectView(try await f.orderState(order.id), .refunded, open: [], scope: .partial, refunded: refund.amount?.amountMinor ?? -1)

                // An agent forces a smaller amount on an approved case that never shipped back.
                var other = try await f.create(Requests.create(order: order.id, kind: .returnAndRefund, reason: "not_as_described", lines: [("l-3", 1)]))
                other = try #require(try await f.afterSale.reviewAfterSale(Requests.approve(other), options: Callers.merchant()).afterSale)
                let partial = try await f.afterSale.forceRefund(Requests.forceRefund(other, ruling: "half back", amount: 300), options: Callers.platform())
                #expect(partial.refund?.amount?.amountMinor == 300)
                #expect(partial.afterSale?.status == .pendingRefund)
                let second = try #require(try await worker.claim(leaseMs: 5_000).first)
                #expect(try await worker.pay(second).refund?.refundedAmount?.amountMinor == 300)

                #expect(await consumers.notification.waitFor(.caseCompleted, case: other.caseNumber) != nil)
                let events = lifecycle(consumers.notification.events, c.caseNumber)
                #expect(events.map(\.eventType) == [.caseCreated, .refundRequested, .refundSucceeded, .caseCompleted], "\(events.map(\.eventType))")
                expectEnvelope(events, order: order, kind: .returnAndRefund)
                try await consumers.expectInSync(with: f)
                try await expectOnePayout(channel, refund.refundId)
                try await expectOnePayout(channel, partial.refund?.refundId ?? "")
            }
        }
    }
}

private func expectOnePayout(_ channel: FakeChannel, _ refundID: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let payouts = await channel.payoutsByRefund
    #expect(payouts[refundID] == 1, "\(refundID) paid \(payouts[refundID] ?? 0) times", sourceLocation: sourceLocation)
}
