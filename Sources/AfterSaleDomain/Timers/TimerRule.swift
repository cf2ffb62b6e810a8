/// The waits a marketplace puts a time limit on (超时自动处理), and what happens when one runs out.
///
/// | rule | the wait | when it runs out |
/// |---|---|---|
/// | merchant_review | the merchant answers an application | approved automatically (the shop's default return address) |
/// | return_shipment | the buyer ships an approved return | the case closes |
/// | receipt_confirmation | the merchant confirms receiving the return | receipt confirmed, and the refund requested |
/// | replacement_confirmation | the buyer confirms replacement or repaired goods | the case completes |
public enum TimerRule: String, Sendable, Hashable, CaseIterable {
    case merchantReview = "merchant_review"
    case returnShipment = "return_shipment"
    case receiptConfirmation = "receipt_confirmation"
    case replacementConfirmation = "replacement_confirmation"

    /// The rule that runs while a case is in `status`, nil when nothing waits on a party.
    public init?(waitingIn status: CaseStatus) {
        switch status {
        case .pendingReview: self = .merchantReview
        case .awaitingReturn: self = .returnShipment
        case .returnShipped, .awaitingReceipt: self = .receiptConfirmation
        case .exchanging, .repairedShipped: self = .replacementConfirmation
        case .rejected, .pendingRefund, .awaitingExchange, .repairing, .completed, .withdrawn, .closed: return nil
        }
    }

    /// The action the timer takes, as ``TimerRule/actor``.
    public var action: Action {
        switch self {
        case .merchantReview: .autoApprove(returnAddress: nil)
        case .returnShipment: .close(reason: "the buyer did not ship the return in time")
        case .receiptConfirmation: .confirmReturnReceived(condition: nil, note: "receipt confirmed automatically", evidence: [])
        case .replacementConfirmation: .confirmReplacementReceived(note: "receipt confirmed automatically")
        }
    }

    /// Who the wait is on: the party a reminder goes to.
    public var waitsOn: ActorRole {
        switch self {
        case .merchantReview, .receiptConfirmation: .merchant
        case .returnShipment, .replacementConfirmation: .buyer
        }
    }

    /// What the case does when the time runs out, as a short phrase ("approves automatically").
    public var outcome: String {
        switch self {
        case .merchantReview: "approves automatically"
        case .returnShipment: "closes"
        case .receiptConfirmation: "confirms receipt and refunds"
        case .replacementConfirmation: "completes"
        }
    }

    /// The notification template of the reminder sent before the time runs out.
    public var reminderTemplateKey: String { "aftersale.timer.\(rawValue).reminder.\(waitsOn.rawValue)" }

    /// The principal timers act as.
    public static let actor = Principal.system("timer")
}
