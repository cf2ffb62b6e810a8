/// The service desk's agents and tickets.
///
/// Every change goes through ``DeskRepository/commitDesk(_:)``: tickets and agents written
/// together with compare-and-set on their versions, and the feed events of the change, in one
/// transaction. That is what keeps a ticket to one assignee and an agent's load equal to the weights
/// of their assigned tickets, with several replicas dispatching at once.
public protocol DeskRepository: Sendable {
    /// The agent with `id`, or nil.
    func agent(_ id: String) async throws -> Agent?

    /// Every agent (of `team`, when given), by id.
    func agents(team: String?) async throws -> [Agent]

    /// The ticket with `id`, or nil.
    func ticket(_ id: String) async throws -> Ticket?

    /// One page of tickets matching `query`, newest first (by creation, then id).
    func listTickets(_ query: TicketQuery) async throws -> TicketPage

    /// Up to `limit` tickets in the queue (status new), longest waiting first.
    func queuedTickets(limit: Int) async throws -> [Ticket]

    /// Up to `limit` tickets whose wake-up time (``TicketWrite/wakeAt``) is at or before `now`,
    /// earliest first: SLA announcements due, solved tickets to close.
    func ticketsToWake(at now: Timestamp, limit: Int) async throws -> [Ticket]

    /// Writes the tickets and agents of `write` and appends its events, all or nothing.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when a stored ticket or agent is
    ///   not at its expected version (or a new one exists already: then ``DomainError/duplicate(message:)``).
    func commitDesk(_ write: DeskWrite) async throws
}

/// A ticket to store, and when the desk worker must next look at it.
public struct TicketWrite: Sendable, Hashable {
    /// The ticket as it is after the change.
    public var ticket: Ticket
    /// The version stored now (0: a new ticket).
    public var expectedVersion: Int64
    /// When the desk worker must look at it next (an SLA announcement due, a solved ticket to
    /// close); nil: never.
    public var wakeAt: Timestamp?

    /// Creates a ticket write.
    public init(ticket: Ticket, expectedVersion: Int64, wakeAt: Timestamp?) {
        self.ticket = ticket
        self.expectedVersion = expectedVersion
        self.wakeAt = wakeAt
    }
}

/// An agent to store.
public struct AgentWrite: Sendable, Hashable {
    /// The agent after the change.
    public var agent: Agent
    /// The version stored now (0: a new agent).
    public var expectedVersion: Int64

    /// Creates an agent write.
    public init(agent: Agent, expectedVersion: Int64) {
        self.agent = agent
        self.expectedVersion = expectedVersion
    }
}

/// One change of the service desk.
public struct DeskWrite: Sendable, Hashable {
    /// Tickets written.
    public var tickets: [TicketWrite]
    /// Agents written.
    public var agents: [AgentWrite]
    /// Feed events appended.
    public var events: [OutboxEvent]

    /// Creates a write.
    public init(tickets: [TicketWrite] = [], agents: [AgentWrite] = [], events: [OutboxEvent] = []) {
        self.tickets = tickets
        self.agents = agents
        self.events = events
    }
}

/// Who a ticket list is for: what the caller may see.
public enum TicketScope: Sendable, Hashable {
    /// Every ticket (the platform, supervisors).
    case all
    /// An agent: tickets they hold or held, their team's, and the unrouted queue.
    case agent(id: String, team: String)
    /// A buyer: tickets they opened or that concern them.
    case buyer(id: String)
    /// A merchant: tickets about their shop or that they opened.
    case merchant(shopID: String, id: String)
}

/// A filter and page of the ticket list.
public struct TicketQuery: Sendable, Hashable {
    /// What the caller may see.
    public var scope: TicketScope
    /// Only these statuses (empty: any).
    public var statuses: Set<TicketStatus>
    /// Only tickets held by this agent.
    public var assignee: String?
    /// Only tickets of this team.
    public var team: String?
    /// Only tickets about this case.
    public var caseNumber: CaseNumber?
    /// Rows per page (1…1000).
    public var pageSize: Int
    /// The last row of the previous page: (created at, id).
    public var after: TicketCursor?

    /// Creates a query.
    public init(scope: TicketScope, statuses: Set<TicketStatus> = [], assignee: String? = nil, team: String? = nil,
                caseNumber: CaseNumber? = nil, pageSize: Int = 20, after: TicketCursor? = nil) {
        self.scope = scope
        self.statuses = statuses
        self.assignee = assignee
        self.team = team
        self.caseNumber = caseNumber
        self.pageSize = pageSize
        self.after = after
    }
}

/// Where a ticket page continues.
public struct TicketCursor: Sendable, Hashable {
    /// The last row's creation.
    public var createdAt: Timestamp
    /// The last row's id.
    public var ticketID: String

    /// Creates a cursor.
    public init(createdAt: Timestamp, ticketID: String) {
        self.createdAt = createdAt
        self.ticketID = ticketID
    }

    /// The cursor as an opaque page token.
    public var token: String { "\(createdAt.millisecondsSinceEpoch).\(ticketID)" }

    /// The cursor a page token stands for.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public init(token: String) throws(DomainError) {
        let parts = token.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let ms = Int64(parts[0]), !parts[1].isEmpty else {
            throw .invalidArgument(field: "page_token", message: "not a token this server gave")
        }
        self.init(createdAt: Timestamp(millisecondsSinceEpoch: ms), ticketID: parts[1])
    }
}

/// One page of tickets.
public struct TicketPage: Sendable, Hashable {
    /// The tickets, newest first.
    public var tickets: [Ticket]
    /// Where the next page starts; nil on the last page.
    public var next: TicketCursor?

    /// Creates a page.
    public init(tickets: [Ticket], next: TicketCursor?) {
        self.tickets = tickets
        self.next = next
    }
}

extension TicketQuery {
    /// True when `ticket` passes the filters and the scope (the in-memory reference).
    public func matches(_ ticket: Ticket) -> Bool {
        if !statuses.isEmpty, !statuses.contains(ticket.status) { return false }
        if let assignee, ticket.assignee != assignee { return false }
        if let team, ticket.team != team { return false }
        if let caseNumber, ticket.caseNumber != caseNumber { return false }
        switch scope {
        case .all: break
        case .agent(let id, let team):
            guard ticket.assignee == id || ticket.previousAssignee == id || ticket.team == team
                || (ticket.team == nil && ticket.assignee == nil) else { return false }
        case .buyer(let id):
            guard (ticket.requester.role == .buyer && ticket.requester.id == id) || ticket.buyerID == id else { return false }
        case .merchant(let shopID, let id):
            guard ticket.shopID == shopID || (ticket.requester.role == .merchant && ticket.requester.id == id) else { return false }
        }
        if let after {
            guard (ticket.createdAt, ticket.id) < (after.createdAt, after.ticketID) else { return false }
        }
        return true
    }
}
