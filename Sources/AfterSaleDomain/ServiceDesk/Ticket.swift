/// Where a ticket (工单) is in its life: new (in the queue) → assigned → pending (waiting on the
/// customer) → solved → closed; a customer reply reopens a solved ticket within the reopen window.
public enum TicketStatus: String, Sendable, Hashable, CaseIterable {
    case new
    case assigned
    case pending
    case solved
    case closed

    /// True until the ticket is solved or closed.
    public var isOpen: Bool { self == .new || self == .assigned || self == .pending }
}

/// How urgent a ticket is; higher goes first among equal deadlines.
public enum TicketPriority: String, Sendable, Hashable, CaseIterable, Comparable {
    case low
    case normal
    case high
    case urgent

    var rank: Int {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .urgent: 3
        }
    }

    public static func < (lhs: TicketPriority, rhs: TicketPriority) -> Bool { lhs.rank < rhs.rank }
}

/// Why a ticket exists.
public enum TicketOrigin: String, Sendable, Hashable, CaseIterable {
    /// A buyer's or merchant's question (咨询), opened by RPC.
    case inquiry
    /// A refund ran out of payment attempts and needs an agent.
    case refundNeedsAttention = "refund_needs_attention"
    /// A case of a shop that hands its reviews to platform agents (self-operated shops).
    case platformReview = "platform_review"
    /// A case nearing a timer where policy asks for a person.
    case timerEscalation = "timer_escalation"
    /// A complaint or dispute.
    case complaint
}

/// What happened in one step of a ticket.
public enum TicketStep: String, Sendable, Hashable, CaseIterable {
    case opened
    case assigned
    case taken
    case transferred
    case released
    case replied
    case noted
    case pending
    case resumed
    case solved
    case reopened
    case closed
    case slaWarning = "sla_warning"
    case slaBreach = "sla_breach"
}

/// One step of a ticket's timeline; replies and notes carry their text.
public struct TicketEntry: Sendable, Hashable {
    /// When.
    public var at: Timestamp
    /// Who (the `system` principal `desk` for automatic steps).
    public var actor: Principal
    /// What.
    public var step: TicketStep
    /// A reply's or note's text, a transfer's target, an alert's metric.
    public var text: String
    /// False for internal notes (agents and the platform only).
    public var isPublic: Bool

    /// Creates an entry.
    public init(at: Timestamp, actor: Principal, step: TicketStep, text: String = "", isPublic: Bool = true) {
        self.at = at
        self.actor = actor
        self.step = step
        self.text = text
        self.isPublic = isPublic
    }
}

/// A unit of work for a person: linked to a case and/or an order, or standalone.
public struct Ticket: Sendable, Hashable {
    /// The ticket's id (`TK…`).
    public var id: String
    /// Why it exists.
    public var origin: TicketOrigin
    /// A one-line subject.
    public var subject: String
    /// The case it is about, if any.
    public var caseNumber: CaseNumber?
    /// The order it is about, if any.
    public var orderID: String?
    /// Who asked (for automatic tickets, the `system` principal `desk`).
    public var requester: Principal
    /// The buyer concerned, if known.
    public var buyerID: String?
    /// The shop concerned, if known.
    public var shopID: String?
    /// The team whose queue it is in; nil: any team.
    public var team: String?
    /// How urgent.
    public var priority: TicketPriority
    /// Where it is.
    public var status: TicketStatus
    /// What an agent must be able to do.
    public var requirement: SkillRequirement
    /// How much of an agent's capacity it takes (1 for most).
    public var weight: Int
    /// Who works on it (kept while pending and solved, for a reopen).
    public var assignee: String?
    /// Who worked on it before it went back to the queue (a reopened ticket returns to them).
    public var previousAssignee: String?
    /// When it was opened.
    public var createdAt: Timestamp
    /// When it last changed.
    public var updatedAt: Timestamp
    /// When it (re-)entered the queue: its age in the queue, and when optional skills are dropped.
    public var queuedAt: Timestamp
    /// The first public reply of an agent.
    public var firstRepliedAt: Timestamp?
    /// Since when a customer reply waits for an agent's answer (after the first response).
    public var awaitingReplySince: Timestamp?
    /// When it was last solved.
    public var solvedAt: Timestamp?
    /// Spans spent waiting on the customer (the last one open while pending).
    public var pendingPeriods: [PausePeriod]
    /// The linked case's marketplace deadline (its timer), when one runs: no target ends later.
    public var caseDeadline: Timestamp?
    /// SLA warnings and breaches already announced.
    public var announced: Set<SLAAnnouncement>
    /// Every step, oldest first.
    public var entries: [TicketEntry]
    /// Starts at 1, one more for every change.
    public var version: Int64

