import AfterSaleDomain
import Testing

@Suite("Service desk: tickets, dispatch and SLAs (客服工作台)")
struct ServiceDeskTests {
    static let t0 = Timestamp(millisecondsSinceEpoch: 1_795_219_200_000)   // 2026-11-21 00:00 UTC, a Saturday
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    static func at(_ ms: Int64) -> Timestamp { t0.adding(milliseconds: ms) }

    static func agent(_ id: String, skills: Set<String> = ["kind:return_and_refund"], capacity: Int = 2, load: Int = 0,
                      team: String = "t-1", presence: Presence = .online, lastAssignedAt: Timestamp? = nil) -> Agent {
        Agent(id: id, name: id, team: team, skills: skills, capacity: capacity, load: load, presence: presence, presenceChangedAt: t0,
              lastHeartbeatAt: t0, lastAssignedAt: lastAssignedAt)
    }

    static func ticket(_ id: String, required: Set<String> = ["kind:return_and_refund"], optional: Set<String> = [],
                       priority: TicketPriority = .normal, weight: Int = 1, team: String? = nil, at: Timestamp = t0) throws -> Ticket {
        try Ticket.open(Ticket.Opening(id: id, origin: .inquiry, subject: "s", text: "t", requester: .buyer("b-1"), team: team,
                                       priority: priority, requirement: SkillRequirement(required: required, optional: optional),
                                       weight: weight, at: at))
    }

    // MARK: - Calendar and SLA arithmetic

    @Test("business time skips nights, weekends and holidays, in the calendar's own time zone")
    func calendar() {
        let cal = BusinessCalendar.chinaOfficeHours     // Mon–Fri 09:00–18:00 UTC+8 = 01:00–10:00 UTC
        // Friday 2026-11-20 17:00 China time = 09:00 UTC; 2 business hours → Monday 10:00 China = 02:00 UTC.
        let friday = Timestamp(millisecondsSinceEpoch: 1_795_165_200_000)      // 2026-11-20 09:00 UTC
        let monday = Timestamp(millisecondsSinceEpoch: 1_795_399_200_000)      // 2026-11-23 02:00 UTC
        #expect(cal.instant(after: 2 * Self.hour, from: friday) == monday)
        #expect(cal.elapsed(from: friday, to: monday) == 2 * Self.hour)
        var holiday = cal
        holiday.holidays = ["2026-11-23"]
        #expect(holiday.instant(after: 2 * Self.hour, from: friday) == monday.adding(days: 1))
        // A pause inside working time moves the due time by its length; one outside it does not.
        let pause = PausePeriod(from: friday.adding(milliseconds: 10 * Self.minute), to: friday.adding(milliseconds: 40 * Self.minute))
        #expect(cal.instant(after: 2 * Self.hour, from: friday, pauses: [pause]) == monday.adding(milliseconds: 30 * Self.minute))
        let weekend = PausePeriod(from: Self.t0, to: Self.t0.adding(days: 1))
        #expect(cal.instant(after: 2 * Self.hour, from: friday, pauses: [weekend]) == monday)
        // An open pause stops the clock for good.
        #expect(cal.instant(after: 2 * Self.hour, from: friday, pauses: [PausePeriod(from: friday, to: nil)]) == nil)
        #expect(BusinessCalendar.always.instant(after: 90 * Self.minute, from: friday) == friday.adding(milliseconds: 90 * Self.minute))
        #expect(throws: DomainError.self) { try BusinessCalendar(utcOffsetMinutes: 0, hours: [:], holidays: ["2026-02-30"]).validate() }
    }

