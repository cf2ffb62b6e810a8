/// The state machine of every kind: from which statuses each action may start, and where it leads.
public enum Transitions {
    /// The status `action` leads to from `status` on a case of `kind`, or nil when it may not start there.
    ///
    /// `recordTracking` leads to `awaitingReceipt` only when a return is reported delivered; the
    /// table gives the status for any other event (unchanged), and ``decide(_:_:by:at:expectedVersion:policy:)`` refines it.
    public static func target(of action: ActionKind, kind: AfterSaleKind, from status: CaseStatus) -> CaseStatus? {
        if action == .arbitrationRefund { return arbitrationTarget(kind: kind, from: status) }
        guard !status.isTerminal else { return nil }
        let goodsBack = kind.returnsGoods
        switch action {
        case .autoApprove, .approve:
            return goodsBack && status == .pendingReview ? .awaitingReturn : nil
        case .reject:
            // A refund-only case is in review only when abuse control holds it: its reviewer may refuse it.
            return status == .pendingReview ? .rejected : nil
        case .withdraw:
            // Any open case the buyer still controls: once money is moving it is too late.
            return status != .pendingRefund && kind.allows(status) ? .withdrawn : nil
        case .close:
            return status != .pendingRefund && kind.allows(status) ? .closed : nil
        case .forceRefund:
            return status != .pendingRefund && kind.allows(status) ? .pendingRefund : nil
        case .shipReturn, .bookPickup:
            return goodsBack && status == .awaitingReturn ? .returnShipped : nil
        case .recordTracking:
            switch status {
            case .returnShipped, .awaitingReceipt: return goodsBack ? status : nil
            case .exchanging: return kind == .exchange ? status : nil
            case .repairedShipped: return kind == .repair ? status : nil
            default: return nil
            }
        case .confirmReturnReceived:
            guard status == .returnShipped || status == .awaitingReceipt else { return nil }
            switch kind {
            case .refundOnly: return nil
            case .returnAndRefund: return .pendingRefund
            case .exchange: return .awaitingExchange
            case .repair: return .repairing
            }
        case .shipReplacement:
            if kind == .exchange && status == .awaitingExchange { return .exchanging }
            if kind == .repair && status == .repairing { return .repairedShipped }
            return nil
        case .confirmReplacementReceived:
            if kind == .exchange && status == .exchanging { return .completed }
            if kind == .repair && status == .repairedShipped { return .completed }
            return nil
        case .refundSucceeded:
            return status == .pendingRefund ? .completed : nil
        case .refundFailed:
            return status == .pendingRefund ? .pendingRefund : nil
        case .arbitrationRefund:
            return arbitrationTarget(kind: kind, from: status)
        }
    }

    /// A dispute's refund: from any open status the case is not already refunding in, and from
    /// the two terminal statuses arbitration may reopen: a rejection (escalated) and a completed
    /// exchange or repair (a guarantee claim on goods the buyer kept).
    static func arbitrationTarget(kind: AfterSaleKind, from status: CaseStatus) -> CaseStatus? {
        guard kind.allows(status) else { return nil }
        switch status {
        case .rejected: return .pendingRefund
        case .completed: return kind == .exchange || kind == .repair ? .pendingRefund : nil
        case .withdrawn, .closed, .pendingRefund: return nil
        default: return .pendingRefund
        }
    }

    /// The statuses `action` may start from on a case of `kind`.
    public static func startStatuses(of action: ActionKind, kind: AfterSaleKind) -> Set<CaseStatus> {
        Set(CaseStatus.allCases.filter { target(of: action, kind: kind, from: $0) != nil })
    }

    /// The actions that may start from `status` on a case of `kind` (for "what can I do next" buttons).
    public static func availableActions(kind: AfterSaleKind, status: CaseStatus) -> [ActionKind] {
        ActionKind.allCases.filter { target(of: $0, kind: kind, from: status) != nil }
    }
}

extension AfterSaleKind {
    /// The statuses a case of this kind can ever be in.
    public var reachableStatuses: Set<CaseStatus> {
        switch self {
        case .refundOnly:
            // Pending review only when abuse control holds it for a person, who forces the refund or
            // rejects it (the rejection may be escalated like any other).
            [.pendingReview, .rejected, .pendingRefund, .completed, .withdrawn, .closed]
        case .returnAndRefund:
            [.pendingReview, .rejected, .awaitingReturn, .returnShipped, .awaitingReceipt, .pendingRefund,
             .completed, .withdrawn, .closed]
        case .exchange:
            [.pendingReview, .rejected, .awaitingReturn, .returnShipped, .awaitingReceipt, .awaitingExchange,
             .exchanging, .pendingRefund, .completed, .withdrawn, .closed]
        case .repair:
            [.pendingReview, .rejected, .awaitingReturn, .returnShipped, .awaitingReceipt, .repairing,
             .repairedShipped, .pendingRefund, .completed, .withdrawn, .closed]
        }
    }

    /// True when a case of this kind can be in `status`.
    public func allows(_ status: CaseStatus) -> Bool { reachableStatuses.contains(status) }
}
