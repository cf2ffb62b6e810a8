import AfterSaleDomain
import Testing

@Suite("What a case refunds")
struct RefundAmountTests {
    @Test("a refund-only case for the whole order refunds the shipping fee too")
    func wholeOrderShipping() throws {
        let opened = try Fixture.open(.refundOnly, [("l-1", 1), ("l-2", 2), ("l-3", 3)])
        #expect(opened.afterSale.coversWholeOrder)
        #expect(opened.afterSale.amounts.goods == .cny(309_880))
        #expect(opened.afterSale.amounts.shipping == .cny(1_000))
        #expect(opened.afterSale.amounts.computed == Fixture.order(status: .paid).totalPaid)
    }

    @Test("a partial refund-only case refunds no shipping")
    func partialNoShipping() throws {
        let opened = try Fixture.open(.refundOnly, [("l-1", 1), ("l-2", 2), ("l-3", 2)])
        #expect(!opened.afterSale.coversWholeOrder)
        #expect(opened.afterSale.amounts.shipping == .cny(0))
    }

    @Test("the refund-only case that completes the order's refund before shipment carries the shipping; the ones before it do not")
    func lastPartCarriesShipping() throws {
        let first = try Fixture.open(.refundOnly, [("l-1", 1)]).afterSale
        #expect(first.amounts.shipping == .cny(0))
        let rest = try Fixture.open(.refundOnly, [("l-2", 2), ("l-3", 3)], existing: [first], sequence: 2).afterSale
        #expect(!rest.coversWholeOrder)
        #expect(rest.amounts.shipping == .cny(1_000))
        let ledger = try OrderLedger(order: Fixture.order(status: .paid), cases: [first, rest])
        #expect(ledger.refundableTotal == .cny(0))
        #expect(!ledger.shippingRefundable)
    }

    @Test("a return of the whole order refunds goods only")
    func returnNoShipping() throws {
        let opened = try Fixture.open(.returnAndRefund, [("l-1", 1), ("l-2", 2), ("l-3", 3)])
        #expect(opened.afterSale.coversWholeOrder)
        #expect(opened.afterSale.amounts.shipping == .cny(0))
        #expect(opened.afterSale.amounts.computed == .cny(309_880))
    }

    @Test("coupons and points are never paid out: the refund is what was paid, not the list price")
    func discountsNotRefunded() throws {
        let opened = try Fixture.open(.returnAndRefund, [("l-1", 1)])
        #expect(opened.afterSale.lines[0].unitPrice == .cny(299_900))
        #expect(opened.afterSale.amounts.computed == .cny(297_025))
    }

    @Test("a service fee may be anything from zero to the computed amount")
    func feeBounds() throws {
        let pending = try Fixture.open(.returnAndRefund, [("l-2", 2)])
        let whole = try pending.then(Fixture.approve(fee: .cny(9_884)), by: Fixture.merchant)
        #expect(whole.afterSale.amounts.approved == .cny(0))
        let none = try pending.then(Fixture.approve(fee: .cny(0)), by: Fixture.merchant)
        #expect(none.afterSale.amounts.approved == .cny(9_884))
        #expect(throws: DomainError.serviceFeeOutOfRange(fee: .cny(9_885), computed: .cny(9_884))) {
            try pending.then(Fixture.approve(fee: .cny(9_885)), by: Fixture.merchant)
        }
        #expect(throws: DomainError.serviceFeeOutOfRange(fee: .cny(-1), computed: .cny(9_884))) {
            try pending.then(Fixture.approve(fee: .cny(-1)), by: Fixture.merchant)
        }
        #expect(throws: DomainError.self) {
            try pending.then(Fixture.approve(fee: Money(minorUnits: 1, currency: try CurrencyCode("USD"))), by: Fixture.merchant)
        }
    }

    @Test("the fee is spread over the lines so each line's approved amount stays within its claim")
    func feeSpread() throws {
        let pending = try Fixture.open(.returnAndRefund, [("l-2", 1), ("l-3", 3)])
        let approved = try pending.then(Fixture.approve(fee: .cny(1_000)), by: Fixture.merchant).afterSale
        let lines = approved.lines.map { $0.approvedAmount!.minorUnits }
        #expect(lines.reduce(0, +) == approved.amounts.approved!.minorUnits)
        #expect(zip(approved.lines, lines).allSatisfy { $1 <= $0.claimAmount.minorUnits })
    }

    @Test("exchange and repair take no fee")
    func noFeeWithoutRefund() throws {
        let pending = try Fixture.open(.exchange, [("l-1", 1)])
        #expect(throws: DomainError.serviceFeeOutOfRange(fee: .cny(1), computed: .cny(0))) {
            try pending.then(Fixture.approve(fee: .cny(1)), by: Fixture.merchant)
        }
        #expect(try pending.then(Fixture.approve(fee: .cny(0)), by: Fixture.merchant).afterSale.amounts.approved == nil)
    }

    @Test("refunding every unit of a line in separate cases refunds exactly what was paid")
    func exactInParts() throws {
        var cases: [AfterSaleCase] = []
        for sequence in 1...3 {
            let opened = try Fixture.open(.refundOnly, [("l-3", 1)], existing: cases, sequence: sequence)
            cases.append(try opened.then(.refundSucceeded, by: Fixture.payments).afterSale)
        }
        #expect(cases.map(\.amounts.refunded) == [.cny(990), .cny(990), .cny(991)])
        let ledger = try OrderLedger(order: Fixture.order(status: .paid), cases: cases)
        #expect(ledger.line("l-3")?.refundedAmount == .cny(2_971))
        #expect(ledger.line("l-3")?.availableQuantity == 0)
        #expect(ledger.violations.isEmpty)
    }

    @Test("approval requires the address the goods go back to")
    func returnAddressRequired() throws {
        let pending = try Fixture.open(.returnAndRefund, [("l-1", 1)])
        #expect(throws: DomainError.invalidArgument(field: "return_address", message: "is required to approve a return_and_refund case")) {
            try pending.then(.approve(serviceFee: nil, returnAddress: nil, note: ""), by: Fixture.merchant)
        }
    }

    @Test("free-text payloads are required where they explain a decision")
    func requiredTexts() throws {
        let pending = try Fixture.open(.returnAndRefund, [("l-1", 1)])
        #expect(throws: DomainError.invalidArgument(field: "rejection_reason", message: "must not be empty")) {
            try pending.then(.reject(reason: "  "), by: Fixture.merchant)
        }
        #expect(throws: DomainError.invalidArgument(field: "ruling", message: "must not be empty")) {
            try pending.then(.forceRefund(amount: nil, ruling: ""), by: Fixture.agent)
        }
        let approved = try pending.then(Fixture.approve(), by: Fixture.merchant)
        #expect(throws: DomainError.invalidArgument(field: "tracking_number", message: "must not be empty")) {
            try approved.then(.shipReturn(carrier: "SF", trackingNumber: ""), by: Fixture.buyer)
        }
    }
}
