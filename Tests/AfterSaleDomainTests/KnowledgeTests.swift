import AfterSaleDomain
import Testing

@Suite("Knowledge: tokens, ranking, highlights and the rules of articles")
struct KnowledgeTests {
    @Test("Han text gives bigrams (and unigrams when indexed); words are folded, plural s dropped, stop words gone")
    func tokens() {
        #expect(KnowledgeText.queryTerms("退款流程") == ["退款", "款流", "流程"])
        #expect(KnowledgeText.queryTerms("三包") == ["三包"])
        #expect(KnowledgeText.queryTerms("险") == ["险"])
        #expect(KnowledgeText.queryTerms("How do I get my Refunds? ＩＰＨＯＮＥ deliveries") == ["get", "refund", "iphone", "delivery"])
        #expect(KnowledgeText.queryTerms("iPhone屏幕碎了 7天") == ["iphone", "屏幕", "幕碎", "碎了", "7", "天"])
        #expect(KnowledgeText.queryTerms("【】！？ the a") == [])
        #expect(KnowledgeText.indexTokens("退款").map(\.term) == ["退", "退款", "款"])
        #expect(KnowledgeText.indexTokens("x 退").map { [$0.term, "\($0.start)", "\($0.end)"] } == [["x", "0", "1"], ["退", "2", "3"]])
        #expect(KnowledgeText.queryTerms(String(repeating: "x", count: 40)) == [String(repeating: "x", count: 32)])
        #expect(KnowledgeText.categoryFacet(" 手机 ") == "cat:手机")
    }

    @Test("the index counts terms per field and adds facets")
    func index() {
        let content = ArticleContent(title: "退款 refund", body: "退款退款", tags: ["退款"], categories: ["手机"], caseKinds: [.refundOnly],
                                     reasonCodes: ["quality_fault"], audience: .buyers)
        let index = ArticleIndex.of(content)
        #expect(index.titleLength == 4 && index.tagsLength == 6 && index.bodyLength == 7)
        #expect(index.terms.contains(IndexedTerm(term: "退款", field: .body, count: 2)))
        #expect(index.terms.contains(IndexedTerm(term: "kind:refund_only", field: .facets, count: 1)))
        #expect(index.terms.contains(IndexedTerm(term: "reason:quality_fault", field: .facets, count: 1)))
        #expect(index.terms.contains(IndexedTerm(term: "cat:手机", field: .facets, count: 1)))
    }

    static func slice(_ articles: [(String, ArticleContent, Int, Int)]) -> KnowledgeIndexSlice {
        var corpus = KnowledgeCorpus(documents: 0, titleLength: 0, tagsLength: 0, bodyLength: 0)
        var postings: [KnowledgePosting] = []
        var indexed: [IndexedArticle] = []
        for (id, content, helpful, notHelpful) in articles {
            let index = ArticleIndex.of(content)
            corpus.documents += 1
            corpus.titleLength += Int64(index.titleLength)
            corpus.tagsLength += Int64(index.tagsLength)
            corpus.bodyLength += Int64(index.bodyLength)
            postings += index.terms.map { KnowledgePosting(term: $0.term, articleID: id, field: $0.field, count: $0.count) }
            indexed.append(IndexedArticle(articleID: id, audience: content.audience, titleLength: index.titleLength, tagsLength: index.tagsLength,
                                          bodyLength: index.bodyLength, helpfulVotes: helpful, notHelpfulVotes: notHelpful))
        }
        return KnowledgeIndexSlice(corpus: corpus, postings: postings, articles: indexed)
    }

