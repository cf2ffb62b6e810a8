import AfterSaleClient
import AfterSaleProto
import RPCWire
import Testing

// The knowledge base through the client stub, over the real server and store (SQLite, or
// PostgreSQL with AFTERSALE_TEST_BACKEND=postgres), with signed tokens.

extension Integration {
    @Suite("Knowledge: an agent writes and publishes, a buyer searches in Chinese, votes, and gets suggestions")
    struct KnowledgeTests {
        @Test("create → publish → search (two characters) → vote → ranking and suggestions follow")
        func story() async throws {
            try await IntegrationFixture.run { f in
                let knowledge = f.client.knowledge
                func create(_ title: String, _ body: String, tags: [String], kinds: [AfterSaleProto.AfterSaleKind]) async throws -> Article {
                    var request = CreateArticleRequest()
                    var content = AfterSaleProto.ArticleContent()
                    content.title = title
                    content.body = body
                    content.tags = tags
                    content.caseKinds = kinds
                    content.audience = .buyers
                    request.content = content
                    let draft = try #require(try await knowledge.createArticle(request, options: Callers.agent()).article)
                    var publish = PublishArticleRequest()
                    publish.articleId = draft.articleId
                    publish.expectedVersion = draft.version
                    return try #require(try await knowledge.publishArticle(publish, options: Callers.agent()).article)
                }
                let policy = try await create("三包政策说明", "手机出现性能故障，7日内可以退货，15日内可以换货。", tags: ["三包"], kinds: [.exchange])
                let repair = try await create("三包期内维修", "三包期内免费维修。", tags: ["维修"], kinds: [.repair])
                #expect(policy.status == .published && policy.publishedRevision == 1)

                var search = SearchArticlesRequest()
                search.query = "三包"
                let first = try await knowledge.searchArticles(search, options: Callers.buyer())
                #expect(first.hits.map(\.articleId) == [policy.articleId, repair.articleId])
                #expect(first.hits.first?.titleHighlight?.marked == "【三包】政策说明")
                #expect(first.totalHits == 2)

                // Two helpful votes (one each) lift the repair article above the policy.
                var vote = VoteArticleRequest()
                vote.articleId = repair.articleId
                vote.vote = .helpful
                _ = try await knowledge.voteArticle(vote, options: Callers.buyer("b-1"))
                _ = try await knowledge.voteArticle(vote, options: Callers.buyer("b-1"))
                let tallies = try await knowledge.voteArticle(vote, options: Callers.buyer("b-2"))
                #expect(tallies.helpfulVotes == 2 && tallies.myVote == .helpful)
                vote.articleId = policy.articleId
                vote.vote = .notHelpful
                _ = try await knowledge.voteArticle(vote, options: Callers.buyer("b-1"))
                let after = try await knowledge.searchArticles(search, options: Callers.buyer())
                #expect(after.hits.map(\.articleId) == [repair.articleId, policy.articleId])

                var suggest = SuggestArticlesRequest()
                suggest.caseKind = .exchange
                let suggested = try await knowledge.suggestArticles(suggest, options: Callers.buyer())
                #expect(suggested.hits.first?.articleId == policy.articleId)

                // A stale edit is ABORTED; an edit by a buyer is refused at the role gate.
                var update = UpdateArticleRequest()
                update.articleId = policy.articleId
                update.expectedVersion = 1
                update.content = policy.published
                do {
                    _ = try await knowledge.updateArticle(update, options: Callers.agent())
                    Issue.record("a stale edit went through")
                } catch {
                    #expect((error as? RPCError)?.code == .aborted)
                }
                do {
                    _ = try await knowledge.updateArticle(update, options: Callers.buyer())
                    Issue.record("a buyer edited an article")
                } catch {
                    #expect((error as? RPCError)?.code == .permissionDenied)
                }
            }
        }

        @Test("CreateAfterSale answers with the buyers' articles for its kind, reason and category; an archive shows in the next case")
        func suggestionsWithANewCase() async throws {
            try await IntegrationFixture.run { f in
                let knowledge = f.client.knowledge
                func publish(_ title: String, audience: ArticleAudience) async throws -> Article {
                    var request = CreateArticleRequest()
                    var content = AfterSaleProto.ArticleContent()
                    content.title = title
                    content.body = "\(title)：发货前申请，原路退回。"
                    content.caseKinds = [.refundOnly]
                    content.reasonCodes = ["no_longer_wanted"]
                    content.categories = ["apparel"]
                    content.audience = audience
                    request.content = content
                    let draft = try #require(try await knowledge.createArticle(request, options: Callers.agent()).article)
                    var publish = PublishArticleRequest()
                    publish.articleId = draft.articleId
                    return try #require(try await knowledge.publishArticle(publish, options: Callers.agent()).article)
                }
                let forBuyers = try await publish("仅退款须知", audience: .buyers)
                _ = try await publish("仅退款审核要点", audience: .agents)
                _ = try await f.upsert(TestOrder(id: "o-kb", status: .paid))
                let request = Requests.create(order: "o-kb", kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-3", 1)])

                let created = try await f.afterSale.createAfterSale(request, options: Callers.buyer("b-1", key: "k-kb-1"))
                #expect(created.afterSale?.status == .pendingRefund && !created.replayed)
                #expect(created.suggestedArticles.map(\.articleId) == [forBuyers.articleId])
                #expect(created.suggestedArticles.first?.audience == .buyers && created.suggestedArticles.first?.title == "仅退款须知")

                // Archived through the same server: the next case and a replay of the first go without it.
                var archive = ArchiveArticleRequest()
                archive.articleId = forBuyers.articleId
                _ = try await knowledge.archiveArticle(archive, options: Callers.agent())
                let next = try await f.afterSale.createAfterSale(request, options: Callers.buyer("b-1", key: "k-kb-2"))
                #expect(next.afterSale != nil && next.suggestedArticles.isEmpty)
                let replay = try await f.afterSale.createAfterSale(request, options: Callers.buyer("b-1", key: "k-kb-1"))
                #expect(replay.replayed && replay.afterSale?.caseNumber == created.afterSale?.caseNumber && replay.suggestedArticles.isEmpty)
            }
        }
    }
}
