import AfterSaleDomain
import AfterSaleStorage
import Testing

/// The knowledge base: articles, revisions, the term index and votes.
struct KnowledgeChecks: Sendable {
    let repository: any AfterSaleRepository

    static let editor = Principal.agent("editor-1")

    static func content(_ title: String, _ body: String, audience: KnowledgeAudience = .buyers, tags: [String] = [],
                        kinds: [AfterSaleKind] = [], categories: [String] = []) -> ArticleContent {
        ArticleContent(title: title, body: body, tags: tags, categories: categories, caseKinds: kinds, reasonCodes: [], audience: audience)
    }

    /// Creates and publishes an article; returns it as stored.
    @discardableResult
    func published(_ id: String, _ content: ArticleContent, at offset: Int64 = 0) async throws -> KnowledgeArticle {
        let at = StorageFixture.now.adding(milliseconds: offset)
        let (draft, revision) = try KnowledgeArticle.draft(id: id, content: content, by: Self.editor, at: at)
        try await repository.saveArticle(draft, revision: revision, expectedVersion: 0)
        let published = try draft.publishing(revision, expectedVersion: 1, by: Self.editor, at: at)
        try await repository.saveArticle(published, revision: nil, expectedVersion: 1)
        return published
    }

    func search(_ text: String, _ audiences: Set<KnowledgeAudience> = Set(KnowledgeAudience.allCases), kind: AfterSaleKind? = nil) async throws -> [String] {
        try await repository.search(KnowledgeSearch(text: text, audiences: audiences, kind: kind, limit: 20)).hits.map(\.article.id)
    }

