import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire
import ServiceKit

/// `aftersale.v1.ServiceDesk` (客服工作台): agents, tickets and their conversation. Buyers and
/// merchants open tickets and reply on their own; agents work their and their team's tickets; the
/// platform manages agents and sees everything. Every change goes through ``DeskCore``, and
/// whatever may free an agent or fill the queue asks for a dispatch round before answering.
public struct ServiceDeskProvider: ServiceDeskHandler {
    let core: DeskCore
    let dispatch: DispatchLoop
    let timers: TimerPolicySource

    /// Pages of ListTickets.
    static let ticketPaging = Paging(defaultSize: 20, maximumSize: 100)

    /// The service over `store`, dispatching through `desk`'s loop.
    public init(desk: Desk, timers: TimerPolicySource) {
        core = desk.core
        dispatch = desk.loop
        self.timers = timers
    }

    var store: any AfterSaleRepository { core.store }
    var policy: SLAPolicy { core.settings.sla }

    // MARK: - Agents

    public func upsertAgent(_ request: UpsertAgentRequest, context: ServerContext) async throws -> UpsertAgentResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageAgents)
            let now = core.clock.now()
            let ceiling = try request.refundCeiling.map { try ProtoMapping.money($0, field: "refund_ceiling") }
            var agent: AfterSaleDomain.Agent
            if request.expectedVersion == 0 {
                agent = AfterSaleDomain.Agent(id: request.agentId, name: request.name, team: request.team, skills: Set(request.skills),
                                              refundCeiling: ceiling, capacity: Int(request.capacity), presenceChangedAt: now,
                                              lastHeartbeatAt: now, version: 1)
            } else {
                guard let stored = try await store.agent(request.agentId) else { throw RepositoryError.agentNotFound(request.agentId) }
                guard stored.version == request.expectedVersion else {
                    throw DomainError.versionConflict(expected: request.expectedVersion, actual: stored.version)
                }
                agent = stored
                agent.name = request.name
                agent.team = request.team
                agent.skills = Set(request.skills)
                agent.refundCeiling = ceiling
                agent.capacity = Int(request.capacity)
                agent.version = stored.version + 1
            }
            try agent.validate()
            try await store.commitDesk(DeskWrite(agents: [AgentWrite(agent: agent, expectedVersion: request.expectedVersion)]))
            if agent.presence == .online { await dispatch.request() }
            var response = UpsertAgentResponse()
            response.agent = ProtoMapping.agent(try await store.agent(agent.id) ?? agent)
            return response
        }
    }

    public func getAgent(_ request: GetAgentRequest, context: ServerContext) async throws -> GetAgentResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .viewAgents)
            guard principal.role == .platform || principal.id == request.agentId,
                  let agent = try await store.agent(request.agentId) else {
                throw RepositoryError.agentNotFound(request.agentId)
            }
            var response = GetAgentResponse()
            response.agent = ProtoMapping.agent(agent)
            return response
        }
    }

    public func listAgents(_ request: ListAgentsRequest, context: ServerContext) async throws -> ListAgentsResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .viewAgents)
            var team: String? = request.team.isEmpty ? nil : request.team
            if principal.role == .agent {
                // An agent sees their own team.
                team = try await store.agent(principal.id)?.team ?? ""
            }
            var response = ListAgentsResponse()
            response.agents = try await store.agents(team: team).map(ProtoMapping.agent)
            return response
        }
    }

    public func setPresence(_ request: SetPresenceRequest, context: ServerContext) async throws -> SetPresenceResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .workTickets)
            let id = request.agentId.isEmpty ? principal.id : request.agentId
            guard principal.role == .platform || id == principal.id else {
                throw DomainError.permissionDenied(.notHolder(principal: principal, resource: "agent \(id)"))
            }
            let presence = try ProtoMapping.presence(request.presence, field: "presence")
            let agent = try await core.actOnAgent(id) { agent, now in
                if agent.presence != presence {
                    agent.presence = presence
                    agent.presenceChangedAt = now
                }
                agent.lastHeartbeatAt = now
            }
            if presence == .online { await dispatch.request() }
            var response = SetPresenceResponse()
            response.agent = ProtoMapping.agent(try await store.agent(id) ?? agent)
            return response
        }
    }

    public func heartbeat(_ request: HeartbeatRequest, context: ServerContext) async throws -> HeartbeatResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .agentConsole)
            let agent = try await core.actOnAgent(principal.id) { agent, now in agent.lastHeartbeatAt = now }
            var response = HeartbeatResponse()
            response.agent = ProtoMapping.agent(agent)
            return response
        }
    }

    // MARK: - Tickets

    public func openTicket(_ request: OpenTicketRequest, context: ServerContext) async throws -> OpenTicketResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .useServiceDesk)
            let staff = principal.role == .agent || principal.role == .platform
            let now = core.clock.now()
            let priority = try ProtoMapping.priority(request.priority, field: "priority")
            guard staff || priority != .urgent else {
                throw DomainError.invalidArgument(field: "priority", message: "URGENT is for agents and the platform")
            }
            guard staff || (request.requiredSkills.isEmpty && request.optionalSkills.isEmpty && request.team.isEmpty && request.weight == 0) else {
                throw DomainError.invalidArgument(field: "required_skills", message: "skills, teams and weights are set by agents and the platform")
            }
            var opening = Ticket.Opening(id: DeskCore.newTicketID(at: now), origin: .inquiry, subject: request.subject, text: request.text,
                                         requester: principal, team: request.team.isEmpty ? nil : request.team, priority: priority,
                                         requirement: SkillRequirement(required: Set(request.requiredSkills),
                                                                       optional: Set(request.optionalSkills)),
                                         weight: request.weight == 0 ? 1 : Int(request.weight), at: now)
            switch principal.role {
            case .buyer: opening.buyerID = principal.id
            case .merchant: opening.shopID = principal.shopID
            default: break
            }
            if !request.caseNumber.isEmpty {
                guard request.requiredSkills.isEmpty && request.optionalSkills.isEmpty else {
                    throw DomainError.invalidArgument(field: "required_skills", message: "a case's ticket takes its skills from the case")
                }
                let number = try Fields.caseNumber(request.caseNumber)
                guard let afterSale = try await store.afterSale(number), Permissions.canView(principal, afterSale) else {
                    throw RepositoryError.caseNotFound(number)
                }
                opening.caseNumber = number
                opening.orderID = afterSale.orderID
                opening.buyerID = afterSale.buyerID
                opening.shopID = afterSale.shop.id
                opening.requirement = SkillRequirement.derived(from: afterSale)
                opening.caseDeadline = try await caseDeadline(of: number)
            } else if !request.orderId.isEmpty {
                guard let order = try await store.order(request.orderId), try orderVisible(order, to: principal) else {
                    throw RepositoryError.orderNotFound(request.orderId)
                }
                opening.orderID = order.id
                opening.buyerID = order.buyerID
                opening.shopID = order.shop.id
            }
            let ticket = try AfterSaleDomain.Ticket.open(opening)
            try await core.open(ticket)
            await dispatch.request()
            var response = OpenTicketResponse()
            response.ticket = try await wire(ticket.id, for: principal)
            return response
        }
    }

    public func getTicket(_ request: GetTicketRequest, context: ServerContext) async throws -> GetTicketResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .useServiceDesk)
            var response = GetTicketResponse()
            response.ticket = ProtoMapping.ticket(try await visibleTicket(request.ticketId, to: principal), viewer: principal, policy: policy,
                                                  now: core.clock.now())
            return response
        }
    }

    public func listTickets(_ request: ListTicketsRequest, context: ServerContext) async throws -> ListTicketsResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .useServiceDesk)
            var query = TicketQuery(scope: try await scope(of: principal))
            query.statuses = Set(try request.statuses.map { try ProtoMapping.ticketStatus($0, field: "statuses") })
            query.assignee = request.assignee.isEmpty ? nil : request.assignee
            query.team = request.team.isEmpty ? nil : request.team
            if !request.caseNumber.isEmpty { query.caseNumber = try Fields.caseNumber(request.caseNumber) }
            query.pageSize = try Fields.pageSize(request.pageSize, Self.ticketPaging)
            if !request.pageToken.isEmpty { query.after = try TicketCursor(token: request.pageToken) }
            let page = try await store.listTickets(query)
            let now = core.clock.now()
            var response = ListTicketsResponse()
            response.tickets = page.tickets.map { ProtoMapping.ticket($0, viewer: principal, policy: policy, now: now, withEntries: false) }
            response.nextPageToken = page.next?.token ?? ""
            return response
        }
    }

    public func replyToTicket(_ request: ReplyToTicketRequest, context: ServerContext) async throws -> ReplyToTicketResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .useServiceDesk)
            let ticket = try await visibleTicket(request.ticketId, to: principal)
            let staff = principal.role == .agent || principal.role == .platform
            if staff, !request.internal, let number = ticket.caseNumber, let afterSale = try await store.afterSale(number) {
                // A public reply on a case's ticket is part of the case's conversation too.
                guard !request.text.isEmpty, request.text.utf8.count <= 2_000 else {
                    throw DomainError.invalidArgument(field: "text", message: "1 to 2000 bytes on a case's ticket")
                }
                _ = try await store.appendMessage(
                    NewMessage(caseNumber: number, sender: principal, text: request.text, sentAt: core.clock.now()), idempotency: nil,
                    events: { stored in EventPlanner.events(forMessage: stored, on: afterSale).map(ProtoMapping.outbox) })
            }
            let window = core.settings.reopenWindowMs
            let after = try await core.act(on: ticket.id, expectedVersion: request.expectedVersion, by: principal) { current, now in
                try current.reply(request.text, isPublic: !request.internal, by: principal, at: now, reopenWindowMs: window)
            }
            if after.status == .new { await dispatch.request() }
            var response = ReplyToTicketResponse()
            response.ticket = try await wire(after.id, for: principal)
            return response
        }
    }

    public func updateTicketStatus(_ request: UpdateTicketStatusRequest, context: ServerContext) async throws -> UpdateTicketStatusResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .workTickets)
            let status = try ProtoMapping.ticketStatus(request.status, field: "status")
            var response = UpdateTicketStatusResponse()
            response.ticket = try await work(request.ticketId, expectedVersion: request.expectedVersion, by: principal) { current, now in
                switch status {
                case .pending: try current.setPending(by: principal, at: now)
                case .solved: try current.solve(by: principal, at: now, note: request.note)
                case .closed: try current.close(by: principal, at: now)
                case .new, .assigned:
                    throw DomainError.invalidArgument(field: "status", message: "must be PENDING, SOLVED or CLOSED (release or take instead)")
                }
            }
            return response
        }
    }

    public func takeTicket(_ request: TakeTicketRequest, context: ServerContext) async throws -> TakeTicketResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .agentConsole)
            let ticket = try await visibleTicket(request.ticketId, to: principal)
            guard try await store.agent(principal.id) != nil else { throw RepositoryError.agentNotFound(principal.id) }
            let after = try await core.act(on: ticket.id, by: principal) { current, now in
                try current.assign(to: principal.id, by: principal, at: now)
            }
            var response = TakeTicketResponse()
            response.ticket = try await wire(after.id, for: principal)
            return response
        }
    }

    public func transferTicket(_ request: TransferTicketRequest, context: ServerContext) async throws -> TransferTicketResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .workTickets)
            let agent = request.toAgentId.isEmpty ? nil : request.toAgentId
            if let agent, try await store.agent(agent) == nil { throw RepositoryError.agentNotFound(agent) }
            let team = request.toTeam.isEmpty ? nil : request.toTeam
            var response = TransferTicketResponse()
            response.ticket = try await work(request.ticketId, by: principal) { current, now in
                try current.transfer(toAgent: agent, team: team, by: principal, at: now)
            }
            return response
        }
    }

    public func releaseTicket(_ request: ReleaseTicketRequest, context: ServerContext) async throws -> ReleaseTicketResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .workTickets)
            var response = ReleaseTicketResponse()
            response.ticket = try await work(request.ticketId, by: principal) { current, now in
                try current.release(by: principal, at: now, note: request.note)
            }
            return response
        }
    }

    // MARK: - Helpers

    /// A step of a ticket by the agent holding it (or the platform): decided on the ticket as
    /// stored and committed, then a dispatch round (the step may free capacity or fill the queue).
    /// - Returns: the ticket as the caller sees it after the step.
    func work(_ id: String, expectedVersion: Int64 = 0, by principal: Principal,
              _ decide: @escaping (AfterSaleDomain.Ticket, Timestamp) throws -> TicketChange) async throws -> AfterSaleProto.Ticket {
        let ticket = try await visibleTicket(id, to: principal)
        try requireHolder(ticket, principal)
        let after = try await core.act(on: ticket.id, expectedVersion: expectedVersion, by: principal, decide)
        await dispatch.request()
        return try await wire(after.id, for: principal)
    }

    /// What `principal` may list.
    func scope(of principal: Principal) async throws -> TicketScope {
        switch principal.role {
        case .platform, .system: return .all
        case .agent: return .agent(id: principal.id, team: try await store.agent(principal.id)?.team ?? "")
        case .buyer: return .buyer(id: principal.id)
        case .merchant: return .merchant(shopID: principal.shopID ?? principal.id, id: principal.id)
        }
    }

    /// The ticket, or NOT_FOUND when it does not exist or the caller may not see it.
    func visibleTicket(_ id: String, to principal: Principal) async throws -> AfterSaleDomain.Ticket {
        guard let ticket = try await store.ticket(id) else { throw RepositoryError.ticketNotFound(id) }
        let team = principal.role == .agent ? try await store.agent(principal.id)?.team : nil
        guard ticket.isVisible(to: principal, team: team) else { throw RepositoryError.ticketNotFound(id) }
        return ticket
    }

    /// Only the agent holding the ticket (or the platform) works it; a queued ticket may be
    /// worked by any agent who sees it.
    func requireHolder(_ ticket: AfterSaleDomain.Ticket, _ principal: Principal) throws {
        guard principal.role == .platform || ticket.assignee == nil || ticket.assignee == principal.id else {
            throw DomainError.permissionDenied(.notHolder(principal: principal, resource: "ticket \(ticket.id)"))
        }
    }

    func orderVisible(_ order: AfterSaleDomain.OrderSnapshot, to principal: Principal) throws -> Bool {
        switch principal.role {
        case .buyer: order.buyerID == principal.id
        case .merchant: order.shop.id == principal.shopID
        default: true
        }
    }

    /// The case's timer deadline, counting the pauses known now; nil when no timer runs.
    func caseDeadline(of number: CaseNumber) async throws -> Timestamp? {
        guard let timer = try await timers.repository.caseTimer(of: number) else { return nil }
        return timer.dueAt(pauses: try await timers.settings().pauses)
    }

    func wire(_ id: String, for principal: Principal) async throws -> AfterSaleProto.Ticket {
        guard let ticket = try await store.ticket(id) else { throw RepositoryError.ticketNotFound(id) }
        return ProtoMapping.ticket(ticket, viewer: principal, policy: policy, now: core.clock.now())
    }
}

/// The service desk of one process: its core and its dispatch loop, shared by the ServiceDesk
/// service, the desk worker and the intake.
public struct Desk: Sendable {
    let core: DeskCore
    let loop: DispatchLoop

    /// The desk over `store`.
    public init(store: any AfterSaleRepository, settings: DeskSettings = DeskSettings(), clock: any WallClock = SystemClock(),
                logger: Logger = .disabled) {
        core = DeskCore(store: store, settings: settings, clock: clock, logger: logger)
        loop = DispatchLoop(core: core)
    }

    /// Runs one dispatch round now (tests, benchmarks) and returns once it is done.
    public func dispatch() async { await loop.request() }
}
