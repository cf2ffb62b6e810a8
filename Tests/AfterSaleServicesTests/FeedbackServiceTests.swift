import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// Ratings over the in-memory store (a one-day rating window).
@Suite("Feedback: buyers rate completed cases and solved tickets, once, editable once")
struct FeedbackServiceTests {
    static let buyer = Principal.buyer("b-1")
    static func ctx(_ method: RPCMethodInfo, _ principal: Principal) -> ServerContext { ServiceFixture.context(method, as: principal) }

    static func rate(_ f: ServiceFixture, case number: String = "", ticket: String = "", stars: Int32, edit: Bool = false,
                     as principal: Principal = buyer) async throws -> CaseRating {
        var request = RateRequest()
        request.caseNumber = number
        request.ticketId = ticket
        request.stars = stars
        request.tags = ["快速"]
        request.comment = "退款很快"
        let response = edit
            ? try await f.feedback.editRating(request, context: ctx(Feedback.editRating.info, principal))
            : try await f.feedback.submitRating(request, context: ctx(Feedback.submitRating.info, principal))
        return try #require(response.rating)
    }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do { try await body(); return nil } catch { return (error as? RPCError)?.code }
    }

    /// A refund-only case paid in full: completed with the buyer's own refund.
    static func completedCase(_ f: ServiceFixture) async throws -> String {
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)
        try await f.payRefund()
        return created.caseNumber
    }

    @Test("the buyer rates a completed case once; the context is kept; one edit; others cannot; the window closes")
    func caseRating() async throws {
        let f = ServiceFixture()
        let number = try await Self.completedCase(f)
        let rated = try await Self.rate(f, case: number, stars: 5)
        #expect(rated.subject == "case:\(number)")
        #expect(rated.resolution == "completed")
        #expect(rated.refunded?.amountMinor ?? 0 > 0)
        #expect(rated.shopId == "s-1")
        #expect(await Self.code { _ = try await Self.rate(f, case: number, stars: 4) } == .alreadyExists)
        #expect(await Self.code { _ = try await Self.rate(f, case: number, stars: 1, as: .buyer("b-2")) } == .notFound)
        #expect(await Self.code { _ = try await Self.rate(f, case: number, stars: 0, edit: true) } == .invalidArgument)
        let edited = try await Self.rate(f, case: number, stars: 3, edit: true)
        #expect(edited.stars == 3 && edited.version == 2 && edited.editedAtUnixMs > 0)
        #expect(await Self.code { _ = try await Self.rate(f, case: number, stars: 2, edit: true) } == .failedPrecondition)

        var list = ListRatingsRequest()
        list.shopId = "other-shop"
        let forShop = try await f.feedback.listRatings(list, context: Self.ctx(Feedback.listRatings.info, .merchant("m-1", shop: "s-1"))).ratings
        #expect(forShop.map(\.subject) == ["case:\(number)"], "a merchant's list is forced to their shop")
        #expect(await Self.code {
            _ = try await f.feedback.listRatings(list, context: Self.ctx(Feedback.listRatings.info, Self.buyer))
        } == .permissionDenied)

        let late = ServiceFixture()
        let lateNumber = try await Self.completedCase(late)
        late.clock.advance(milliseconds: 86_400_001)
        #expect(await Self.code { _ = try await Self.rate(late, case: lateNumber, stars: 5) } == .failedPrecondition)
    }

    @Test("an open case, or one a timer completed without the buyer, offers no rating; nothing is rated by default")
    func noSurvey() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)
        #expect(await Self.code { _ = try await Self.rate(f, case: created.caseNumber, stars: 5) } == .failedPrecondition)
        #expect(try await f.store.ratings(RatingQuery()).ratings.isEmpty)
    }

    @Test("the buyer who opened a solved ticket rates it; the agent who handled it is kept and sees it")
    func ticketRating() async throws {
        var f = ServiceFixture()
        f.deskSettings.sla.calendar = .always
        var upsert = UpsertAgentRequest()
        upsert.agentId = "a-1"
        upsert.name = "Agent"
        upsert.team = "t-1"
        upsert.capacity = 2
        _ = try await f.serviceDesk.upsertAgent(upsert, context: Self.ctx(ServiceDesk.upsertAgent.info, .platform("p-1")))
        var presence = SetPresenceRequest()
        presence.presence = .online
        _ = try await f.serviceDesk.setPresence(presence, context: Self.ctx(ServiceDesk.setPresence.info, .agent("a-1")))
        var open = OpenTicketRequest()
        open.subject = "where is my parcel"
        let ticket = try #require(try await f.serviceDesk.openTicket(open, context: Self.ctx(ServiceDesk.openTicket.info, Self.buyer)).ticket)
        #expect(await Self.code { _ = try await Self.rate(f, ticket: ticket.ticketId, stars: 5) } == .failedPrecondition)
        var solve = UpdateTicketStatusRequest()
        solve.ticketId = ticket.ticketId
        solve.status = .solved
        _ = try await f.serviceDesk.updateTicketStatus(solve, context: Self.ctx(ServiceDesk.updateTicketStatus.info, .agent("a-1")))
        let rated = try await Self.rate(f, ticket: ticket.ticketId, stars: 4)
        #expect(rated.agentId == "a-1" && rated.resolution == "solved")
        let mine = try await f.feedback.listRatings(ListRatingsRequest(), context: Self.ctx(Feedback.listRatings.info, .agent("a-1"))).ratings
        #expect(mine.map(\.subject) == ["ticket:\(ticket.ticketId)"])
        let others = try await f.feedback.listRatings(ListRatingsRequest(), context: Self.ctx(Feedback.listRatings.info, .agent("a-2"))).ratings
        #expect(others.isEmpty)
    }
}
