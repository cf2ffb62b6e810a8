import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// GetStatistics against a hand-computed fixture: four cases, two tickets and two ratings on
/// Thursday 2026-11-26 and Friday 2026-11-27, with business hours Monday to Friday 09:00–18:00 UTC.
///
/// | what | when (UTC) | counts |
/// |---|---|---|
/// | case A, refund only | applied Thu 10:00, refunded Thu 14:00 | completed; 4 h calendar, 4 h business |
/// | case B, refund only | applied Thu 17:00, refunded Fri 11:00 | completed; 18 h calendar, 3 h business (17–18, 9–11) |
/// | case C, return | applied Fri 12:00, rejected Fri 13:00 | rejected; a merchant wait answered in time |
/// | case D, return | applied Fri 12:00, review timer Fri 15:00, withdrawn Fri 16:00 | withdrawn; merchant_review acted; a merchant wait overdue |
/// | ticket T1 | opened Thu 10:00, taken 10:30, reply 11:00, solved 12:00 | first reply 1 h; resolution 2 h; one-touch |
/// | ticket T2 | opened Thu 17:00, taken 17:30, replies Fri 10:00 and 10:30, solved 11:00, reopened 11:30, taken 11:40, solved 12:00 | first reply 17 h (2 h business); resolution 19 h (4 h business); reopened; not one-touch |
/// | ratings | case A 5 stars Fri 14:00; T1 4 stars Fri 11:00, edited to 2 stars Fri 11:10 | 2 ratings: one 2, one 5 |
@Suite("Statistics: rollups projected from the feed, checked against a hand-computed fixture")
struct StatisticsServiceTests {
    static let hour: Int64 = 3_600_000
    /// Thursday 2026-11-26 00:00 UTC.
    static let thursday = StorageFixture.now
    static let friday = thursday.adding(days: 1)
    static let platform = Principal.platform("ops-1")
    static let buyer = StorageFixture.buyer
    static let merchant = Principal.merchant("m-1", shop: "s-1")
    static let office = BusinessCalendar(utcOffsetMinutes: 0, hours: Dictionary(uniqueKeysWithValues: (1...5).map {
        ($0, BusinessCalendar.WorkingHours(start: 540, end: 1_080))
    }))

    static func ctx(_ method: RPCMethodInfo, _ principal: Principal, key: String = "") -> ServerContext {
        ServiceFixture.context(method, as: principal, metadata: key.isEmpty ? Metadata() : ["idempotency-key": key])
    }

    static func at(_ f: ServiceFixture, _ day: Timestamp, _ hours: Double) {
        f.clock.set(millisecondsSinceEpoch: day.millisecondsSinceEpoch + Int64(hours * Double(hour)))
    }

    static func create(_ f: ServiceFixture, _ kind: AfterSaleDomain.AfterSaleKind, order: String, line: String, key: String) async throws -> String {
        var request = CreateAfterSaleRequest()
        request.orderId = order
        request.kind = kind == .refundOnly ? .refundOnly : .returnAndRefund
        request.reasonCode = StorageFixture.reason(for: kind)
        var requested = RequestedLine()
        requested.orderLineId = line
        requested.quantity = 1
        request.lines = [requested]
        var photo = EvidenceRef()
        photo.url = "https://img.example.com/p.jpg"
        photo.contentType = "image/jpeg"
        photo.sizeBytes = 1_000
        request.evidence = [photo]
        let response = try await f.afterSale.createAfterSale(request, context: ctx(AfterSaleService.createAfterSale.info, buyer, key: key))
        return try #require(response.afterSale).caseNumber
    }

    static func reply(_ f: ServiceFixture, _ ticket: String, as principal: Principal) async throws {
        var reply = ReplyToTicketRequest()
        reply.ticketId = ticket
        reply.text = "reply"
        _ = try await f.serviceDesk.replyToTicket(reply, context: ctx(ServiceDesk.replyToTicket.info, principal))
    }

    static func take(_ f: ServiceFixture, _ ticket: String) async throws {
        var take = TakeTicketRequest()
        take.ticketId = ticket
        _ = try await f.serviceDesk.takeTicket(take, context: ctx(ServiceDesk.takeTicket.info, .agent("a-1")))
    }

