import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// The knowledge base over the in-memory store.
@Suite("Knowledge: editors write and publish articles, readers search, get suggestions and vote")
struct KnowledgeServiceTests {
    static let editor = Principal.agent("a-1")
    static let buyer = Principal.buyer("b-1")
    static let merchant = Principal.merchant("m-1", shop: "s-1")
    static func ctx(_ method: RPCMethodInfo, _ principal: Principal) -> ServerContext { ServiceFixture.context(method, as: principal) }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do { try await body(); return nil } catch { return (error as? RPCError)?.code }
    }

    static func message(_ body: () async throws -> Void) async -> String {
        do { try await body(); return "" } catch { return (error as? RPCError)?.message ?? "\(error)" }
    }

    static func content(_ title: String, _ body: String, audience: ArticleAudience = .buyers, tags: [String] = [],
                        kinds: [AfterSaleProto.AfterSaleKind] = [], reasons: [String] = [], categories: [String] = []) -> AfterSaleProto.ArticleContent {
        var c = AfterSaleProto.ArticleContent()
        c.title = title
        c.body = body
        c.audience = audience
        c.tags = tags
        c.caseKinds = kinds
        c.reasonCodes = reasons
        c.categories = categories
        return c
    }

    static func create(_ f: ServiceFixture, _ content: AfterSaleProto.ArticleContent, publish: Bool = true) async throws -> Article {
        var request = CreateArticleRequest()
        request.content = content
        let created = try #require(try await f.knowledge.createArticle(request, context: ctx(Knowledge.createArticle.info, editor)).article)
        guard publish else { return created }
        var publishing = PublishArticleRequest()
        publishing.articleId = created.articleId
        publishing.expectedVersion = created.version
        return try #require(try await f.knowledge.publishArticle(publishing, context: ctx(Knowledge.publishArticle.info, editor)).article)
    }

    static func search(_ f: ServiceFixture, _ query: String, as principal: Principal = buyer, pageSize: Int32 = 0,
                       token: String = "") async throws -> SearchArticlesResponse {
        var request = SearchArticlesRequest()
        request.query = query
        request.pageSize = pageSize
        request.pageToken = token
        return try await f.knowledge.searchArticles(request, context: ctx(Knowledge.searchArticles.info, principal))
    }

    @Test("an edit makes a new revision, the published one is served until republished; a stale edit is ABORTED; history lists")
    func versions() async throws {
        let f = ServiceFixture()
        let article = try await Self.create(f, Self.content("退款多久到账", "原路退回，1至3个工作日。", tags: ["退款"]))
        #expect(article.status == .published && article.version == 2 && article.revision == 1 && article.publishedRevision == 1)
        #expect(article.articleId.hasPrefix("KB"))

        var update = UpdateArticleRequest()
        update.articleId = article.articleId
        update.expectedVersion = article.version
        update.content = Self.content("退款多久到账（更新）", "原路退回，信用卡最长7个工作日。", tags: ["退款"])
        let edited = try #require(try await f.knowledge.updateArticle(update, context: Self.ctx(Knowledge.updateArticle.info, Self.editor)).article)
        #expect(edited.revision == 2 && edited.version == 3 && edited.publishedRevision == 1)
        #expect(edited.latest?.title == "退款多久到账（更新）" && edited.published?.title == "退款多久到账")

        // The same expected version again: someone else's edit came first.
        let stale = await Self.message { _ = try await f.knowledge.updateArticle(update, context: Self.ctx(Knowledge.updateArticle.info, Self.editor)) }
        #expect(stale.contains("is at version 3, not 2"))
        #expect(await Self.code { _ = try await f.knowledge.updateArticle(update, context: Self.ctx(Knowledge.updateArticle.info, Self.editor)) } == .aborted)

        // Readers get the published revision only, without the draft.
        var get = GetArticleRequest()
        get.articleId = article.articleId
        let read = try #require(try await f.knowledge.getArticle(get, context: Self.ctx(Knowledge.getArticle.info, Self.buyer)).article)
        #expect(read.published?.title == "退款多久到账" && read.latest == nil && read.revision == 0 && read.author.isEmpty)
        #expect(try await Self.search(f, "信用卡").hits.isEmpty)

        var publish = PublishArticleRequest()
        publish.articleId = article.articleId
        _ = try await f.knowledge.publishArticle(publish, context: Self.ctx(Knowledge.publishArticle.info, Self.editor))
        #expect(try await Self.search(f, "信用卡").hits.map(\.articleId) == [article.articleId])

        var history = ListArticleRevisionsRequest()
        history.articleId = article.articleId
        history.pageSize = 1
        let first = try await f.knowledge.listArticleRevisions(history, context: Self.ctx(Knowledge.listArticleRevisions.info, Self.editor))
        #expect(first.revisions.map(\.revision) == [2] && first.nextPageToken == "2")
        history.pageToken = first.nextPageToken
        let second = try await f.knowledge.listArticleRevisions(history, context: Self.ctx(Knowledge.listArticleRevisions.info, Self.editor))
        #expect(second.revisions.map(\.revision) == [1] && second.nextPageToken.isEmpty)
        #expect(second.revisions.first?.editedBy == "agent a-1")

        // Roll back to revision 1, then archive: readers no longer find it.
        publish.revision = 1
        let rolledBack = try #require(try await f.knowledge.publishArticle(publish, context: Self.ctx(Knowledge.publishArticle.info, Self.editor)).article)
        #expect(rolledBack.publishedRevision == 1 && rolledBack.published?.title == "退款多久到账")
        var archive = ArchiveArticleRequest()
        archive.articleId = article.articleId
        archive.expectedVersion = rolledBack.version
        _ = try await f.knowledge.archiveArticle(archive, context: Self.ctx(Knowledge.archiveArticle.info, Self.editor))
        #expect(await Self.code { _ = try await f.knowledge.getArticle(get, context: Self.ctx(Knowledge.getArticle.info, Self.buyer)) } == .notFound)
        #expect(try await Self.search(f, "退款").hits.isEmpty)
        #expect(await Self.code { _ = try await f.knowledge.archiveArticle(archive, context: Self.ctx(Knowledge.archiveArticle.info, Self.editor)) }
                == .aborted)
        archive.expectedVersion = 0
        #expect(await Self.code { _ = try await f.knowledge.archiveArticle(archive, context: Self.ctx(Knowledge.archiveArticle.info, Self.editor)) }
                == .failedPrecondition)
    }

    @Test("bad content, ids, tokens and queries are INVALID_ARGUMENT naming the field; unknown articles NOT_FOUND")
    func validation() async throws {
        let f = ServiceFixture()
        var create = CreateArticleRequest()
        func message(_ content: AfterSaleProto.ArticleContent?) async -> String {
            create.content = content
            return await Self.message { _ = try await f.knowledge.createArticle(create, context: Self.ctx(Knowledge.createArticle.info, Self.editor)) }
        }
        #expect(await message(nil) == "content: is required")
        #expect(await message(Self.content("", "b")) == "content.title: must not be empty")
        #expect(await message(Self.content("t", "b", audience: .unspecified)) == "content.audience: is required")
        #expect(await message(Self.content(String(repeating: "长", count: 201), "b")).hasPrefix("content.title: must be at most 200 characters"))
        #expect(await message(Self.content("t", "b", tags: ["x", "x"])) == "content.tags: must not repeat an entry")
        #expect(await message(Self.content("t", "b", kinds: [.unspecified])) == "content.case_kinds: must not hold AFTER_SALE_KIND_UNSPECIFIED")
        #expect(await message(Self.content("t", "b", reasons: ["Bad Code"])).hasPrefix("content.reason_codes:"))
        #expect(await message(Self.content("t\n", "b")).hasPrefix("content.title: must not contain control characters"))

        var update = UpdateArticleRequest()
        update.articleId = "KB-missing"
        update.content = Self.content("t", "b")
        #expect(await Self.message { _ = try await f.knowledge.updateArticle(update, context: Self.ctx(Knowledge.updateArticle.info, Self.editor)) }
                .hasPrefix("expected_version: is required"))
        update.expectedVersion = 1
        #expect(await Self.code { _ = try await f.knowledge.updateArticle(update, context: Self.ctx(Knowledge.updateArticle.info, Self.editor)) } == .notFound)
        #expect(await Self.code { _ = try await Self.search(f, "") } == .invalidArgument)
        #expect(await Self.message { _ = try await Self.search(f, "？！…") } == "query: has no searchable words: give Chinese characters, letters or digits")
        #expect(await Self.code { _ = try await Self.search(f, String(repeating: "退", count: 201)) } == .invalidArgument)
        #expect(await Self.code { _ = try await Self.search(f, "退款", token: "x") } == .invalidArgument)
        var vote = VoteArticleRequest()
        vote.articleId = "KB-missing"
        #expect(await Self.message { _ = try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.buyer)) }
                == "vote: must be HELPFUL, NOT_HELPFUL or WITHDRAWN")
        vote.vote = .helpful
        #expect(await Self.code { _ = try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.buyer)) } == .notFound)
        #expect(await Self.code {
            _ = try await f.knowledge.suggestArticles(SuggestArticlesRequest(), context: Self.ctx(Knowledge.suggestArticles.info, Self.buyer))
        } == .invalidArgument)
    }

    @Test("audiences: buyers see buyers' articles, merchants also merchants', agents all; drafts only editors")
    func audiences() async throws {
        let f = ServiceFixture()
        let forBuyers = try await Self.create(f, Self.content("退货规则", "七天无理由退货", audience: .buyers))
        let forMerchants = try await Self.create(f, Self.content("商家退货审核", "48小时内审核退货", audience: .merchants))
        let forAgents = try await Self.create(f, Self.content("客服退货指引", "强制退款前核实退货", audience: .agents))
        let draft = try await Self.create(f, Self.content("退货草稿", "未发布的退货说明"), publish: false)
        func ids(_ principal: Principal) async throws -> Set<String> { Set(try await Self.search(f, "退货", as: principal).hits.map(\.articleId)) }
        #expect(try await ids(Self.buyer) == [forBuyers.articleId])
        #expect(try await ids(Self.merchant) == [forBuyers.articleId, forMerchants.articleId])
        #expect(try await ids(Self.editor) == [forBuyers.articleId, forMerchants.articleId, forAgents.articleId])
        var get = GetArticleRequest()
        get.articleId = forAgents.articleId
        #expect(await Self.code { _ = try await f.knowledge.getArticle(get, context: Self.ctx(Knowledge.getArticle.info, Self.merchant)) } == .notFound)
        get.articleId = draft.articleId
        #expect(await Self.code { _ = try await f.knowledge.getArticle(get, context: Self.ctx(Knowledge.getArticle.info, Self.buyer)) } == .notFound)
        #expect(try await f.knowledge.getArticle(get, context: Self.ctx(Knowledge.getArticle.info, Self.editor)).article?.status == .draft)

        var list = ListArticlesRequest()
        let buyerList = try await f.knowledge.listArticles(list, context: Self.ctx(Knowledge.listArticles.info, Self.buyer))
        #expect(buyerList.articles.map(\.articleId) == [forBuyers.articleId])
        list.status = .draft
        #expect(await Self.code { _ = try await f.knowledge.listArticles(list, context: Self.ctx(Knowledge.listArticles.info, Self.buyer)) } == .invalidArgument)
        let drafts = try await f.knowledge.listArticles(list, context: Self.ctx(Knowledge.listArticles.info, Self.editor))
        #expect(drafts.articles.map(\.articleId) == [draft.articleId])
        var vote = VoteArticleRequest()
        vote.articleId = draft.articleId
        vote.vote = .helpful
        #expect(await Self.code { _ = try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.editor)) }
                == .failedPrecondition)
    }

    @Test("search ranks, highlights with 【】 and pages; one vote per caller, changeable, and votes reorder near-equal hits")
    func searchAndVotes() async throws {
        let f = ServiceFixture()
        let a = try await Self.create(f, Self.content("三包政策", "手机享受三包：七日退货，十五日换货，一年保修。", tags: ["三包"]))
        let b = try await Self.create(f, Self.content("保修说明", "三包期内免费维修。"))
        let page1 = try await Self.search(f, "三包", pageSize: 1)
        #expect(page1.hits.map(\.articleId) == [a.articleId] && page1.totalHits == 2 && page1.nextPageToken == "1")
        let hit = try #require(page1.hits.first)
        #expect(hit.titleHighlight?.marked == "【三包】政策")
        #expect(hit.titleHighlight?.spans == [0, 2])
        #expect(hit.snippet?.marked == "手机享受【三包】：七日退货，十五日换货，一年保修。")
        let page2 = try await Self.search(f, "三包", pageSize: 1, token: page1.nextPageToken)
        #expect(page2.hits.map(\.articleId) == [b.articleId] && page2.nextPageToken.isEmpty)

        let one = try await Self.create(f, Self.content("Refund timing", "A refund takes 1 to 3 days."))
        let two = try await Self.create(f, Self.content("Refund timing", "A refund takes 1 to 3 days."))
        let (x, y) = one.articleId < two.articleId ? (one, two) : (two, one)
        #expect(try await Self.search(f, "refunds").hits.map(\.articleId) == [x.articleId, y.articleId], "a tie goes to the smaller id")
        var vote = VoteArticleRequest()
        vote.articleId = y.articleId
        vote.vote = .helpful
        let voted = try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.buyer))
        #expect(voted.helpfulVotes == 1 && voted.myVote == .helpful)
        #expect(try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.buyer)).helpfulVotes == 1, "one vote per caller")
        #expect(try await Self.search(f, "refunds").hits.map(\.articleId) == [y.articleId, x.articleId])
        vote.vote = .notHelpful
        let changed = try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.buyer))
        #expect(changed.helpfulVotes == 0 && changed.notHelpfulVotes == 1)
        var get = GetArticleRequest()
        get.articleId = y.articleId
        #expect(try await f.knowledge.getArticle(get, context: Self.ctx(Knowledge.getArticle.info, Self.buyer)).article?.myVote == .notHelpful)
        vote.vote = .withdrawn
        let withdrawn = try await f.knowledge.voteArticle(vote, context: Self.ctx(Knowledge.voteArticle.info, Self.buyer))
        #expect(withdrawn.notHelpfulVotes == 0 && withdrawn.myVote == .unspecified)
    }

    @Test("suggestions: by kind, reason and category for a buyer opening a case; by the ticket for the agent working it")
    func suggestions() async throws {
        var f = ServiceFixture()
        f.deskSettings.sla.calendar = .always
        let refund = try await Self.create(f, Self.content("仅退款说明", "发货前可以申请仅退款。", kinds: [.refundOnly], reasons: ["no_longer_wanted"]))
        let repair = try await Self.create(f, Self.content("维修说明", "保修期内免费维修。", kinds: [.repair], categories: ["手机"]))
        _ = try await Self.create(f, Self.content("发票", "发票说明。"))
        var request = SuggestArticlesRequest()
        request.caseKind = .refundOnly
        request.reasonCode = "no_longer_wanted"
        let opening = try await f.knowledge.suggestArticles(request, context: Self.ctx(Knowledge.suggestArticles.info, Self.buyer))
        #expect(opening.hits.map(\.articleId) == [refund.articleId])
        request = SuggestArticlesRequest()
        request.category = "手机"
        #expect(try await f.knowledge.suggestArticles(request, context: Self.ctx(Knowledge.suggestArticles.info, Self.buyer)).hits.map(\.articleId)
                == [repair.articleId])

        // A ticket about a refund-only case: its kind and reason lead the agent to the refund article.
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)
        var open = OpenTicketRequest()
        open.subject = "想取消订单"
        open.caseNumber = created.caseNumber
        let ticket = try #require(try await f.serviceDesk.openTicket(open, context: Self.ctx(ServiceDesk.openTicket.info, .platform("p-1"))).ticket)
        request = SuggestArticlesRequest()
        request.ticketId = ticket.ticketId
        let forTicket = try await f.knowledge.suggestArticles(request, context: Self.ctx(Knowledge.suggestArticles.info, .platform("p-1")))
        #expect(forTicket.hits.first?.articleId == refund.articleId)
        request = SuggestArticlesRequest()
        request.caseNumber = created.caseNumber
        #expect(try await f.knowledge.suggestArticles(request, context: Self.ctx(Knowledge.suggestArticles.info, StorageFixture.buyer))
                .hits.first?.articleId == refund.articleId)
        #expect(await Self.code {
            _ = try await f.knowledge.suggestArticles(request, context: Self.ctx(Knowledge.suggestArticles.info, .buyer("someone-else")))
        } == .notFound)
    }
}
