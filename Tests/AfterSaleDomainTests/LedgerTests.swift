import AfterSaleDomain
import Testing

@Suite("The order's after-sale ledger")
struct LedgerTests {
    @Test("counts open and completed quantities, claims and refunds per line")
    func figures() throws {
        let open = try Fixture.open(.returnAndRefund, [("l-3", 1)]).afterSale
        let done = try Fixture.open(.returnAndRefund, [("l-3", 1)], existing: [open], sequence: 2)
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            .then(.confirmReturnReceived(condition: .intact, note: "", evidence: []), by: Fixture.merchant)
            .then(.refundSucceeded, by: Fixture.payments).afterSale
        let ledger = try OrderLedger(order: Fixture.order(), cases: [open, done])
        let line = try #require(ledger.line("l-3"))
        #expect(line.openQuantity == 1)
        #expect(line.completedQuantity == 1)
        #expect(line.availableQuantity == 1)
        #expect(line.claimedAmount == .cny(1_980))
        #expect(line.refundedAmount == .cny(990))
        #expect(line.refundableAmount == .cny(991))
        #expect(ledger.state == .inProgress)
        #expect(!ledger.mayComplete)
        #expect(ledger.openCaseNumbers == [open.number])
        #expect(ledger.refundedTotal == .cny(990))
        #expect(ledger.violations.isEmpty)

        let closed = try decide(open, .withdraw(note: ""), by: Fixture.buyer, at: Fixture.now).afterSale
        let after = try OrderLedger(order: Fixture.order(), cases: [closed, done])
        #expect(after.state == .returned)
        #expect(after.mayComplete)
    }

    @Test("money back without goods shows as refunded; the whole order as whole")
    func refundedState() throws {
        let refunded = try Fixture.open(.refundOnly, [("l-1", 1), ("l-2", 2), ("l-3", 3)])
            .then(.refundSucceeded, by: Fixture.payments).afterSale
        let ledger = try OrderLedger(order: Fixture.order(status: .paid), cases: [refunded])
        #expect(ledger.state == .refunded)
        #expect(ledger.coversWholeOrder)
        #expect(ledger.refundedTotal == ledger.order.totalPaid)
        #expect(ledger.refundableTotal == .cny(0))
        #expect(ledger.violations.isEmpty)
    }

    @Test("an order with no cases has no after-sale state; its shipping is refundable only before it ships")
    func empty() throws {
        let delivered = Fixture.order()
        let ledger = try OrderLedger(order: delivered, cases: [])
        #expect(ledger.state == OrderAfterSaleState.none)
        #expect(ledger.refundableTotal.minorUnits == delivered.totalPaid.minorUnits - delivered.shippingFee.minorUnits)
        let paid = Fixture.order(status: .paid)
        #expect(try OrderLedger(order: paid, cases: []).refundableTotal == paid.totalPaid)
    }
}
