import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// The service desk over the in-memory store, on a clock the test moves.
@Suite("Service desk: agents, tickets, dispatch and SLAs through the service")
struct DeskServiceTests {
    static let platform = Principal.platform("p-1")
    static let buyer = Principal.buyer("b-1")

    static func ctx(_ method: RPCMethodInfo, _ principal: Principal) -> ServerContext { ServiceFixture.context(method, as: principal) }

    static func fixture(_ configure: (inout DeskSettings) -> Void = { _ in }) -> ServiceFixture {
        var f = ServiceFixture()
        var settings = DeskSettings()
        settings.sla.calendar = .always
        configure(&settings)
        f.deskSettings = settings
        return f
    }

    @discardableResult
    static func agent(_ f: ServiceFixture, _ id: String, team: String = "t-1", skills: [String] = [], capacity: Int32 = 1,
                      online: Bool = true) async throws -> SupportAgent {
        var upsert = UpsertAgentRequest()
        upsert.agentId = id
        upsert.name = "Agent \(id)"
        upsert.team = team
        upsert.skills = skills
        upsert.capacity = capacity
        _ = try await f.serviceDesk.upsertAgent(upsert, context: ctx(ServiceDesk.upsertAgent.info, platform))
        var presence = SetPresenceRequest()
        presence.presence = online ? .online : .away
        return try #require(try await f.serviceDesk.setPresence(presence, context: ctx(ServiceDesk.setPresence.info, .agent(id))).agent)
    }

    static func open(_ f: ServiceFixture, as principal: Principal = buyer, subject: String = "where is my parcel?",
                     caseNumber: String = "") async throws -> AfterSaleProto.Ticket {
        var open = OpenTicketRequest()
        open.subject = subject
        open.text = "订单 o-1 还没到"
        open.caseNumber = caseNumber
        return try #require(try await f.serviceDesk.openTicket(open, context: ctx(ServiceDesk.openTicket.info, principal)).ticket)
    }

    static func get(_ f: ServiceFixture, _ id: String, as principal: Principal = platform) async throws -> AfterSaleProto.Ticket {
        var get = GetTicketRequest()
        get.ticketId = id
        return try #require(try await f.serviceDesk.getTicket(get, context: ctx(ServiceDesk.getTicket.info, principal)).ticket)
    }