    func revisionsAndVersions() async throws {
        let at = StorageFixture.now
        let (draft, first) = try KnowledgeArticle.draft(id: "KB1", content: Self.content("退款规则", "原路退回"), by: Self.editor, at: at)
        try await repository.saveArticle(draft, revision: first, expectedVersion: 0)
        #expect(try await repository.article("KB1") == draft)
        #expect(try await repository.article("KB-none") == nil)
        await #expect(throws: DomainError.duplicate(message: "article KB1 exists already")) {
            try await repository.saveArticle(draft, revision: first, expectedVersion: 0)
        }
        let (edited, second) = try draft.edited(Self.content("退款规则（新）", "原路退回，1至3个工作日 😀 “引号”\n第二行"), expectedVersion: 1, by: Self.editor,
                                                at: at.adding(milliseconds: 5))
        try await repository.saveArticle(edited, revision: second, expectedVersion: 1)
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) {
            try await repository.saveArticle(edited, revision: second, expectedVersion: 1)
        }
        #expect(try await repository.article("KB1") == edited)
        #expect(try await repository.articleRevision("KB1", revision: 1) == first)
        #expect(try await repository.articleRevision("KB1", revision: 3) == nil)
        #expect(try await repository.articleRevisions("KB1", before: nil, limit: 10) == [second, first])
        #expect(try await repository.articleRevisions("KB1", before: 2, limit: 10) == [first])
        #expect(try await repository.articleRevisions("KB1", before: nil, limit: 1) == [second])
        #expect(try await search("退款").isEmpty, "a draft is not indexed")

        // Publishing revision 1 serves it while revision 2 stays the newest.
        let published = try edited.publishing(first, expectedVersion: 2, by: Self.editor, at: at.adding(milliseconds: 6))
        try await repository.saveArticle(published, revision: nil, expectedVersion: 2)
        #expect(try await repository.article("KB1")?.published == first.content)
        #expect(try await search("退款") == ["KB1"])
        #expect(try await search("工作日").isEmpty, "only the published revision is indexed")
        let archived = try published.archiving(expectedVersion: 3, by: Self.editor, at: at.adding(milliseconds: 7))
        try await repository.saveArticle(archived, revision: nil, expectedVersion: 3)
        #expect(try await search("退款").isEmpty, "an archived article leaves the index")
        let again = try archived.publishing(second, expectedVersion: 4, by: Self.editor, at: at.adding(milliseconds: 8))
        try await repository.saveArticle(again, revision: nil, expectedVersion: 4)
        #expect(try await search("工作日") == ["KB1"])
        #expect(try await repository.article("KB1") == again)
    }

    func listed() async throws {
        try await published("KB1", Self.content("a", "b"))
        try await published("KB2", Self.content("c", "d", audience: .merchants))
        let (draft, revision) = try KnowledgeArticle.draft(id: "KB3", content: Self.content("e", "f", audience: .agents), by: Self.editor,
                                                           at: StorageFixture.now)
        try await repository.saveArticle(draft, revision: revision, expectedVersion: 0)
        func all(_ query: ArticleQuery) async throws -> [String] {
            var q = query
            var out: [String] = []
            for _ in 0..<10 {
                let page = try await repository.articles(q)
                out += page.articles.map(\.id)
                guard let next = page.next else { break }
                q.after = next
            }
            return out
        }
        #expect(try await all(ArticleQuery(pageSize: 1)) == ["KB3", "KB2", "KB1"])
        #expect(try await all(ArticleQuery(statuses: [.published])) == ["KB2", "KB1"])
        #expect(try await all(ArticleQuery(statuses: [.draft])) == ["KB3"])
        #expect(try await all(ArticleQuery(statuses: [.published], audiences: [.buyers])) == ["KB1"])
        #expect(try await all(ArticleQuery(audiences: [.merchants, .agents], pageSize: 1)) == ["KB3", "KB2"])
    }

    func searchedAndVoted() async throws {
        try await published("KB1", Self.content("三包政策", "七日退货，十五日换货", tags: ["三包"], kinds: [.repair], categories: ["手机"]))
        try await published("KB2", Self.content("Refunds", "Refunds take 1 to 3 days.", tags: ["refund"], kinds: [.refundOnly]), at: 1)
        try await published("KB3", Self.content("商家须知：三包", "商家处理三包", audience: .merchants), at: 2)
        try await published("KB4", Self.content("Refund timing", "A refund takes 1 to 3 days.", kinds: [.refundOnly]), at: 3)
        #expect(try await search("三包", [.buyers]) == ["KB1"], "audiences filter")
        #expect(Set(try await search("三包")) == ["KB1", "KB3"])
        #expect(Set(try await search("包")) == ["KB1", "KB3"], "a one-character query finds unigrams")
        #expect(try await search("refunds", kind: .repair).isEmpty, "a kind filter is required")
        #expect(try await search("三包", kind: .repair) == ["KB1"])
        let hits = try await repository.search(KnowledgeSearch(text: "三包", audiences: [.buyers], limit: 5)).hits
        #expect(hits.first?.title.marked() == "【三包】政策")
        let suggested = try await repository.search(.suggestion(kind: .repair, reasonCode: nil, reasonTitle: nil, categories: ["手机"], text: "",
                                                                audiences: [.buyers], limit: 5))
        #expect(suggested.hits.map(\.article.id) == ["KB1"])

        // Helpful votes: one per voter, changeable, withdrawable; they move the ranking.
        let before = try await search("refund")
        let (winner, loser) = (before[1], before[0])
        #expect(try await repository.castVote(.helpful, on: winner, by: "buyer:b-1", at: StorageFixture.now) == ArticleVotes(helpful: 1, notHelpful: 0))
        #expect(try await repository.castVote(.helpful, on: winner, by: "buyer:b-1", at: StorageFixture.now) == ArticleVotes(helpful: 1, notHelpful: 0))
        #expect(try await repository.castVote(.helpful, on: winner, by: "buyer:b-2", at: StorageFixture.now) == ArticleVotes(helpful: 2, notHelpful: 0))
        #expect(try await repository.castVote(.notHelpful, on: loser, by: "buyer:b-1", at: StorageFixture.now) == ArticleVotes(helpful: 0, notHelpful: 1))
        #expect(try await search("refund") == [winner, loser])
        #expect(try await repository.castVote(.notHelpful, on: winner, by: "buyer:b-2", at: StorageFixture.now) == ArticleVotes(helpful: 1, notHelpful: 1))
        #expect(try await repository.articleVote(on: winner, by: "buyer:b-2") == .notHelpful)
        #expect(try await repository.castVote(nil, on: winner, by: "buyer:b-2", at: StorageFixture.now) == ArticleVotes(helpful: 1, notHelpful: 0))
        #expect(try await repository.articleVote(on: winner, by: "buyer:b-2") == nil)
        #expect(try await repository.article(winner)?.helpfulVotes == 1)
        await #expect(throws: RepositoryError.articleNotFound("KB-none")) {
            try await repository.castVote(.helpful, on: "KB-none", by: "buyer:b-1", at: StorageFixture.now)
        }
        // An edit keeps the tallies (they are the store's).
        let stored = try #require(try await repository.article(winner))
        let (edited, revision) = try stored.edited(stored.latest, expectedVersion: stored.version, by: Self.editor, at: StorageFixture.now)
        try await repository.saveArticle(edited, revision: revision, expectedVersion: stored.version)
        #expect(try await repository.article(winner)?.helpfulVotes == 1)
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("an article keeps every revision; edits are compare-and-set; only the published revision is indexed, until archived") {
            try await KnowledgeChecks(repository: $0).revisionsAndVersions()
        },
        ConformanceCheck("articles list newest id first by status and audience, across pages") { try await KnowledgeChecks(repository: $0).listed() },
        ConformanceCheck("search filters by audience and kind, finds one-character queries, suggests by facets; votes count once per voter and rank") {
            try await KnowledgeChecks(repository: $0).searchedAndVoted()
        },
    ]
}