    @Test("SLA states: running, paused while pending, met, breached, and capped by the case's deadline")
    func slaStates() throws {
        var policy = SLAPolicy.standard
        policy.calendar = .always
        let opened = try Self.ticket("TK1")     // normal: first reply 4 h, next 8 h, resolution 24 h
        #expect(opened.sla(.firstResponse, policy: policy, now: Self.t0) == .running(dueAt: Self.at(4 * Self.hour)))
        #expect(opened.sla(.nextResponse, policy: policy, now: Self.t0) == .inactive)
        #expect(opened.sla(.firstResponse, policy: policy, now: Self.at(5 * Self.hour)) == .breached(dueAt: Self.at(4 * Self.hour)))

        let agent = Principal.agent("a-1")
        var t = try opened.assign(to: "a-1", by: Ticket.desk, at: Self.at(Self.minute)).ticket
        t = try t.reply("hello", isPublic: true, by: agent, at: Self.at(Self.hour)).ticket
        #expect(t.sla(.firstResponse, policy: policy, now: Self.at(Self.hour)) == .met(at: Self.at(Self.hour)))
        t = try t.setPending(by: agent, at: Self.at(2 * Self.hour)).ticket
        #expect(t.sla(.resolution, policy: policy, now: Self.at(10 * Self.hour)) == .paused(remainingMs: 22 * Self.hour))
        t = try t.reply("here you are", isPublic: true, by: .buyer("b-1"), at: Self.at(12 * Self.hour), reopenWindowMs: 0).ticket
        #expect(t.status == .assigned)
        // 10 hours waiting on the buyer do not count: resolution due at 24 + 10 h.
        #expect(t.sla(.resolution, policy: policy, now: Self.at(12 * Self.hour)) == .running(dueAt: Self.at(34 * Self.hour)))
        #expect(t.sla(.nextResponse, policy: policy, now: Self.at(12 * Self.hour)) == .running(dueAt: Self.at(20 * Self.hour)))

        var linked = t
        linked.caseDeadline = Self.at(30 * Self.hour)
        #expect(linked.sla(.resolution, policy: policy, now: Self.at(12 * Self.hour)) == .running(dueAt: Self.at(30 * Self.hour)))
        let next = try #require(linked.nextSLAAlert(policy: policy, now: Self.at(12 * Self.hour)))
        #expect(next.metric == .nextResponse && next.alert == .warning)
        #expect(next.at == Self.at(20 * Self.hour - policy.warningLeadMs))
        let announced = linked.announce(SLAAnnouncement(metric: .nextResponse, alert: .warning, dueAt: Self.at(20 * Self.hour)),
                                        at: next.at).ticket
        #expect(announced.nextSLAAlert(policy: policy, now: next.at)?.alert == .breach)
    }

    // MARK: - Tickets

