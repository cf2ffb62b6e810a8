import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import RPCWire
import ServiceKit

/// `aftersale.v1.Knowledge` (知识库): agents and the platform write articles (every edit a new
/// revision, compare-and-set on the version) and publish one revision; readers search and read the
/// published articles of their audiences (buyers: buyers'; merchants: buyers' and merchants';
/// agents and the platform: all), get suggestions for a case or a ticket, and vote on whether an
/// article helped. Search and suggestions rank with ``KnowledgeRanking`` over the store's term
/// index, identically on every backend.
public struct KnowledgeProvider: KnowledgeHandler {
    let store: any AfterSaleRepository
    let clock: any WallClock
    /// The suggestions CreateAfterSale serves, dropped after every article change made here.
    let suggestions: ArticleSuggestions?

    static let listPaging = Paging(defaultSize: 50, maximumSize: 200)
    static let revisionPaging = Paging(defaultSize: 20, maximumSize: 100)
    static let searchPaging = Paging(defaultSize: 10, maximumSize: 50)
    static let suggestionPaging = Paging(defaultSize: 5, maximumSize: 20)
    /// The deepest a search pages (offset of the first hit).
    static let maximumSearchOffset = 1_000

    /// The service over `store`.
    /// - Parameter suggestions: the cache of CreateAfterSale's suggestions on this replica, to
    ///   invalidate after every edit, publication, archive and vote (nil: none to keep fresh).
    public init(store: any AfterSaleRepository, clock: any WallClock = SystemClock(), suggestions: ArticleSuggestions? = nil) {
        self.store = store
        self.clock = clock
        self.suggestions = suggestions
    }

    // MARK: - Editing

    public func createArticle(_ request: CreateArticleRequest, context: ServerContext) async throws -> ArticleResponse {
        let principal = try context.principal
        return try await mapped {
            let content = try Self.content(request.content)
            let now = clock.now()
            let (article, revision) = try KnowledgeArticle.draft(id: Self.newArticleID(at: now), content: content, by: principal, at: now)
            try await store.saveArticle(article, revision: revision, expectedVersion: 0)
            suggestions?.invalidate()
            return try await response(article, for: principal)
        }
    }

    public func updateArticle(_ request: UpdateArticleRequest, context: ServerContext) async throws -> ArticleResponse {
        let principal = try context.principal
        return try await mapped {
            guard request.expectedVersion > 0 else {
                throw DomainError.invalidArgument(field: "expected_version", message: "is required: the version the edit is based on (from GetArticle)")
            }
            let content = try Self.content(request.content)
            let stored = try await editable(request.articleId, by: principal)
            let (next, revision) = try Self.aborting(request.articleId) {
                try stored.edited(content, expectedVersion: request.expectedVersion, by: principal, at: clock.now())
            }
            try await Self.aborting(request.articleId) { try await store.saveArticle(next, revision: revision, expectedVersion: stored.version) }
            suggestions?.invalidate()
            return try await response(next, for: principal)
        }
    }

    public func publishArticle(_ request: PublishArticleRequest, context: ServerContext) async throws -> ArticleResponse {
        let principal = try context.principal
        return try await mapped {
            guard request.expectedVersion >= 0, request.revision >= 0 else {
                throw DomainError.invalidArgument(field: "revision", message: "expected_version and revision must not be negative")
            }
            let stored = try await editable(request.articleId, by: principal)
            let number = request.revision == 0 ? stored.revision : request.revision
            guard let revision = try await store.articleRevision(stored.id, revision: number) else {
                throw DomainError.invalidArgument(field: "revision", message: "article \(stored.id) has no revision \(number) (it has 1 to \(stored.revision))")
            }
            let next = try Self.aborting(stored.id) {
                try stored.publishing(revision, expectedVersion: request.expectedVersion, by: principal, at: clock.now())
            }
            try await Self.aborting(stored.id) { try await store.saveArticle(next, revision: nil, expectedVersion: stored.version) }
            suggestions?.invalidate()
            return try await response(next, for: principal)
        }
    }

