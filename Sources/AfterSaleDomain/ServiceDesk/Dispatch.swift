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
        var pool = agents.filter { $0.presence == .online }
        var plan: [Assignment] = []
        for queued in inQueueOrder(queue) where queued.ticket.status == .new {
            let ticket = queued.ticket
            let withOptional = now.millisecondsSinceEpoch - ticket.queuedAt.millisecondsSinceEpoch < optionalSkillWaitMs
            let candidates = pool.indices.filter { i in
                let agent = pool[i]
                return (ticket.team == nil || ticket.team == agent.team)
                    && agent.load + ticket.weight <= agent.capacity
                    && agent.qualifies(for: ticket.requirement, withOptional: withOptional)
            }
            guard !candidates.isEmpty else { continue }
            let chosen = candidates.first { pool[$0].id == ticket.previousAssignee } ?? candidates.max { a, b in
                better(pool[b], than: pool[a])
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
