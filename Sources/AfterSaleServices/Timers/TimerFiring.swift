import AfterSaleDomain
import ServiceKit

/// Moves one case timer on: sends its reminder, recounts it after a pause, or fires it by applying
/// its rule's action through the case workflow as the `system` principal `timer`, on the case
/// version it read (compare-and-set). A case that moved meanwhile is left alone: its timer is
/// obsolete, not an error. What the worker and the FireTimer hook share.
struct TimerFiring: Sendable {
    let store: any AfterSaleRepository
    let workflow: CaseWorkflow
    let timers: TimerPolicySource
    let logger: Logger

    /// How long a timer whose action the domain refused waits before it is tried again.
    static let retryAfterRefusalMs: Int64 = 3_600_000

    /// What handling a timer did.
    enum Outcome: Sendable, Equatable {
        /// The reminder went out.
        case reminded
        /// A pause moved its next step later; it was stored so.
        case rescheduled
        /// The rule's action was applied.
        case fired
        /// The case or the timer had moved on (another replica acted, or the party did).
        case obsolete
        /// The domain refused the action; the timer was put off by ``retryAfterRefusalMs``.
        case refused
    }

    /// Handles `timer` (as the due-timer read returned it) at `now`.
    func handle(_ timer: CaseTimer, at now: Timestamp) async throws -> Outcome {
        let pauses = try await timers.settings().pauses
        let dueAt = timer.dueAt(pauses: pauses)
        let (step, at) = timer.nextStep(pauses: pauses)
        if dueAt <= now { return try await fire(timer, at: now, firedEarlyBy: nil).outcome }
        if at > now {
            var moved = timer
            moved.nextAt = at
            return try await store.updateTimer(moved, expectedNextAt: timer.nextAt, events: []) ? .rescheduled : .obsolete
        }
        guard step == .remind else { return .obsolete }
        guard let afterSale = try await store.afterSale(timer.caseNumber), timer.isCurrent(for: afterSale) else {
            return try await park(timer, at: now)
        }
        var reminded = timer
        reminded.remindedAt = now
        reminded.nextAt = dueAt
        let event = ProtoMapping.outbox(TimerReminder.event(for: timer, on: afterSale, dueAt: dueAt, at: now))
        return try await store.updateTimer(reminded, expectedNextAt: timer.nextAt, events: [event]) ? .reminded : .obsolete
    }

    /// A timer row that does not match its case (the case's status waits on another rule, or the
    /// case is gone) is put off a day, logged, so it cannot hold up the queue; a case write that
    /// arms a new timer replaces it. A timer replaced meanwhile is untouched (compare-and-set).
    private func park(_ timer: CaseTimer, at now: Timestamp) async throws -> Outcome {
        var later = timer
        later.nextAt = now.adding(milliseconds: 24 * 3_600_000)
        if try await store.updateTimer(later, expectedNextAt: timer.nextAt, events: []) {
            logger.log(.warning, "a timer does not match its case; put off a day", [
                "case": timer.caseNumber.rawValue, "rule": timer.rule.rawValue,
            ])
        }
        return .obsolete
    }

    /// Applies `timer`'s action now; `firedEarlyBy` names who asked before its time (FireTimer).
    /// - Returns: the outcome, and the committed change when it fired.
    func fire(_ timer: CaseTimer, at now: Timestamp, firedEarlyBy requester: Principal?) async throws
        -> (outcome: Outcome, committed: CaseWorkflow.Committed?) {
        let caller = Caller(principal: TimerRule.actor, traceID: "", idempotencyKey: nil)
        for _ in 0..<3 {
            guard let current = try await store.afterSale(timer.caseNumber), timer.isCurrent(for: current) else {
                return (try await park(timer, at: now), nil)
            }
            var transition: Transition
            do {
                transition = try await workflow.decideRecordingRefusal(current, timer.rule.action, by: caller,
                                                                        expectedVersion: current.version)
            } catch let error as DomainError {
                logger.log(.warning, "a timer's action was refused; trying again later", [
                    "case": timer.caseNumber.rawValue, "rule": timer.rule.rawValue, "error": error.message,
                ])
                var later = timer
                later.nextAt = now.adding(milliseconds: Self.retryAfterRefusalMs)
                _ = try await store.updateTimer(later, expectedNextAt: timer.nextAt, events: [])
                return (.refused, nil)
            }
            transition.recordFiring(of: timer, firedEarlyBy: requester)
            do {
                switch try await workflow.commit(transition, before: current) {
                case .applied(let committed): return (.fired, committed)
                case .replayed: return (.obsolete, nil)
                }
            } catch DomainError.versionConflict {
                continue
            } catch RepositoryError.eligibilityChanged {
                continue
            }
        }
        return (.obsolete, nil)
    }
}