    static func solve(_ f: ServiceFixture, _ ticket: String) async throws {
        var update = UpdateTicketStatusRequest()
        update.ticketId = ticket
        update.status = .solved
        _ = try await f.serviceDesk.updateTicketStatus(update, context: ctx(ServiceDesk.updateTicketStatus.info, .agent("a-1")))
    }

    static func rate(_ f: ServiceFixture, case number: String = "", ticket: String = "", stars: Int32, edit: Bool = false) async throws {
        var request = RateRequest()
        request.caseNumber = number
        request.ticketId = ticket
        request.stars = stars
        _ = edit ? try await f.feedback.editRating(request, context: ctx(Feedback.editRating.info, buyer))
            : try await f.feedback.submitRating(request, context: ctx(Feedback.submitRating.info, buyer))
    }

    /// Builds the fixture and projects it.
    static func fixture() async throws -> ServiceFixture {
        var f = ServiceFixture()
        f.deskSettings.sla.calendar = office
        try await f.store.saveOrder(StorageFixture.order(id: "o-1", status: .paid))
        try await f.store.saveOrder(StorageFixture.order(id: "o-2"))
        var upsert = UpsertAgentRequest()
        upsert.agentId = "a-1"
        upsert.name = "Agent a-1"
        upsert.team = "t-1"
        upsert.capacity = 5
        _ = try await f.serviceDesk.upsertAgent(upsert, context: ctx(ServiceDesk.upsertAgent.info, platform))
        var presence = SetPresenceRequest()
        presence.presence = .away   // no dispatch: the agent takes tickets by hand, at known times
        _ = try await f.serviceDesk.setPresence(presence, context: ctx(ServiceDesk.setPresence.info, .agent("a-1")))

        // Thursday.
        at(f, thursday, 10)
        let caseA = try await create(f, .refundOnly, order: "o-1", line: "l-3", key: "a")
        var open = OpenTicketRequest()
        open.subject = "where is my parcel?"
        open.text = "still not here"
        let t1 = try #require(try await f.serviceDesk.openTicket(open, context: ctx(ServiceDesk.openTicket.info, buyer)).ticket).ticketId
        at(f, thursday, 10.5)
        try await take(f, t1)
        at(f, thursday, 11)
        try await reply(f, t1, as: .agent("a-1"))
        at(f, thursday, 12)
        try await solve(f, t1)
        at(f, thursday, 14)
        try await f.payRefund()
        at(f, thursday, 17)
        _ = try await create(f, .refundOnly, order: "o-1", line: "l-3", key: "b")
        let t2 = try #require(try await f.serviceDesk.openTicket(open, context: ctx(ServiceDesk.openTicket.info, buyer)).ticket).ticketId
        at(f, thursday, 17.5)
        try await take(f, t2)

        // Friday.
        at(f, friday, 10)
        try await reply(f, t2, as: .agent("a-1"))
        at(f, friday, 10.5)
        try await reply(f, t2, as: .agent("a-1"))
        at(f, friday, 11)
        try await solve(f, t2)
        try await f.payRefund()
        try await rate(f, ticket: t1, stars: 4)
        at(f, friday, 11 + 1.0 / 6)
        try await rate(f, ticket: t1, stars: 2, edit: true)
        at(f, friday, 11.5)
        try await reply(f, t2, as: buyer)
        at(f, friday, 11 + 2.0 / 3)
        try await take(f, t2)
        at(f, friday, 12)
        try await solve(f, t2)
        let caseC = try await create(f, .returnAndRefund, order: "o-2", line: "l-2", key: "c")
        let caseD = try await create(f, .returnAndRefund, order: "o-2", line: "l-1", key: "d")
        at(f, friday, 13)
        var review = ReviewAfterSaleRequest()
        review.caseNumber = caseC
        review.decision = .reject
        review.rejectionReason = "the goods show wear"
        _ = try await f.afterSale.reviewAfterSale(review, context: ctx(AfterSaleService.reviewAfterSale.info, merchant))
        at(f, friday, 14)
        try await rate(f, case: caseA, stars: 5)
        at(f, friday, 15)
        var fire = FireTimerRequest()
        fire.caseNumber = caseD
        _ = try await f.timerControls.fireTimer(fire, context: ctx(Timers.fireTimer.info, platform))
        at(f, friday, 16)
        var withdraw = WithdrawAfterSaleRequest()
        withdraw.caseNumber = caseD
        _ = try await f.afterSale.withdrawAfterSale(withdraw, context: ctx(AfterSaleService.withdrawAfterSale.info, buyer))

        // Two projectors, as two replicas would run them: each event counts once.
        let projectors = (0..<2).map { _ in StatisticsProjector(store: f.store, sla: f.deskSettings.sla, batchSize: 3) }
        async let first = projectors[0].catchUp()
        async let second = projectors[1].catchUp()
        _ = try await (first, second)
        return f
    }

