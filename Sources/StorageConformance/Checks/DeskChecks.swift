import AfterSaleDomain
import AfterSaleStorage
import Testing

/// The service desk's agents and tickets.
struct DeskChecks: Sendable {
    let repository: any AfterSaleRepository

    static let start = StorageFixture.now

    static func agent(_ id: String, team: String = "t-1", version: Int64 = 1) -> Agent {
        Agent(id: id, name: "Agent \(id) 客服", team: team, skills: ["kind:exchange", "lang:zh"], refundCeiling: .cny(50_000), capacity: 3,
              load: 0, presence: .online, presenceChangedAt: start, lastHeartbeatAt: start, lastAssignedAt: nil, version: version)
    }

    static func ticket(_ id: String, at offset: Int64 = 0, requester: Principal = .buyer("b-1"), team: String? = nil,
                       caseNumber: CaseNumber? = nil, shopID: String? = "s-1") throws -> Ticket {
        try Ticket.open(Ticket.Opening(
            id: id, origin: .inquiry, subject: "退款 where is my refund", text: "订单 o-1 \u{0}", caseNumber: caseNumber, orderID: "o-1",
            requester: requester, buyerID: "b-1", shopID: shopID, team: team, priority: .high,
            requirement: SkillRequirement(required: ["kind:exchange"], optional: ["lang:zh"], amount: .cny(1_990)), weight: 2,
            caseDeadline: start.adding(days: 2), at: start.adding(milliseconds: offset)))
    }

