/// The kind of an after-sale case (售后类型); each kind has its own flow.
public enum AfterSaleKind: String, Sendable, Hashable, CaseIterable {
    /// Refund only (仅退款): paid, not shipped; approved automatically, straight to pending refund.
    case refundOnly = "refund_only"
    /// Return and refund (退货退款): after shipment; reviewed, goods come back, then the refund.
    case returnAndRefund = "return_and_refund"
    /// Exchange (换货): after delivery; reviewed, goods come back, a replacement goes out.
    case exchange
    /// Repair (维修): after delivery; reviewed, goods come back, are repaired and go out again.
    case repair

    /// True when the case ends in paying money back (its computed amount is the goods' value).
    public var refundsMoney: Bool { self == .refundOnly || self == .returnAndRefund }
    /// True when the buyer sends goods back to the merchant.
    public var returnsGoods: Bool { self != .refundOnly }
    /// True when the merchant reviews the application (everything but refund only).
    public var needsReview: Bool { self != .refundOnly }
    /// True when photos are always required (return and refund, exchange), whatever the reason.
    public var alwaysRequiresEvidence: Bool { self == .returnAndRefund || self == .exchange }
}
