/// The after-sale state the order page shows (售后中, 退款成功, 退货成功).
public enum OrderAfterSaleState: String, Sendable, Hashable, CaseIterable {
    /// No case ever had an effect.
    case none
    /// At least one case is open (售后中).
    case inProgress = "in_progress"
    /// No case is open; money went back without goods coming back (退款成功).
    case refunded
    /// No case is open; goods came back with a refund (退货成功).
    case returned
}

/// The after-sale figures of one order line over all its cases.
public struct LineLedger: Sendable, Hashable {
    /// The order line's identifier.
    public var orderLineID: String
    /// The stock-keeping unit.
    public var sku: String
    /// Units purchased.
    public var purchasedQuantity: Int
    /// Units held by open cases.
    public var openQuantity: Int
    /// Units in completed cases.
    public var completedQuantity: Int
    /// What the buyer paid for the line.
    public var paidAmount: Money
    /// The amounts claimed by open and completed cases (≤ paid).
    public var claimedAmount: Money
    /// What has been refunded for the line (≤ paid).
    public var refundedAmount: Money

    /// Units held by open or completed cases.
    public var claimedQuantity: Int { openQuantity + completedQuantity }
    /// Units a new case may still ask for: purchased − open − completed.
    public var availableQuantity: Int { purchasedQuantity - claimedQuantity }
    /// What later cases may still claim: paid − claimed.
    public var refundableAmount: Money {
        Money(minorUnits: paidAmount.minorUnits - claimedAmount.minorUnits, currency: paidAmount.currency)
    }
}

/// The after-sale ledger of one order (售后台账): per-line quantities and money over all its cases,
/// the state to push to the order system, and the money invariants.
public struct OrderLedger: Sendable, Hashable {
    /// The order.
    public let order: OrderSnapshot
    /// Per-line figures, in order-line order.
    public let lines: [LineLedger]
    /// The cases of the order that were counted.
    public let cases: [AfterSaleCase]

    /// Sums the cases of `order` (cases of other orders in `cases` are ignored).
    /// - Throws: ``DomainError/currencyMismatch(expected:actual:)`` or overflow on inconsistent amounts.
    public init(order: OrderSnapshot, cases: [AfterSaleCase]) throws(DomainError) {
        self.order = order
        let own = cases.filter { $0.orderID == order.id }
        self.cases = own
        var lines: [LineLedger] = []
        for orderLine in order.lines {
            let zero = Money.zero(orderLine.paidAmount.currency)
            var ledger = LineLedger(orderLineID: orderLine.id, sku: orderLine.sku, purchasedQuantity: orderLine.quantity,
                                    openQuantity: 0, completedQuantity: 0, paidAmount: orderLine.paidAmount,
                                    claimedAmount: zero, refundedAmount: zero)
            for afterSale in own {
                for caseLine in afterSale.lines where caseLine.orderLineID == orderLine.id {
                    if afterSale.status.isOpen { ledger.openQuantity += caseLine.quantity }
                    if afterSale.status == .completed { ledger.completedQuantity += caseLine.quantity }
                    if afterSale.status.holdsClaim { ledger.claimedAmount = try ledger.claimedAmount.adding(caseLine.claimAmount) }
                    ledger.refundedAmount = try ledger.refundedAmount.adding(caseLine.refundedAmount)
                }
            }
            lines.append(ledger)
        }
        self.lines = lines
    }

    /// The figures of the line with `orderLineID`.
    public func line(_ orderLineID: String) -> LineLedger? { lines.first { $0.orderLineID == orderLineID } }

    /// Total refunded on the order, shipping included.
    public var refundedTotal: Money {
        Money(minorUnits: cases.reduce(0) { $0 + $1.amounts.refunded.minorUnits }, currency: order.currency)
    }