    public func archiveArticle(_ request: ArchiveArticleRequest, context: ServerContext) async throws -> ArticleResponse {
        let principal = try context.principal
        return try await mapped {
            guard request.expectedVersion >= 0 else {
                throw DomainError.invalidArgument(field: "expected_version", message: "must not be negative")
            }
            let stored = try await editable(request.articleId, by: principal)
            let next = try Self.aborting(stored.id) { try stored.archiving(expectedVersion: request.expectedVersion, by: principal, at: clock.now()) }
            try await Self.aborting(stored.id) { try await store.saveArticle(next, revision: nil, expectedVersion: stored.version) }
            suggestions?.invalidate()
            return try await response(next, for: principal)
        }
    }

    // MARK: - Reading

    public func getArticle(_ request: GetArticleRequest, context: ServerContext) async throws -> ArticleResponse {
        let principal = try context.principal
        return try await mapped {
            try await response(try await visible(request.articleId, to: principal), for: principal)
        }
    }

    public func listArticles(_ request: ListArticlesRequest, context: ServerContext) async throws -> ListArticlesResponse {
        let principal = try context.principal
        return try await mapped {
            var query = ArticleQuery()
            query.pageSize = try Fields.pageSize(request.pageSize, Self.listPaging)
            let readable = KnowledgeAudience.visible(to: principal.role)
            var audiences = readable
            if request.audience != .unspecified { audiences = readable.intersection([try Self.audience(request.audience, field: "audience")]) }
            query.audiences = audiences
            if KnowledgeArticle.editorRoles.contains(principal.role) {
                if request.status != .unspecified { query.statuses = [try Self.status(request.status)] }
            } else {
                // Readers list what they may read, whatever status they ask for.
                if request.status != .unspecified, request.status != .published {
                    throw DomainError.invalidArgument(field: "status", message: "readers list published articles only")
                }
                query.statuses = [.published]
            }
            if !request.pageToken.isEmpty {
                guard request.pageToken.hasPrefix("KB"), request.pageToken.utf8.count <= 64 else {
                    throw DomainError.invalidArgument(field: "page_token", message: "not a token this server gave")
                }
                query.after = request.pageToken
            }
            let page = try await store.articles(query)
            var response = ListArticlesResponse()
            for article in page.articles { response.articles.append(wire(article, for: principal, vote: nil)) }
            response.nextPageToken = page.next ?? ""
            return response
        }
    }

    public func listArticleRevisions(_ request: ListArticleRevisionsRequest, context: ServerContext) async throws -> ListArticleRevisionsResponse {
        let principal = try context.principal
        return try await mapped {
            let limit = try Fields.pageSize(request.pageSize, Self.revisionPaging)
            var before: Int64?
            if !request.pageToken.isEmpty {
                guard let value = Int64(request.pageToken), value > 1 else {
                    throw DomainError.invalidArgument(field: "page_token", message: "not a token this server gave")
                }
                before = value
            }
            let article = try await editable(request.articleId, by: principal)
            let revisions = try await store.articleRevisions(article.id, before: before, limit: limit)
            var response = ListArticleRevisionsResponse()
            response.revisions = revisions.map(Self.wire)
            if let last = revisions.last, revisions.count == limit, last.revision > 1 { response.nextPageToken = String(last.revision) }
            return response
        }
    }

    public func searchArticles(_ request: SearchArticlesRequest, context: ServerContext) async throws -> SearchArticlesResponse {
        let principal = try context.principal
        return try await mapped {
            let limit = try Fields.pageSize(request.pageSize, Self.searchPaging)
            var offset = 0
            if !request.pageToken.isEmpty {
                guard let value = Int(request.pageToken), value > 0, value <= Self.maximumSearchOffset else {
                    throw DomainError.invalidArgument(field: "page_token", message: "not a token this server gave")
                }
                offset = value
            }
            let search = KnowledgeSearch(text: request.query, audiences: KnowledgeAudience.visible(to: principal.role),
                                         category: Fields.filter(request.category), kind: try ProtoMapping.kind(request.caseKind, field: "case_kind"),
                                         offset: offset, limit: limit)
            if request.query.isEmpty { throw DomainError.invalidArgument(field: "query", message: "must not be empty") }
            try search.validate()
            let results = try await store.search(search)
            var response = SearchArticlesResponse()
            response.hits = results.hits.map(Self.wire)
            response.totalHits = Int32(clamping: results.total)
            let next = offset + limit
            if next < results.total, next <= Self.maximumSearchOffset { response.nextPageToken = String(next) }
            return response
        }
    }

