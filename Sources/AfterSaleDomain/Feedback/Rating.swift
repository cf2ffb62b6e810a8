/// What a rating is about: a completed case or a solved ticket.
public enum RatingSubject: Sendable, Hashable, CustomStringConvertible {
    /// An after-sale case.
    case afterSale(CaseNumber)
    /// A service-desk ticket.
    case ticket(String)

    /// `case:<number>` or `ticket:<id>`, as stored.
    public var description: String {
        switch self {
        case .afterSale(let number): "case:\(number.rawValue)"
        case .ticket(let id): "ticket:\(id)"
        }
    }

    /// The subject `text` writes.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public init(parsing text: String) throws(DomainError) {
        if text.hasPrefix("case:"), let number = try? CaseNumber(parsing: String(text.dropFirst(5))) {
            self = .afterSale(number)
        } else if text.hasPrefix("ticket:"), text.count > 7 {
            self = .ticket(String(text.dropFirst(7)))
        } else {
            throw .invalidArgument(field: "subject", message: "'\(text)' is not case:<number> or ticket:<id>")
        }
    }
}

/// A buyer's rating (评价) of how a case or a ticket was handled: stars, tags and a comment, with
/// the context it was given in kept as it was then (the shop, the agent, the outcome, the money),
/// so later changes never rewrite what the buyer rated.
public struct Rating: Sendable, Hashable {
    /// What is rated.
    public var subject: RatingSubject
    /// Who rated (the buyer).
    public var buyerID: String
    /// 1 to 5.
    public var stars: Int
    /// Chosen tags (at most 10, each 1–32 characters).
    public var tags: [String]
    /// The comment (at most 1,000 characters).
    public var comment: String
    /// The shop concerned when rated.
    public var shopID: String
    /// The agent who handled it when rated (tickets), if any.
    public var agentID: String?
    /// The outcome when rated: the case's status (`completed`) or the ticket's (`solved`, `closed`).
    public var resolution: String
    /// What had been refunded when rated (cases that refund money).
    public var refunded: Money?
    /// When first rated.
    public var ratedAt: Timestamp
    /// When edited; nil when never (a rating may be edited once).
    public var editedAt: Timestamp?
    /// 1 when given, 2 after the edit.
    public var version: Int64

    /// Creates a rating (storage rebuilds stored ones; new ones come from ``Rating/rate(_:stars:tags:comment:by:at:window:)``).
    public init(subject: RatingSubject, buyerID: String, stars: Int, tags: [String], comment: String, shopID: String, agentID: String?,
                resolution: String, refunded: Money?, ratedAt: Timestamp, editedAt: Timestamp?, version: Int64) {
        self.subject = subject
        self.buyerID = buyerID
        self.stars = stars
        self.tags = tags
        self.comment = comment
        self.shopID = shopID
        self.agentID = agentID
        self.resolution = resolution
        self.refunded = refunded
        self.ratedAt = ratedAt
        self.editedAt = editedAt
        self.version = version
    }

    /// What a rating may be given on: the subject's context, when it ended, and who may rate.
    public struct Survey: Sendable, Hashable {
        public var subject: RatingSubject
        public var buyerID: String
        public var shopID: String
        public var agentID: String?
        public var resolution: String
        public var refunded: Money?
        /// When the case completed or the ticket was solved: the rating window starts here.
        public var endedAt: Timestamp
    }

    /// The survey of `afterSale`, nil when none is offered: only a completed case is rated, and not
    /// one a timer completed without the buyer acting.
    public static func survey(of afterSale: AfterSaleCase) -> Survey? {
        guard afterSale.status == .completed, let ended = afterSale.finishedAt else { return nil }
        let last = afterSale.timeline.last { $0.from != $0.to }
        if last?.actor == TimerRule.actor,
           !afterSale.timeline.dropFirst().contains(where: { $0.actor.role == .buyer && $0.actor.id == afterSale.buyerID }) {
            return nil
        }
        return Survey(subject: .afterSale(afterSale.number), buyerID: afterSale.buyerID, shopID: afterSale.shop.id, agentID: nil,
                      resolution: afterSale.status.rawValue,
                      refunded: afterSale.kind.refundsMoney ? afterSale.amounts.refunded : nil, endedAt: ended)
    }

