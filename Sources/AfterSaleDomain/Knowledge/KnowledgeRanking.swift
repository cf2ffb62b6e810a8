/// The parts of an article the index keeps apart, each with its weight in the ranking.
public enum KnowledgeField: Int, Sendable, Hashable, CaseIterable {
    /// The title: weighs most.
    case title = 0
    /// Tags and product categories.
    case tags = 1
    /// The body.
    case body = 2
    /// Case kinds, reasons and categories as facet terms (`kind:…`, `reason:…`, `cat:…`): filters
    /// and suggestions use them; a typed query never produces one.
    case facets = 3
}

/// How often a term occurs in one field of one article.
public struct IndexedTerm: Sendable, Hashable {
    /// The term.
    public var term: String
    /// The field.
    public var field: KnowledgeField
    /// Occurrences (at least 1).
    public var count: Int

    /// Creates an entry.
    public init(term: String, field: KnowledgeField, count: Int) {
        self.term = term
        self.field = field
        self.count = count
    }
}

/// What the index holds for one published article: its terms and the length of each field (in
/// tokens), which every backend stores as they are and the ranking reads back.
public struct ArticleIndex: Sendable, Hashable {
    /// The terms, sorted by term then field.
    public var terms: [IndexedTerm]
    /// Tokens in the title.
    public var titleLength: Int
    /// Tokens in the tags and categories.
    public var tagsLength: Int
    /// Tokens in the body.
    public var bodyLength: Int

    /// The index entry of `content`.
    public static func of(_ content: ArticleContent) -> ArticleIndex {
        var counts: [IndexedTermKey: Int] = [:]
        func add(_ tokens: [KnowledgeToken], _ field: KnowledgeField) -> Int {
            for token in tokens { counts[IndexedTermKey(term: token.term, field: field), default: 0] += 1 }
            return tokens.count
        }
        let title = add(KnowledgeText.indexTokens(content.title), .title)
        var tags = 0
        for text in content.tags + content.categories { tags += add(KnowledgeText.indexTokens(text), .tags) }
        let body = add(KnowledgeText.indexTokens(content.body), .body)
        var facets = Set(content.categories.map(KnowledgeText.categoryFacet))
        facets.formUnion(content.caseKinds.map(KnowledgeText.kindFacet))
        facets.formUnion(content.reasonCodes.map(KnowledgeText.reasonFacet))
        for facet in facets { counts[IndexedTermKey(term: facet, field: .facets)] = 1 }
        let terms = counts.map { IndexedTerm(term: $0.key.term, field: $0.key.field, count: $0.value) }
            .sorted { ($0.term, $0.field.rawValue) < ($1.term, $1.field.rawValue) }
        return ArticleIndex(terms: terms, titleLength: title, tagsLength: tags, bodyLength: body)
    }

    /// The length of `field` (facets have none: they are not normalized).
    public func length(of field: KnowledgeField) -> Int {
        switch field {
        case .title: titleLength
        case .tags: tagsLength
        case .body: bodyLength
        case .facets: 0
        }
    }
}

struct IndexedTermKey: Hashable {
    var term: String
    var field: KnowledgeField
}

/// Totals over every published article, for the ranking's inverse document frequencies and
/// average field lengths.
public struct KnowledgeCorpus: Sendable, Hashable {
    /// Published articles.
    public var documents: Int
    /// Sum of their title lengths.
    public var titleLength: Int64
    /// Sum of their tag lengths.
    public var tagsLength: Int64
    /// Sum of their body lengths.
    public var bodyLength: Int64

    /// Creates totals.
    public init(documents: Int, titleLength: Int64, tagsLength: Int64, bodyLength: Int64) {
        self.documents = documents
        self.titleLength = titleLength
        self.tagsLength = tagsLength
        self.bodyLength = bodyLength
    }
}

/// One row of the term index: a term in one field of one published article.
public struct KnowledgePosting: Sendable, Hashable {
    /// The term.
    public var term: String
    /// The article.
    public var articleID: String
    /// The field.
    public var field: KnowledgeField
    /// Occurrences.
    public var count: Int

    /// Creates a posting.
    public init(term: String, articleID: String, field: KnowledgeField, count: Int) {
        self.term = term
        self.articleID = articleID
        self.field = field
        self.count = count
    }
}

/// A published article as the ranking sees it: audience, field lengths, votes.
public struct IndexedArticle: Sendable, Hashable {
    /// The article.
    public var articleID: String
    /// The published revision's audience.
    public var audience: KnowledgeAudience
    /// Title tokens.
    public var titleLength: Int
    /// Tag tokens.
    public var tagsLength: Int
    /// Body tokens.
    public var bodyLength: Int
    /// Helpful votes.
    public var helpfulVotes: Int
    /// Not-helpful votes.
    public var notHelpfulVotes: Int

    /// Creates one.
    public init(articleID: String, audience: KnowledgeAudience, titleLength: Int, tagsLength: Int, bodyLength: Int, helpfulVotes: Int,
                notHelpfulVotes: Int) {
        self.articleID = articleID
        self.audience = audience
        self.titleLength = titleLength
        self.tagsLength = tagsLength
        self.bodyLength = bodyLength
        self.helpfulVotes = helpfulVotes
        self.notHelpfulVotes = notHelpfulVotes
    }
}

/// What a backend reads for one search, as stored: the corpus totals, every posting of the asked
/// terms, and the articles those postings name. The ranking is computed from it in Swift, so it
/// is the same on every backend.
public struct KnowledgeIndexSlice: Sendable, Hashable {
    /// Totals over all published articles.
    public var corpus: KnowledgeCorpus
    /// The postings of the asked terms (any order).
    public var postings: [KnowledgePosting]
    /// The articles named by the postings (any order).
    public var articles: [IndexedArticle]

