import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire
import ServiceKit

/// `aftersale.v1.Feedback` (评价): the buyer a completed case or a solved ticket concerns rates it
/// once within the rating window (`--feedback-window`), and may edit that rating once. Merchants
/// see their shop's ratings, agents theirs, the platform all.
public struct FeedbackProvider: FeedbackHandler {
    let store: any AfterSaleRepository
    let clock: any WallClock
    /// How long after the end a rating may be given or edited.
    let windowMs: Int64

    /// Pages of ListRatings.
    static let paging = Paging(defaultSize: 50, maximumSize: 200)

    /// The service over `store`; ratings open for `windowMs` after a case completes or a ticket is solved.
    public init(store: any AfterSaleRepository, clock: any WallClock = SystemClock(), windowMs: Int64 = 15 * 86_400_000) {
        self.store = store
        self.clock = clock
        self.windowMs = windowMs
    }

    public func submitRating(_ request: RateRequest, context: ServerContext) async throws -> RateResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .rate)
            let survey = try await survey(caseNumber: request.caseNumber, ticketID: request.ticketId, for: principal)
            let rating = try Rating.rate(survey, stars: Int(request.stars), tags: request.tags, comment: request.comment, by: principal,
                                         at: clock.now(), windowMs: windowMs)
            try await store.saveRating(rating, expectedVersion: 0, events: [Self.event(.ratingSubmitted, rating, previousStars: 0)])
            var response = RateResponse()
            response.rating = Self.wire(rating)
            return response
        }
    }

    public func editRating(_ request: RateRequest, context: ServerContext) async throws -> RateResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .rate)
            let survey = try await survey(caseNumber: request.caseNumber, ticketID: request.ticketId, for: principal)
            guard let stored = try await store.rating(of: survey.subject) else {
                throw DomainError.stateConflict(message: "\(survey.subject) is not rated yet: submit a rating first")
            }
            let edited = try stored.edited(stars: Int(request.stars), tags: request.tags, comment: request.comment, by: principal,
                                           at: clock.now(), endedAt: survey.endedAt, windowMs: windowMs)
            try await store.saveRating(edited, expectedVersion: stored.version,
                                       events: [Self.event(.ratingEdited, edited, previousStars: stored.stars)])
            var response = RateResponse()
            response.rating = Self.wire(edited)
            return response
        }
    }

    public func getRating(_ request: GetRatingRequest, context: ServerContext) async throws -> GetRatingResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .viewRatings)
            let subject = try Self.subject(caseNumber: request.caseNumber, ticketID: request.ticketId)
            guard let rating = try await store.rating(of: subject), Self.visible(rating, to: principal) else {
                throw RPCError(.notFound, "\(subject) has no rating the caller may see")
            }
            var response = GetRatingResponse()
            response.rating = Self.wire(rating)
            return response
        }
    }

    public func listRatings(_ request: ListRatingsRequest, context: ServerContext) async throws -> ListRatingsResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .listRatings)
            var query = RatingQuery()
            query.shopID = request.shopId.isEmpty ? nil : request.shopId
            query.agentID = request.agentId.isEmpty ? nil : request.agentId
            switch principal.role {
            case .merchant: query.shopID = principal.actingShopID
            case .agent: query.agentID = principal.id
            case .buyer, .platform, .system: break
            }
            query.from = request.fromUnixMs > 0 ? Timestamp(millisecondsSinceEpoch: request.fromUnixMs) : nil
            query.before = request.beforeUnixMs > 0 ? Timestamp(millisecondsSinceEpoch: request.beforeUnixMs) : nil
            query.pageSize = try Fields.pageSize(request.pageSize, Self.paging)
            if !request.pageToken.isEmpty { query.after = try RatingCursor(token: request.pageToken) }
            let page = try await store.ratings(query)
            var response = ListRatingsResponse()
            response.ratings = page.ratings.map(Self.wire)
            response.nextPageToken = page.next?.token ?? ""
            return response
        }
    }

    // MARK: - Helpers

    /// What may be rated: the case or ticket named, if it offers a survey to `principal` (else NOT_FOUND).
    func survey(caseNumber: String, ticketID: String, for principal: Principal) async throws -> Rating.Survey {
        switch try Self.subject(caseNumber: caseNumber, ticketID: ticketID) {
        case .afterSale(let number):
            guard let afterSale = try await store.afterSale(number), afterSale.buyerID == principal.id else {
                throw RepositoryError.caseNotFound(number)
            }
            guard let survey = Rating.survey(of: afterSale) else {
                throw DomainError.stateConflict(message: "case \(number) offers no rating: only a completed case the buyer took part in")
            }
            return survey
        case .ticket(let id):
            guard let ticket = try await store.ticket(id), ticket.requester == principal else { throw RepositoryError.ticketNotFound(id) }
            guard let survey = Rating.survey(of: ticket) else {
                throw DomainError.stateConflict(message: "ticket \(id) offers no rating: only a solved ticket a buyer opened")
            }
            return survey
        }
    }

    static func subject(caseNumber: String, ticketID: String) throws -> RatingSubject {
        switch (caseNumber.isEmpty, ticketID.isEmpty) {
        case (false, true): return .afterSale(try Fields.caseNumber(caseNumber))
        case (true, false): return .ticket(ticketID)
        default: throw DomainError.invalidArgument(field: "case_number", message: "give a case_number or a ticket_id, not both")
        }
    }

    static func visible(_ rating: Rating, to principal: Principal) -> Bool {
        switch principal.role {
        case .buyer: rating.buyerID == principal.id
        case .merchant: rating.shopID == principal.actingShopID
        case .agent: rating.agentID == principal.id
        case .platform, .system: true
        }
    }

    /// The feed event of a rating given or edited: the statistics count satisfaction from it.
    static func event(_ type: AfterSaleDomain.EventType, _ rating: Rating, previousStars: Int) -> OutboxEvent {
        var e = AfterSaleProto.Event()
        e.eventType = ProtoMapping.eventType(type)
        let at = rating.editedAt ?? rating.ratedAt
        e.occurredAtUnixMs = at.millisecondsSinceEpoch
        var number: CaseNumber?
        if case .afterSale(let n) = rating.subject { number = n }
        e.caseNumber = number?.rawValue ?? ""
        e.shopId = rating.shopID
        e.buyerId = rating.buyerID
        e.actorRole = ProtoMapping.role(.buyer)
        e.actorId = rating.buyerID
        e.rating = wire(rating)
        e.previousStars = Int32(clamping: previousStars)
        return OutboxEvent(type: type, caseNumber: number, orderID: "", occurredAt: at, payload: e.serializedBytes())
    }

    static func wire(_ r: Rating) -> CaseRating {
        var p = CaseRating()
        p.subject = r.subject.description
        p.buyerId = r.buyerID
        p.stars = Int32(clamping: r.stars)
        p.tags = r.tags
        p.comment = r.comment
        p.shopId = r.shopID
        p.agentId = r.agentID ?? ""
        p.resolution = r.resolution
        p.refunded = r.refunded.map(ProtoMapping.money)
        p.ratedAtUnixMs = r.ratedAt.millisecondsSinceEpoch
        p.editedAtUnixMs = r.editedAt?.millisecondsSinceEpoch ?? 0
        p.version = r.version
        return p
    }
}
