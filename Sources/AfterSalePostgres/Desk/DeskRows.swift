import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `agents` and `tickets` (as SQLite's `DeskRows`).
enum DeskRows {
    static func agent(_ id: String, on connection: PostgresConnection) throws -> Agent? {
        try connection.queryOne("SELECT document FROM agents WHERE agent_id = $1", .text(id)) { try AgentDocument.decode(try $0.bytes(0)) }
    }

    static func agents(team: String?, on connection: PostgresConnection) throws -> [Agent] {
        try connection.query("SELECT document FROM agents WHERE $1::text IS NULL OR team = $1 ORDER BY agent_id", PostgresValue(team)) {
            try AgentDocument.decode(try $0.bytes(0))
        }
    }

    static func ticket(_ id: String, on connection: PostgresConnection) throws -> Ticket? {
        try connection.queryOne("SELECT document FROM tickets WHERE ticket_id = $1", .text(id)) { try TicketDocument.decode(try $0.bytes(0)) }
    }

    static func queued(limit: Int, on connection: PostgresConnection) throws -> [Ticket] {
        try connection.query("SELECT document FROM tickets WHERE status = 'new' ORDER BY queued_at, ticket_id LIMIT $1",
                             .int64(Int64(limit))) { try TicketDocument.decode(try $0.bytes(0)) }
    }

    static func toWake(at now: Int64, limit: Int, on connection: PostgresConnection) throws -> [Ticket] {
        try connection.query("""
            SELECT document FROM tickets WHERE wake_at IS NOT NULL AND wake_at <= $1 ORDER BY wake_at, ticket_id LIMIT $2
            """, .int64(now), .int64(Int64(limit))) { try TicketDocument.decode(try $0.bytes(0)) }
    }

    /// One page of the ticket list: the query's filters and scope as SQL, newest first.
    static func list(_ query: TicketQuery, on connection: PostgresConnection) throws -> [Ticket] {
        var sql = StatementBuilder()
        var clauses: [String] = []
        if !query.statuses.isEmpty {
            let names = query.statuses.map(\.rawValue).sorted().map { sql.parameter(.text($0)) }
            clauses.append("status IN (\(names.joined(separator: ", ")))")
        }
        if let assignee = query.assignee { clauses.append("assignee = \(sql.parameter(.text(assignee)))") }
        if let team = query.team { clauses.append("team = \(sql.parameter(.text(team)))") }
        if let number = query.caseNumber { clauses.append("case_id = \(sql.parameter(.int64(CaseKey.id(of: number))))") }
        switch query.scope {
        case .all: break
        case .agent(let id, let team):
            let agent = sql.parameter(.text(id))
            clauses.append("(assignee = \(agent) OR previous_assignee = \(agent) OR team = \(sql.parameter(.text(team))) "
                           + "OR (team IS NULL AND assignee IS NULL))")
        case .buyer(let id):
            let buyer = sql.parameter(.text(id))
            clauses.append("((requester_role = 'buyer' AND requester_id = \(buyer)) OR buyer_id = \(buyer))")
        case .merchant(let shopID, let id):
            clauses.append("(shop_id = \(sql.parameter(.text(shopID))) OR (requester_role = 'merchant' AND requester_id = \(sql.parameter(.text(id)))))")
        }
        if let after = query.after {
            let at = sql.parameter(.int64(after.createdAt.millisecondsSinceEpoch))
            clauses.append("(created_at < \(at) OR (created_at = \(at) AND ticket_id < \(sql.parameter(.text(after.ticketID)))))")
        }
        let limit = sql.parameter(.int64(Int64(query.pageSize + 1)))
        let text = "SELECT document FROM tickets" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY created_at DESC, ticket_id DESC LIMIT \(limit)"
        return try connection.query(text, parameters: sql.parameters) { try TicketDocument.decode(try $0.bytes(0)) }
    }

    /// Writes `write` with compare-and-set on every row; the caller's transaction rolls back on a throw.
    /// - Returns: whether events were appended.
    static func commit(_ write: DeskWrite, on connection: PostgresConnection) throws -> Bool {
        for w in write.tickets {
            let t = w.ticket
            let values: [PostgresValue] = [
                .text(t.id), .text(t.status.rawValue), PostgresValue(t.assignee), PostgresValue(t.previousAssignee), PostgresValue(t.team),
                .text(t.requester.role.rawValue), .text(t.requester.id), PostgresValue(t.buyerID), PostgresValue(t.shopID),
                PostgresValue(t.caseNumber.map(CaseKey.id(of:))), .time(t.createdAt), .time(t.queuedAt), .time(w.wakeAt),
                .int64(t.version), .bytes(TicketDocument.encode(t)), .int64(w.expectedVersion),
            ]
            let changed: Int
            if w.expectedVersion == 0 {
                changed = try connection.execute("""
                    INSERT INTO tickets (ticket_id, status, assignee, previous_assignee, team, requester_role, requester_id, buyer_id,
                        shop_id, case_id, created_at, queued_at, wake_at, version, document)
                    SELECT $1, $2, $3::text, $4::text, $5::text, $6, $7, $8::text, $9::text, $10::bigint, $11, $12, $13::bigint, $14, $15
                    WHERE $16::bigint = 0
                    ON CONFLICT (ticket_id) DO NOTHING
                    """, parameters: values)
                guard changed == 1 else { throw DomainError.duplicate(message: "ticket \(t.id) exists") }
            } else {
                changed = try connection.execute("""
                    UPDATE tickets SET status = $2, assignee = $3::text, previous_assignee = $4::text, team = $5::text,
                        requester_role = $6, requester_id = $7, buyer_id = $8::text, shop_id = $9::text, case_id = $10::bigint,
                        created_at = $11, queued_at = $12, wake_at = $13::bigint, version = $14, document = $15
                    WHERE ticket_id = $1 AND version = $16
                    """, parameters: values)
                guard changed == 1 else {
                    let actual = try connection.queryOne("SELECT version FROM tickets WHERE ticket_id = $1", .text(t.id)) { try $0.int64(0) }
                    throw DomainError.versionConflict(expected: w.expectedVersion, actual: actual ?? 0)
                }
            }
        }
        for w in write.agents {
            let a = w.agent
            let values: [PostgresValue] = [.text(a.id), .text(a.team), .int64(a.version), .bytes(AgentDocument.encode(a)), .int64(w.expectedVersion)]
            if w.expectedVersion == 0 {
                let changed = try connection.execute("""
                    INSERT INTO agents (agent_id, team, version, document) SELECT $1, $2, $3, $4 WHERE $5::bigint = 0
                    ON CONFLICT (agent_id) DO NOTHING
                    """, parameters: values)
                guard changed == 1 else { throw DomainError.duplicate(message: "agent \(a.id) exists") }
            } else {
                let changed = try connection.execute("""
                    UPDATE agents SET team = $2, version = $3, document = $4 WHERE agent_id = $1 AND version = $5
                    """, parameters: values)
                guard changed == 1 else {
                    let actual = try connection.queryOne("SELECT version FROM agents WHERE agent_id = $1", .text(a.id)) { try $0.int64(0) }
                    throw DomainError.versionConflict(expected: w.expectedVersion, actual: actual ?? 0)
                }
            }
        }
        return try FeedRows.append(write.events, on: connection)
    }
}
