import AfterSaleDomain
import Testing

@Suite("Happy paths of the four flows")
struct FlowTests {
    @Test("refund only is approved automatically, requests the refund and completes when it is paid")
    func refundOnly() throws {
        let opened = try Fixture.open(.refundOnly, [("l-2", 1)])
        let afterSale = opened.afterSale
        #expect(afterSale.status == .pendingRefund)
        #expect(afterSale.version == 1)
        #expect(afterSale.timeline.map(\.step) == [.create, .autoApprove])
        #expect(afterSale.amounts.computed == .cny(4_942))
        #expect(afterSale.amounts.approved == .cny(4_942))
        #expect(opened.refundRequest?.amount == .cny(4_942))
        #expect(opened.refundRequest?.trigger == .refundOnlyCreated)
        #expect(opened.trace.step == .create)
        #expect(opened.trace.from == nil && opened.trace.to == .pendingRefund)

        let paid = try opened.then(.refundSucceeded, by: Fixture.payments)
        #expect(paid.afterSale.status == .completed)
        #expect(paid.afterSale.version == 2)
        #expect(paid.afterSale.amounts.refunded == .cny(4_942))
        #expect(paid.afterSale.lines[0].refundedAmount == .cny(4_942))
        #expect(paid.afterSale.finishedAt == Fixture.now)
        #expect(paid.trace.from == .pendingRefund && paid.trace.to == .completed)
    }

    @Test("a failed refund attempt keeps the case pending refund and records the failure")
    func refundFailure() throws {
        let failed = try Fixture.open(.refundOnly, [("l-1", 1)]).then(.refundFailed(reason: "channel timeout"), by: Fixture.payments)
        #expect(failed.afterSale.status == .pendingRefund)
        #expect(failed.afterSale.version == 2)
        #expect(failed.entries.last?.note == "channel timeout")
        #expect(failed.afterSale.amounts.refunded == .cny(0))
    }