    /// Creates a ticket (storage rebuilds stored ones; new ones come from ``Ticket/open(_:)``).
    public init(id: String, origin: TicketOrigin, subject: String, caseNumber: CaseNumber?, orderID: String?, requester: Principal,
                buyerID: String?, shopID: String?, team: String?, priority: TicketPriority, status: TicketStatus,
                requirement: SkillRequirement, weight: Int, assignee: String?, previousAssignee: String?, createdAt: Timestamp,
                updatedAt: Timestamp, queuedAt: Timestamp, firstRepliedAt: Timestamp?, awaitingReplySince: Timestamp?,
                solvedAt: Timestamp?, pendingPeriods: [PausePeriod], caseDeadline: Timestamp?, announced: Set<SLAAnnouncement>,
                entries: [TicketEntry], version: Int64) {
        self.id = id
        self.origin = origin
        self.subject = subject
        self.caseNumber = caseNumber
        self.orderID = orderID
        self.requester = requester
        self.buyerID = buyerID
        self.shopID = shopID
        self.team = team
        self.priority = priority
        self.status = status
        self.requirement = requirement
        self.weight = weight
        self.assignee = assignee
        self.previousAssignee = previousAssignee
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.queuedAt = queuedAt
        self.firstRepliedAt = firstRepliedAt
        self.awaitingReplySince = awaitingReplySince
        self.solvedAt = solvedAt
        self.pendingPeriods = pendingPeriods
        self.caseDeadline = caseDeadline
        self.announced = announced
        self.entries = entries
        self.version = version
    }

    /// The principal automatic desk steps are taken as.
    public static let desk = Principal.system("desk")

    /// What opening a ticket needs.
    public struct Opening: Sendable, Hashable {
        public var id: String
        public var origin: TicketOrigin
        public var subject: String
        public var text: String
        public var caseNumber: CaseNumber?
        public var orderID: String?
        public var requester: Principal
        public var buyerID: String?
        public var shopID: String?
        public var team: String?
        public var priority: TicketPriority
        public var requirement: SkillRequirement
        public var weight: Int
        public var caseDeadline: Timestamp?
        public var at: Timestamp

        /// Creates an opening.
        public init(id: String, origin: TicketOrigin, subject: String, text: String, caseNumber: CaseNumber? = nil,
                    orderID: String? = nil, requester: Principal, buyerID: String? = nil, shopID: String? = nil,
                    team: String? = nil, priority: TicketPriority = .normal, requirement: SkillRequirement = SkillRequirement(),
                    weight: Int = 1, caseDeadline: Timestamp? = nil, at: Timestamp) {
            self.id = id
            self.origin = origin
            self.subject = subject
            self.text = text
            self.caseNumber = caseNumber
            self.orderID = orderID
            self.requester = requester
            self.buyerID = buyerID
            self.shopID = shopID
            self.team = team
            self.priority = priority
            self.requirement = requirement
            self.weight = weight
            self.caseDeadline = caseDeadline
            self.at = at
        }
    }

    /// A new ticket in the queue.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` for an empty or oversized subject
    ///   or text, or a weight outside 1…100.
    public static func open(_ o: Opening) throws(DomainError) -> Ticket {
        guard !o.subject.isEmpty, o.subject.count <= 200 else { throw .invalidArgument(field: "subject", message: "1 to 200 characters") }
        guard o.text.count <= 5_000 else { throw .invalidArgument(field: "text", message: "at most 5000 characters") }
        guard (1...100).contains(o.weight) else { throw .invalidArgument(field: "weight", message: "between 1 and 100") }
        guard o.requirement.required.count + o.requirement.optional.count <= 50,
              o.requirement.required.union(o.requirement.optional).allSatisfy(Agent.isIdentifier) else {
            throw .invalidArgument(field: "skills", message: "at most 50 skills of 1 to 64 characters without spaces")
        }
        return Ticket(id: o.id, origin: o.origin, subject: o.subject, caseNumber: o.caseNumber, orderID: o.orderID,
                      requester: o.requester, buyerID: o.buyerID, shopID: o.shopID, team: o.team, priority: o.priority, status: .new,
                      requirement: o.requirement, weight: o.weight, assignee: nil, previousAssignee: nil, createdAt: o.at,
                      updatedAt: o.at, queuedAt: o.at, firstRepliedAt: nil, awaitingReplySince: nil, solvedAt: nil,
                      pendingPeriods: [], caseDeadline: o.caseDeadline, announced: [],
                      entries: [TicketEntry(at: o.at, actor: o.requester, step: .opened, text: o.text)], version: 1)
    }
}