    /// The survey of `ticket`, nil when none is offered: a solved or closed ticket a buyer opened.
    public static func survey(of ticket: Ticket) -> Survey? {
        guard ticket.status == .solved || ticket.status == .closed, let ended = ticket.solvedAt,
              ticket.requester.role == .buyer else { return nil }
        return Survey(subject: .ticket(ticket.id), buyerID: ticket.requester.id, shopID: ticket.shopID ?? "",
                      agentID: ticket.assignee ?? ticket.previousAssignee, resolution: ticket.status.rawValue, refunded: nil,
                      endedAt: ended)
    }

    /// A new rating on `survey` by `buyer`, within `windowMs` of the end.
    /// - Throws: ``DomainError/permissionDenied(_:)`` for anyone but the survey's buyer;
    ///   ``DomainError/stateConflict(message:)`` past the window; ``DomainError/invalidArgument(field:message:)``.
    public static func rate(_ survey: Survey, stars: Int, tags: [String], comment: String, by buyer: Principal, at now: Timestamp,
                            windowMs: Int64) throws(DomainError) -> Rating {
        guard buyer.role == .buyer, buyer.id == survey.buyerID else {
            throw .permissionDenied(.roleNotAllowed(principal: buyer, action: "rate \(survey.subject)", allowed: [.buyer]))
        }
        guard now.millisecondsSinceEpoch - survey.endedAt.millisecondsSinceEpoch <= windowMs else {
            throw .stateConflict(message: "\(survey.subject) ended too long ago to be rated")
        }
        try validate(stars: stars, tags: tags, comment: comment)
        return Rating(subject: survey.subject, buyerID: survey.buyerID, stars: stars, tags: tags, comment: comment, shopID: survey.shopID,
                      agentID: survey.agentID, resolution: survey.resolution, refunded: survey.refunded, ratedAt: now, editedAt: nil,
                      version: 1)
    }

    /// The rating edited (once, within `windowMs` of the end): stars, tags and comment change; the
    /// context stays as first rated.
    public func edited(stars: Int, tags: [String], comment: String, by buyer: Principal, at now: Timestamp, endedAt: Timestamp,
                       windowMs: Int64) throws(DomainError) -> Rating {
        guard buyer.role == .buyer, buyer.id == buyerID else {
            throw .permissionDenied(.roleNotAllowed(principal: buyer, action: "edit the rating of \(subject)", allowed: [.buyer]))
        }
        guard editedAt == nil else { throw .stateConflict(message: "the rating of \(subject) was edited already (once is allowed)") }
        guard now.millisecondsSinceEpoch - endedAt.millisecondsSinceEpoch <= windowMs else {
            throw .stateConflict(message: "\(subject) ended too long ago to edit its rating")
        }
        try Self.validate(stars: stars, tags: tags, comment: comment)
        var next = self
        next.stars = stars
        next.tags = tags
        next.comment = comment
        next.editedAt = now
        next.version = version + 1
        return next
    }

    static func validate(stars: Int, tags: [String], comment: String) throws(DomainError) {
        guard (1...5).contains(stars) else { throw .invalidArgument(field: "stars", message: "1 to 5, got \(stars)") }
        guard tags.count <= 10, tags.allSatisfy({ (1...32).contains($0.count) }), Set(tags).count == tags.count else {
            throw .invalidArgument(field: "tags", message: "at most 10 distinct tags of 1 to 32 characters")
        }
        guard comment.count <= 1_000 else { throw .invalidArgument(field: "comment", message: "at most 1000 characters") }
    }
}
