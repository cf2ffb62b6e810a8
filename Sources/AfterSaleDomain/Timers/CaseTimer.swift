/// The one countdown a case has while a party must act: armed in the same transaction as the
/// transition that starts the wait, fired (or made obsolete) by the next one.
public struct CaseTimer: Sendable, Hashable {
    /// The case it moves.
    public var caseNumber: CaseNumber
    /// The case's shop (pauses may apply per shop).
    public var shopID: String
    /// The wait.
    public var rule: TimerRule
    /// When the wait began.
    public var startedAt: Timestamp
    /// Its length, as the policy said when it began.
    public var durationMs: Int64
    /// How long before the end the reminder goes out (0: none).
    public var reminderLeadMs: Int64
    /// The policy it was armed under (`platform`, `shop:s-1@v3`, `category:fresh@v1`).
    public var policyVersion: String
    /// When the reminder went out; nil before.
    public var remindedAt: Timestamp?
    /// When the timer next needs looking at: no later than its next step (a reminder, then the
    /// firing), later only once pauses were counted. Storage indexes it.
    public var nextAt: Timestamp

    /// Creates a timer (storage rebuilds stored ones; new ones come from ``CaseTimer/arm(after:previous:book:)``).
    public init(caseNumber: CaseNumber, shopID: String, rule: TimerRule, startedAt: Timestamp, durationMs: Int64,
                reminderLeadMs: Int64, policyVersion: String, remindedAt: Timestamp? = nil, nextAt: Timestamp? = nil) {
        self.caseNumber = caseNumber
        self.shopID = shopID
        self.rule = rule
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.reminderLeadMs = reminderLeadMs
        self.policyVersion = policyVersion
        self.remindedAt = remindedAt
        self.nextAt = startedAt
        self.nextAt = nextAt ?? unpausedNextAt
    }

    /// The next step's instant ignoring pauses: a lower bound of the real one (pauses only delay).
    public var unpausedNextAt: Timestamp {
        startedAt.adding(milliseconds: durationMs - (remindsPending ? reminderLeadMs : 0))
    }

    /// True while a reminder is due before the firing.
    public var remindsPending: Bool { remindedAt == nil && reminderLeadMs > 0 }

    /// When the wait runs out, counting `pauses`.
    public func dueAt(pauses: [TimerPause]) -> Timestamp {
        PausableClock.instant(after: durationMs, from: startedAt, pauses: pauses, shopID: shopID)
    }

    /// When the reminder goes out, counting `pauses`; nil when none is pending.
    public func reminderAt(pauses: [TimerPause]) -> Timestamp? {
        guard remindsPending else { return nil }
        return PausableClock.instant(after: durationMs - reminderLeadMs, from: startedAt, pauses: pauses, shopID: shopID)
    }

    /// What the timer does next and when, counting `pauses`.
    public func nextStep(pauses: [TimerPause]) -> (step: TimerStep, at: Timestamp) {
        if let reminder = reminderAt(pauses: pauses) { return (.remind, reminder) }
        return (.fire, dueAt(pauses: pauses))
    }

    /// True when this timer still belongs to `afterSale`: the case waits on the same rule.
    public func isCurrent(for afterSale: AfterSaleCase) -> Bool {
        afterSale.number == caseNumber && TimerRule(waitingIn: afterSale.status) == rule
    }

    /// The timer change a transition brings, given the rule of the status it left (nil for a new
    /// case): a status whose wait differs from the previous one arms a new timer (started at the
    /// transition) under `book`; a status without a wait clears it; otherwise (same status, or a
    /// status with the same wait: shipped, then delivered) the running timer keeps counting.
    public static func arm(after transition: Transition, previousRule: TimerRule?, book: TimerBook) -> TimerChange {
        let after = transition.afterSale
        // A refund-only case held by abuse control waits for the platform, not the merchant: no review timer.
        guard let rule = TimerRule(waitingIn: after.status), !(after.kind == .refundOnly && rule == .merchantReview) else {
            return previousRule == nil ? .keep : .clear
        }
        if previousRule == rule { return .keep }
        let wait = book.wait(rule, shopID: after.shop.id, categories: after.lines.map(\.category))
        return .set(CaseTimer(caseNumber: after.number, shopID: after.shop.id, rule: rule, startedAt: after.updatedAt,
                              durationMs: wait.durationMs, reminderLeadMs: wait.reminderLeadMs, policyVersion: wait.policyVersion))
    }
}

/// What a timer does when its instant comes.
public enum TimerStep: String, Sendable, Hashable {
    /// Sends the reminder event.
    case remind
    /// Applies the rule's action.
    case fire
}

/// How a case write changes the case's timer.
public enum TimerChange: Sendable, Hashable {
    /// Leaves it as stored.
    case keep
    /// Stores this timer, replacing any other.
    case set(CaseTimer)
    /// Removes it.
    case clear
}

extension Transition {
    /// Marks the transition as the firing of `timer`: its timeline entry and trace record name the
    /// rule and the policy version (and who fired it early, for a test hook).
    public mutating func recordFiring(of timer: CaseTimer, firedEarlyBy requester: Principal? = nil) {
        var text = "timer \(timer.rule.rawValue), policy \(timer.policyVersion)"
        if let requester { text += ", fired early by \(requester.role.rawValue):\(requester.id)" }
        for index in entries.indices { entries[index].note = entries[index].note.isEmpty ? text : "\(entries[index].note) (\(text))" }
        let count = entries.count
        if count > 0, afterSale.timeline.count >= count {
            afterSale.timeline.replaceSubrange((afterSale.timeline.count - count)..., with: entries)
        }
        trace.details = trace.details.isEmpty ? text : "\(trace.details); \(text)"
    }
}

/// The reminder a timer sends before its wait runs out.
public enum TimerReminder {
    /// The event: to the party the wait is on, with the rule's template, the due time and the outcome.
    public static func event(for timer: CaseTimer, on afterSale: AfterSaleCase, dueAt: Timestamp, at now: Timestamp) -> DomainEvent {
        var event = DomainEvent(.timerReminder, about: afterSale, from: afterSale.status, by: TimerRule.actor, at: now)
        event.note = "\(timer.rule.rawValue): the case \(timer.rule.outcome) at \(dueAt.millisecondsSinceEpoch) unless "
            + "the \(timer.rule.waitsOn.rawValue) acts"
        let role = timer.rule.waitsOn
        event.notifications = [NotificationInstruction(
            recipientRole: role, recipientID: role == .buyer ? afterSale.buyerID : afterSale.shop.id,
            templateKey: timer.rule.reminderTemplateKey,
            params: ["case_number": afterSale.number.rawValue, "due_at_unix_ms": String(dueAt.millisecondsSinceEpoch),
                     "rule": timer.rule.rawValue, "outcome": timer.rule.outcome])]
        return event
    }
}
