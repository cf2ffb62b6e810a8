import AfterSaleDomain

/// Which cases an agent may see and act on: the cases of the tickets they may see (theirs, their
/// team's, the unrouted queue). Buyers and merchants are limited by ownership elsewhere; the
/// platform and systems see every case.
struct AgentCaseScope: Sendable {
    let desk: any DeskRepository

    /// The most tickets looked at to list an agent's cases.
    static let maximumTickets = 1_000

    /// The agent's ticket scope (their team from their agent record).
    func ticketScope(of agent: Principal) async throws -> TicketScope {
        .agent(id: agent.id, team: try await desk.agent(agent.id)?.team ?? "")
    }

    /// True when `principal` may see case `number`: anyone but an agent, or an agent with a ticket about it.
    func allows(_ principal: Principal, _ number: CaseNumber) async throws -> Bool {
        guard principal.role == .agent else { return true }
        let page = try await desk.listTickets(TicketQuery(scope: try await ticketScope(of: principal), caseNumber: number, pageSize: 1))
        return !page.tickets.isEmpty
    }

    /// The cases an agent may list (nil for anyone else: no such limit).
    func cases(of principal: Principal) async throws -> Set<CaseNumber>? {
        guard principal.role == .agent else { return nil }
        var numbers: Set<CaseNumber> = []
        var query = TicketQuery(scope: try await ticketScope(of: principal), pageSize: 200)
        var seen = 0
        while seen < Self.maximumTickets {
            let page = try await desk.listTickets(query)
            seen += page.tickets.count
            for ticket in page.tickets { if let number = ticket.caseNumber { numbers.insert(number) } }
            guard let next = page.next else { break }
            query.after = next
        }
        return Set(numbers.prefix(CaseQuery.maximumCaseNumbers))
    }
}
