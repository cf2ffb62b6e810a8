/// Case timers (one per case while a party must act) and the settings they are armed under:
/// per-shop and per-category overrides, and pauses.
///
/// A case's timer is written by the case write that starts or ends its wait (``CaseCreation/timer``,
/// ``CaseChangeEffects/timer``); the timer worker reads due timers and moves them on with
/// compare-and-set updates, so of several replicas looking at one timer only one acts.
public protocol TimerRepository: Sendable {
    /// The timer of case `number`, nil when none runs.
    func caseTimer(of number: CaseNumber) async throws -> CaseTimer?

    /// The timers of the given cases that have one (for list rows).
    func caseTimers(of numbers: [CaseNumber]) async throws -> [CaseNumber: CaseTimer]

    /// Up to `limit` timers whose ``CaseTimer/nextAt`` is at or before `now`, earliest first (then by case number).
    func dueTimers(at now: Timestamp, limit: Int) async throws -> [CaseTimer]

    /// Replaces the stored timer of `timer.caseNumber` by `timer` and appends `events`, in one
    /// transaction, only if the stored one is still the timer it was read as: same rule, same start,
    /// same ``CaseTimer/nextAt`` as `expectedNextAt` (compare-and-set).
    /// - Returns: false, writing nothing, when the stored timer differs or is gone.
    func updateTimer(_ timer: CaseTimer, expectedNextAt: Timestamp, events: [OutboxEvent]) async throws -> Bool

    /// Moves every timer whose ``CaseTimer/nextAt`` was pushed past its unpaused instant back to
    /// that instant (after a pause was shortened, so the worker recounts them).
    /// - Returns: how many moved.
    func rewindPausedTimers() async throws -> Int

    /// The number of timers whose ``CaseTimer/nextAt`` is at or before `now` (the overdue gauge).
    func overdueTimerCount(at now: Timestamp) async throws -> Int

    /// The latest version of every override and every pause.
    func timerSettings() async throws -> TimerSettings

    /// Stores a new version of an override: `override.version` must be one more than the stored
    /// latest of its scope (1 for a new scope).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when it is not.
    func saveTimerOverride(_ override: TimerOverride) async throws

    /// Stores a new version of a pause, like ``saveTimerOverride(_:)``.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)``.
    func saveTimerPause(_ pause: TimerPause) async throws
}

/// The latest overrides and pauses, as ``TimerRepository/timerSettings()`` reads them.
public struct TimerSettings: Sendable, Hashable {
    /// The latest version of each scope's override, by scope.
    public var overrides: [TimerOverride]
    /// The latest version of each pause, by start.
    public var pauses: [TimerPause]

    /// Creates settings.
    public init(overrides: [TimerOverride] = [], pauses: [TimerPause] = []) {
        self.overrides = overrides.sorted { $0.scope.description < $1.scope.description }
        self.pauses = pauses.sorted { ($0.startsAt, $0.id) < ($1.startsAt, $1.id) }
    }
}
