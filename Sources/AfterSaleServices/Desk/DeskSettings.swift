import AfterSaleDomain

/// How the service desk runs: its SLAs and calendar, when tickets reopen and close, how dispatch
/// relaxes, when agents count as gone, and which cases open tickets by themselves.
public struct DeskSettings: Sendable, Hashable {
    /// Targets per priority and the calendar they count in.
    public var sla: SLAPolicy
    /// A customer reply this long after a ticket was solved reopens it; after that it closes.
    public var reopenWindowMs: Int64
    /// Optional skills stop counting after a ticket has waited this long.
    public var optionalSkillWaitMs: Int64
    /// An online or away agent without a heartbeat for this long goes offline.
    public var heartbeatTimeoutMs: Int64
    /// The tickets of an agent offline this long go back to the queue.
    public var offlineGraceMs: Int64
    /// Shops that hand their reviews to platform agents (self-operated): each new case of theirs
    /// opens a ticket.
    public var selfOperatedShops: Set<String>
    /// Timer rules whose reminder opens a ticket, so a person acts before the timer does.
    public var escalatedTimerRules: Set<TimerRule>
    /// How often the desk worker sweeps (dispatch, wake-ups, presence).
    public var sweepIntervalMs: Int64
    /// Whether this process opens tickets from the event feed (the intake); every replica may.
    public var intake = true

    /// Creates settings.
    public init(sla: SLAPolicy = .standard, reopenWindowMs: Int64 = 7 * 86_400_000, optionalSkillWaitMs: Int64 = 600_000,
                heartbeatTimeoutMs: Int64 = 90_000, offlineGraceMs: Int64 = 300_000, selfOperatedShops: Set<String> = [],
                escalatedTimerRules: Set<TimerRule> = [], sweepIntervalMs: Int64 = 1_000) {
        self.sla = sla
        self.reopenWindowMs = reopenWindowMs
        self.optionalSkillWaitMs = optionalSkillWaitMs
        self.heartbeatTimeoutMs = heartbeatTimeoutMs
        self.offlineGraceMs = offlineGraceMs
        self.selfOperatedShops = selfOperatedShops
        self.escalatedTimerRules = escalatedTimerRules
        self.sweepIntervalMs = sweepIntervalMs
    }
}
