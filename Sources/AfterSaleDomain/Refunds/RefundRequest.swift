/// What created a refund request.
public enum RefundTrigger: String, Sendable, Hashable, CaseIterable {
    /// A refund-only case was created and approved automatically.
    case refundOnlyCreated = "refund_only_created"
    /// The merchant confirmed receipt of returned goods.
    case returnReceived = "return_received"
    /// The platform or an agent forced a refund.
    case forced
}

/// A refund the service must hand to the payment system, in the same transaction as the case change.
public struct RefundRequest: Sendable, Hashable {
    /// The case it pays.
    public var caseNumber: CaseNumber
    /// The order it refunds.
    public var orderID: String
    /// The shop that pays.
    public var shopID: String
    /// The buyer who receives the money.
    public var buyerID: String
    /// The amount: the case's approved amount (zero needs no payment and may be reported paid at once).
    public var amount: Money
    /// What created it.
    public var trigger: RefundTrigger

    /// A refund request for `afterSale`.
    public init(for afterSale: AfterSaleCase, amount: Money, trigger: RefundTrigger) {
        caseNumber = afterSale.number
        orderID = afterSale.orderID
        shopID = afterSale.shop.id
        buyerID = afterSale.buyerID
        self.amount = amount
        self.trigger = trigger
    }
}
