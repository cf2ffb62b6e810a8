import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Testing

/// The search-quality test: a committed corpus of Chinese and English articles
/// (`Fixtures/knowledge-corpus.json`) and, for a list of queries (two-character Chinese ones
/// among them), the hits expected first, among the first three, or not at all. Each backend must
/// meet them and give exactly the in-memory reference's ranked ids and scores.
@Suite("Knowledge search quality: the committed corpus finds what it should, identically on every backend")
struct KnowledgeSearchQualityTests {
    struct Corpus: Decodable {
        struct Entry: Decodable {
            var id: String
            var audience: String
            var title: String
            var body: String
            var tags: [String]?
            var categories: [String]?
            var kinds: [String]?
            var reasons: [String]?
            var status: String?
        }

        struct Query: Decodable {
            var query: String
            var `as`: String?
            var top1: String?
            var top3: [String]?
            var absent: [String]?

            var reader: Principal {
                switch `as` ?? "buyer" {
                case "merchant": .merchant("m-1", shop: "s-1")
                case "agent": .agent("a-1")
                case "platform": .platform("p-1")
                default: .buyer("b-1")
                }
            }

            var key: String { "\(`as` ?? "buyer") \(query)" }
        }

        var articles: [Entry]
        var queries: [Query]
    }

    static func corpus() throws -> Corpus {
        let url = try #require(Bundle.module.url(forResource: "knowledge-corpus", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: url))
    }

    /// Stores every article of `corpus` as its status says (drafts stay drafts; archived ones were published first).
    static func seed(_ corpus: Corpus, into store: any AfterSaleRepository) async throws {
        let editor = Principal.agent("editor-1")
        for (index, entry) in corpus.articles.enumerated() {
            let at = StorageFixture.now.adding(milliseconds: Int64(index) * 1_000)
            let content = ArticleContent(title: entry.title, body: entry.body, tags: entry.tags ?? [], categories: entry.categories ?? [],
                                         caseKinds: try (entry.kinds ?? []).map { try decodeEnum($0, as: AfterSaleKind.self) },
                                         reasonCodes: entry.reasons ?? [], audience: try decodeEnum(entry.audience, as: KnowledgeAudience.self))
            let (draft, revision) = try KnowledgeArticle.draft(id: entry.id, content: content, by: editor, at: at)
            try await store.saveArticle(draft, revision: revision, expectedVersion: 0)
            guard entry.status != "draft" else { continue }
            let published = try draft.publishing(revision, expectedVersion: draft.version, by: editor, at: at)
            try await store.saveArticle(published, revision: nil, expectedVersion: draft.version)
            if entry.status == "archived" {
                let archived = try published.archiving(expectedVersion: published.version, by: editor, at: at)
                try await store.saveArticle(archived, revision: nil, expectedVersion: published.version)
            }
        }
    }

    /// Every query's ranked hits (id and score), by query key.
    static func results(of corpus: Corpus, on store: any AfterSaleRepository) async throws -> [String: [String]] {
        var results: [String: [String]] = [:]
        for query in corpus.queries {
            let search = KnowledgeSearch(text: query.query, audiences: KnowledgeAudience.visible(to: query.reader.role), limit: 50)
            let hits = try await store.search(search).hits
            results[query.key] = hits.map { "\($0.article.id) \($0.score)" }
        }
        return results
    }

    static func check(_ corpus: Corpus, _ results: [String: [String]], backend: String) {
        for query in corpus.queries {
            let ids = (results[query.key] ?? []).map { String($0.prefix { $0 != " " }) }
            if let top1 = query.top1 { #expect(ids.first == top1, "\(backend): \(query.key) → \(ids.prefix(5))") }
            if let top3 = query.top3 { #expect(Set(top3).isSubset(of: Set(ids.prefix(3))), "\(backend): \(query.key) → \(ids.prefix(5))") }
            for id in query.absent ?? [] { #expect(!ids.contains(id), "\(backend): \(query.key) must not find \(id)") }
            if query.top1 != nil || query.top3 != nil { #expect(!ids.isEmpty, "\(backend): \(query.key) found nothing") }
        }
    }

    func reference(_ corpus: Corpus) async throws -> [String: [String]] {
        let memory = InMemoryRepository()
        try await Self.seed(corpus, into: memory)
        return try await Self.results(of: corpus, on: memory)
    }

    @Test("in memory (the reference): every expected hit")
    func inMemory() async throws {
        let corpus = try Self.corpus()
        Self.check(corpus, try await reference(corpus), backend: "in-memory")
    }

    @Test("SQLite: every expected hit, and the reference's ranking to the last digit")
    func sqlite() async throws {
        let corpus = try Self.corpus()
        let expected = try await reference(corpus)
        try await SQLiteHarness().withStore { store in
            try await Self.seed(corpus, into: store)
            let results = try await Self.results(of: corpus, on: store)
            Self.check(corpus, results, backend: "SQLite")
            #expect(results == expected)
        }
    }

    @Test("PostgreSQL: every expected hit, and the reference's ranking to the last digit")
    func postgres() async throws {
        let corpus = try Self.corpus()
        let expected = try await reference(corpus)
        try await PostgresHarness().withStore { store in
            try await Self.seed(corpus, into: store)
            let results = try await Self.results(of: corpus, on: store)
            Self.check(corpus, results, backend: "PostgreSQL")
            #expect(results == expected)
        }
    }
}