/// A ticket's change and what it does to agents' loads (only assigned tickets count).
public struct TicketChange: Sendable, Hashable {
    /// The ticket after the change (version + 1).
    public var ticket: Ticket
    /// Load added (positive) or removed (negative) per agent id.
    public var loads: [String: Int]
}

extension Ticket {
    private func conflict(_ message: String) -> DomainError { .stateConflict(message: "ticket \(id) \(message)") }

    /// The change from `self` to `next` with its load deltas and one more version.
    private func change(to next: Ticket, at: Timestamp, entry: TicketEntry) -> TicketChange {
        var next = next
        next.version = version + 1
        next.updatedAt = at
        next.entries.append(entry)
        var loads: [String: Int] = [:]
        if status == .assigned, let agent = assignee { loads[agent, default: 0] -= weight }
        if next.status == .assigned, let agent = next.assignee { loads[agent, default: 0] += weight }
        return TicketChange(ticket: next, loads: loads.filter { $0.value != 0 })
    }

    /// Assigns the queued ticket to `agent`: by dispatch (`by` the desk), or taken by the agent
    /// themselves or given by a supervisor (manual: may exceed the agent's capacity).
    public func assign(to agent: String, by actor: Principal, at: Timestamp) throws(DomainError) -> TicketChange {
        guard status == .new else { throw conflict("is \(status.rawValue), not in the queue") }
        var next = self
        next.status = .assigned
        next.assignee = agent
        let step: TicketStep = actor.role == .agent && actor.id == agent ? .taken : .assigned
        return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: step, text: agent))
    }

    /// Moves an open ticket to another agent (assigned to them) or back to a team's queue.
    public func transfer(toAgent agent: String?, team: String?, by actor: Principal, at: Timestamp) throws(DomainError) -> TicketChange {
        guard status.isOpen else { throw conflict("is \(status.rawValue)") }
        guard agent != nil || team != nil else { throw .invalidArgument(field: "to", message: "name an agent or a team") }
        var next = self
        if let team { next.team = team }
        if let agent {
            next.status = .assigned
            next.assignee = agent
        } else {
            next.status = .new
            next.previousAssignee = assignee
            next.assignee = nil
            next.queuedAt = at
        }
        next.pendingPeriods = Self.closing(pendingPeriods, at: at)
        return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .transferred,
                                                          text: agent.map { "agent \($0)" } ?? "team \(team ?? "")"))
    }

    /// Puts an assigned or pending ticket back in the queue (its agent released it, went offline,
    /// or a supervisor did).
    public func release(by actor: Principal, at: Timestamp, note: String = "") throws(DomainError) -> TicketChange {
        guard status == .assigned || status == .pending else { throw conflict("is \(status.rawValue), not held by an agent") }
        var next = self
        next.status = .new
        next.previousAssignee = assignee
        next.assignee = nil
        next.queuedAt = at
        next.pendingPeriods = Self.closing(pendingPeriods, at: at)
        return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .released, text: note))
    }

    /// A reply: an agent's public reply (answers the customer) or internal note, or the
    /// customer's message (resumes a pending ticket; reopens a solved one within `reopenWindowMs`).
    public func reply(_ text: String, isPublic: Bool, by actor: Principal, at: Timestamp, reopenWindowMs: Int64 = 0) throws(DomainError) -> TicketChange {
        guard !text.isEmpty, text.count <= 5_000 else { throw .invalidArgument(field: "text", message: "1 to 5000 characters") }
        let fromStaff = actor.role == .agent || actor.role == .platform
        guard fromStaff || isPublic else { throw .invalidArgument(field: "internal", message: "only agents leave internal notes") }
        var next = self
        if fromStaff {
            guard status != .closed else { throw conflict("is closed") }
            if isPublic {
                if next.firstRepliedAt == nil { next.firstRepliedAt = at }
                next.awaitingReplySince = nil
            }
            return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: isPublic ? .replied : .noted, text: text,
                                                              isPublic: isPublic))
        }
        switch status {
        case .closed:
            throw conflict("is closed; open a new ticket")
        case .solved:
            guard let solved = solvedAt, at.millisecondsSinceEpoch - solved.millisecondsSinceEpoch <= reopenWindowMs else {
                throw conflict("was solved too long ago to reopen; open a new ticket")
            }
            next.status = .new
            next.previousAssignee = assignee
            next.assignee = nil
            next.queuedAt = at
            next.solvedAt = nil
            next.awaitingReplySince = at
            var reopened = change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .reopened, text: text))
            reopened.ticket.entries.append(TicketEntry(at: at, actor: actor, step: .replied, text: text))
            return reopened
        case .pending:
            next.status = next.assignee == nil ? .new : .assigned
            next.pendingPeriods = Self.closing(pendingPeriods, at: at)
            if next.firstRepliedAt != nil, next.awaitingReplySince == nil { next.awaitingReplySince = at }
            var resumed = change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .resumed))
            resumed.ticket.entries.append(TicketEntry(at: at, actor: actor, step: .replied, text: text))
            return resumed
        case .new, .assigned:
            if next.firstRepliedAt != nil, next.awaitingReplySince == nil { next.awaitingReplySince = at }
            return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .replied, text: text))
        }
    }

    /// Waits on the customer: the SLA clocks stand still, and the ticket no longer counts toward the
    /// agent's load.
    public func setPending(by actor: Principal, at: Timestamp) throws(DomainError) -> TicketChange {
        guard status == .assigned else { throw conflict("is \(status.rawValue), not assigned") }
        var next = self
        next.status = .pending
        next.pendingPeriods.append(PausePeriod(from: at, to: nil))
        return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .pending))
    }

    /// Solved: the resolution clock stops; the customer may still reopen it for a while.
    public func solve(by actor: Principal, at: Timestamp, note: String = "") throws(DomainError) -> TicketChange {
        guard status.isOpen else { throw conflict("is \(status.rawValue)") }
        var next = self
        next.status = .solved
        next.solvedAt = at
        next.awaitingReplySince = nil
        next.pendingPeriods = Self.closing(pendingPeriods, at: at)
        return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .solved, text: note))
    }

    /// Closed for good (a solved ticket past its reopen window, or by a supervisor).
    public func close(by actor: Principal, at: Timestamp) throws(DomainError) -> TicketChange {
        guard status != .closed else { throw conflict("is closed") }
        var next = self
        next.status = .closed
        if next.solvedAt == nil { next.solvedAt = at }
        next.pendingPeriods = Self.closing(pendingPeriods, at: at)
        return change(to: next, at: at, entry: TicketEntry(at: at, actor: actor, step: .closed))
    }

    /// Records an SLA warning or breach as announced.
    public func announce(_ announcement: SLAAnnouncement, at: Timestamp) -> TicketChange {
        var next = self
        next.announced.insert(announcement)
        return change(to: next, at: at, entry: TicketEntry(
            at: at, actor: Self.desk, step: announcement.alert == .warning ? .slaWarning : .slaBreach,
            text: "\(announcement.metric.rawValue) due at \(announcement.dueAt.millisecondsSinceEpoch)", isPublic: false))
    }

    /// Where the ticket stands in the queue: the earliest of its first-response and resolution due
    /// times and its case's deadline; nil when none applies.
    public func queueDeadline(policy: SLAPolicy, now: Timestamp) -> Timestamp? {
        [sla(.firstResponse, policy: policy, now: now).dueAt, sla(.resolution, policy: policy, now: now).dueAt, caseDeadline]
            .compactMap { $0 }.min()
    }

    private static func closing(_ periods: [PausePeriod], at: Timestamp) -> [PausePeriod] {
        guard let last = periods.last, last.to == nil else { return periods }
        var closed = periods
        closed[closed.count - 1].to = at
        return closed
    }

    /// True when `principal` may see the ticket: the requester, the buyer or shop concerned (public
    /// entries only), the assignee, their team, and the platform.
    public func isVisible(to principal: Principal, team: String?) -> Bool {
        switch principal.role {
        case .platform: true
        case .agent: assignee == principal.id || previousAssignee == principal.id || (team != nil && self.team == team)
            || (self.team == nil && assignee == nil)
        case .buyer: requester == principal || buyerID == principal.id
        case .merchant: requester == principal || (shopID != nil && shopID == principal.shopID)
        case .system: false
        }
    }
}
