/// Automatic dispatch (自动派单): which queued ticket goes to which agent.
///
/// The queue is ordered by the earliest deadline (the ticket's SLA or its case's timer), then
/// priority, then age. Each ticket in that order goes to an online agent of its team (if it has
/// one) with the required skills (the preferred ones too until the ticket has waited
/// `optionalSkillWaitMs`) and the spare capacity for its weight: back to the agent who had it
/// before, if they qualify (a reopened ticket); otherwise the one with the highest share of spare
/// capacity (1 of 2 free beats 8 of 10), ties to whoever has waited longest since an assignment.
/// A ticket nobody can take waits; tickets behind it may still go to other agents.
public enum Dispatch {
    /// One assignment of a plan.
    public struct Assignment: Sendable, Hashable {
        /// The ticket.
        public var ticketID: String
        /// The agent.
        public var agentID: String
    }

    /// A queued ticket with its place in the queue.
    public struct QueuedTicket: Sendable, Hashable {
        /// The ticket (status new).
        public var ticket: Ticket
        /// Its deadline (``Ticket/queueDeadline(policy:now:)``).
        public var deadline: Timestamp?

        /// Creates a queued ticket.
        public init(ticket: Ticket, deadline: Timestamp?) {
            self.ticket = ticket
            self.deadline = deadline
        }
    }

    /// The queue order: earliest deadline (none last), then higher priority, then longer wait, then id.
    public static func inQueueOrder(_ queue: [QueuedTicket]) -> [QueuedTicket] {
        queue.sorted { a, b in
            let da = a.deadline?.millisecondsSinceEpoch ?? Int64.max
            let db = b.deadline?.millisecondsSinceEpoch ?? Int64.max
            if da != db { return da < db }
            if a.ticket.priority != b.ticket.priority { return a.ticket.priority > b.ticket.priority }
            if a.ticket.queuedAt != b.ticket.queuedAt { return a.ticket.queuedAt < b.ticket.queuedAt }
            return a.ticket.id < b.ticket.id
        }
    }

    /// The assignments to make now, in queue order; `agents` as they are (their loads count).
    public static func plan(queue: [QueuedTicket], agents: [Agent], now: Timestamp, optionalSkillWaitMs: Int64) -> [Assignment] {
        var pool = agents.filter { $0.presence == .online && $0.capacity > 0 }
        var plan: [Assignment] = []
        // Who qualifies depends only on the ticket's requirement, team and whether optional skills
        // still count: worked out once per such key, not once per ticket.
        struct Key: Hashable {
            let requirement: SkillRequirement
            let team: String?
            let withOptional: Bool
        }
        var qualified: [Key: [Int]] = [:]
        for queued in inQueueOrder(queue) where queued.ticket.status == .new {
            let ticket = queued.ticket
            let withOptional = now.millisecondsSinceEpoch - ticket.queuedAt.millisecondsSinceEpoch < optionalSkillWaitMs
            let key = Key(requirement: ticket.requirement, team: ticket.team, withOptional: withOptional)
            let eligible = qualified[key] ?? pool.indices.filter { i in
                (ticket.team == nil || ticket.team == pool[i].team) && pool[i].qualifies(for: ticket.requirement, withOptional: withOptional)
            }
            qualified[key] = eligible
            var chosen: Int?
            for i in eligible where pool[i].load + ticket.weight <= pool[i].capacity {
                if pool[i].id == ticket.previousAssignee {
                    chosen = i
                    break
                }
                if chosen.map({ better(pool[i], than: pool[$0]) }) ?? true { chosen = i }
            }
            guard let index = chosen else { continue }
            pool[index].load += ticket.weight
            pool[index].lastAssignedAt = now
            plan.append(Assignment(ticketID: ticket.id, agentID: pool[index].id))
        }
        return plan
    }

    /// True when `a` should get the next ticket before `b`.
    static func better(_ a: Agent, than b: Agent) -> Bool {
        // Compare spare shares exactly: a.spare / a.capacity vs b.spare / b.capacity.
        let left = Int64(a.spare) * Int64(b.capacity)
        let right = Int64(b.spare) * Int64(a.capacity)
        if left != right { return left > right }
        let aWait = a.lastAssignedAt?.millisecondsSinceEpoch ?? Int64.min
        let bWait = b.lastAssignedAt?.millisecondsSinceEpoch ?? Int64.min
        if aWait != bWait { return aWait < bWait }
        return a.id < b.id
    }
}
