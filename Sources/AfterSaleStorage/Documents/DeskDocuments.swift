import AfterSaleDomain

extension DocumentWriter {
    mutating func principal(_ value: Principal) {
        name(value.role)
        string(value.id)
        optional(value.shopID) { $0.string($1) }
    }

    mutating func strings(_ values: Set<String>) { list(values.sorted()) { $0.string($1) } }
}

extension DocumentReader {
    mutating func principal() throws -> Principal {
        Principal(role: try name(ActorRole.self), id: try string(), shopID: try optional { try $0.string() })
    }

    mutating func strings() throws -> Set<String> { Set(try list { try $0.string() }) }
}

/// The stored form of a support agent.
public enum AgentDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ value: Agent) -> [UInt8] {
        var w = DocumentWriter(format: format)
        w.string(value.id)
        w.string(value.name)
        w.string(value.team)
        w.strings(value.skills)
        w.optional(value.refundCeiling) { $0.money($1) }
        w.integer(value.capacity)
        w.integer(value.load)
        w.name(value.presence)
        w.timestamp(value.presenceChangedAt)
        w.timestamp(value.lastHeartbeatAt)
        w.optional(value.lastAssignedAt) { $0.timestamp($1) }
        w.integer(value.version)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> Agent {
        var r = try DocumentReader(bytes, format: format, kind: "agent")
        let agent = Agent(id: try r.string(), name: try r.string(), team: try r.string(), skills: try r.strings(),
                          refundCeiling: try r.optional { try $0.money() }, capacity: try r.int(), load: try r.int(),
                          presence: try r.name(Presence.self), presenceChangedAt: try r.timestamp(), lastHeartbeatAt: try r.timestamp(),
                          lastAssignedAt: try r.optional { try $0.timestamp() }, version: try r.integer())
        try r.finish()
        return agent
    }
}

/// The stored form of a ticket, its timeline included.
public enum TicketDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ t: Ticket) -> [UInt8] {
        var w = DocumentWriter(format: format)
        w.string(t.id)
        w.name(t.origin)
        w.string(t.subject)
        w.optional(t.caseNumber) { $0.string($1.rawValue) }
        w.optional(t.orderID) { $0.string($1) }
        w.principal(t.requester)
        w.optional(t.buyerID) { $0.string($1) }
        w.optional(t.shopID) { $0.string($1) }
        w.optional(t.team) { $0.string($1) }
        w.name(t.priority)
        w.name(t.status)
        w.strings(t.requirement.required)
        w.strings(t.requirement.optional)
        w.optional(t.requirement.amount) { $0.money($1) }
        w.integer(t.weight)
        w.optional(t.assignee) { $0.string($1) }
        w.optional(t.previousAssignee) { $0.string($1) }
        w.timestamp(t.createdAt)
        w.timestamp(t.updatedAt)
        w.timestamp(t.queuedAt)
        w.optional(t.firstRepliedAt) { $0.timestamp($1) }
        w.optional(t.awaitingReplySince) { $0.timestamp($1) }
        w.optional(t.solvedAt) { $0.timestamp($1) }
        w.list(t.pendingPeriods) { w, p in
            w.timestamp(p.from)
            w.optional(p.to) { $0.timestamp($1) }
        }
        w.optional(t.caseDeadline) { $0.timestamp($1) }
        let announced = t.announced.sorted { ($0.metric.rawValue, $0.alert.rawValue, $0.dueAt) < ($1.metric.rawValue, $1.alert.rawValue, $1.dueAt) }
        w.list(announced) { w, a in
            w.name(a.metric)
            w.name(a.alert)
            w.timestamp(a.dueAt)
        }
        w.list(t.entries) { w, e in
            w.timestamp(e.at)
            w.principal(e.actor)
            w.name(e.step)
            w.string(e.text)
            w.bool(e.isPublic)
        }
        w.integer(t.version)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> Ticket {
        var r = try DocumentReader(bytes, format: format, kind: "ticket")
        let id = try r.string()
        let origin = try r.name(TicketOrigin.self)
        let subject = try r.string()
        let caseNumber = try r.optional { r in try decoding { try CaseNumber(parsing: try r.string()) } }
        let orderID = try r.optional { try $0.string() }
        let requester = try r.principal()
        let buyerID = try r.optional { try $0.string() }
        let shopID = try r.optional { try $0.string() }
        let team = try r.optional { try $0.string() }
        let priority = try r.name(TicketPriority.self)
        let status = try r.name(TicketStatus.self)
        let requirement = SkillRequirement(required: try r.strings(), optional: try r.strings(), amount: try r.optional { try $0.money() })
        let weight = try r.int()
        let assignee = try r.optional { try $0.string() }
        let previousAssignee = try r.optional { try $0.string() }
        let createdAt = try r.timestamp()
        let updatedAt = try r.timestamp()
        let queuedAt = try r.timestamp()
        let firstRepliedAt = try r.optional { try $0.timestamp() }
        let awaitingReplySince = try r.optional { try $0.timestamp() }
        let solvedAt = try r.optional { try $0.timestamp() }
        let pendingPeriods = try r.list { r in PausePeriod(from: try r.timestamp(), to: try r.optional { try $0.timestamp() }) }
        let caseDeadline = try r.optional { try $0.timestamp() }
        let announced = try r.list { r in
            SLAAnnouncement(metric: try r.name(SLAMetric.self), alert: try r.name(SLAAlert.self), dueAt: try r.timestamp())
        }
        let entries = try r.list { r in
            TicketEntry(at: try r.timestamp(), actor: try r.principal(), step: try r.name(TicketStep.self), text: try r.string(),
                        isPublic: try r.bool())
        }
        let version = try r.integer()
        try r.finish()
        return Ticket(id: id, origin: origin, subject: subject, caseNumber: caseNumber, orderID: orderID, requester: requester,
                      buyerID: buyerID, shopID: shopID, team: team, priority: priority, status: status, requirement: requirement,
                      weight: weight, assignee: assignee, previousAssignee: previousAssignee, createdAt: createdAt,
                      updatedAt: updatedAt, queuedAt: queuedAt, firstRepliedAt: firstRepliedAt,
                      awaitingReplySince: awaitingReplySince, solvedAt: solvedAt, pendingPeriods: pendingPeriods,
                      caseDeadline: caseDeadline, announced: Set(announced), entries: entries, version: version)
    }
}
