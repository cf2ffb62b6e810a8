/// A timer approves an application the merchant left unreviewed, with the shop's default return address.
struct AutoApproveRule: ActionRule {
    let returnAddress: Address?

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try draft.approveMoney(fee: nil)
        draft.next.returnAddress = returnAddress
        draft.note = "approved automatically: the merchant did not review in time"
        draft.details = "approved=\(draft.next.amounts.approved.map(\.description) ?? "n/a")"
    }
}

/// The merchant approves, with an optional service fee and the address the goods go back to.
struct ApproveRule: ActionRule {
    let serviceFee: Money?
    let returnAddress: Address?
    let note: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.optional(note, field: "note")
        guard let returnAddress else {
            throw .invalidArgument(field: "return_address", message: "is required to approve a \(draft.current.kind.rawValue) case")
        }
        try TextRules.required(returnAddress.street, field: "return_address.street")
        try draft.approveMoney(fee: serviceFee)
        draft.next.returnAddress = returnAddress
        draft.note = note
        draft.details = "fee=\(serviceFee.map(\.description) ?? "none") approved=\(draft.next.amounts.approved.map(\.description) ?? "n/a")"
    }
}

/// The merchant rejects with a written reason, shown to the buyer.
struct RejectRule: ActionRule {
    let reason: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.required(reason, field: "rejection_reason")
        draft.next.rejectionReason = reason
        draft.note = reason
        draft.details = "reason=\(reason)"
    }
}

/// The buyer withdraws the application.
struct WithdrawRule: ActionRule {
    let note: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.optional(note, field: "note")
        draft.note = note
    }
}

/// A timer or the platform closes the case with a reason.
struct CloseRule: ActionRule {
    let reason: String

    func apply(to draft: inout ActionDraft) throws(DomainError) {
        try TextRules.required(reason, field: "reason")
        draft.note = reason
        draft.details = "reason=\(reason)"
    }
}