    static func status(_ f: ServiceFixture, _ id: String, _ status: AfterSaleProto.TicketStatus, as agent: String) async throws {
        var update = UpdateTicketStatusRequest()
        update.ticketId = id
        update.status = status
        _ = try await f.serviceDesk.updateTicketStatus(update, context: ctx(ServiceDesk.updateTicketStatus.info, .agent(agent)))
    }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? RPCError)?.code
        }
    }

    @Test("a queued ticket goes to the agent who comes online; the next waits for capacity, which solving frees")
    func dispatchOnEvents() async throws {
        let f = Self.fixture()
        let first = try await Self.open(f)
        #expect(first.status == .new)
        try await Self.agent(f, "a-1")
        #expect(try await Self.get(f, first.ticketId).assignee == "a-1")
        #expect(try await Self.get(f, first.ticketId).status == .assigned)
        let second = try await Self.open(f, subject: "second")
        #expect(second.status == .new, "a-1 is at capacity")
        try await Self.status(f, first.ticketId, .solved, as: "a-1")
        #expect(try await Self.get(f, second.ticketId).assignee == "a-1")
        let agent = try await f.store.agent("a-1")
        #expect(agent?.load == 1)
        let events = try await f.store.events(after: 0, types: [.ticketOpened, .ticketAssigned, .ticketUpdated], limit: 100, scanLimit: 1_000)
        #expect(events.events.map(\.type) == [.ticketOpened, .ticketAssigned, .ticketOpened, .ticketUpdated, .ticketAssigned])
    }

    @Test("a case's ticket takes its skills and deadline from the case; a public reply joins the case conversation; notes stay internal")
    func caseTicket() async throws {
        let f = Self.fixture()
        try await f.store.saveOrder(StorageFixture.order(status: .delivered))
        var create = ServiceFixture.refundOnly()
        create.kind = .returnAndRefund
        create.reasonCode = "no_reason_7_days"
        var photo = EvidenceRef()
        photo.url = "https://img.example.com/p.jpg"
        photo.contentType = "image/jpeg"
        photo.sizeBytes = 1_000
        create.evidence = [photo]
        let afterSale = try #require(try await f.afterSale.createAfterSale(create, context: ServiceFixture.creating()).afterSale)
        let ticket = try await Self.open(f, caseNumber: afterSale.caseNumber)
        #expect(ticket.requiredSkills == ["kind:return_and_refund"])
        #expect(ticket.optionalSkills == ["category:apparel"])
        #expect(ticket.caseDeadlineUnixMs == afterSale.dueAtUnixMs)
        #expect(ticket.caseDeadlineUnixMs > 0)
        // An agent without the kind skill gets nothing; one with it does (the optional category aside).
        try await Self.agent(f, "generalist")
        #expect(try await Self.get(f, ticket.ticketId).status == .new)
        try await Self.agent(f, "returns", skills: ["kind:return_and_refund"])
        f.clock.advance(milliseconds: 600_001)     // the optional skill is dropped after 10 minutes
        await f.desk.dispatch()
        #expect(try await Self.get(f, ticket.ticketId).assignee == "returns")

        // The merchant approves: the case's next wait (the return shipment) becomes the ticket's deadline.
        var review = ReviewAfterSaleRequest()
        review.caseNumber = afterSale.caseNumber
        review.decision = .approve
        var address = AfterSaleProto.Address()
        address.contactName = "Returns"
        address.phone = "13800000000"
        address.city = "Hangzhou"
        address.street = "1 Road"
        review.returnAddress = address
        let approved = try #require(try await f.afterSale.reviewAfterSale(review, context: Self.ctx(AfterSaleService.reviewAfterSale.info,
                                                                                                       .merchant("m-1", shop: "s-1"))).afterSale)
        await f.deskWorker.sweep()
        #expect(try await Self.get(f, ticket.ticketId).caseDeadlineUnixMs == approved.dueAtUnixMs)
        #expect(approved.dueAtUnixMs != afterSale.dueAtUnixMs)

        var reply = ReplyToTicketRequest()
        reply.ticketId = ticket.ticketId
        reply.text = "我们已联系商家"
        _ = try await f.serviceDesk.replyToTicket(reply, context: Self.ctx(ServiceDesk.replyToTicket.info, .agent("returns")))
        reply.text = "merchant is slow, watch it"
        reply.internal = true
        _ = try await f.serviceDesk.replyToTicket(reply, context: Self.ctx(ServiceDesk.replyToTicket.info, .agent("returns")))
        let messages = try await f.store.messages(of: try CaseNumber(parsing: afterSale.caseNumber), after: nil, limit: 10).messages
        #expect(messages.map(\.text) == ["我们已联系商家"])
        let seenByBuyer = try await Self.get(f, ticket.ticketId, as: Self.buyer)
        #expect(seenByBuyer.entries.allSatisfy { $0.`public` })
        #expect(try await Self.get(f, ticket.ticketId).entries.contains { !$0.`public` })
        #expect(try await Self.get(f, ticket.ticketId).sla.first?.state == "met")
        #expect(await Self.code { _ = try await Self.get(f, ticket.ticketId, as: .buyer("b-2")) } == .notFound)
        reply.internal = true
        #expect(await Self.code {
            _ = try await f.serviceDesk.replyToTicket(reply, context: Self.ctx(ServiceDesk.replyToTicket.info, Self.buyer))
        } == .invalidArgument)
    }

    @Test("SLA warning and breach are announced once each, when due; pending stops the clock; a customer reply reopens a solved ticket")
    func slaAnnouncements() async throws {
        let f = Self.fixture { settings in
            settings.sla.targets[.normal] = SLATargets(firstResponseMs: 10_000, nextResponseMs: 10_000, resolutionMs: 60_000)
            settings.sla.warningLeadMs = 4_000
        }
        let ticket = try await Self.open(f)
        func announced() async throws -> [AfterSaleDomain.EventType] {
            try await f.store.events(after: 0, types: [.ticketSLAWarning, .ticketSLABreached], limit: 50, scanLimit: 1_000).events.map(\.type)
        }
        f.clock.advance(milliseconds: 5_999)
        await f.deskWorker.sweep()
        #expect(try await announced().isEmpty)
        f.clock.advance(milliseconds: 1)
        await f.deskWorker.sweep()
        await f.deskWorker.sweep()
        #expect(try await announced() == [.ticketSLAWarning])
        f.clock.advance(milliseconds: 4_000)
        await f.deskWorker.sweep()
        await f.deskWorker.sweep()
        #expect(try await announced() == [.ticketSLAWarning, .ticketSLABreached])
        let breached = try await Self.get(f, ticket.ticketId)
        #expect(breached.sla.first { $0.metric == "first_response" }?.state == "breached")

        try await Self.agent(f, "a-1")
        try await Self.status(f, ticket.ticketId, .pending, as: "a-1")
        #expect(try await Self.get(f, ticket.ticketId).sla.first { $0.metric == "resolution" }?.state == "paused")
        try await Self.status(f, ticket.ticketId, .solved, as: "a-1")
        var reply = ReplyToTicketRequest()
        reply.ticketId = ticket.ticketId
        reply.text = "还是没收到"
        let reopened = try #require(try await f.serviceDesk.replyToTicket(reply, context: Self.ctx(ServiceDesk.replyToTicket.info, Self.buyer)).ticket)
        #expect(reopened.assignee == "a-1", "back to the agent who had it")
        #expect(reopened.entries.contains { $0.step == "reopened" })
    }

    @Test("an agent who stops sending heartbeats goes offline; after the grace period their tickets go to another agent")
    func offlineAgents() async throws {
        let f = Self.fixture { settings in
            settings.heartbeatTimeoutMs = 30_000
            settings.offlineGraceMs = 60_000
        }
        try await Self.agent(f, "a-1")
        let ticket = try await Self.open(f)
        #expect(try await Self.get(f, ticket.ticketId).assignee == "a-1")
        try await Self.agent(f, "a-2", online: false)
        f.clock.advance(milliseconds: 31_000)
        await f.deskWorker.sweep()
        #expect(try await f.store.agent("a-1")?.presence == .offline)
        #expect(try await Self.get(f, ticket.ticketId).assignee == "a-1", "within the grace period it stays")
        var presence = SetPresenceRequest()
        presence.presence = .online
        _ = try await f.serviceDesk.setPresence(presence, context: Self.ctx(ServiceDesk.setPresence.info, .agent("a-2")))
        f.clock.advance(milliseconds: 61_000)
        _ = try await f.serviceDesk.heartbeat(HeartbeatRequest(), context: Self.ctx(ServiceDesk.heartbeat.info, .agent("a-2")))
        await f.deskWorker.sweep()
        let moved = try await Self.get(f, ticket.ticketId)
        #expect(moved.assignee == "a-2")
        #expect(moved.entries.contains { $0.step == "released" })
        #expect(try await f.store.agent("a-1")?.load == 0)
    }

    @Test("an agent sees and acts on only the cases of tickets they may see; the platform sees every case")
    func agentCaseScope() async throws {
        let f = Self.fixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)
        var get = GetAfterSaleRequest()
        get.caseNumber = created.caseNumber
        #expect(await Self.code {
            _ = try await f.afterSale.getAfterSale(get, context: Self.ctx(AfterSaleService.getAfterSale.info, .agent("a-1")))
        } == .notFound)
        _ = try await f.afterSale.getAfterSale(get, context: Self.ctx(AfterSaleService.getAfterSale.info, Self.platform))
        var list = ListAfterSalesRequest()
        list.pageSize = 10
        #expect(try await f.afterSale.listAfterSales(list, context: Self.ctx(AfterSaleService.listAfterSales.info, .agent("a-1"))).items.isEmpty)

        try await Self.agent(f, "a-1", skills: ["kind:refund_only", "category:apparel"])
        try await Self.agent(f, "a-9", team: "t-9", skills: ["kind:refund_only"], online: false)
        let ticket = try await Self.open(f, caseNumber: created.caseNumber)
        #expect(try await Self.get(f, ticket.ticketId).assignee == "a-1")
        _ = try await f.afterSale.getAfterSale(get, context: Self.ctx(AfterSaleService.getAfterSale.info, .agent("a-1")))
        let rows = try await f.afterSale.listAfterSales(list, context: Self.ctx(AfterSaleService.listAfterSales.info, .agent("a-1"))).items
        #expect(rows.map(\.caseNumber) == [created.caseNumber])
        #expect(await Self.code {
            _ = try await f.afterSale.getAfterSale(get, context: Self.ctx(AfterSaleService.getAfterSale.info, .agent("a-9")))
        } == .notFound, "another team's agent")
    }

    @Test("a self-operated shop's new case opens one ticket for platform agents, however often the intake runs")
    func intake() async throws {
        let f = Self.fixture { settings in settings.selfOperatedShops = ["s-1"] }
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)
        await f.deskWorker.sweep()
        await f.deskWorker.sweep()
        let tickets = try await f.store.listTickets(TicketQuery(scope: .all)).tickets
        #expect(tickets.count == 1)
        #expect(tickets.first?.origin == .platformReview)
        #expect(tickets.first?.caseNumber?.rawValue == created.caseNumber)
    }

    @Test("a refund that needs attention and an escalated timer's reminder each open one high-priority ticket")
    func intakeOfAttentionAndTimers() async throws {
        let f = Self.fixture { settings in settings.escalatedTimerRules = [.merchantReview] }
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)
        func event(_ type: AfterSaleProto.EventType, note: String) -> OutboxEvent {
            var e = AfterSaleProto.Event()
            e.eventType = type
            e.caseNumber = created.caseNumber
            e.note = note
            e.occurredAtUnixMs = f.clock.now().millisecondsSinceEpoch
            let domainType: AfterSaleDomain.EventType = type == .refundNeedsAttention ? .refundNeedsAttention : .timerReminder
            return OutboxEvent(type: domainType, caseNumber: try? CaseNumber(parsing: created.caseNumber), orderID: "o-1",
                               occurredAt: f.clock.now(), payload: e.serializedBytes())
        }
        // As the refund bridge and the timer worker append them (in their own transactions).
        try await f.store.commitDesk(DeskWrite(events: [event(.refundNeedsAttention, note: "channel refused"),
                                                       event(.timerReminder, note: "merchant_review: approves at 1"),
                                                       event(.timerReminder, note: "return_shipment: closes at 1")]))
        await f.deskWorker.sweep()
        await f.deskWorker.sweep()
        let tickets = try await f.store.listTickets(TicketQuery(scope: .all)).tickets
        #expect(Set(tickets.map(\.origin)) == [.refundNeedsAttention, .timerEscalation])
        #expect(tickets.allSatisfy { $0.priority == .high && $0.requirement.required == ["kind:refund_only"] })
    }

    @Test("take, transfer and release by RPC; only the holder or the platform moves a held ticket; agents see their team's")
    func manualWork() async throws {
        let f = Self.fixture()
        try await Self.agent(f, "a-1", team: "t-1", online: false)
        try await Self.agent(f, "a-2", team: "t-2", online: false)
        let ticket = try await Self.open(f)
        var take = TakeTicketRequest()
        take.ticketId = ticket.ticketId
        let taken = try #require(try await f.serviceDesk.takeTicket(take, context: Self.ctx(ServiceDesk.takeTicket.info, .agent("a-1"))).ticket)
        #expect(taken.assignee == "a-1")
        #expect(await Self.code { try await Self.status(f, ticket.ticketId, .solved, as: "a-2") } == .notFound)
        var transfer = TransferTicketRequest()
        transfer.ticketId = ticket.ticketId
        transfer.toAgentId = "a-2"
        transfer.toTeam = "t-2"
        let moved = try #require(try await f.serviceDesk.transferTicket(transfer, context: Self.ctx(ServiceDesk.transferTicket.info, .agent("a-1"))).ticket)
        #expect(moved.assignee == "a-2")
        #expect(try await f.store.agent("a-1")?.load == 0)
        #expect(try await f.store.agent("a-2")?.load == 1)
        var release = ReleaseTicketRequest()
        release.ticketId = ticket.ticketId
        #expect(await Self.code {
            _ = try await f.serviceDesk.releaseTicket(release, context: Self.ctx(ServiceDesk.releaseTicket.info, .agent("a-1")))
        } != nil)
        _ = try await f.serviceDesk.releaseTicket(release, context: Self.ctx(ServiceDesk.releaseTicket.info, Self.platform))
        #expect(try await Self.get(f, ticket.ticketId).status == .new)
        var list = ListTicketsRequest()
        list.statuses = [.new]
        let forA2 = try await f.serviceDesk.listTickets(list, context: Self.ctx(ServiceDesk.listTickets.info, .agent("a-2"))).tickets
        #expect(forA2.map(\.ticketId) == [ticket.ticketId], "team t-2's queue")
        let forA1 = try await f.serviceDesk.listTickets(list, context: Self.ctx(ServiceDesk.listTickets.info, .agent("a-1"))).tickets
        #expect(forA1.isEmpty, "another team's ticket a-1 no longer holds")
        let forOther = try await f.serviceDesk.listTickets(list, context: Self.ctx(ServiceDesk.listTickets.info, .buyer("b-9"))).tickets
        #expect(forOther.isEmpty)
    }
}
