/// An order's after-sale state as the order page shows it (售后中, 维权中, 退款成功, 退货成功, 换货完成, 维修完成).
public struct OrderAfterSaleView: Sendable, Hashable {
    /// The order.
    public var orderID: String
    /// The order version the figures were computed against.
    public var orderVersion: Int64
    /// The state.
    public var state: OrderAfterSaleState
    /// Part or all of the order; nil while no case has had an effect or one is open.
    public var scope: AfterSaleScope?
    /// True when no case and no dispute is open.
    public var mayComplete: Bool
    /// The open cases.
    public var openCaseNumbers: [CaseNumber]
    /// The open disputes about the order's cases (the order shows 维权中 while there is one).
    public var openDisputeIDs: [String]
    /// Refunded so far, shipping included.
    public var refundedTotal: Money
    /// What may still be refunded.
    public var refundableTotal: Money
    /// Per-line figures.
    public var lines: [LineLedger]

    /// The view of `ledger`, with the open disputes about the order's cases (维权中 while any).
    public init(_ ledger: OrderLedger, openDisputeIDs: [String] = []) {
        orderID = ledger.order.id
        orderVersion = ledger.order.version
        state = openDisputeIDs.isEmpty ? ledger.state : .disputed
        switch state {
        case .refunded, .returned, .exchanged, .repaired: scope = ledger.coversWholeOrder ? .whole : .partial
        case .none, .inProgress, .disputed: scope = nil
        }
        self.openDisputeIDs = openDisputeIDs.sorted()
        mayComplete = ledger.mayComplete && openDisputeIDs.isEmpty
        openCaseNumbers = ledger.openCaseNumbers
        refundedTotal = ledger.refundedTotal
        refundableTotal = ledger.refundableTotal
        lines = ledger.lines
    }

    /// True when the order system must hear about the change from `previous` to this view: the
    /// state, scope, whether the order may complete, the open cases or the refunded total moved.
    public func differs(from previous: OrderAfterSaleView?) -> Bool {
        guard let previous else { return true }
        return state != previous.state || scope != previous.scope || mayComplete != previous.mayComplete
            || openCaseNumbers != previous.openCaseNumbers || refundedTotal != previous.refundedTotal
            || openDisputeIDs != previous.openDisputeIDs
    }
}

/// Whether an after-sale effect covers part of an order or all of it.
public enum AfterSaleScope: String, Sendable, Hashable {
    /// Some lines or units.
    case partial
    /// Every line in full.
    case whole
}
