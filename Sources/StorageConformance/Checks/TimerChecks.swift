import AfterSaleDomain
import AfterSaleStorage
import Testing

/// Case timers and their settings.
struct TimerChecks: Sendable {
    let repository: any AfterSaleRepository

    static let start = StorageFixture.now

    /// A timer of `number` started at `start` plus `offset` ms, `duration` ms long.
    static func timer(_ number: CaseNumber, rule: TimerRule = .merchantReview, offset: Int64 = 0, duration: Int64 = 60_000,
                      lead: Int64 = 0, version: String = "platform") -> CaseTimer {
        CaseTimer(caseNumber: number, shopID: "s-1", rule: rule, startedAt: start.adding(milliseconds: offset), durationMs: duration,
                  reminderLeadMs: lead, policyVersion: version)
    }

    /// Stores a synthetic pending-review case with `timer` (made for its number), returns its number.
    func storeCase(_ sequence: Int, timer makeTimer: ((CaseNumber) -> CaseTimer)?) async throws -> CaseNumber {
        let transition = StorageFixture.syntheticCase(sequence: sequence, createdAt: Self.start)
        let number = transition.afterSale.number
        try await repository.createCase(CaseCreation(
            transition: transition,
            idempotency: IdempotencyRecord(key: "timer-\(sequence)", principal: .buyer("b-1"), fingerprint: "timer"),
            basis: nil, timer: makeTimer?(number)))
        return number
    }

    func writtenWithTheCase() async throws {
        let number = try await storeCase(1) { Self.timer($0, lead: 10_000) }
        let created = try #require(try await repository.caseTimer(of: number))
        #expect(created == Self.timer(number, lead: 10_000))
        #expect(created.nextAt == Self.start.adding(milliseconds: 50_000))

        let opened = try #require(try await repository.afterSale(number))
        let approved = try decide(opened, .approve(serviceFee: nil, returnAddress: StorageFixture.returnAddress, note: ""),
                                  by: .merchant("m-1", shop: "s-1"), at: Self.start.adding(milliseconds: 1_000), expectedVersion: 1)
        let next = Self.timer(number, rule: .returnShipment, offset: 1_000, duration: 120_000, version: "shop:s-1@v2")
        try await repository.applyTransition(approved, expectedVersion: 1, effects: CaseChangeEffects(timer: .set(next)))
        #expect(try await repository.caseTimer(of: number) == next)

        let message = try decide(approved.afterSale, .shipReturn(carrier: "SF", trackingNumber: "SF9"), by: .buyer("b-1"),
                                 at: Self.start.adding(milliseconds: 2_000), expectedVersion: 2)
        try await repository.applyTransition(message, expectedVersion: 2, effects: CaseChangeEffects(timer: .keep))
        #expect(try await repository.caseTimer(of: number) == next)

        // A change that loses its compare-and-set writes no timer either.
        let stale = try decide(approved.afterSale, .withdraw(note: ""), by: .buyer("b-1"), at: Self.start.adding(milliseconds: 3_000),
                               expectedVersion: 2)
        await #expect(throws: DomainError.versionConflict(expected: 2, actual: 3)) {
            try await repository.applyTransition(stale, expectedVersion: 2, effects: CaseChangeEffects(timer: .clear))
        }
        #expect(try await repository.caseTimer(of: number) == next)

