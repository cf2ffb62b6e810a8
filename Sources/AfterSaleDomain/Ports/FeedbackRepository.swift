/// Buyers' ratings of cases and tickets.
public protocol FeedbackRepository: Sendable {
    /// The rating of `subject`, nil when none was given.
    func rating(of subject: RatingSubject) async throws -> Rating?

    /// Stores `rating`: a new one (`expectedVersion` 0) or an edit of the stored version, and
    /// appends `events` (RATING_SUBMITTED, RATING_EDITED) in the same transaction.
    /// - Throws: ``DomainError/duplicate(message:)`` when a new rating's subject is rated already;
    ///   ``DomainError/versionConflict(expected:actual:)`` when the stored rating moved.
    func saveRating(_ rating: Rating, expectedVersion: Int64, events: [OutboxEvent]) async throws

    /// One page of ratings matching `query`, newest first (by rating time, then subject).
    func ratings(_ query: RatingQuery) async throws -> RatingPage
}

extension FeedbackRepository {
    /// Stores `rating` without feed events.
    public func saveRating(_ rating: Rating, expectedVersion: Int64) async throws {
        try await saveRating(rating, expectedVersion: expectedVersion, events: [])
    }
}

/// Which ratings to list.
public struct RatingQuery: Sendable, Hashable {
    /// Only this shop's.
    public var shopID: String?
    /// Only this agent's.
    public var agentID: String?
    /// Rated at or after.
    public var from: Timestamp?
    /// Rated before.
    public var before: Timestamp?
    /// Rows per page (1…1000).
    public var pageSize: Int
    /// The last row of the previous page.
    public var after: RatingCursor?

    /// Creates a query.
    public init(shopID: String? = nil, agentID: String? = nil, from: Timestamp? = nil, before: Timestamp? = nil, pageSize: Int = 50,
                after: RatingCursor? = nil) {
        self.shopID = shopID
        self.agentID = agentID
        self.from = from
        self.before = before
        self.pageSize = pageSize
        self.after = after
    }

    /// True when `rating` passes the filters (the in-memory reference).
    public func matches(_ rating: Rating) -> Bool {
        if let shopID, rating.shopID != shopID { return false }
        if let agentID, rating.agentID != agentID { return false }
        if let from, rating.ratedAt < from { return false }
        if let before, rating.ratedAt >= before { return false }
        if let after, (rating.ratedAt, rating.subject.description) >= (after.ratedAt, after.subject) { return false }
        return true
    }
}

/// Where a rating page continues.
public struct RatingCursor: Sendable, Hashable {
    /// The last row's rating time.
    public var ratedAt: Timestamp
    /// The last row's subject (`case:…`, `ticket:…`).
    public var subject: String

    /// Creates a cursor.
    public init(ratedAt: Timestamp, subject: String) {
        self.ratedAt = ratedAt
        self.subject = subject
    }

    /// The cursor as a page token.
    public var token: String { "\(ratedAt.millisecondsSinceEpoch)|\(subject)" }

    /// The cursor `token` stands for.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public init(token: String) throws(DomainError) {
        let parts = token.split(separator: "|", maxSplits: 1).map(String.init)
        guard parts.count == 2, let ms = Int64(parts[0]), !parts[1].isEmpty else {
            throw .invalidArgument(field: "page_token", message: "not a token this server gave")
        }
        self.init(ratedAt: Timestamp(millisecondsSinceEpoch: ms), subject: parts[1])
    }
}

/// One page of ratings.
public struct RatingPage: Sendable, Hashable {
    /// The ratings, newest first.
    public var ratings: [Rating]
    /// Where the next page starts; nil on the last.
    public var next: RatingCursor?

    /// Creates a page.
    public init(ratings: [Rating], next: RatingCursor?) {
        self.ratings = ratings
        self.next = next
    }
}
