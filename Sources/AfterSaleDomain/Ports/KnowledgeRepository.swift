/// The knowledge base (知识库): articles, their revisions, the term index of the published ones,
/// and readers' helpful votes.
///
/// Every backend indexes with ``ArticleIndex/of(_:)`` and hands back the rows as stored
/// (``knowledgeIndex(terms:)``); the ranking (``KnowledgeRanking``) runs in Swift over them, so a
/// search ranks identically on every backend.
public protocol KnowledgeRepository: Sendable {
    /// The article with `id` (its vote tallies included), nil when none.
    func article(_ id: String) async throws -> KnowledgeArticle?

    /// Revision `revision` of article `id`, nil when none.
    func articleRevision(_ id: String, revision: Int64) async throws -> ArticleRevision?

    /// At most `limit` revisions of article `id`, newest first, older than `before` when given.
    func articleRevisions(_ id: String, before: Int64?, limit: Int) async throws -> [ArticleRevision]

    /// Stores `article`: a new one (`expectedVersion` 0, with its first revision) or a change of
    /// the stored version (with the new revision for an edit). The term index follows: the
    /// published content is indexed, an article that is not published is taken out of it. Vote
    /// tallies are the store's: the article's own are ignored.
    /// - Throws: ``DomainError/duplicate(message:)`` when a new article's id is taken;
    ///   ``DomainError/versionConflict(expected:actual:)`` when the stored article moved.
    func saveArticle(_ article: KnowledgeArticle, revision: ArticleRevision?, expectedVersion: Int64) async throws

    /// One page of articles matching `query`, newest id first.
    func articles(_ query: ArticleQuery) async throws -> ArticlePage

    /// The corpus totals, every posting of `terms`, and the published articles they name.
    func knowledgeIndex(terms: Set<String>) async throws -> KnowledgeIndexSlice

    /// Records `voter`'s vote on article `articleID` (nil withdraws it), replacing their earlier one,
    /// and returns the tallies after it.
    /// - Throws: ``RepositoryError/articleNotFound(_:)``.
    func castVote(_ vote: HelpfulVote?, on articleID: String, by voter: String, at now: Timestamp) async throws -> ArticleVotes

    /// `voter`'s vote on article `articleID`, nil when none.
    func articleVote(on articleID: String, by voter: String) async throws -> HelpfulVote?
}

/// The helpful tallies of an article.
public struct ArticleVotes: Sendable, Hashable {
    /// Helpful votes.
    public var helpful: Int
    /// Not-helpful votes.
    public var notHelpful: Int

    /// Creates tallies.
    public init(helpful: Int, notHelpful: Int) {
        self.helpful = helpful
        self.notHelpful = notHelpful
    }
}

/// Which articles to list.
public struct ArticleQuery: Sendable, Hashable {
    /// Only these statuses (nil: any).
    public var statuses: Set<ArticleStatus>?
    /// Only these audiences (of the published revision, or of the newest for an unpublished article; nil: any).
    public var audiences: Set<KnowledgeAudience>?
    /// Rows per page (1…1000).
    public var pageSize: Int
    /// The last id of the previous page.
    public var after: String?

    /// Creates a query.
    public init(statuses: Set<ArticleStatus>? = nil, audiences: Set<KnowledgeAudience>? = nil, pageSize: Int = 50, after: String? = nil) {
        self.statuses = statuses
        self.audiences = audiences
        self.pageSize = pageSize
        self.after = after
    }

    /// True when `article` passes the filters (the in-memory reference).
    public func matches(_ article: KnowledgeArticle) -> Bool {
        if let statuses, !statuses.contains(article.status) { return false }
        if let audiences, !audiences.contains(article.listedAudience) { return false }
        if let after, article.id >= after { return false }
        return true
    }
}

/// One page of articles.
public struct ArticlePage: Sendable, Hashable {
    /// The articles, newest id first.
    public var articles: [KnowledgeArticle]
    /// The id the next page continues after; nil on the last.
    public var next: String?

    /// Creates a page.
    public init(articles: [KnowledgeArticle], next: String?) {
        self.articles = articles
        self.next = next
    }
}

extension KnowledgeArticle {
    /// The audience lists filter on: the published revision's, else the newest's.
    public var listedAudience: KnowledgeAudience { published?.audience ?? latest.audience }
}

/// A search of the published articles, or a suggestion (a search scored also on facets).
public struct KnowledgeSearch: Sendable, Hashable {
    /// Longest query accepted, in characters.
    public static let maximumTextLength = 200
    /// Most distinct query terms used (the first ones).
    public static let maximumTerms = 32