    @Test("a title match beats a body match; more query terms beat fewer; votes break near-ties; audiences and required facets filter")
    func ranking() {
        let inTitle = ArticleContent(title: "三包政策", body: "说明", audience: .buyers)
        let inBody = ArticleContent(title: "说明", body: "三包政策", audience: .buyers)
        let merchants = ArticleContent(title: "三包政策", body: "说明", audience: .merchants)
        let slice = Self.slice([("A", inBody, 0, 0), ("B", inTitle, 0, 0), ("C", merchants, 0, 0)])
        #expect(KnowledgeRanking.rank(terms: ["三包"], audiences: [.buyers], in: slice).map(\.articleID) == ["B", "A"])
        #expect(KnowledgeRanking.rank(terms: ["三包"], audiences: [.buyers, .merchants], in: slice).map(\.articleID) == ["B", "C", "A"])
        #expect(KnowledgeRanking.rank(terms: ["三包"], required: ["kind:repair"], audiences: [.buyers], in: slice).isEmpty)

        let twins = Self.slice([("X", inTitle, 0, 0), ("Y", inTitle, 3, 0)])
        #expect(KnowledgeRanking.rank(terms: ["三包"], audiences: [.buyers], in: twins).map(\.articleID) == ["Y", "X"])
        let disliked = Self.slice([("X", inTitle, 0, 0), ("Y", inTitle, 0, 1)])
        #expect(KnowledgeRanking.rank(terms: ["三包"], audiences: [.buyers], in: disliked).map(\.articleID) == ["X", "Y"])
        #expect(KnowledgeRanking.helpfulBoost(helpful: 0, notHelpful: 0) == 1)
        #expect(KnowledgeRanking.helpfulBoost(helpful: 1_000_000, notHelpful: 0) < 1.25)

        let both = Self.slice([("P", ArticleContent(title: "退款到账", body: "x", audience: .buyers), 0, 0),
                               ("Q", ArticleContent(title: "退款", body: "x", audience: .buyers), 0, 0)])
        #expect(KnowledgeRanking.rank(terms: KnowledgeText.queryTerms("退款到账"), audiences: [.buyers], in: both).first?.articleID == "P")
    }

    @Test("the logarithm the ranking uses is the natural one")
    func logarithm() {
        for (x, ln) in [(1.0, 0.0), (2.718281828459045, 1.0), (10.0, 2.302585092994046), (0.5, -0.6931471805599453), (1e6, 13.815510557964274)] {
            #expect(abs(KnowledgeRanking.naturalLog(x) - ln) < 1e-12, "\(x)")
        }
    }

    @Test("highlights mark the matched tokens, merged; a snippet is cut around the matches with …")
    func highlights() {
        #expect(KnowledgeHighlight.whole("退款流程说明", terms: ["退款", "款流"]).marked() == "【退款流】程说明")
        #expect(KnowledgeHighlight.whole("Refunds take 3 days", terms: ["refund"]).marked() == "【Refunds】 take 3 days")
        let long = String(repeating: "甲", count: 100) + "三包政策" + String(repeating: "乙", count: 100)
        let snippet = KnowledgeHighlight.snippet(long, terms: ["三包"], length: 30)
        #expect(snippet.text.hasPrefix("…") && snippet.text.hasSuffix("…"))
        #expect(snippet.marked().contains("【三包】政策"))
        #expect(snippet.text.unicodeScalars.count == 32)
        #expect(KnowledgeHighlight.snippet("a\nb", terms: []).text == "a b")
    }

    @Test("only editors write; an edit based on a stale version is a conflict; publishing serves a revision; archiving withdraws it")
    func articleRules() throws {
        let editor = Principal.agent("a-1")
        let now = Timestamp(millisecondsSinceEpoch: 1_000)
        let content = ArticleContent(title: "标题", body: "正文", audience: .buyers)
        #expect(throws: DomainError.self) { try KnowledgeArticle.draft(id: "KB1", content: content, by: .buyer("b-1"), at: now) }
        let (draft, first) = try KnowledgeArticle.draft(id: "KB1", content: content, by: editor, at: now)
        #expect(draft.status == .draft && draft.served(to: .agent("a-2")) == nil && draft.isVisible(to: .agent("a-2")) && !draft.isVisible(to: .buyer("b-1")))
        var changed = content
        changed.title = "新标题"
        let (edited, second) = try draft.edited(changed, expectedVersion: 1, by: editor, at: now)
        #expect(second.revision == 2 && edited.version == 2)
        #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) { try edited.edited(changed, expectedVersion: 1, by: editor, at: now) }
        let published = try edited.publishing(first, expectedVersion: 2, by: editor, at: now)
        #expect(published.served(to: .buyer("b-1"))?.title == "标题" && published.latest.title == "新标题")
        #expect(published.served(to: .merchant("m-1"))?.title == "标题")
        let archived = try published.archiving(expectedVersion: 0, by: editor, at: now)
        #expect(archived.served(to: .buyer("b-1")) == nil && archived.status == .archived)
        #expect(throws: DomainError.self) { try archived.archiving(expectedVersion: 0, by: editor, at: now) }
        var bad = content
        bad.tags = [" 空格"]
        #expect(throws: DomainError.invalidArgument(field: "content.tags", message: "\" 空格\" has leading or trailing spaces")) { try bad.validate() }
        #expect(KnowledgeAudience.visible(to: .merchant) == [.buyers, .merchants])
    }
}
