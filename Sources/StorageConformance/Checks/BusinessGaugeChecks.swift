import AfterSaleDomain
import AfterSaleStorage
import Testing

/// The business gauges: open cases by status, open tickets by status, overdue timers.
struct BusinessGaugeChecks: Sendable {
    let repository: any AfterSaleRepository

    func counts() async throws {
        #expect(try await repository.businessGauges(overdueBefore: StorageFixture.now) == BusinessGauges())
        let timers = TimerChecks(repository: repository)
        // Two cases pending review with timers due at +60 s and +120 s; a third withdrawn (terminal).
        _ = try await timers.storeCase(1) { TimerChecks.timer($0) }
        _ = try await timers.storeCase(2) { TimerChecks.timer($0, duration: 120_000) }
        let third = try await timers.storeCase(3, timer: nil)
        let opened = try #require(try await repository.afterSale(third))
        let withdrawn = try decide(opened, .withdraw(note: ""), by: .buyer("b-1"), at: TimerChecks.start.adding(milliseconds: 10))
        try await repository.applyTransition(withdrawn, expectedVersion: 1, effects: CaseChangeEffects())
        // One ticket new, one solved.
        var solved = try DeskChecks.ticket("TK2", at: 1)
        solved = try solved.solve(by: .agent("a-1"), at: DeskChecks.start.adding(milliseconds: 5)).ticket
        for ticket in [try DeskChecks.ticket("TK1"), solved] {
            var stored = ticket
            stored.version = 1
            try await repository.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: stored, expectedVersion: 0, wakeAt: nil)]))
        }
        let at90s = try await repository.businessGauges(overdueBefore: TimerChecks.start.adding(milliseconds: 90_000))
        #expect(at90s == BusinessGauges(openCases: [.pendingReview: 2], openTickets: [.new: 1], overdueTimers: 1))
        let later = try await repository.businessGauges(overdueBefore: TimerChecks.start.adding(milliseconds: 200_000))
        #expect(later.overdueTimers == 2)
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("business gauges count open cases and open tickets by status, and overdue timers") {
            try await BusinessGaugeChecks(repository: $0).counts()
        },
    ]
}