    public func suggestArticles(_ request: SuggestArticlesRequest, context: ServerContext) async throws -> SuggestArticlesResponse {
        let principal = try context.principal
        return try await mapped {
            let limit = try Fields.pageSize(request.pageSize, Self.suggestionPaging)
            guard request.text.count <= KnowledgeSearch.maximumTextLength else {
                throw DomainError.invalidArgument(field: "text", message: "must be at most \(KnowledgeSearch.maximumTextLength) characters")
            }
            if !request.reasonCode.isEmpty { try TextRules.code(request.reasonCode, field: "reason_code") }
            guard request.category.count <= 64 else { throw DomainError.invalidArgument(field: "category", message: "must be at most 64 characters") }
            var kind = try ProtoMapping.kind(request.caseKind, field: "case_kind")
            var reasonCode = Fields.filter(request.reasonCode)
            var reasonTitle: String?
            var categories = request.category.isEmpty ? [] : [request.category]
            var texts = request.text.isEmpty ? [] : [request.text]
            var caseNumber = request.caseNumber.isEmpty ? nil : try Fields.caseNumber(request.caseNumber)
            var caseSeenThroughTicket = false
            if !request.ticketId.isEmpty {
                let ticket = try await visibleTicket(request.ticketId, to: principal)
                texts.append(String(ticket.subject.prefix(KnowledgeSearch.maximumTextLength)))
                if caseNumber == nil, let number = ticket.caseNumber {
                    caseNumber = number
                    caseSeenThroughTicket = true
                }
            }
            if let number = caseNumber {
                guard let afterSale = try await store.afterSale(number), Permissions.canView(principal, afterSale) else {
                    throw RepositoryError.caseNotFound(number)
                }
                if !caseSeenThroughTicket, !(try await AgentCaseScope(desk: store).allows(principal, number)) { throw RepositoryError.caseNotFound(number) }
                kind = kind ?? afterSale.kind
                reasonCode = reasonCode ?? afterSale.reasonCode
                reasonTitle = afterSale.reasonTitle
                categories += afterSale.lines.map(\.category)
            }
            if reasonTitle == nil, let code = reasonCode { reasonTitle = try await store.reasonCatalog().reason(code)?.title }
            guard kind != nil || reasonCode != nil || !categories.isEmpty || !texts.isEmpty else {
                throw DomainError.invalidArgument(field: "case_kind", message: "give a case_kind, reason_code, category, text, ticket_id or case_number")
            }
            let search = KnowledgeSearch.suggestion(kind: kind, reasonCode: reasonCode, reasonTitle: reasonTitle, categories: Array(Set(categories)).sorted(),
                                                    text: texts.joined(separator: " "), audiences: KnowledgeAudience.visible(to: principal.role),
                                                    limit: limit)
            var response = SuggestArticlesResponse()
            response.hits = try await store.search(search).hits.map(Self.wire)
            return response
        }
    }

    public func voteArticle(_ request: VoteArticleRequest, context: ServerContext) async throws -> VoteArticleResponse {
        let principal = try context.principal
        return try await mapped {
            let vote: AfterSaleDomain.HelpfulVote?
            switch request.vote {
            case .helpful: vote = .helpful
            case .notHelpful: vote = .notHelpful
            case .withdrawn: vote = nil
            default: throw DomainError.invalidArgument(field: "vote", message: "must be HELPFUL, NOT_HELPFUL or WITHDRAWN")
            }
            let article = try await visible(request.articleId, to: principal)
            guard article.status == .published else {
                throw DomainError.stateConflict(message: "article \(article.id) is \(article.status.rawValue): only a published article takes votes")
            }
            let tallies = try await store.castVote(vote, on: article.id, by: Self.voter(principal), at: clock.now())
            // Votes move the ranking, so suggestions follow them like an edit.
            suggestions?.invalidate()
            var response = VoteArticleResponse()
            response.helpfulVotes = Int64(tallies.helpful)
            response.notHelpfulVotes = Int64(tallies.notHelpful)
            response.myVote = Self.wire(vote)
            return response
        }
    }

