import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// The articles CreateAfterSale suggests with a new case, over the in-memory store.
@Suite("Knowledge: CreateAfterSale suggests up to three buyers' articles by kind, reason and category, kept fresh")
struct CaseSuggestionTests {
    typealias K = KnowledgeServiceTests
    static let editor = KnowledgeServiceTests.editor

    /// A refund-only case (reason no_longer_wanted, line l-3 in category apparel) under `key`.
    static func open(_ f: ServiceFixture, key: String) async throws -> CreateAfterSaleResponse {
        try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: key))
    }

    /// An article about refund-only cases for `no_longer_wanted` in `apparel`, as many facets as asked.
    static func about(_ title: String, audience: ArticleAudience = .buyers, reason: Bool = true, category: Bool = true) -> AfterSaleProto.ArticleContent {
        K.content(title, "\(title)：处理说明。", audience: audience, kinds: [.refundOnly], reasons: reason ? ["no_longer_wanted"] : [],
                  categories: category ? ["apparel"] : [])
    }

    static func archive(_ f: ServiceFixture, _ article: Article) async throws {
        var request = ArchiveArticleRequest()
        request.articleId = article.articleId
        _ = try await f.knowledge.archiveArticle(request, context: K.ctx(Knowledge.archiveArticle.info, editor))
    }

    @Test("only published buyers' articles matching the case, at most three, best first, as SuggestArticles ranks them")
    func buyersArticlesOnly() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let all = try await K.create(f, Self.about("全部匹配"))
        let kindAndReason = try await K.create(f, Self.about("类型和原因", category: false))
        let kindOnlyA = try await K.create(f, Self.about("仅类型甲", reason: false, category: false))
        let kindOnlyB = try await K.create(f, Self.about("仅类型乙", reason: false, category: false))
        _ = try await K.create(f, Self.about("客服内部", audience: .agents))
        _ = try await K.create(f, Self.about("商家须知", audience: .merchants))
        _ = try await K.create(f, Self.about("草稿"), publish: false)
        try await Self.archive(f, try await K.create(f, Self.about("已归档")))
        _ = try await K.create(f, K.content("维修说明", "保修期内免费维修。", kinds: [.repair], categories: ["phones"]))

        let response = try await Self.open(f, key: "k-1")
        #expect(response.afterSale?.status == .pendingRefund)
        // A tie (the same facets, the same length) goes to the smaller id.
        let third = min(kindOnlyA.articleId, kindOnlyB.articleId)
        #expect(response.suggestedArticles.map(\.articleId) == [all.articleId, kindAndReason.articleId, third])
        #expect(response.suggestedArticles.allSatisfy { $0.audience == .buyers && $0.publishedRevision == 1 })
        #expect(response.suggestedArticles.first?.title == "全部匹配")

        // SuggestArticles for a buyer with the case's kind, reason and category answers the same.
        var request = SuggestArticlesRequest()
        request.caseKind = .refundOnly
        request.reasonCode = "no_longer_wanted"
        request.category = "apparel"
        request.pageSize = 3
        let suggested = try await f.knowledge.suggestArticles(request, context: K.ctx(Knowledge.suggestArticles.info, K.buyer))
        #expect(suggested.hits == response.suggestedArticles)

        // An agent applying on the buyer's behalf gets the buyer's articles too, never the agents' own.
        try await f.store.saveOrder(StorageFixture.order(id: "o-2", status: .paid))
        var onBehalf = ServiceFixture.refundOnly()
        onBehalf.orderId = "o-2"
        let byPlatform = try await f.afterSale.createAfterSale(onBehalf, context: ServiceFixture.creating(as: .platform("p-1"), key: "k-p"))
        #expect(byPlatform.suggestedArticles.map(\.articleId) == response.suggestedArticles.map(\.articleId))
    }

    @Test("an article change through this replica shows in the next case at once; a replay looks the suggestions up again")
    func freshAfterChanges() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let all = try await K.create(f, Self.about("全部匹配"))
        let kindAndReason = try await K.create(f, Self.about("类型和原因", category: false))
        let first = try await Self.open(f, key: "k-1")
        #expect(first.suggestedArticles.map(\.articleId) == [all.articleId, kindAndReason.articleId])

        // Archived: gone from the next case and from a replay of the first.
        try await Self.archive(f, all)
        let second = try await Self.open(f, key: "k-2")
        #expect(second.suggestedArticles.map(\.articleId) == [kindAndReason.articleId])
        let replay = try await Self.open(f, key: "k-1")
        #expect(replay.replayed && replay.afterSale?.caseNumber == first.afterSale?.caseNumber)
        #expect(replay.suggestedArticles.map(\.articleId) == [kindAndReason.articleId])

        // An edit republished: the new title is suggested right away.
        var update = UpdateArticleRequest()
        update.articleId = kindAndReason.articleId
        update.expectedVersion = kindAndReason.version
        update.content = Self.about("类型和原因（新版）", category: false)
        _ = try await f.knowledge.updateArticle(update, context: K.ctx(Knowledge.updateArticle.info, Self.editor))
        var publish = PublishArticleRequest()
        publish.articleId = kindAndReason.articleId
        _ = try await f.knowledge.publishArticle(publish, context: K.ctx(Knowledge.publishArticle.info, Self.editor))
        let third = try await Self.open(f, key: "k-3")
        #expect(third.suggestedArticles.map(\.title) == ["类型和原因（新版）"])
        #expect(third.suggestedArticles.first?.publishedRevision == 2)
    }

    @Test("a change another replica made (straight to the store) is seen once the cached entry is 30 seconds old")
    func otherReplicasWithinMaximumAge() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let article = try await K.create(f, Self.about("全部匹配"))
        #expect(try await Self.open(f, key: "k-1").suggestedArticles.map(\.articleId) == [article.articleId])

        // Another replica archives it: this one does not hear of it.
        let stored = try #require(try await f.store.article(article.articleId))
        let archived = try stored.archiving(expectedVersion: stored.version, by: Self.editor, at: f.clock.now())
        try await f.store.saveArticle(archived, revision: nil, expectedVersion: stored.version)
        f.clock.advance(milliseconds: 29_999)
        #expect(try await Self.open(f, key: "k-2").suggestedArticles.map(\.articleId) == [article.articleId], "bounded staleness")
        f.clock.advance(milliseconds: 1)
        #expect(try await Self.open(f, key: "k-3").suggestedArticles.isEmpty)
    }

    @Test("a case opens without suggestions when the knowledge base has nothing or cannot be read")
    func neverFailsACase() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let empty = try await Self.open(f, key: "k-1")
        #expect(empty.afterSale?.status == .pendingRefund && empty.suggestedArticles.isEmpty)

        _ = try await K.create(f, Self.about("全部匹配"))
        var failing = f.afterSale
        failing.suggestions = ArticleSuggestions(store: UnreadableKnowledge(), clock: f.clock)
        let opened = try await failing.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "k-2"))
        #expect(opened.afterSale?.status == .pendingRefund && opened.suggestedArticles.isEmpty)
        #expect(try await f.store.afterSale(try CaseNumber(parsing: opened.afterSale?.caseNumber ?? "")) != nil)
    }

    @Test("an agent working a ticket asks SuggestArticles with its id: the case's kind, reason and category and the subject count, agents' articles included")
    func agentWorkingATicket() async throws {
        var f = ServiceFixture()
        f.deskSettings.sla.calendar = .always
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        for (agent, team) in [("a-1", "t-1"), ("a-2", "t-2")] {
            var upsert = UpsertAgentRequest()
            upsert.agentId = agent
            upsert.name = "Agent \(agent)"
            upsert.team = team
            upsert.capacity = 5
            _ = try await f.serviceDesk.upsertAgent(upsert, context: K.ctx(ServiceDesk.upsertAgent.info, .platform("p-1")))
            var presence = SetPresenceRequest()
            presence.presence = .away   // no dispatch: a-1 takes the ticket by hand
            _ = try await f.serviceDesk.setPresence(presence, context: K.ctx(ServiceDesk.setPresence.info, .agent(agent)))
        }
        let forBuyers = try await K.create(f, Self.about("全部匹配"))
        let forAgents = try await K.create(f, K.content("取消订单的处理", "核实未发货后同意。", audience: .agents, kinds: [.refundOnly]))
        _ = try await K.create(f, K.content("维修说明", "保修期内免费维修。", kinds: [.repair], categories: ["phones"]))
        let created = try await Self.open(f, key: "k-1")
        #expect(created.suggestedArticles.map(\.articleId) == [forBuyers.articleId], "the buyer is never offered the agents' article")

        var open = OpenTicketRequest()
        open.subject = "想取消订单"
        open.caseNumber = try #require(created.afterSale).caseNumber
        let ticket = try #require(try await f.serviceDesk.openTicket(open, context: K.ctx(ServiceDesk.openTicket.info, StorageFixture.buyer)).ticket)
        var take = TakeTicketRequest()
        take.ticketId = ticket.ticketId
        _ = try await f.serviceDesk.takeTicket(take, context: K.ctx(ServiceDesk.takeTicket.info, .agent("a-1")))

        var request = SuggestArticlesRequest()
        request.ticketId = ticket.ticketId
        let hits = try await f.knowledge.suggestArticles(request, context: K.ctx(Knowledge.suggestArticles.info, .agent("a-1"))).hits
        #expect(hits.map(\.articleId) == [forAgents.articleId, forBuyers.articleId])
        #expect(hits.first?.titleHighlight?.marked == "【取消订单】的处理")
        // An agent of another team does not work it: NOT_FOUND, as for an unknown ticket.
        #expect(await K.code { _ = try await f.knowledge.suggestArticles(request, context: K.ctx(Knowledge.suggestArticles.info, .agent("a-2"))) }
                == .notFound)
    }
}

/// A knowledge store that fails every read, as an unreachable database would.
struct UnreadableKnowledge: KnowledgeRepository {
    static let failure = RepositoryError.unavailable("knowledge base offline")
    func article(_ id: String) async throws -> KnowledgeArticle? { throw Self.failure }
    func articleRevision(_ id: String, revision: Int64) async throws -> AfterSaleDomain.ArticleRevision? { throw Self.failure }
    func articleRevisions(_ id: String, before: Int64?, limit: Int) async throws -> [AfterSaleDomain.ArticleRevision] { throw Self.failure }
    func saveArticle(_ article: KnowledgeArticle, revision: AfterSaleDomain.ArticleRevision?, expectedVersion: Int64) async throws { throw Self.failure }
    func articles(_ query: ArticleQuery) async throws -> ArticlePage { throw Self.failure }
    func knowledgeIndex(terms: Set<String>) async throws -> KnowledgeIndexSlice { throw Self.failure }
    func castVote(_ vote: AfterSaleDomain.HelpfulVote?, on articleID: String, by voter: String, at now: Timestamp) async throws -> ArticleVotes { throw Self.failure }
    func articleVote(on articleID: String, by voter: String) async throws -> AfterSaleDomain.HelpfulVote? { throw Self.failure }
}
