import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    public func agent(_ id: String) async throws -> Agent? {
        try await read("agent") { connection in try DeskRows.agent(id, on: connection) }
    }

    public func agents(team: String?) async throws -> [Agent] {
        try await read("agents") { connection in try DeskRows.agents(team: team, on: connection) }
    }

    public func ticket(_ id: String) async throws -> Ticket? {
        try await read("ticket") { connection in try DeskRows.ticket(id, on: connection) }
    }

    public func listTickets(_ query: TicketQuery) async throws -> TicketPage {
        try StorageContract.checkTicketPage(query)
        let rows = try await read("listTickets") { connection in try DeskRows.list(query, on: connection) }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return TicketPage(tickets: page, next: last.map { TicketCursor(createdAt: $0.createdAt, ticketID: $0.id) })
    }

    public func queuedTickets(limit: Int) async throws -> [Ticket] {
        try StorageContract.checkDeskBatch(limit: limit)
        return try await read("queuedTickets") { connection in try DeskRows.queued(limit: limit, on: connection) }
    }

    public func ticketsToWake(at now: Timestamp, limit: Int) async throws -> [Ticket] {
        try StorageContract.checkDeskBatch(limit: limit)
        return try await read("ticketsToWake") { connection in
            try DeskRows.toWake(at: now.millisecondsSinceEpoch, limit: limit, on: connection)
        }
    }

    public func commitDesk(_ write: DeskWrite) async throws {
        try StorageContract.check(write)
        let appended = try await self.write("commitDesk") { connection in try DeskRows.commit(write, on: connection) }
        await settle(appended: appended)
    }
}
