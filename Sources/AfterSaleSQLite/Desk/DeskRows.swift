import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `agents` and `tickets`.
enum DeskRows {
    static func agent(_ id: String, on connection: SQLiteConnection) throws -> Agent? {
        try connection.queryOne("SELECT document FROM agents WHERE agent_id = ?1", bind: { $0.bind(1, id) }) {
            try AgentDocument.decode($0.blob(0))
        }
    }

    static func agents(team: String?, on connection: SQLiteConnection) throws -> [Agent] {
        try connection.query("SELECT document FROM agents WHERE ?1 IS NULL OR team = ?1 ORDER BY agent_id",
                             bind: { $0.bind(1, team) }) { try AgentDocument.decode($0.blob(0)) }
    }

    static func ticket(_ id: String, on connection: SQLiteConnection) throws -> Ticket? {
        try connection.queryOne("SELECT document FROM tickets WHERE ticket_id = ?1", bind: { $0.bind(1, id) }) {
            try TicketDocument.decode($0.blob(0))
        }
    }

    static func queued(limit: Int, on connection: SQLiteConnection) throws -> [Ticket] {
        try connection.query("SELECT document FROM tickets WHERE status = 'new' ORDER BY queued_at, ticket_id LIMIT ?1",
                             bind: { $0.bind(1, limit) }) { try TicketDocument.decode($0.blob(0)) }
    }

    static func toWake(at now: Int64, limit: Int, on connection: SQLiteConnection) throws -> [Ticket] {
        try connection.query("""
            SELECT document FROM tickets WHERE wake_at IS NOT NULL AND wake_at <= ?1 ORDER BY wake_at, ticket_id LIMIT ?2
            """, bind: { $0.bind(1, now).bind(2, limit) }) { try TicketDocument.decode($0.blob(0)) }
    }

    /// One page of the ticket list: the query's filters and scope as SQL, newest first.
    static func list(_ query: TicketQuery, on connection: SQLiteConnection) throws -> [Ticket] {
        var clauses: [String] = []
        var values: [Any] = []
        func bind(_ value: Any) -> String {
            values.append(value)
            return "?\(values.count)"
        }
        if !query.statuses.isEmpty {
            clauses.append("status IN (\(query.statuses.sorted { $0.rawValue < $1.rawValue }.map { bind($0.rawValue) }.joined(separator: ", ")))")
        }
        if let assignee = query.assignee { clauses.append("assignee = \(bind(assignee))") }
        if let team = query.team { clauses.append("team = \(bind(team))") }
        if let number = query.caseNumber { clauses.append("case_id = \(bind(CaseKey.id(of: number)))") }
        switch query.scope {
        case .all: break
        case .agent(let id, let team):
            let agent = bind(id)
            clauses.append("(assignee = \(agent) OR previous_assignee = \(agent) OR team = \(bind(team)) OR (team IS NULL AND assignee IS NULL))")
        case .buyer(let id):
            let buyer = bind(id)
            clauses.append("((requester_role = 'buyer' AND requester_id = \(buyer)) OR buyer_id = \(buyer))")
        case .merchant(let shopID, let id):
            clauses.append("(shop_id = \(bind(shopID)) OR (requester_role = 'merchant' AND requester_id = \(bind(id))))")
        }
        if let after = query.after {
            let at = bind(after.createdAt.millisecondsSinceEpoch)
            clauses.append("(created_at < \(at) OR (created_at = \(at) AND ticket_id < \(bind(after.ticketID))))")
        }
        let limit = bind(query.pageSize + 1)
        let sql = "SELECT document FROM tickets" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY created_at DESC, ticket_id DESC LIMIT \(limit)"
        return try connection.query(sql, bind: { s in
            for (index, value) in values.enumerated() {
                switch value {
                case let v as String: s.bind(Int32(index + 1), v)
                case let v as Int64: s.bind(Int32(index + 1), v)
                case let v as Int: s.bind(Int32(index + 1), v)
                default: break
                }
            }
        }) { try TicketDocument.decode($0.blob(0)) }
    }

    /// Writes `write` (checked first, so a conflict writes nothing) and returns the last event's cursor.
    static func commit(_ write: DeskWrite, on connection: SQLiteConnection) throws -> Int64? {
        for w in write.tickets {
            let stored = try connection.queryOne("SELECT version FROM tickets WHERE ticket_id = ?1", bind: { $0.bind(1, w.ticket.id) }) {
                $0.int64(0)
            } ?? 0
            if w.expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "ticket \(w.ticket.id) exists") }
            guard stored == w.expectedVersion else { throw DomainError.versionConflict(expected: w.expectedVersion, actual: stored) }
        }
        for w in write.agents {
            let stored = try connection.queryOne("SELECT version FROM agents WHERE agent_id = ?1", bind: { $0.bind(1, w.agent.id) }) {
                $0.int64(0)
            } ?? 0
            if w.expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "agent \(w.agent.id) exists") }
            guard stored == w.expectedVersion else { throw DomainError.versionConflict(expected: w.expectedVersion, actual: stored) }
        }
        for w in write.tickets {
            let t = w.ticket
            try connection.run("""
                INSERT OR REPLACE INTO tickets (ticket_id, status, assignee, previous_assignee, team, requester_role, requester_id,
                    buyer_id, shop_id, case_id, created_at, queued_at, wake_at, version, document)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                """) { s in
                s.bind(1, t.id).bind(2, t.status.rawValue).bind(3, t.assignee).bind(4, t.previousAssignee).bind(5, t.team)
                s.bind(6, t.requester.role.rawValue).bind(7, t.requester.id).bind(8, t.buyerID).bind(9, t.shopID)
                s.bind(10, t.caseNumber.map(CaseKey.id(of:))).bind(11, t.createdAt.millisecondsSinceEpoch)
                s.bind(12, t.queuedAt.millisecondsSinceEpoch).bind(13, w.wakeAt?.millisecondsSinceEpoch).bind(14, t.version)
                s.bind(15, blob: TicketDocument.encode(t))
            }
        }
        for w in write.agents {
            try connection.run("INSERT OR REPLACE INTO agents (agent_id, team, version, document) VALUES (?1, ?2, ?3, ?4)") { s in
                s.bind(1, w.agent.id).bind(2, w.agent.team).bind(3, w.agent.version).bind(4, blob: AgentDocument.encode(w.agent))
            }
        }
        return try EventRows.append(write.events, on: connection)
    }
}
