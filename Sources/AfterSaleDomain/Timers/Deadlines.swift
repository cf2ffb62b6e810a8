/// What a timer will do to a case nobody moves, and when (超时自动处理).
public struct Deadline: Sendable, Hashable {
    /// When the timer fires.
    public var dueAt: Timestamp
    /// The action it takes, as the `system` principal.
    public var action: Action

    /// Creates a deadline.
    public init(dueAt: Timestamp, action: Action) {
        self.dueAt = dueAt
        self.action = action
    }
}

/// The timers large platforms run: merchant silent → approve; buyer never ships → close;
/// merchant never confirms receipt → confirm (and refund); buyer never confirms the replacement → confirm.
public enum Deadlines {
    /// The principal timers act as.
    public static let timer = Principal.system("timer")

    /// The next deadline of `afterSale`, counted from when it entered its status, or nil when no timer applies.
    public static func next(for afterSale: AfterSaleCase, timers: TimerPolicy) -> Deadline? {
        let since = afterSale.timeline.last { $0.from != $0.to }?.at ?? afterSale.createdAt
        func after(_ hours: Int) -> Timestamp { since.adding(milliseconds: Int64(hours) * 3_600_000) }
        switch afterSale.status {
        case .pendingReview:
            return Deadline(dueAt: after(timers.reviewHours), action: .autoApprove(returnAddress: nil))
        case .awaitingReturn:
            return Deadline(dueAt: after(timers.returnShipmentHours), action: .close(reason: "the buyer did not ship the return in time"))
        case .returnShipped, .awaitingReceipt:
            return Deadline(dueAt: after(timers.receiptHours),
                            action: .confirmReturnReceived(condition: nil, note: "receipt confirmed automatically", evidence: []))
        case .exchanging, .repairedShipped:
            return Deadline(dueAt: after(timers.replacementConfirmationHours),
                            action: .confirmReplacementReceived(note: "receipt confirmed automatically"))
        case .rejected, .pendingRefund, .awaitingExchange, .repairing, .completed, .withdrawn, .closed:
            return nil
        }
    }
}