        let withdrawn = try decide(message.afterSale, .close(reason: "test"), by: .platform("p-1"),
                                   at: Self.start.adding(milliseconds: 4_000), expectedVersion: 3)
        try await repository.applyTransition(withdrawn, expectedVersion: 3, effects: CaseChangeEffects(timer: .clear))
        #expect(try await repository.caseTimer(of: number) == nil)
        #expect(try await repository.caseTimers(of: [number]).isEmpty)
    }

    func dueInOrder() async throws {
        let late = try await storeCase(1) { Self.timer($0, offset: 30_000) }
        let early = try await storeCase(2) { Self.timer($0, offset: 10_000) }
        let middle = try await storeCase(3) { Self.timer($0, offset: 20_000) }
        _ = try await storeCase(4, timer: nil)
        let at = { (ms: Int64) in Self.start.adding(milliseconds: 60_000 + ms) }
        #expect(try await repository.dueTimers(at: at(0), limit: 10).isEmpty)
        #expect(try await repository.dueTimers(at: at(10_000), limit: 10).map(\.caseNumber) == [early])
        #expect(try await repository.dueTimers(at: at(30_000), limit: 10).map(\.caseNumber) == [early, middle, late])
        #expect(try await repository.dueTimers(at: at(30_000), limit: 2).map(\.caseNumber) == [early, middle])
        #expect(try await repository.overdueTimerCount(at: at(20_000)) == 2)
        let some = try await repository.caseTimers(of: [late, early])
        #expect(Set(some.keys) == [late, early])
        #expect(some[late] == Self.timer(late, offset: 30_000))
        await #expect(throws: RepositoryError.self) { try await repository.dueTimers(at: at(0), limit: 0) }
    }

    func compareAndSet() async throws {
        let number = try await storeCase(1) { Self.timer($0, lead: 10_000) }
        let stored = try #require(try await repository.caseTimer(of: number))
        var reminded = stored
        reminded.remindedAt = Self.start.adding(milliseconds: 50_000)
        reminded.nextAt = Self.start.adding(milliseconds: 60_000)
        let event = OutboxEvent(type: .timerReminder, caseNumber: number, orderID: "o-1", occurredAt: Self.start, payload: [7])
        let head = try await repository.eventFeedHead()

        #expect(try await repository.updateTimer(reminded, expectedNextAt: Self.start, events: [event]) == false)
        #expect(try await repository.eventFeedHead() == head)
        #expect(try await repository.updateTimer(reminded, expectedNextAt: stored.nextAt, events: [event]))
        #expect(try await repository.caseTimer(of: number) == reminded)
        #expect(try await repository.eventFeedHead() == head + 1)
        // The same step again (another replica that read the same row) changes nothing.
        #expect(try await repository.updateTimer(reminded, expectedNextAt: stored.nextAt, events: [event]) == false)
        #expect(try await repository.eventFeedHead() == head + 1)
        // A timer of another wait (the case moved on) is not this one.
        var other = reminded
        other.rule = .returnShipment
        #expect(try await repository.updateTimer(other, expectedNextAt: reminded.nextAt, events: []) == false)
        let events = try await repository.events(after: head, types: [.timerReminder], limit: 10, scanLimit: 100).events
        #expect(events.map(\.payload) == [[7]])
    }

    func rewind() async throws {
        let pushed = try await storeCase(1) { Self.timer($0, lead: 10_000) }
        let untouched = try await storeCase(2) { Self.timer($0, offset: 5_000) }
        var moved = try #require(try await repository.caseTimer(of: pushed))
        let unpaused = moved.nextAt
        moved.nextAt = unpaused.adding(milliseconds: 86_400_000)
        #expect(try await repository.updateTimer(moved, expectedNextAt: unpaused, events: []))
        #expect(try await repository.rewindPausedTimers() == 1)
        #expect(try await repository.caseTimer(of: pushed)?.nextAt == unpaused)
        #expect(try await repository.caseTimer(of: untouched) == Self.timer(untouched, offset: 5_000))
        #expect(try await repository.rewindPausedTimers() == 0)
    }

    func versionedSettings() async throws {
        #expect(try await repository.timerSettings() == TimerSettings())
        let platform = Principal.platform("p-1")
        let first = TimerOverride(scope: .shop("s-1"), durations: [.merchantReview: 3_600_000], version: 1, setBy: platform,
                                  setAt: Self.start)
        try await repository.saveTimerOverride(first)
        var second = first
        second.durations = [.merchantReview: 7_200_000, .receiptConfirmation: 1]
        second.version = 2
        try await repository.saveTimerOverride(second)
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) { try await repository.saveTimerOverride(second) }
        var skipping = second
        skipping.version = 4
        await #expect(throws: DomainError.versionConflict(expected: 3, actual: 2)) { try await repository.saveTimerOverride(skipping) }
        let category = TimerOverride(scope: .category("生鲜"), durations: [:], version: 1, setBy: platform, setAt: Self.start)
        try await repository.saveTimerOverride(category)

        let pause = TimerPause(id: "pause-1", startsAt: Self.start, endsAt: Self.start.adding(days: 7), shopIDs: ["s-1", "s-2"],
                               reason: "春节 Spring Festival", version: 1, setBy: platform, setAt: Self.start)
        try await repository.saveTimerPause(pause)
        var ended = pause
        ended.endsAt = Self.start.adding(days: 1)
        ended.version = 2
        try await repository.saveTimerPause(ended)
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) { try await repository.saveTimerPause(ended) }

        let settings = try await repository.timerSettings()
        #expect(settings == TimerSettings(overrides: [second, category], pauses: [ended]))
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("a timer is written with its case and replaced, kept or cleared by the case's changes (never by a lost one)") {
            try await TimerChecks(repository: $0).writtenWithTheCase()
        },
        ConformanceCheck("due timers come earliest first, up to the limit, only once due") { try await TimerChecks(repository: $0).dueInOrder() },
        ConformanceCheck("a timer update is a compare-and-set that appends its events only when it wins") {
            try await TimerChecks(repository: $0).compareAndSet()
        },
        ConformanceCheck("rewinding moves timers a pause pushed back to their unpaused instant") { try await TimerChecks(repository: $0).rewind() },
        ConformanceCheck("timer overrides and pauses are versioned: only the next version is stored, the latest is read") {
            try await TimerChecks(repository: $0).versionedSettings()
        },
    ]
}
