/// The platform or an agent rules for the buyer and forces a refund, never above what the case
/// may still refund.
struct ForceRefundRule: ActionRule {
    let amount: Money?
    let ruling: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.required(ruling, field: "ruling")
        let current = draft.current
        let ceiling = current.maximumRefund
        let amount = self.amount ?? (current.kind.refundsMoney ? (current.amounts.approved ?? current.amounts.computed) : ceiling)
        try ceiling.requireSameCurrency(amount)
        guard amount.minorUnits >= 0, amount.minorUnits <= ceiling.minorUnits else {
            throw .refundExceedsRefundable(requested: amount, refundable: ceiling)
        }
        // Spread the ruling's amount over what each line (and refunded shipping) stands for.
        let parts = try Allocation.allocate(amount, over: current.lines.map(\.claimAmount) + [current.amounts.shipping])
        for index in draft.next.lines.indices { draft.next.lines[index].approvedAmount = parts[index] }
        draft.next.amounts.approved = amount
        draft.refund = RefundRequest(for: draft.next, amount: amount, trigger: .forced)
        draft.note = ruling
        draft.details = "amount=\(amount) ruling=\(ruling)"
    }
}

/// A dispute's ruling for the buyer (or a mediated amount) refunds `amount`, never above what the
/// case may refund; a rejected or completed case it reopens is no longer finished.
struct ArbitrationRefundRule: ActionRule {
    let amount: Money
    let disputeID: String
    let ruling: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.required(ruling, field: "reason")
        let current = draft.current
        let ceiling = current.maximumRefund
        try ceiling.requireSameCurrency(amount)
        guard amount.minorUnits >= 0, amount.minorUnits <= ceiling.minorUnits else {
            throw .refundExceedsRefundable(requested: amount, refundable: ceiling)
        }
        let parts = try Allocation.allocate(amount, over: current.lines.map(\.claimAmount) + [current.amounts.shipping])
        for index in draft.next.lines.indices { draft.next.lines[index].approvedAmount = parts[index] }
        draft.next.amounts.approved = amount
        draft.next.finishedAt = nil
        draft.refund = RefundRequest(for: draft.next, amount: amount, trigger: .forced)
        draft.note = ruling
        draft.details = "dispute=\(disputeID) amount=\(amount) ruling=\(ruling)"
    }
}

/// The payment system reports the refund paid: the approved amount is refunded, line by line.
struct RefundSucceededRule: ActionRule {
    func apply(to draft: inout ActionDraft) throws(DomainError) {
        let paid = draft.next.amounts.approved ?? draft.next.amounts.computed
        draft.next.amounts.refunded = paid
        for index in draft.next.lines.indices {
            draft.next.lines[index].refundedAmount = draft.next.lines[index].approvedAmount ?? draft.next.lines[index].refundAmount
        }
        draft.note = "refunded \(paid)"
        draft.details = draft.note
    }
}

/// The payment system reports a failed attempt; the refund stays pending.
struct RefundFailedRule: ActionRule {
    let reason: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.required(reason, field: "failure_reason")
        draft.note = reason
        draft.details = "reason=\(reason)"
    }
}
