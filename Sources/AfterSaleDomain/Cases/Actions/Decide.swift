/// Decides an action on a case (状态机): checks who acts, the version they saw, the status the case
/// is in and the action's payload, and returns the next case with its timeline entry and trace record.
///
/// Pure: it reads no clock and writes nothing; a refused action throws and the case is unchanged.
/// The checks every action shares live here; what one action does with its payload is its
/// ``ActionRule`` (one small type per action, in this folder).
/// - Parameters:
///   - current: the case as stored.
///   - action: what to do.
///   - principal: who does it.
///   - now: when (from a ``WallClock``).
///   - expectedVersion: the version the caller last saw; nil skips the check.
///   - policy: evidence limits for the merchant's receipt photos; whether a delivered return advances the case.
/// - Throws: ``DomainError/permissionDenied(_:)``, ``DomainError/versionConflict(expected:actual:)``,
///   ``DomainError/illegalTransition(action:caseNumber:from:)``, ``DomainError/invalidArgument(field:message:)``,
///   ``DomainError/serviceFeeOutOfRange(fee:computed:)``, ``DomainError/refundExceedsRefundable(requested:refundable:)``,
///   ``DomainError/duplicate(message:)``, checked in that order.
public func decide(_ current: AfterSaleCase, _ action: Action, by principal: Principal, at now: Timestamp,
                   expectedVersion: Int64? = nil, policy: PolicyConfig = .standard) throws(DomainError) -> Transition {
    let kind = action.kind
    try Permissions.authorize(principal, kind, on: current)
    if let expectedVersion, expectedVersion != current.version {
        throw .versionConflict(expected: expectedVersion, actual: current.version)
    }
    guard let target = Transitions.target(of: kind, kind: current.kind, from: current.status) else {
        throw .illegalTransition(action: kind, caseNumber: current.number, from: current.status)
    }
    var draft = ActionDraft(current: current, target: target, at: now, policy: policy)
    try action.rule.apply(to: &draft)
    return draft.transition(step: kind.step, by: principal)
}

/// One action's own part of a decision: it validates the action's payload and changes the draft
/// (the next case, the status it leads to, the note and trace details, a refund to request).
///
/// `decide` has already checked the principal, the expected version and that the action may
/// start from the case's status.
public protocol ActionRule: Sendable {
    /// Validates the payload and applies the action to `draft`.
    func apply(to draft: inout ActionDraft) throws(DomainError)
}

/// A decision being made: the case as stored and the next value an ``ActionRule`` shapes.
public struct ActionDraft: Sendable {
    /// The case as stored.
    public let current: AfterSaleCase
    /// The case after the action; the rule changes it.
    public var next: AfterSaleCase
    /// The status the action leads to (from ``Transitions``); a rule may refine it.
    public var target: CaseStatus
    /// When the action happens.
    public let now: Timestamp
    /// The rules in force.
    public let policy: PolicyConfig
    /// The timeline entry's note, shown to the parties.
    public var note = ""
    /// The trace record's details, for the back office.
    public var details = ""
    /// A refund the action asks for, created in the same transaction.
    public var refund: RefundRequest?

    init(current: AfterSaleCase, target: CaseStatus, at now: Timestamp, policy: PolicyConfig) {
        self.current = current
        self.next = current
        self.target = target
        self.now = now
        self.policy = policy
    }

    /// The transition the finished draft stands for: the next case with its new timeline entry,
    /// version and times, and the trace record.
    func transition(step: CaseStep, by principal: Principal) -> Transition {
        var next = next
        let entry = TimelineEntry(at: now, step: step, actor: principal, from: current.status, to: target, note: note)
        next.status = target
        next.timeline.append(entry)
        next.version = current.version + 1
        next.updatedAt = now
        if target.isTerminal { next.finishedAt = now }
        let trace = TraceRecord(caseNumber: current.number, actor: principal, step: step, from: current.status,
                                to: target, at: now, outcome: .applied, details: details)
        return Transition(afterSale: next, entries: [entry], trace: trace, refundRequest: refund)
    }

    /// Approves the case's money: approved = computed − fee (0 ≤ fee ≤ computed), spread over the
    /// lines. Exchange and repair compute nothing to refund, so their only valid fee is zero and
    /// nothing is approved.
    mutating func approveMoney(fee: Money?) throws(DomainError) {
        let computed = next.amounts.computed
        let charged = fee ?? .zero(computed.currency)
        try computed.requireSameCurrency(charged)
        guard charged.minorUnits >= 0, charged.minorUnits <= computed.minorUnits else {
            throw .serviceFeeOutOfRange(fee: charged, computed: computed)
        }
        next.amounts.serviceFee = fee
        guard next.kind.refundsMoney else { return }
        let approved = try computed.subtracting(charged)
        let parts = try Allocation.allocate(approved, over: next.lines.map(\.refundAmount) + [next.amounts.shipping])
        for index in next.lines.indices { next.lines[index].approvedAmount = parts[index] }
        next.amounts.approved = approved
    }
}