    /// Shipping claimed by open or completed cases (only a whole-order refund-only case claims it).
    public var claimedShipping: Money {
        Money(minorUnits: cases.filter(\.status.holdsClaim).reduce(0) { $0 + $1.amounts.shipping.minorUnits }, currency: order.currency)
    }

    /// What may still be claimed on the order: total paid − lines' claims − claimed shipping.
    public var refundableTotal: Money {
        let claimed = lines.reduce(claimedShipping.minorUnits) { $0 + $1.claimedAmount.minorUnits }
        return Money(minorUnits: order.totalPaid.minorUnits - claimed, currency: order.currency)
    }

    /// The numbers of the open cases.
    public var openCaseNumbers: [CaseNumber] { cases.filter(\.status.isOpen).map(\.number) }

    /// True when the order may complete now: no case is open.
    public var mayComplete: Bool { openCaseNumbers.isEmpty }

    /// The state the order page shows.
    public var state: OrderAfterSaleState {
        if !mayComplete { return .inProgress }
        let paidBack = cases.filter { $0.status == .completed && $0.amounts.refunded.minorUnits > 0 }
        if paidBack.contains(where: { $0.kind.returnsGoods && $0.receipt != nil }) { return .returned }
        return paidBack.isEmpty ? .none : .refunded
    }

    /// True when completed cases cover every line in full quantity.
    public var coversWholeOrder: Bool { lines.allSatisfy { $0.completedQuantity == $0.purchasedQuantity } }

    /// Every broken money or quantity invariant, as sentences; empty when the books balance.
    ///
    /// Per line: claimed and refunded ≤ paid, claimed units ≤ purchased. Per order: refunded ≤ total
    /// paid. Per case: refunded ≤ approved ≤ the most it may refund, line by line and in total.
    public var violations: [String] {
        var found: [String] = []
        for line in lines {
            if line.refundedAmount.minorUnits > line.paidAmount.minorUnits {
                found.append("line \(line.orderLineID): refunded \(line.refundedAmount) > paid \(line.paidAmount)")
            }
            if line.claimedAmount.minorUnits > line.paidAmount.minorUnits {
                found.append("line \(line.orderLineID): claimed \(line.claimedAmount) > paid \(line.paidAmount)")
            }
            if line.claimedQuantity > line.purchasedQuantity {
                found.append("line \(line.orderLineID): \(line.claimedQuantity) unit(s) claimed > \(line.purchasedQuantity) purchased")
            }
        }
        if refundedTotal.minorUnits > order.totalPaid.minorUnits {
            found.append("order \(order.id): refunded \(refundedTotal) > total paid \(order.totalPaid)")
        }
        if refundableTotal.minorUnits < 0 {
            found.append("order \(order.id): claims exceed total paid by \(-refundableTotal.minorUnits)")
        }
        for afterSale in cases {
            let amounts = afterSale.amounts
            let ceiling = amounts.approved ?? amounts.computed
            if amounts.refunded.minorUnits > ceiling.minorUnits {
                found.append("case \(afterSale.number): refunded \(amounts.refunded) > approved \(ceiling)")
            }
            if ceiling.minorUnits > afterSale.maximumRefund.minorUnits || ceiling.minorUnits < 0 {
                found.append("case \(afterSale.number): approved \(ceiling) outside 0…\(afterSale.maximumRefund)")
            }
            for line in afterSale.lines {
                let approved = line.approvedAmount ?? line.refundAmount
                if line.refundedAmount.minorUnits > approved.minorUnits || approved.minorUnits > line.claimAmount.minorUnits {
                    found.append("case \(afterSale.number) line \(line.orderLineID): refunded \(line.refundedAmount) ≤ approved \(approved) ≤ claim \(line.claimAmount) does not hold")
                }
            }
            if amounts.refunded.minorUnits > 0 && afterSale.status != .completed {
                found.append("case \(afterSale.number): refunded \(amounts.refunded) while \(afterSale.status)")
            }
        }
        return found
    }
}