    static func statistics(_ f: ServiceFixture, _ groupBy: StatisticsGroupBy = .day, as principal: Principal = platform,
                           shop: String = "", team: String = "") async throws -> GetStatisticsResponse {
        var request = GetStatisticsRequest()
        request.fromDate = "2026-11-26"
        request.toDate = "2026-11-27"
        request.groupBy = groupBy
        request.shopId = shop
        request.team = team
        return try await StatisticsProvider(store: f.store).getStatistics(request, context: ctx(Statistics.getStatistics.info, principal))
    }

    /// The duration reported for a sample of `ms` (the middle of its bucket), within 4.43 % of it.
    static func reported(_ ms: Int64) -> Int64 {
        let value = DurationHistogram.representativeMilliseconds(DurationHistogram.bucket(milliseconds: ms))
        #expect(abs(Double(value - ms)) <= Double(ms) * DurationHistogram.relativeError + 1)
        return value
    }

    @Test("the platform's totals and days match the hand count")
    func platformTotals() async throws {
        let f = try await Self.fixture()
        let response = try await Self.statistics(f)
        #expect(response.projectedThrough == response.feedHead)
        let total = try #require(response.total)
        let cases = try #require(total.cases)
        #expect([cases.applied, cases.completed, cases.rejected, cases.withdrawn, cases.closed] == [4, 2, 1, 1, 0])
        #expect(cases.refunds == 2)
        #expect(cases.timerActions.map { "\($0.rule)=\($0.count)" }
                == ["merchant_review=1", "return_shipment=0", "receipt_confirmation=0", "replacement_confirmation=0"])
        #expect(cases.resolutionRate.map { [$0.numerator, $0.denominator] } == [2, 4])
        #expect(cases.resolutionRate?.value == 0.5)
        #expect(cases.merchantOverdueRate.map { [$0.numerator, $0.denominator] } == [1, 2])
        #expect(cases.disputeRate.map { [$0.numerator, $0.denominator] } == [0, 4], "no disputes exist yet: 0 of the 4 cases applied")
        #expect(cases.buyerWinRate.map { [$0.numerator, $0.denominator] } == [0, 0])
        // Samples 4 h and 18 h (calendar), 4 h and 3 h (business): nearest rank, median = the lower, p90 = the higher.
        #expect(cases.processingCalendar.map { [$0.count, $0.medianMs, $0.p90Ms] } == [2, Self.reported(4 * Self.hour), Self.reported(18 * Self.hour)])
        #expect(cases.processingBusiness.map { [$0.count, $0.medianMs, $0.p90Ms] } == [2, Self.reported(3 * Self.hour), Self.reported(4 * Self.hour)])
        #expect(cases.refunded.count == 1 && cases.refunded.first?.currency == "CNY")

