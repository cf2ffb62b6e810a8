import AfterSaleDomain
import Foundation
import ServiceKit

/// The service desk's core, shared by the ServiceDesk service, the desk worker and the intake:
/// every ticket change is decided in the domain and committed with the agents' loads it moves and
/// its feed event, compare-and-set on every row (decided again when a row moved meanwhile).
struct DeskCore: Sendable {
    let store: any AfterSaleRepository
    let settings: DeskSettings
    let clock: any WallClock
    let logger: Logger

    /// When the desk worker must look at `ticket` next: a solved ticket when its reopen window
    /// ends (to close it), an open one at its next SLA warning or breach; nil: never.
    func wakeAt(_ ticket: Ticket, now: Timestamp) -> Timestamp? {
        switch ticket.status {
        case .closed: return nil
        case .solved: return ticket.solvedAt.map { $0.adding(milliseconds: settings.reopenWindowMs) }
        case .new, .assigned, .pending: return ticket.nextSLAAlert(policy: settings.sla, now: now)?.at
        }
    }

    /// The event type of a ticket step.
    static func eventType(of change: TicketChange) -> EventType {
        switch change.ticket.entries.last?.step {
        case .assigned, .taken: .ticketAssigned
        case .transferred where change.ticket.status == .assigned: .ticketAssigned
        case .slaWarning: .ticketSLAWarning
        case .slaBreach: .ticketSLABreached
        default: .ticketUpdated
        }
    }

    /// Stores a new ticket with its ticketOpened event.
    /// - Throws: ``DomainError/duplicate(message:)`` when the id exists (an intake replaying an event).
    func open(_ ticket: Ticket) async throws {
        let now = ticket.createdAt
        try await store.commitDesk(DeskWrite(
            tickets: [TicketWrite(ticket: ticket, expectedVersion: 0, wakeAt: wakeAt(ticket, now: now))],
            events: [ProtoMapping.ticketEvent(.ticketOpened, ticket, by: ticket.requester, note: ticket.origin.rawValue,
                                              policy: settings.sla, at: now)]))
    }

    /// Commits `change` of `before`: the ticket, every agent whose load it moves (an assignment
    /// also stamps the agent's last assignment), and the step's event.
    func commit(_ change: TicketChange, before: Ticket, by actor: Principal, at now: Timestamp) async throws {
        var agents: [AgentWrite] = []
        for (id, delta) in change.loads.sorted(by: { $0.key < $1.key }) {
            guard var agent = try await store.agent(id) else { throw RepositoryError.agentNotFound(id) }
            let expected = agent.version
            agent.load = max(0, agent.load + delta)
            if delta > 0 { agent.lastAssignedAt = now }
            agent.version += 1
            agents.append(AgentWrite(agent: agent, expectedVersion: expected))
        }
        // The step's name; an SLA announcement adds its metric and due time (its entry is internal).
        let last = change.ticket.entries.last
        let note = last.map { $0.isPublic || $0.text.isEmpty ? $0.step.rawValue : "\($0.step.rawValue): \($0.text)" } ?? ""
        try await store.commitDesk(DeskWrite(
            tickets: [TicketWrite(ticket: change.ticket, expectedVersion: before.version, wakeAt: wakeAt(change.ticket, now: now))],
            agents: agents,
            events: [ProtoMapping.ticketEvent(Self.eventType(of: change), change.ticket, by: actor, note: note, policy: settings.sla, at: now)]))
    }

    /// Loads ticket `id`, decides `decide` on it and commits the change; decides again on fresh
    /// rows when the ticket or an agent moved meanwhile.
    /// - Returns: the ticket after the change.
    func act(on id: String, expectedVersion: Int64? = nil, by actor: Principal,
             _ decide: @escaping (Ticket, Timestamp) throws -> TicketChange) async throws -> Ticket {
        for attempt in 0..<5 {
            guard let current = try await store.ticket(id) else { throw RepositoryError.ticketNotFound(id) }
            if let expectedVersion, expectedVersion != 0, attempt == 0, current.version != expectedVersion {
                throw DomainError.versionConflict(expected: expectedVersion, actual: current.version)
            }
            let now = clock.now()
            let change = try decide(current, now)
            do {
                try await commit(change, before: current, by: actor, at: now)
                return change.ticket
            } catch DomainError.versionConflict {
                continue
            }
        }
        throw DomainError.stateConflict(message: "ticket \(id) kept changing while the step was decided; retry")
    }