    // MARK: - Helpers

    /// The article for an editor, or NOT_FOUND.
    func editable(_ id: String, by principal: Principal) async throws -> KnowledgeArticle {
        try Permissions.require(principal, .manageKnowledge)
        try Self.checkID(id)
        guard let article = try await store.article(id) else { throw RepositoryError.articleNotFound(id) }
        return article
    }

    /// The article if `principal` may see it (editors: any; readers: a published one of their audiences), else NOT_FOUND.
    func visible(_ id: String, to principal: Principal) async throws -> KnowledgeArticle {
        try Self.checkID(id)
        guard let article = try await store.article(id), article.isVisible(to: principal) else { throw RepositoryError.articleNotFound(id) }
        return article
    }

    func visibleTicket(_ id: String, to principal: Principal) async throws -> AfterSaleDomain.Ticket {
        guard let ticket = try await store.ticket(id) else { throw RepositoryError.ticketNotFound(id) }
        let team = principal.role == .agent ? try await store.agent(principal.id)?.team : nil
        guard ticket.isVisible(to: principal, team: team) else { throw RepositoryError.ticketNotFound(id) }
        return ticket
    }

    func response(_ article: KnowledgeArticle, for principal: Principal) async throws -> ArticleResponse {
        let vote = try await store.articleVote(on: article.id, by: Self.voter(principal))
        var response = ArticleResponse()
        response.article = wire(article, for: principal, vote: vote)
        return response
    }

    static func checkID(_ id: String) throws(DomainError) {
        guard !id.isEmpty else { throw .invalidArgument(field: "article_id", message: "must not be empty") }
        guard id.utf8.count <= 64 else { throw .invalidArgument(field: "article_id", message: "must be at most 64 bytes") }
    }

    /// A stale version as ABORTED with the article's words.
    static func aborting<T>(_ id: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch DomainError.versionConflict(let expected, let actual) {
            throw RPCError(.aborted, "article \(id) is at version \(actual), not \(expected): reload it and apply the change again")
        }
    }

    static func aborting<T>(_ id: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch DomainError.versionConflict(let expected, let actual) {
            throw RPCError(.aborted, "article \(id) is at version \(actual), not \(expected): reload it and apply the change again")
        }
    }

    /// Who votes: one vote per role and id.
    static func voter(_ principal: Principal) -> String { "\(principal.role.rawValue):\(principal.id)" }

