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
    /// No case is open; goods were exchanged and no money went back (换货完成).
    case exchanged
    /// No case is open; goods were repaired and no money went back (维修完成).
    case repaired
    /// A dispute about one of the order's cases is open (维权中); it wins over every other state.
    case disputed
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

    /// Shipping claimed by open or completed cases (the refund-only case that completes the order's
    /// refund before shipment claims it; see ``shippingRefundable``).
    public var claimedShipping: Money {
        Money(minorUnits: cases.filter(\.status.holdsClaim).reduce(0) { $0 + $1.amounts.shipping.minorUnits }, currency: order.currency)
    }

    /// True while the order's shipping fee may still go back: the order has not shipped (so the
    /// refund-only cases that together cover every line in full refund it, the last of them carrying
    /// it) and no case holds it yet. Once the goods have shipped, shipping is never refunded.
    public var shippingRefundable: Bool {
        order.status == .paid && claimedShipping.minorUnits == 0
    }

    /// True when a refund-only application for `requested` units per line, with the units the
    /// order's open and completed cases already hold, covers every line in full: the case that
    /// completes the order's refund before shipment, which carries the shipping fee.
    public func completesOrder(with requested: [String: Int]) -> Bool {
        lines.allSatisfy { $0.claimedQuantity + (requested[$0.orderLineID] ?? 0) == $0.purchasedQuantity }
    }

    /// What may still be refunded on the order: every line's unclaimed paid amount, plus the
    /// shipping fee while ``shippingRefundable``.
    public var refundableTotal: Money {
        let lineRefundable = lines.reduce(0) { $0 + $1.refundableAmount.minorUnits }
        let shipping = shippingRefundable ? order.shippingFee.minorUnits : 0
        return Money(minorUnits: lineRefundable + shipping, currency: order.currency)
    }

    /// The numbers of the open cases.
    public var openCaseNumbers: [CaseNumber] { cases.filter(\.status.isOpen).map(\.number) }

    /// True when the order may complete now: no case is open.
    public var mayComplete: Bool { openCaseNumbers.isEmpty }

    /// The state the order page shows: in progress while a case is open; then what the completed
    /// cases did, money first (returned, refunded), then goods (exchanged, repaired).
    public var state: OrderAfterSaleState {
        if !mayComplete { return .inProgress }
        let completed = cases.filter { $0.status == .completed }
        let paidBack = completed.filter { $0.amounts.refunded.minorUnits > 0 }
        if paidBack.contains(where: { $0.kind.returnsGoods && $0.receipt != nil }) { return .returned }
        if !paidBack.isEmpty { return .refunded }
        if completed.contains(where: { $0.kind == .exchange }) { return .exchanged }
        if completed.contains(where: { $0.kind == .repair }) { return .repaired }
        return .none
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