    /// Changes agent `id` with `change`, compare-and-set, deciding again when it moved.
    func actOnAgent(_ id: String, _ change: @escaping (inout Agent, Timestamp) throws -> Void) async throws -> Agent {
        for _ in 0..<5 {
            guard var agent = try await store.agent(id) else { throw RepositoryError.agentNotFound(id) }
            let expected = agent.version
            try change(&agent, clock.now())
            agent.version = expected + 1
            do {
                try await store.commitDesk(DeskWrite(agents: [AgentWrite(agent: agent, expectedVersion: expected)]))
                return agent
            } catch DomainError.versionConflict {
                continue
            }
        }
        throw DomainError.stateConflict(message: "agent \(id) kept changing; retry")
    }

    /// One dispatch round: plans the queue against the online agents and commits the
    /// assignments, up to `limit` tickets in chunks; a chunk that meets a moved row is left to the
    /// next round.
    /// - Returns: the tickets assigned.
    @discardableResult
    func dispatchRound(limit: Int = 1_000) async throws -> Int {
        let queue = try await store.queuedTickets(limit: limit)
        guard !queue.isEmpty else { return 0 }
        let now = clock.now()
        var agents = Dictionary(uniqueKeysWithValues: try await store.agents(team: nil).map { ($0.id, $0) })
        let plan = Dispatch.plan(queue: queue.map { Dispatch.QueuedTicket(ticket: $0, deadline: $0.queueDeadline(policy: settings.sla, now: now)) },
                                 agents: agents.values.filter { $0.presence == .online }, now: now,
                                 optionalSkillWaitMs: settings.optionalSkillWaitMs)
        guard !plan.isEmpty else { return 0 }
        let tickets = Dictionary(uniqueKeysWithValues: queue.map { ($0.id, $0) })
        var assigned = 0
        var start = 0
        while start < plan.count {
            let chunk = plan[start..<min(plan.count, start + 200)]
            start += chunk.count
            var ticketWrites: [TicketWrite] = []
            var events: [OutboxEvent] = []
            var touched: [String: Int64] = [:]   // agent id → its stored version
            for assignment in chunk {
                guard let ticket = tickets[assignment.ticketID], var agent = agents[assignment.agentID] else { continue }
                let change = try ticket.assign(to: agent.id, by: Ticket.desk, at: now)
                if touched[agent.id] == nil { touched[agent.id] = agent.version }
                agent.load += ticket.weight
                agent.lastAssignedAt = now
                agents[agent.id] = agent
                ticketWrites.append(TicketWrite(ticket: change.ticket, expectedVersion: ticket.version, wakeAt: wakeAt(change.ticket, now: now)))
                events.append(ProtoMapping.ticketEvent(.ticketAssigned, change.ticket, by: Ticket.desk, note: "assigned", policy: settings.sla, at: now))
            }
            var agentWrites: [AgentWrite] = []
            for (id, expected) in touched.sorted(by: { $0.key < $1.key }) {
                guard var agent = agents[id] else { continue }
                agent.version = expected + 1
                agents[id] = agent
                agentWrites.append(AgentWrite(agent: agent, expectedVersion: expected))
            }
            do {
                try await store.commitDesk(DeskWrite(tickets: ticketWrites, agents: agentWrites, events: events))
                assigned += ticketWrites.count
            } catch DomainError.versionConflict {
                logger.log(.debug, "a dispatch chunk met a moved row; the next round takes it", ["tickets": String(ticketWrites.count)])
                return assigned
            }
        }
        return assigned
    }

    /// A new ticket id: `TK`, the day, and 12 random hex digits.
    static func newTicketID(at now: Timestamp) -> String {
        "TK" + String(now.millisecondsSinceEpoch / 1_000, radix: 36).uppercased() + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12)
    }
}

/// Runs dispatch rounds one at a time per process and lets callers wait for the next one: a
/// request made while a round runs is served by the round after it (requests in between share it).
actor DispatchLoop {
    private let core: DeskCore
    private var running = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(core: DeskCore) {
        self.core = core
    }

    /// Returns once a round that started after this call has finished.
    func request() async {
        await withCheckedContinuation { continuation in
            waiting.append(continuation)
            if !running {
                running = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let served = waiting
            waiting = []
            do {
                try await core.dispatchRound()
            } catch {
                core.logger.log(.warning, "a dispatch round failed", ["error": String(describing: error)])
            }
            for continuation in served { continuation.resume() }
        }
        running = false
    }
}