    static func newArticleID(at now: Timestamp) -> String {
        "KB" + String(now.millisecondsSinceEpoch, radix: 36).uppercased()
            + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8)
    }

    // MARK: - Mapping

    static func content(_ content: AfterSaleProto.ArticleContent?) throws(DomainError) -> AfterSaleDomain.ArticleContent {
        guard let content else { throw .invalidArgument(field: "content", message: "is required") }
        var kinds: [AfterSaleDomain.AfterSaleKind] = []
        for kind in content.caseKinds {
            guard let mapped = try ProtoMapping.kind(kind, field: "content.case_kinds") else {
                throw .invalidArgument(field: "content.case_kinds", message: "must not hold AFTER_SALE_KIND_UNSPECIFIED")
            }
            kinds.append(mapped)
        }
        guard content.audience != .unspecified else { throw .invalidArgument(field: "content.audience", message: "is required") }
        let result = AfterSaleDomain.ArticleContent(title: content.title, body: content.body, tags: content.tags, categories: content.categories,
                                                    caseKinds: kinds, reasonCodes: content.reasonCodes,
                                                    audience: try audience(content.audience, field: "content.audience"))
        try result.validate()
        return result
    }

    static func audience(_ audience: ArticleAudience, field: String) throws(DomainError) -> KnowledgeAudience {
        switch audience {
        case .buyers: .buyers
        case .merchants: .merchants
        case .agents: .agents
        default: throw .invalidArgument(field: field, message: "is not a known audience (\(audience.rawValue))")
        }
    }

    static func wire(_ audience: KnowledgeAudience) -> ArticleAudience {
        switch audience {
        case .buyers: .buyers
        case .merchants: .merchants
        case .agents: .agents
        }
    }

    static func status(_ status: AfterSaleProto.ArticleStatus) throws(DomainError) -> AfterSaleDomain.ArticleStatus {
        switch status {
        case .draft: .draft
        case .published: .published
        case .archived: .archived
        default: throw .invalidArgument(field: "status", message: "is not a known status (\(status.rawValue))")
        }
    }

    static func wire(_ status: AfterSaleDomain.ArticleStatus) -> AfterSaleProto.ArticleStatus {
        switch status {
        case .draft: .draft
        case .published: .published
        case .archived: .archived
        }
    }

    static func wire(_ vote: AfterSaleDomain.HelpfulVote?) -> AfterSaleProto.HelpfulVote {
        switch vote {
        case .helpful: .helpful
        case .notHelpful: .notHelpful
        case nil: .unspecified
        }
    }

    static func wire(_ c: AfterSaleDomain.ArticleContent) -> AfterSaleProto.ArticleContent {
        var p = AfterSaleProto.ArticleContent()
        p.title = c.title
        p.body = c.body
        p.tags = c.tags
        p.categories = c.categories
        p.caseKinds = c.caseKinds.map(ProtoMapping.kind)
        p.reasonCodes = c.reasonCodes
        p.audience = wire(c.audience)
        return p
    }

    /// The article as `principal` sees it: readers the published content only.
    func wire(_ a: KnowledgeArticle, for principal: Principal, vote: AfterSaleDomain.HelpfulVote?) -> Article {
        var p = Article()
        p.articleId = a.id
        p.status = Self.wire(a.status)
        p.version = a.version
        p.publishedRevision = a.publishedRevision ?? 0
        p.published = a.published.map(Self.wire)
        p.createdAtUnixMs = a.createdAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = a.updatedAt.millisecondsSinceEpoch
        p.publishedAtUnixMs = a.publishedAt?.millisecondsSinceEpoch ?? 0
        p.helpfulVotes = Int64(a.helpfulVotes)
        p.notHelpfulVotes = Int64(a.notHelpfulVotes)
        p.myVote = Self.wire(vote)
        if KnowledgeArticle.editorRoles.contains(principal.role) {
            p.revision = a.revision
            p.latest = Self.wire(a.latest)
            p.author = a.author.description
        }
        return p
    }

    static func wire(_ r: AfterSaleDomain.ArticleRevision) -> AfterSaleProto.ArticleRevision {
        var p = AfterSaleProto.ArticleRevision()
        p.revision = r.revision
        p.content = wire(r.content)
        p.editedBy = r.editedBy.description
        p.editedAtUnixMs = r.editedAt.millisecondsSinceEpoch
        return p
    }

    static func wire(_ text: AfterSaleDomain.HighlightedText) -> AfterSaleProto.HighlightedText {
        var p = AfterSaleProto.HighlightedText()
        p.text = text.text
        p.spans = text.spans.flatMap { [Int32(clamping: $0.lowerBound), Int32(clamping: $0.upperBound)] }
        p.marked = text.marked()
        return p
    }

    static func wire(_ hit: KnowledgeHit) -> ArticleHit {
        var p = ArticleHit()
        p.articleId = hit.article.id
        p.title = hit.content.title
        p.audience = wire(hit.content.audience)
        p.tags = hit.content.tags
        p.score = hit.score
        p.titleHighlight = wire(hit.title)
        p.snippet = wire(hit.snippet)
        p.helpfulVotes = Int64(hit.article.helpfulVotes)
        p.notHelpfulVotes = Int64(hit.article.notHelpfulVotes)
        p.publishedRevision = hit.article.publishedRevision ?? 0
        return p
    }
}