    @Test("a ticket's life: queue, assignment, pending, solved, reopened by the customer, closed; loads follow")
    func lifecycle() throws {
        let opened = try Self.ticket("TK1", weight: 2)
        let assigned = try opened.assign(to: "a-1", by: Ticket.desk, at: Self.at(1))
        #expect(assigned.loads == ["a-1": 2])
        let pending = try assigned.ticket.setPending(by: .agent("a-1"), at: Self.at(2))
        #expect(pending.loads == ["a-1": -2])
        let solved = try pending.ticket.solve(by: .agent("a-1"), at: Self.at(3))
        #expect(solved.loads.isEmpty)
        let reopened = try solved.ticket.reply("still broken", isPublic: true, by: .buyer("b-1"), at: Self.at(4), reopenWindowMs: 10)
        #expect(reopened.ticket.status == .new)
        #expect(reopened.ticket.previousAssignee == "a-1")
        #expect(throws: DomainError.self) {
            try solved.ticket.reply("later", isPublic: true, by: .buyer("b-1"), at: Self.at(100), reopenWindowMs: 10)
        }
        #expect(throws: DomainError.self) { try opened.setPending(by: .agent("a-1"), at: Self.at(1)) }
        #expect(throws: DomainError.self) { try opened.reply("note", isPublic: false, by: .buyer("b-1"), at: Self.at(1), reopenWindowMs: 0) }
        let closed = try solved.ticket.close(by: Ticket.desk, at: Self.at(5)).ticket
        #expect(throws: DomainError.self) { try closed.reply("x", isPublic: true, by: .buyer("b-1"), at: Self.at(6), reopenWindowMs: 99) }
        #expect(reopened.ticket.version == 5)
        #expect(reopened.ticket.entries.map(\.step) == [.opened, .assigned, .pending, .solved, .reopened, .replied])
    }

    // MARK: - Dispatch

    @Test("dispatch: the highest share of spare capacity wins, ties to the longest wait; the queue is by deadline, priority, age")
    func dispatchRules() throws {
        let a = Self.agent("a", capacity: 2, load: 1)          // 1 of 2 free: 50 %
        let b = Self.agent("b", capacity: 10, load: 8)         // 2 of 10 free: 20 %
        #expect(Dispatch.plan(queue: [.init(ticket: try Self.ticket("T1"), deadline: nil)], agents: [b, a], now: Self.t0,
                              optionalSkillWaitMs: 0).map(\.agentID) == ["a"])
        let c = Self.agent("c", lastAssignedAt: Self.at(5))
        let d = Self.agent("d", lastAssignedAt: Self.at(1))
        #expect(Dispatch.plan(queue: [.init(ticket: try Self.ticket("T1"), deadline: nil)], agents: [c, d], now: Self.t0,
                              optionalSkillWaitMs: 0).map(\.agentID) == ["d"])

        let one = Self.agent("solo", capacity: 1)
        let queue: [Dispatch.QueuedTicket] = [
            .init(ticket: try Self.ticket("old-low", priority: .low, at: Self.at(-1_000)), deadline: nil),
            .init(ticket: try Self.ticket("urgent", priority: .urgent), deadline: nil),
            .init(ticket: try Self.ticket("due-soon", priority: .low), deadline: Self.at(60_000)),
        ]
        #expect(Dispatch.plan(queue: queue, agents: [one], now: Self.t0, optionalSkillWaitMs: 0).map(\.ticketID) == ["due-soon"])
        #expect(Dispatch.inQueueOrder(queue).map(\.ticket.id) == ["due-soon", "urgent", "old-low"])

        // Optional skills count until the ticket has waited long enough.
        let picky = try Self.ticket("zh", optional: ["lang:zh"], at: Self.t0)
        let english = Self.agent("en")
        #expect(Dispatch.plan(queue: [.init(ticket: picky, deadline: nil)], agents: [english], now: Self.at(1_000),
                              optionalSkillWaitMs: 60_000).isEmpty)
        #expect(Dispatch.plan(queue: [.init(ticket: picky, deadline: nil)], agents: [english], now: Self.at(60_000),
                              optionalSkillWaitMs: 60_000).count == 1)
        // A reopened ticket goes back to its agent while they are online and free.
        var reopened = try Self.ticket("again")
        reopened.previousAssignee = "b2"
        let plan = Dispatch.plan(queue: [.init(ticket: reopened, deadline: nil)],
                                 agents: [Self.agent("a2"), Self.agent("b2", load: 1)], now: Self.t0, optionalSkillWaitMs: 0)
        #expect(plan.map(\.agentID) == ["b2"])
    }

    @Test("dispatch properties over seeded random sequences: capacity, presence, skills, one assignee, queue order", arguments: 0..<24)
    func dispatchProperties(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed) &* 7_919 &+ 17)
        let skills = ["kind:refund_only", "kind:return_and_refund", "kind:exchange", "lang:en", "lang:zh"]
        var agents: [String: Agent] = [:]
        for i in 0..<rng.int(in: 2...8) {
            var set: Set<String> = []
            for s in skills where rng.chance(60) { set.insert(s) }
            agents["a\(i)"] = Self.agent("a\(i)", skills: set, capacity: rng.int(in: 1...4), team: rng.chance(50) ? "t-1" : "t-2",
                                          presence: rng.chance(70) ? .online : .offline)
        }
        var tickets: [String: Ticket] = [:]
        var now = Self.t0
        for step in 0..<80 {
            now = now.adding(milliseconds: Int64(rng.int(in: 1...5_000)))
            switch rng.int(in: 0...9) {
            case 0...3:
                let required = Set(skills.filter { _ in rng.chance(25) }.prefix(2))
                tickets["T\(step)"] = try Self.ticket("T\(step)", required: required, optional: rng.chance(30) ? ["lang:zh"] : [],
                                                       priority: rng.pick(TicketPriority.allCases), weight: rng.int(in: 1...2),
                                                       team: rng.chance(30) ? rng.pick(["t-1", "t-2"]) : nil, at: now)
            case 4:
                let id = rng.pick(Array(agents.keys).sorted())
                agents[id]?.presence = rng.pick(Presence.allCases)
            case 5, 6:
                // An agent solves one of their tickets.
                if let held = tickets.values.filter({ $0.status == .assigned }).sorted(by: { $0.id < $1.id }).first {
                    let change = try held.solve(by: .agent(held.assignee ?? ""), at: now)
                    tickets[held.id] = change.ticket
                    for (id, delta) in change.loads { agents[id]?.load += delta }
                }
            default:
                let queue = tickets.values.filter { $0.status == .new }.map {
                    Dispatch.QueuedTicket(ticket: $0, deadline: $0.priority == .urgent ? $0.queuedAt.adding(milliseconds: 60_000) : nil)
                }
                let plan = Dispatch.plan(queue: queue, agents: Array(agents.values), now: now, optionalSkillWaitMs: 10_000)
                #expect(Set(plan.map(\.ticketID)).count == plan.count, "seed \(seed): a ticket planned twice")
                // Replay the plan in order, checking each assignment against the state it was made in.
                let ordered = Dispatch.inQueueOrder(queue).map(\.ticket.id)
                var assignedNow: Set<String> = []
                for assignment in plan {
                    let ticket = try #require(tickets[assignment.ticketID])
                    let agent = try #require(agents[assignment.agentID])
                    let withOptional = now.millisecondsSinceEpoch - ticket.queuedAt.millisecondsSinceEpoch < 10_000
                    #expect(agent.presence == .online, "seed \(seed): to an agent who is \(agent.presence)")
                    #expect(agent.qualifies(for: ticket.requirement, withOptional: withOptional), "seed \(seed): without the skills")
                    #expect(ticket.team == nil || ticket.team == agent.team, "seed \(seed): to another team")
                    #expect(agent.load + ticket.weight <= agent.capacity, "seed \(seed): over capacity")
                    #expect(ticket.status == .new && ticket.assignee == nil, "seed \(seed): a second assignee")
                    // Every ticket ahead of it that is still waiting could not have gone to this agent.
                    for earlier in ordered.prefix(while: { $0 != ticket.id }) where !assignedNow.contains(earlier) {
                        guard let e = tickets[earlier], e.status == .new else { continue }
                        let eOptional = now.millisecondsSinceEpoch - e.queuedAt.millisecondsSinceEpoch < 10_000
                        let fits = (e.team == nil || e.team == agent.team) && agent.load + e.weight <= agent.capacity
                            && agent.qualifies(for: e.requirement, withOptional: eOptional)
                        #expect(!fits, "seed \(seed): \(ticket.id) overtook \(earlier) for \(agent.id)")
                    }
                    let change = try ticket.assign(to: agent.id, by: Ticket.desk, at: now)
                    tickets[ticket.id] = change.ticket
                    for (id, delta) in change.loads { agents[id]?.load += delta }
                    agents[agent.id]?.lastAssignedAt = now
                    assignedNow.insert(ticket.id)
                }
            }
            for agent in agents.values { #expect(agent.load >= 0 && agent.load <= agent.capacity, "seed \(seed): load \(agent.load)") }
        }
    }

    @Test("equal agents end within one ticket of each other", arguments: [3, 7, 20])
    func balanced(agentCount: Int) throws {
        var agents = (0..<agentCount).map { Self.agent("a\($0)", capacity: 50) }
        let queue = try (0..<(agentCount * 5 + 2)).map { Dispatch.QueuedTicket(ticket: try Self.ticket("T\($0)", at: Self.at(Int64($0))), deadline: nil) }
        for assignment in Dispatch.plan(queue: queue, agents: agents, now: Self.at(10_000), optionalSkillWaitMs: 0) {
            if let i = agents.firstIndex(where: { $0.id == assignment.agentID }) { agents[i].load += 1 }
        }
        let loads = agents.map(\.load)
        #expect((loads.max() ?? 0) - (loads.min() ?? 0) <= 1, "\(loads)")
        #expect(loads.reduce(0, +) == queue.count)
    }
}