    @Test("return and refund goes review, return, receipt, refund, completed")
    func returnAndRefund() throws {
        let opened = try Fixture.open(.returnAndRefund, [("l-3", 2)])
        #expect(opened.afterSale.status == .pendingReview)
        #expect(opened.refundRequest == nil)
        #expect(opened.afterSale.amounts.computed == .cny(1_980))

        let approved = try opened.then(Fixture.approve(fee: .cny(500)), by: Fixture.merchant)
        #expect(approved.afterSale.status == .awaitingReturn)
        #expect(approved.afterSale.amounts.serviceFee == .cny(500))
        #expect(approved.afterSale.amounts.approved == .cny(1_480))
        #expect(approved.afterSale.returnAddress == Fixture.returnAddress)

        let shipped = try approved.then(.shipReturn(carrier: "SF", trackingNumber: "SF123"), by: Fixture.buyer)
        #expect(shipped.afterSale.status == .returnShipped)
        #expect(shipped.afterSale.returnShipment?.trackingNumber == "SF123")

        let delivered = try shipped.then(.recordTracking(TrackingEvent(status: .delivered, occurredAt: Fixture.now), trackingNumber: "SF123"),
                                         by: .system("logistics"))
        #expect(delivered.afterSale.status == .awaitingReceipt)

        let received = try delivered.then(.confirmReturnReceived(condition: .intact, note: "all good", evidence: []), by: Fixture.merchant)
        #expect(received.afterSale.status == .pendingRefund)
        #expect(received.refundRequest?.amount == .cny(1_480))
        #expect(received.refundRequest?.trigger == .returnReceived)
        #expect(received.afterSale.receipt?.condition == .intact)

        let completed = try received.then(.refundSucceeded, by: Fixture.payments)
        #expect(completed.afterSale.status == .completed)
        #expect(completed.afterSale.amounts.refunded == .cny(1_480))
        #expect(completed.afterSale.version == 6)
        #expect(completed.afterSale.timeline.map(\.step) == [.create, .approve, .submitReturnShipment, .trackingUpdate,
                                                            .confirmReturnReceived, .refundSucceeded])
        #expect(completed.afterSale.timeline.map(\.to) == [.pendingReview, .awaitingReturn, .returnShipped, .awaitingReceipt,
                                                          .pendingRefund, .completed])
    }

    @Test("a rejected return-and-refund case ends with the merchant's reason")
    func rejection() throws {
        let rejected = try Fixture.open(.returnAndRefund, [("l-1", 1)]).then(.reject(reason: "seal broken"), by: Fixture.merchant)
        #expect(rejected.afterSale.status == .rejected)
        #expect(rejected.afterSale.rejectionReason == "seal broken")
        #expect(rejected.afterSale.finishedAt == Fixture.now)
    }

    @Test("a booked pickup learns its tracking number from the first tracking event")
    func pickup() throws {
        let booked = try Fixture.open(.returnAndRefund, [("l-1", 1)])
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.bookPickup(carrier: "", address: Fixture.returnAddress, window: nil), by: Fixture.buyer)
        #expect(booked.afterSale.status == .returnShipped)
        #expect(booked.afterSale.returnShipment?.method == .pickup)
        let collected = try booked.then(.recordTracking(TrackingEvent(status: .collected, occurredAt: Fixture.now), trackingNumber: "YT77"),
                                        by: .system("logistics"))
        #expect(collected.afterSale.status == .returnShipped)
        #expect(collected.afterSale.returnShipment?.trackingNumber == "YT77")
        #expect(throws: DomainError.self) {
            try collected.then(.recordTracking(TrackingEvent(status: .collected, occurredAt: Fixture.now), trackingNumber: "YT77"),
                               by: .system("logistics"))
        }
    }

    @Test("exchange goes review, return, awaiting exchange, exchanging, completed, and refunds nothing")
    func exchange() throws {
        let opened = try Fixture.open(.exchange, [("l-3", 1)])
        #expect(opened.afterSale.amounts.computed == .cny(0))
        #expect(opened.afterSale.lines[0].claimAmount == .cny(990))
        let done = try opened
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            .then(.confirmReturnReceived(condition: .opened, note: "", evidence: []), by: Fixture.merchant)
        #expect(done.afterSale.status == .awaitingExchange)
        #expect(done.refundRequest == nil)
        let exchanging = try done.then(.shipReplacement(carrier: "SF", trackingNumber: "SF2", note: ""), by: Fixture.merchant)
        #expect(exchanging.afterSale.status == .exchanging)
        #expect(exchanging.afterSale.outboundShipment?.trackingNumber == "SF2")
        let completed = try exchanging.then(.confirmReplacementReceived(note: "fits"), by: Fixture.buyer)
        #expect(completed.afterSale.status == .completed)
        #expect(completed.afterSale.amounts.refunded == .cny(0))
        #expect(completed.afterSale.version == 6)
    }

    @Test("repair goes review, return, repairing, repaired and shipped back, completed")
    func repair() throws {
        let steps = try Fixture.open(.repair, [("l-1", 1)])
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            .then(.confirmReturnReceived(condition: .damaged, note: "screen fault confirmed", evidence: [Fixture.photo]), by: Fixture.merchant)
        #expect(steps.afterSale.status == .repairing)
        let shippedBack = try steps.then(.shipReplacement(carrier: "JD", trackingNumber: "JD5", note: "screen replaced"), by: Fixture.merchant)
        #expect(shippedBack.afterSale.status == .repairedShipped)
        let completed = try shippedBack.then(.confirmReplacementReceived(note: ""), by: Fixture.buyer)
        #expect(completed.afterSale.status == .completed)
        #expect(completed.afterSale.timeline.map(\.to) == [.pendingReview, .awaitingReturn, .returnShipped, .repairing,
                                                          .repairedShipped, .completed])
    }

    @Test("the buyer may withdraw before the refund is under way, never after")
    func withdraw() throws {
        let approved = try Fixture.open(.returnAndRefund, [("l-1", 1)]).then(Fixture.approve(), by: Fixture.merchant)
        let withdrawn = try approved.then(.withdraw(note: "found the charger"), by: Fixture.buyer)
        #expect(withdrawn.afterSale.status == .withdrawn)
        #expect(withdrawn.entries.first?.note == "found the charger")

        let refundOnly = try Fixture.open(.refundOnly, [("l-1", 1)])
        #expect(throws: DomainError.illegalTransition(action: .withdraw, caseNumber: refundOnly.afterSale.number, from: .pendingRefund)) {
            try refundOnly.then(.withdraw(note: ""), by: Fixture.buyer)
        }
    }

    @Test("the platform forces a refund on a stalled exchange, paid from the goods' value")
    func forcedRefund() throws {
        let stalled = try Fixture.open(.exchange, [("l-2", 2)]).then(Fixture.approve(), by: Fixture.merchant)
        let forced = try stalled.then(.forceRefund(amount: nil, ruling: "merchant never answered"), by: Fixture.platform)
        #expect(forced.afterSale.status == .pendingRefund)
        #expect(forced.refundRequest?.amount == .cny(9_884))
        #expect(forced.refundRequest?.trigger == .forced)
        let paid = try forced.then(.refundSucceeded, by: Fixture.payments)
        #expect(paid.afterSale.status == .completed)
        #expect(paid.afterSale.amounts.refunded == .cny(9_884))

        #expect(throws: DomainError.refundExceedsRefundable(requested: .cny(9_885), refundable: .cny(9_884))) {
            try stalled.then(.forceRefund(amount: .cny(9_885), ruling: "too much"), by: Fixture.agent)
        }
        let partial = try stalled.then(.forceRefund(amount: .cny(5_001), ruling: "half"), by: Fixture.agent)
        #expect(partial.afterSale.lines.map(\.approvedAmount) == [.cny(5_001)])
    }

    @Test("every accepted action adds one timeline entry, bumps the version by one and traces who did it")
    func versionsAndTraces() throws {
        var transition = try Fixture.open(.repair, [("l-1", 1)])
        let steps: [(Action, Principal)] = [
            (Fixture.approve(), Fixture.merchant),
            (.shipReturn(carrier: "SF", trackingNumber: "SF1"), Fixture.buyer),
            (.recordTracking(TrackingEvent(status: .inTransit, occurredAt: Fixture.now), trackingNumber: nil), .system("logistics")),
            (.confirmReturnReceived(condition: nil, note: "", evidence: []), .system("timer")),
        ]
        for (action, principal) in steps {
            let before = transition.afterSale
            transition = try transition.then(action, by: principal)
            #expect(transition.afterSale.version == before.version + 1)
            #expect(transition.afterSale.timeline.count == before.timeline.count + 1)
            #expect(transition.trace.actor == principal)
            #expect(transition.trace.from == before.status)
            #expect(transition.trace.to == transition.afterSale.status)
            #expect(transition.trace.outcome == .applied)
            #expect(transition.entries == [transition.afterSale.timeline.last!])
        }
    }
}