    /// Creates a slice.
    public init(corpus: KnowledgeCorpus, postings: [KnowledgePosting], articles: [IndexedArticle]) {
        self.corpus = corpus
        self.postings = postings
        self.articles = articles
    }
}

/// An article that matched, with its score and the query terms it contains.
public struct RankedArticle: Sendable, Hashable {
    /// The article.
    public var articleID: String
    /// Higher is better.
    public var score: Double
    /// The scoring terms it contains, sorted.
    public var matchedTerms: [String]
}

/// The ranking: BM25F over title, tags, body (and facets for suggestions), a coordination factor
/// for matching more of the query, and a boost from helpful votes.
///
/// For a query of distinct terms t and an article d:
///
///     tf'(t, d)  = Σ_field weight(field) · count(t, d, field) / (1 − b + b · len(d, field) / avgLen(field))
///     idf(t)     = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
///     bm25(d)    = Σ_t idf(t) · tf' · (k1 + 1) / (tf' + k1)
///     score(d)   = bm25(d) · (0.5 + 0.5 · matched / terms) · (1 + 0.25 · (helpful − notHelpful) / (helpful + notHelpful + 5))
///
/// with k1 = 1.2, b = 0.75, weights title 3, tags 2, body 1, facets 1.5 (facets not length-normalized).
/// N and df count every published article whatever its audience. Ties go to the smaller article id.
/// Sums run in a fixed order (terms sorted, fields in declaration order), so the same stored rows
/// give bit-identical scores on every backend.
public enum KnowledgeRanking {
    /// BM25's term-frequency saturation.
    public static let k1 = 1.2
    /// BM25's length normalization.
    public static let b = 0.75

    /// The weight of a field.
    public static func weight(_ field: KnowledgeField) -> Double {
        switch field {
        case .title: 3
        case .tags: 2
        case .body: 1
        case .facets: 1.5
        }
    }

    /// The factor helpful votes put on a score: 1 without votes, towards 1.25 with many helpful
    /// ones, towards 0.75 with many unhelpful ones (five phantom votes keep a single vote modest).
    public static func helpfulBoost(helpful: Int, notHelpful: Int) -> Double {
        let h = Double(max(0, helpful)), n = Double(max(0, notHelpful))
        return 1 + 0.25 * (h - n) / (h + n + 5)
    }

    /// The articles of `audiences` that contain at least one of `terms` and every one of
    /// `required`, best first.
    public static func rank(terms: [String], required: [String] = [], audiences: Set<KnowledgeAudience>, in slice: KnowledgeIndexSlice)
        -> [RankedArticle] {
        let scoring = Array(Set(terms)).sorted()
        guard !scoring.isEmpty else { return [] }
        var entries: [String: [String: [Int]]] = [:]
        var documentFrequency: [String: Set<String>] = [:]
        for posting in slice.postings {
            var fields = entries[posting.articleID]?[posting.term] ?? Array(repeating: 0, count: KnowledgeField.allCases.count)
            fields[posting.field.rawValue] += posting.count
            entries[posting.articleID, default: [:]][posting.term] = fields
            documentFrequency[posting.term, default: []].insert(posting.articleID)
        }
        let n = Double(max(slice.corpus.documents, 1))
        let averages = [
            max(Double(slice.corpus.titleLength) / n, 1), max(Double(slice.corpus.tagsLength) / n, 1), max(Double(slice.corpus.bodyLength) / n, 1), 1,
        ]
        var ranked: [RankedArticle] = []
        for article in slice.articles.sorted(by: { $0.articleID < $1.articleID }) where audiences.contains(article.audience) {
            guard let terms = entries[article.articleID], required.allSatisfy({ terms[$0] != nil }) else { continue }
            let lengths = [Double(article.titleLength), Double(article.tagsLength), Double(article.bodyLength), 0]
            var score = 0.0
            var matched: [String] = []
            for term in scoring {
                guard let counts = terms[term] else { continue }
                var tf = 0.0
                for field in KnowledgeField.allCases where counts[field.rawValue] > 0 {
                    let norm = field == .facets ? 1 : 1 - b + b * lengths[field.rawValue] / averages[field.rawValue]
                    tf += weight(field) * Double(counts[field.rawValue]) / norm
                }
                let df = Double(documentFrequency[term]?.count ?? 0)
                let idf = naturalLog(1 + max(n - df + 0.5, 0.5) / (df + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1)
                matched.append(term)
            }
            guard !matched.isEmpty else { continue }
            score *= 0.5 + 0.5 * Double(matched.count) / Double(scoring.count)
            score *= helpfulBoost(helpful: article.helpfulVotes, notHelpful: article.notHelpfulVotes)
            ranked.append(RankedArticle(articleID: article.articleID, score: score, matchedTerms: matched))
        }
        return ranked.sorted { $0.score != $1.score ? $0.score > $1.score : $0.articleID < $1.articleID }
    }

    /// ln(x) for x > 0 in plain arithmetic (the domain imports no math library): x = m · 2^e with
    /// m in [1, 2), ln m = 2 · atanh((m − 1)/(m + 1)) by its series.
    public static func naturalLog(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : .nan }
        let m = x.significand
        let e = Double(x.exponent)
        let y = (m - 1) / (m + 1)
        let y2 = y * y
        var term = y
        var sum = 0.0
        var k = 1.0
        while k < 60 {
            sum += term / k
            term *= y2
            k += 2
        }
        return e * 0.693_147_180_559_945_3 + 2 * sum
    }
}