        let tickets = try #require(total.tickets)
        #expect([tickets.received, tickets.resolved] == [2, 2])
        #expect(tickets.firstReplyCalendar.map { [$0.count, $0.medianMs, $0.p90Ms] } == [2, Self.reported(Self.hour), Self.reported(17 * Self.hour)])
        #expect(tickets.firstReplyBusiness.map { [$0.count, $0.medianMs, $0.p90Ms] } == [2, Self.reported(Self.hour), Self.reported(2 * Self.hour)])
        #expect(tickets.resolutionCalendar.map { [$0.count, $0.medianMs, $0.p90Ms] } == [2, Self.reported(2 * Self.hour), Self.reported(19 * Self.hour)],
                "T2 counts once, at its latest solve")
        #expect(tickets.resolutionBusiness.map { [$0.count, $0.medianMs, $0.p90Ms] } == [2, Self.reported(2 * Self.hour), Self.reported(4 * Self.hour)])
        #expect(tickets.oneTouchRate.map { [$0.numerator, $0.denominator] } == [1, 2])
        #expect(tickets.slaAttainment.map { [$0.numerator, $0.denominator] } == [2, 2])
        #expect(tickets.reopenRate.map { [$0.numerator, $0.denominator] } == [1, 2])

        let satisfaction = try #require(total.satisfaction)
        #expect(satisfaction.ratings == 2)
        #expect(satisfaction.distribution == [0, 1, 0, 0, 1], "the edit moved T1's rating from 4 to 2 stars")
        #expect(satisfaction.averageStars == 3.5)

        #expect(response.agents.map { [$0.agentId, "\($0.assigned)", "\($0.replies)", "\($0.solved)"] } == [["a-1", "3", "3", "3"]])

        #expect(response.groups.map(\.key) == ["2026-11-26", "2026-11-27"])
        let thursday = try #require(response.groups.first)
        #expect(thursday.cases.map { [$0.applied, $0.completed, $0.rejected, $0.withdrawn] } == [2, 1, 0, 0])
        #expect(thursday.tickets.map { [$0.received, $0.resolved] } == [2, 1])
        #expect(thursday.satisfaction?.ratings == 0)
        let friday = try #require(response.groups.last)
        #expect(friday.cases.map { [$0.applied, $0.completed, $0.rejected, $0.withdrawn] } == [2, 1, 1, 1])
        #expect(friday.tickets.map { [$0.received, $0.resolved] } == [0, 1])
        #expect(friday.satisfaction?.ratings == 2)
    }

    @Test("groups by kind and reason add up to the totals; a merchant gets their shop, an agent their team")
    func groupsAndScopes() async throws {
        let f = try await Self.fixture()
        let byKind = try await Self.statistics(f, .kind)
        #expect(byKind.groups.map { "\($0.key):\($0.cases?.applied ?? -1)" } == [":0", "refund_only:2", "return_and_refund:2"])
        #expect(byKind.groups.first?.tickets?.received == 2, "tickets without a case are the group \"\"")
        let byReason = try await Self.statistics(f, .reason)
        #expect(byReason.groups.map { "\($0.key):\($0.cases?.applied ?? -1)" } == [":0", "no_longer_wanted:2", "no_reason_7_days:2"])
        let byCategory = try await Self.statistics(f, .category)
        #expect(byCategory.groups.map { "\($0.key):\($0.cases?.applied ?? -1)" } == [":0", "accessories:1", "apparel:2", "phones:1"])

        let merchant = try await Self.statistics(f, as: Self.merchant, shop: "another-shop")
        #expect(merchant.scope == "shop:s-1")
        #expect(merchant.total?.cases?.applied == 4)
        #expect(merchant.agents.isEmpty)
        let otherShop = try await Self.statistics(f, shop: "s-2")
        #expect(otherShop.total?.cases?.applied == 0)

        let agent = try await Self.statistics(f, as: .agent("a-1"))
        #expect(agent.scope == "team:t-1")
        #expect(agent.total?.cases?.applied == 0, "cases have no team")
        #expect(agent.total?.tickets?.resolved == 2, "tickets outside a team's queue count for the team of the agent holding them")
        #expect(agent.agents.map(\.agentId) == ["a-1"])

        await #expect(throws: RPCError.self) { _ = try await Self.statistics(f, as: Self.buyer) }
        var bad = GetStatisticsRequest()
        bad.fromDate = "2026-11-27"
        bad.toDate = "2026-11-26"
        await #expect(throws: RPCError.self) {
            _ = try await StatisticsProvider(store: f.store).getStatistics(bad, context: Self.ctx(Statistics.getStatistics.info, Self.platform))
        }
    }
}
