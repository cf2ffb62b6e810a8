/// Counts of what is open right now, for the business gauges on the metrics endpoint.
public protocol BusinessGaugeRepository: Sendable {
    /// Open cases by status, open tickets by status, and timers whose next look is before `overdueBefore`.
    func businessGauges(overdueBefore: Timestamp) async throws -> BusinessGauges
}

/// What is open right now: the backlog a dashboard watches.
public struct BusinessGauges: Sendable, Hashable {
    /// Cases not in a terminal status, by status (statuses with none are absent).
    public var openCases: [CaseStatus: Int]
    /// Tickets not solved or closed, by status (statuses with none are absent).
    public var openTickets: [TicketStatus: Int]
    /// Case timers that should have acted and have not (their next look is overdue).
    public var overdueTimers: Int

    /// Gauges.
    public init(openCases: [CaseStatus: Int] = [:], openTickets: [TicketStatus: Int] = [:], overdueTimers: Int = 0) {
        self.openCases = openCases
        self.openTickets = openTickets
        self.overdueTimers = overdueTimers
    }
}
