/// The status of an after-sale case; completed, rejected, withdrawn and closed are terminal.
public enum CaseStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Waiting for the merchant's review (待审核).
    case pendingReview = "pending_review"
    /// Terminal: the merchant rejected the application with a written reason (审核拒绝).
    case rejected
    /// Approved; waiting for the buyer to ship the goods back or book a pickup (待退货).
    case awaitingReturn = "awaiting_return"
    /// The buyer shipped the goods back (or a pickup was booked); in transit.
    case returnShipped = "return_shipped"
    /// The carrier reports the return delivered; waiting for the merchant to confirm receipt.
    case awaitingReceipt = "awaiting_receipt"
    /// A refund is being paid through the original payment channel (待退款).
    case pendingRefund = "pending_refund"
    /// Exchange: goods back at the merchant; waiting for the replacement to ship (待换货).
    case awaitingExchange = "awaiting_exchange"
    /// Exchange: the replacement has shipped; waiting for the buyer to confirm receipt (换货中).
    case exchanging
    /// Repair: goods back at the merchant, being repaired (维修中).
    case repairing
    /// Repair: repaired goods shipped back; waiting for the buyer to confirm receipt.
    case repairedShipped = "repaired_shipped"
    /// Terminal: finished successfully (已完成).
    case completed
    /// Terminal: the buyer withdrew the application (已撤销).
    case withdrawn
    /// Terminal: closed by a timer or the platform without completion (已关闭).
    case closed

    /// True for statuses that never change again.
    public var isTerminal: Bool {
        switch self {
        case .completed, .rejected, .withdrawn, .closed: true
        default: false
        }
    }

    /// True while the case is open (not terminal); the order shows 售后中.
    public var isOpen: Bool { !isTerminal }

    /// True when the case keeps its lines' quantities and amounts claimed: open or completed.
    /// Rejected, withdrawn and closed cases release them for later cases.
    public var holdsClaim: Bool { isOpen || self == .completed }

    /// The snake_case name used in messages, e.g. `pending_review`.
    public var description: String { rawValue }
}
