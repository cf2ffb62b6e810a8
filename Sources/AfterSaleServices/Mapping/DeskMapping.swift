import AfterSaleDomain
import AfterSaleProto

extension ProtoMapping {
    static func presence(_ p: AfterSaleDomain.Presence) -> AfterSaleProto.Presence {
        switch p {
        case .online: .online
        case .away: .away
        case .offline: .offline
        }
    }

    static func presence(_ p: AfterSaleProto.Presence, field: String) throws(DomainError) -> AfterSaleDomain.Presence {
        switch p {
        case .online: .online
        case .away: .away
        case .offline: .offline
        default: throw .invalidArgument(field: field, message: "must be ONLINE, AWAY or OFFLINE")
        }
    }

    static func ticketStatus(_ s: AfterSaleDomain.TicketStatus) -> AfterSaleProto.TicketStatus {
        switch s {
        case .new: .new
        case .assigned: .assigned
        case .pending: .pending
        case .solved: .solved
        case .closed: .closed
        }
    }

    static func ticketStatus(_ s: AfterSaleProto.TicketStatus, field: String) throws(DomainError) -> AfterSaleDomain.TicketStatus {
        guard let mapped = AfterSaleDomain.TicketStatus.allCases.first(where: { ticketStatus($0) == s }) else {
            throw .invalidArgument(field: field, message: "is not a ticket status (\(s.rawValue))")
        }
        return mapped
    }

    static func priority(_ p: AfterSaleDomain.TicketPriority) -> AfterSaleProto.TicketPriority {
        switch p {
        case .low: .low
        case .normal: .normal
        case .high: .high
        case .urgent: .urgent
        }
    }

    static func priority(_ p: AfterSaleProto.TicketPriority, field: String) throws(DomainError) -> AfterSaleDomain.TicketPriority {
        if p == .unspecified { return .normal }
        guard let mapped = AfterSaleDomain.TicketPriority.allCases.first(where: { priority($0) == p }) else {
            throw .invalidArgument(field: field, message: "is not a priority (\(p.rawValue))")
        }
        return mapped
    }

    static func agent(_ a: AfterSaleDomain.Agent) -> AfterSaleProto.SupportAgent {
        var p = AfterSaleProto.SupportAgent()
        p.agentId = a.id
        p.name = a.name
        p.team = a.team
        p.skills = a.skills.sorted()
        p.refundCeiling = a.refundCeiling.map(money)
        p.capacity = Int32(clamping: a.capacity)
        p.load = Int32(clamping: a.load)
        p.presence = presence(a.presence)
        p.presenceChangedAtUnixMs = a.presenceChangedAt.millisecondsSinceEpoch
        p.lastHeartbeatAtUnixMs = a.lastHeartbeatAt.millisecondsSinceEpoch
        p.lastAssignedAtUnixMs = a.lastAssignedAt?.millisecondsSinceEpoch ?? 0
        p.version = a.version
        return p
    }

    static func sla(_ metric: SLAMetric, _ state: SLAState) -> AfterSaleProto.SlaStatus {
        var p = AfterSaleProto.SlaStatus()
        p.metric = metric.rawValue
        switch state {
        case .running(let due):
            p.state = "running"
            p.dueAtUnixMs = due.millisecondsSinceEpoch
        case .paused(let remaining):
            p.state = "paused"
            p.remainingMs = remaining
        case .met(let at):
            p.state = "met"
            p.metAtUnixMs = at.millisecondsSinceEpoch
        case .breached(let due):
            p.state = "breached"
            p.dueAtUnixMs = due.millisecondsSinceEpoch
        case .inactive:
            p.state = "inactive"
        }
        return p
    }

    /// The ticket as `viewer` may see it: internal notes only for agents and the platform; the
    /// timeline only when `withEntries`.
    static func ticket(_ t: AfterSaleDomain.Ticket, viewer: Principal, policy: SLAPolicy, now: Timestamp,
                       withEntries: Bool = true) -> AfterSaleProto.Ticket {
        var p = AfterSaleProto.Ticket()
        p.ticketId = t.id
        p.origin = t.origin.rawValue
        p.subject = t.subject
        p.caseNumber = t.caseNumber?.rawValue ?? ""
        p.orderId = t.orderID ?? ""
        p.requesterRole = role(t.requester.role)
        p.requesterId = t.requester.id
        p.buyerId = t.buyerID ?? ""
        p.shopId = t.shopID ?? ""
        p.team = t.team ?? ""
        p.priority = priority(t.priority)
        p.status = ticketStatus(t.status)
        p.requiredSkills = t.requirement.required.sorted()
        p.optionalSkills = t.requirement.optional.sorted()
        p.amount = t.requirement.amount.map(money)
        p.weight = Int32(clamping: t.weight)
        p.assignee = t.assignee ?? ""
        p.previousAssignee = t.previousAssignee ?? ""
        p.createdAtUnixMs = t.createdAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = t.updatedAt.millisecondsSinceEpoch
        p.queuedAtUnixMs = t.queuedAt.millisecondsSinceEpoch
        p.firstRepliedAtUnixMs = t.firstRepliedAt?.millisecondsSinceEpoch ?? 0
        p.solvedAtUnixMs = t.solvedAt?.millisecondsSinceEpoch ?? 0
        p.caseDeadlineUnixMs = t.caseDeadline?.millisecondsSinceEpoch ?? 0
        p.sla = SLAMetric.allCases.map { sla($0, t.sla($0, policy: policy, now: now)) }
        if withEntries {
            let staff = viewer.role == .agent || viewer.role == .platform || viewer.role == .system
            p.entries = t.entries.filter { staff || $0.isPublic }.map(entry)
        }
        p.version = t.version
        return p
    }

    static func entry(_ e: AfterSaleDomain.TicketEntry) -> AfterSaleProto.TicketEntry {
        var p = AfterSaleProto.TicketEntry()
        p.atUnixMs = e.at.millisecondsSinceEpoch
        p.actorRole = role(e.actor.role)
        p.actorId = e.actor.id
        p.step = e.step.rawValue
        p.text = e.text
        p.`public` = e.isPublic
        return p
    }

    /// The feed event of a ticket step: the ticket after it, with that step's entry (public ones only).
    static func ticketEvent(_ type: AfterSaleDomain.EventType, _ t: AfterSaleDomain.Ticket, by actor: Principal, note: String,
                            policy: SLAPolicy, at: Timestamp) -> OutboxEvent {
        var e = AfterSaleProto.Event()
        e.eventType = eventType(type)
        e.occurredAtUnixMs = at.millisecondsSinceEpoch
        e.caseNumber = t.caseNumber?.rawValue ?? ""
        e.orderId = t.orderID ?? ""
        e.shopId = t.shopID ?? ""
        e.buyerId = t.buyerID ?? ""
        e.actorRole = role(actor.role)
        e.actorId = actor.id
        e.note = note
        var ticket = ticket(t, viewer: Ticket.desk, policy: policy, now: at, withEntries: false)
        if let last = t.entries.last, last.isPublic { ticket.entries = [entry(last)] }
        e.ticket = ticket
        return OutboxEvent(type: type, caseNumber: t.caseNumber, orderID: t.orderID ?? "", occurredAt: at, payload: e.serializedBytes())
    }
}