    func roundTrip() async throws {
        var agent = Self.agent("a-1")
        agent.lastAssignedAt = Self.start.adding(milliseconds: 5)
        var ticket = try Self.ticket("TK1", caseNumber: try CaseNumber(at: Self.start, sequence: 7))
        ticket = try ticket.assign(to: "a-1", by: Ticket.desk, at: Self.start.adding(milliseconds: 10)).ticket
        ticket = try ticket.reply("第一次回复", isPublic: true, by: .agent("a-1"), at: Self.start.adding(milliseconds: 20)).ticket
        ticket = try ticket.setPending(by: .agent("a-1"), at: Self.start.adding(milliseconds: 30)).ticket
        ticket = ticket.announce(SLAAnnouncement(metric: .resolution, alert: .warning, dueAt: Self.start.adding(days: 1)),
                                 at: Self.start.adding(milliseconds: 40)).ticket
        ticket.version = 1
        try await repository.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: ticket, expectedVersion: 0, wakeAt: nil)],
                                                  agents: [AgentWrite(agent: agent, expectedVersion: 0)]))
        #expect(try await repository.ticket("TK1") == ticket)
        #expect(try await repository.agent("a-1") == agent)
        #expect(try await repository.ticket("nope") == nil)
        #expect(try await repository.agents(team: "t-1") == [agent])
        #expect(try await repository.agents(team: "t-9").isEmpty)
        await #expect(throws: DomainError.duplicate(message: "ticket TK1 exists")) {
            try await repository.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: ticket, expectedVersion: 0, wakeAt: nil)]))
        }
    }

    func compareAndSet() async throws {
        let ticket = try Self.ticket("TK1")
        let agent = Self.agent("a-1")
        try await repository.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: ticket, expectedVersion: 0, wakeAt: nil)],
                                                  agents: [AgentWrite(agent: agent, expectedVersion: 0)]))
        let head = try await repository.eventFeedHead()
        // Sixteen dispatchers assign the same ticket from version 1 at once: one wins.
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<16 {
                group.addTask {
                    do {
                        let change = try ticket.assign(to: "a-\(i)", by: Ticket.desk, at: Self.start.adding(milliseconds: 1))
                        var loaded = agent
                        loaded.load += 2
                        loaded.version = 2
                        let event = OutboxEvent(type: .ticketAssigned, caseNumber: nil, orderID: "", occurredAt: Self.start, payload: [UInt8(i)])
                        try await repository.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: change.ticket, expectedVersion: 1, wakeAt: nil)],
                                                                  agents: [AgentWrite(agent: loaded, expectedVersion: 1)], events: [event]))
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var wins = 0
            for await won in group where won { wins += 1 }
            return wins
        }
        #expect(outcomes == 1)
        #expect(try await repository.ticket("TK1")?.version == 2)
        #expect(try await repository.agent("a-1")?.load == 2)
        #expect(try await repository.eventFeedHead() == head + 1)

        // A write whose agent is stale writes nothing, not even its ticket or events.
        let stored = try #require(try await repository.ticket("TK1"))
        let released = try stored.release(by: Ticket.desk, at: Self.start.adding(milliseconds: 2))
        var stale = agent
        stale.version = 2
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) {
            try await repository.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: released.ticket, expectedVersion: 2, wakeAt: nil)],
                                                      agents: [AgentWrite(agent: stale, expectedVersion: 1)],
                                                      events: [OutboxEvent(type: .ticketUpdated, caseNumber: nil, orderID: "",
                                                                           occurredAt: Self.start, payload: [9])]))
        }
        #expect(try await repository.ticket("TK1") == stored)
        #expect(try await repository.eventFeedHead() == head + 1)
    }

    func queueAndWake() async throws {
        var writes: [TicketWrite] = []
        for (i, offset) in [300, 100, 200].enumerated() {
            writes.append(TicketWrite(ticket: try Self.ticket("TK\(i)", at: Int64(offset)), expectedVersion: 0,
                                      wakeAt: Self.start.adding(milliseconds: Int64(1_000 - offset))))
        }
        let held = try Self.ticket("TK9").assign(to: "a-1", by: Ticket.desk, at: Self.start).ticket
        var heldNew = held
        heldNew.version = 1
        writes.append(TicketWrite(ticket: heldNew, expectedVersion: 0, wakeAt: nil))
        try await repository.commitDesk(DeskWrite(tickets: writes))
        #expect(try await repository.queuedTickets(limit: 10).map(\.id) == ["TK1", "TK2", "TK0"])
        #expect(try await repository.queuedTickets(limit: 2).map(\.id) == ["TK1", "TK2"])
        #expect(try await repository.ticketsToWake(at: Self.start.adding(milliseconds: 850), limit: 10).map(\.id) == ["TK0", "TK2"])
        #expect(try await repository.ticketsToWake(at: Self.start.adding(milliseconds: 850), limit: 1).map(\.id) == ["TK0"])
        #expect(try await repository.ticketsToWake(at: Self.start, limit: 10).isEmpty)
    }

    func listScopes() async throws {
        let number = try CaseNumber(at: Self.start, sequence: 3)
        let rows: [Ticket] = [
            try Self.ticket("TK1", at: 1, requester: .buyer("b-1")),
            try Self.ticket("TK2", at: 2, requester: .merchant("m-1", shop: "s-1"), team: "t-1"),
            try Self.ticket("TK3", at: 3, requester: .merchant("m-2", shop: "s-2"), team: "t-2", caseNumber: number, shopID: "s-2"),
            try Self.ticket("TK4", at: 3, requester: .buyer("b-2"), team: "t-2", shopID: "s-2"),
        ]
        var assigned = try rows[3].assign(to: "a-2", by: Ticket.desk, at: Self.start.adding(milliseconds: 5)).ticket
        assigned.version = 1
        try await repository.commitDesk(DeskWrite(tickets: (Array(rows.prefix(3)) + [assigned]).map {
            TicketWrite(ticket: $0, expectedVersion: 0, wakeAt: nil)
        }))
        func ids(_ query: TicketQuery) async throws -> [String] {
            var all: [String] = []
            var q = query
            for _ in 0..<10 {
                let page = try await repository.listTickets(q)
                all += page.tickets.map(\.id)
                guard let next = page.next else { break }
                q.after = next
            }
            return all
        }
        #expect(try await ids(TicketQuery(scope: .all, pageSize: 1)) == ["TK4", "TK3", "TK2", "TK1"])
        #expect(try await ids(TicketQuery(scope: .buyer(id: "b-2"))) == ["TK4"])
        #expect(try await ids(TicketQuery(scope: .buyer(id: "b-1"))) == ["TK4", "TK3", "TK2", "TK1"])
        #expect(try await ids(TicketQuery(scope: .merchant(shopID: "s-2", id: "m-2"))) == ["TK4", "TK3"])
        #expect(try await ids(TicketQuery(scope: .agent(id: "a-2", team: "t-1"))) == ["TK4", "TK2", "TK1"])
        #expect(try await ids(TicketQuery(scope: .all, statuses: [.assigned])) == ["TK4"])
        #expect(try await ids(TicketQuery(scope: .all, team: "t-2", pageSize: 1)) == ["TK4", "TK3"])
        #expect(try await ids(TicketQuery(scope: .all, caseNumber: number)) == ["TK3"])
        #expect(try await ids(TicketQuery(scope: .all, assignee: "a-2")) == ["TK4"])
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("agents and tickets load back exactly as stored, and a second ticket with one id is refused") {
            try await DeskChecks(repository: $0).roundTrip()
        },
        ConformanceCheck("desk writes are compare-and-set: sixteen dispatchers, one assignment; a stale row writes nothing") {
            try await DeskChecks(repository: $0).compareAndSet()
        },
        ConformanceCheck("the queue is the new tickets by waiting time; wake-ups come due in order") {
            try await DeskChecks(repository: $0).queueAndWake()
        },
        ConformanceCheck("ticket lists keep to the caller's scope and filters, newest first, across pages") {
            try await DeskChecks(repository: $0).listScopes()
        },
    ]
}
