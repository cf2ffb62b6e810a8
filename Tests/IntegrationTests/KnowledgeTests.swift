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
    }
}