    /// What the reader typed (or, for a suggestion, the words of the context).
    public var text: String
    /// The audiences the reader may read.
    public var audiences: Set<KnowledgeAudience>
    /// Only articles about this product category.
    public var category: String?
    /// Only articles about this case kind.
    public var kind: AfterSaleKind?
    /// Facet terms that count towards the score without being required (suggestions).
    public var boosts: [String]
    /// Hits to skip.
    public var offset: Int
    /// Hits to return.
    public var limit: Int

    /// Creates a search.
    public init(text: String, audiences: Set<KnowledgeAudience>, category: String? = nil, kind: AfterSaleKind? = nil, boosts: [String] = [],
                offset: Int = 0, limit: Int = 10) {
        self.text = text
        self.audiences = audiences
        self.category = category
        self.kind = kind
        self.boosts = boosts
        self.offset = offset
        self.limit = limit
    }

    /// The suggestion for a case being opened or a ticket being worked: articles sharing the case
    /// kind, the reason, the product categories (facets), and words with the reason's title and
    /// the text (a ticket's subject), ranked like a search.
    public static func suggestion(kind: AfterSaleKind?, reasonCode: String?, reasonTitle: String?, categories: [String], text: String,
                                  audiences: Set<KnowledgeAudience>, limit: Int) -> KnowledgeSearch {
        var boosts: [String] = []
        if let kind { boosts.append(KnowledgeText.kindFacet(kind)) }
        if let reasonCode, !reasonCode.isEmpty { boosts.append(KnowledgeText.reasonFacet(reasonCode)) }
        boosts += categories.filter { !$0.trimmingSpaces.isEmpty }.map(KnowledgeText.categoryFacet)
        let words = [reasonTitle ?? "", String(text.prefix(maximumTextLength))].filter { !$0.isEmpty }.joined(separator: " ")
        return KnowledgeSearch(text: words, audiences: audiences, boosts: boosts, limit: limit)
    }

    /// The typed query's terms (at most ``maximumTerms``).
    public var textTerms: [String] { Array(KnowledgeText.queryTerms(text).prefix(Self.maximumTerms)) }

    /// The facet terms every hit must have.
    public var required: [String] {
        var terms: [String] = []
        if let category { terms.append(KnowledgeText.categoryFacet(category)) }
        if let kind { terms.append(KnowledgeText.kindFacet(kind)) }
        return terms
    }

    /// Checks the text and the filters.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public func validate() throws(DomainError) {
        guard text.count <= Self.maximumTextLength else {
            throw .invalidArgument(field: "query", message: "must be at most \(Self.maximumTextLength) characters, got \(text.count)")
        }
        if boosts.isEmpty, textTerms.isEmpty {
            throw .invalidArgument(field: "query", message: "has no searchable words: give Chinese characters, letters or digits")
        }
        if let category, category.trimmingSpaces.isEmpty || category.count > 64 {
            throw .invalidArgument(field: "category", message: "must be 1 to 64 characters")
        }
    }
}

/// One search hit: the article as served, its score and highlights.
public struct KnowledgeHit: Sendable, Hashable {
    /// The article.
    public var article: KnowledgeArticle
    /// Its published content.
    public var content: ArticleContent
    /// Its score (higher is better; comparable within one search only).
    public var score: Double
    /// The title with the matches marked.
    public var title: HighlightedText
    /// A piece of the body around the matches.
    public var snippet: HighlightedText
}

/// A page of search hits.
public struct KnowledgeResults: Sendable, Hashable {
    /// The hits, best first.
    public var hits: [KnowledgeHit]
    /// How many articles matched in all.
    public var total: Int
}

extension KnowledgeRepository {
    /// Runs `search`: reads the postings of its terms, ranks them (``KnowledgeRanking``), and
    /// loads and highlights the page asked for. Only published articles of the search's audiences
    /// are found.
    public func search(_ search: KnowledgeSearch) async throws -> KnowledgeResults {
        let textTerms = search.textTerms
        let scoring = textTerms + search.boosts
        guard !scoring.isEmpty, search.limit > 0 else { return KnowledgeResults(hits: [], total: 0) }
        let slice = try await knowledgeIndex(terms: Set(scoring + search.required))
        let ranked = KnowledgeRanking.rank(terms: scoring, required: search.required, audiences: search.audiences, in: slice)
        let highlighted = Set(textTerms)
        var hits: [KnowledgeHit] = []
        for entry in ranked.dropFirst(max(0, search.offset)).prefix(search.limit) {
            // An article archived since the index was read is left out.
            guard let article = try await article(entry.articleID), article.status == .published, let content = article.published,
                  search.audiences.contains(content.audience) else { continue }
            hits.append(KnowledgeHit(article: article, content: content, score: entry.score,
                                     title: KnowledgeHighlight.whole(content.title, terms: highlighted),
                                     snippet: KnowledgeHighlight.snippet(content.body, terms: highlighted)))
        }
        return KnowledgeResults(hits: hits, total: ranked.count)
    }
}
