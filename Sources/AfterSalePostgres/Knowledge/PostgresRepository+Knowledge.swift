import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    public func article(_ id: String) async throws -> KnowledgeArticle? {
        try await read("article") { connection in
            try connection.queryOne("SELECT document, helpful, not_helpful FROM knowledge_articles WHERE article_id = $1", .text(id)) {
                try KnowledgeRows.decode($0)
            }
        }
    }

    public func articleRevision(_ id: String, revision: Int64) async throws -> ArticleRevision? {
        try await read("articleRevision") { connection in
            try connection.queryOne("SELECT document FROM knowledge_revisions WHERE article_id = $1 AND revision = $2", .text(id), .int64(revision)) {
                try ArticleRevisionDocument.decode(try $0.bytes(0))
            }
        }
    }

    public func articleRevisions(_ id: String, before: Int64?, limit: Int) async throws -> [ArticleRevision] {
        try StorageContract.checkKnowledgePage(limit)
        return try await read("articleRevisions") { connection in
            try connection.query("""
                SELECT document FROM knowledge_revisions WHERE article_id = $1 AND revision < $2 ORDER BY revision DESC LIMIT $3
                """, .text(id), .int64(before ?? Int64.max), .int64(Int64(limit))) { try ArticleRevisionDocument.decode(try $0.bytes(0)) }
        }
    }

    public func saveArticle(_ article: KnowledgeArticle, revision: ArticleRevision?, expectedVersion: Int64) async throws {
        try StorageContract.check(article, revision: revision, expectedVersion: expectedVersion)
        let document = ArticleDocument.encode(article)
        let revisionDocument = revision.map(ArticleRevisionDocument.encode)
        let index = article.status == .published ? article.published.map(ArticleIndex.of) : nil
        try await write("saveArticle") { connection in
            let values: [PostgresValue] = [
                .text(article.id), .text(article.status.rawValue), .text(article.listedAudience.rawValue), .int64(article.version),
                .int64(article.revision), PostgresValue(article.publishedRevision), .int64(article.updatedAt.millisecondsSinceEpoch),
                .int64(Int64(index?.titleLength ?? 0)), .int64(Int64(index?.tagsLength ?? 0)), .int64(Int64(index?.bodyLength ?? 0)),
                .bytes(document), .int64(expectedVersion),
            ]
            if expectedVersion == 0 {
                let inserted = try connection.execute("""
                    INSERT INTO knowledge_articles (article_id, status, audience, version, revision, published_revision, updated_at,
                                                    title_length, tags_length, body_length, document)
                    SELECT $1, $2, $3, $4, $5, $6::bigint, $7, $8, $9, $10, $11 WHERE $12::bigint = 0
                    ON CONFLICT (article_id) DO NOTHING
                    """, parameters: values)
                guard inserted == 1 else { throw DomainError.duplicate(message: "article \(article.id) exists already") }
            } else {
                let updated = try connection.execute("""
                    UPDATE knowledge_articles SET status = $2, audience = $3, version = $4, revision = $5, published_revision = $6::bigint,
                        updated_at = $7, title_length = $8, tags_length = $9, body_length = $10, document = $11
                    WHERE article_id = $1 AND version = $12
                    """, parameters: values)
                guard updated == 1 else {
                    let actual = try connection.queryOne("SELECT version FROM knowledge_articles WHERE article_id = $1", .text(article.id)) {
                        try $0.int64(0)
                    }
                    throw DomainError.versionConflict(expected: expectedVersion, actual: actual ?? 0)
                }
            }
            if let revision, let revisionDocument {
                _ = try connection.execute("INSERT INTO knowledge_revisions (article_id, revision, document) VALUES ($1, $2, $3)",
                                           .text(article.id), .int64(revision.revision), .bytes(revisionDocument))
            }
            _ = try connection.execute("DELETE FROM knowledge_terms WHERE article_id = $1", .text(article.id))
            if let terms = index?.terms, !terms.isEmpty {
                // Three parallel lists in one statement, whatever the number of terms (a term never
                // holds a control character, so U+001F separates them).
                _ = try connection.execute("""
                    INSERT INTO knowledge_terms (term, article_id, field, count)
                    SELECT t, $1, f::integer, c::integer
                    FROM unnest(string_to_array($2, chr(31)), string_to_array($3, ','), string_to_array($4, ',')) AS x(t, f, c)
                    """, .text(article.id), .text(terms.map(\.term).joined(separator: "\u{1F}")),
                    .text(terms.map { String($0.field.rawValue) }.joined(separator: ",")), .text(terms.map { String($0.count) }.joined(separator: ",")))
            }
        }
    }

    public func articles(_ query: ArticleQuery) async throws -> ArticlePage {
        try StorageContract.checkKnowledgePage(query.pageSize)
        let rows = try await read("articles") { connection -> [KnowledgeArticle] in
            var sql = StatementBuilder()
            var clauses: [String] = []
            if let statuses = query.statuses {
                let names = statuses.map(\.rawValue).sorted().map { sql.parameter(.text($0)) }
                clauses.append("status IN (" + (names.isEmpty ? "NULL" : names.joined(separator: ", ")) + ")")
            }
            if let audiences = query.audiences {
                let names = audiences.map(\.rawValue).sorted().map { sql.parameter(.text($0)) }
                clauses.append("audience IN (" + (names.isEmpty ? "NULL" : names.joined(separator: ", ")) + ")")
            }
            if let after = query.after { clauses.append("article_id < \(sql.parameter(.text(after)))") }
            let limit = sql.parameter(.int64(Int64(query.pageSize + 1)))
            let text = "SELECT document, helpful, not_helpful FROM knowledge_articles"
                + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY article_id DESC LIMIT \(limit)::bigint"
            return try connection.query(text, parameters: sql.parameters) { try KnowledgeRows.decode($0) }
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return ArticlePage(articles: page, next: last?.id)
    }

    public func knowledgeIndex(terms: Set<String>) async throws -> KnowledgeIndexSlice {
        try StorageContract.checkKnowledgeTerms(terms)
        let list = terms.sorted().joined(separator: "\u{1F}")
        return try await read("knowledgeIndex") { connection in
            try connection.transaction(isolation: .repeatableRead, readOnly: true) { connection in
                let corpus = try connection.queryOne("""
                    SELECT count(*), coalesce(sum(title_length), 0)::bigint, coalesce(sum(tags_length), 0)::bigint,
                           coalesce(sum(body_length), 0)::bigint
                    FROM knowledge_articles WHERE status = 'published'
                    """) { row in
                    KnowledgeCorpus(documents: try row.int(0), titleLength: try row.int64(1), tagsLength: try row.int64(2), bodyLength: try row.int64(3))
                }
                let postings = try connection.query("""
                    SELECT term, article_id, field, count FROM knowledge_terms WHERE term = ANY (string_to_array($1, chr(31)))
                    """, .text(list)) { row -> KnowledgePosting in
                    let raw = try row.int(2)
                    guard let field = KnowledgeField(rawValue: raw) else { throw CorruptDocument(message: "unknown knowledge field \(raw)") }
                    return KnowledgePosting(term: try row.string(0), articleID: try row.string(1), field: field, count: try row.int(3))
                }
                let articles = try connection.query("""
                    SELECT article_id, audience, title_length, tags_length, body_length, helpful, not_helpful FROM knowledge_articles
                    WHERE status = 'published'
                      AND article_id IN (SELECT article_id FROM knowledge_terms WHERE term = ANY (string_to_array($1, chr(31))))
                    """, .text(list)) { row in
                    IndexedArticle(articleID: try row.string(0), audience: try decodeEnum(try row.string(1), as: KnowledgeAudience.self),
                                   titleLength: try row.int(2), tagsLength: try row.int(3), bodyLength: try row.int(4),
                                   helpfulVotes: try row.int(5), notHelpfulVotes: try row.int(6))
                }
                return KnowledgeIndexSlice(corpus: corpus ?? KnowledgeCorpus(documents: 0, titleLength: 0, tagsLength: 0, bodyLength: 0),
                                           postings: postings, articles: articles)
            }
        }
    }

    public func castVote(_ vote: HelpfulVote?, on articleID: String, by voter: String, at now: Timestamp) async throws -> ArticleVotes {
        try await write("castVote") { connection in
            // The article's row lock serializes votes on it, so the tallies move by exact deltas.
            guard try connection.queryOne("SELECT 1 FROM knowledge_articles WHERE article_id = $1 FOR UPDATE", .text(articleID), decode: { _ in true })
                    != nil else { throw RepositoryError.articleNotFound(articleID) }
            let previous = try connection.queryOne("SELECT vote FROM knowledge_votes WHERE article_id = $1 AND voter = $2",
                                                   .text(articleID), .text(voter)) { try decodeEnum(try $0.string(0), as: HelpfulVote.self) }
            if let vote {
                _ = try connection.execute("""
                    INSERT INTO knowledge_votes (article_id, voter, vote, voted_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (article_id, voter) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at
                    """, .text(articleID), .text(voter), .text(vote.rawValue), .int64(now.millisecondsSinceEpoch))
            } else {
                _ = try connection.execute("DELETE FROM knowledge_votes WHERE article_id = $1 AND voter = $2", .text(articleID), .text(voter))
            }
            let helpful = (vote == .helpful ? 1 : 0) - (previous == .helpful ? 1 : 0)
            let notHelpful = (vote == .notHelpful ? 1 : 0) - (previous == .notHelpful ? 1 : 0)
            return try connection.queryOne("""
                UPDATE knowledge_articles SET helpful = helpful + $2, not_helpful = not_helpful + $3 WHERE article_id = $1
                RETURNING helpful, not_helpful
                """, .text(articleID), .int64(Int64(helpful)), .int64(Int64(notHelpful))) {
                ArticleVotes(helpful: try $0.int(0), notHelpful: try $0.int(1))
            } ?? ArticleVotes(helpful: 0, notHelpful: 0)
        }
    }

    public func articleVote(on articleID: String, by voter: String) async throws -> HelpfulVote? {
        try await read("articleVote") { connection in
            try connection.queryOne("SELECT vote FROM knowledge_votes WHERE article_id = $1 AND voter = $2", .text(articleID), .text(voter)) {
                try decodeEnum(try $0.string(0), as: HelpfulVote.self)
            }
        }
    }
}

/// Reads of knowledge-base rows.
enum KnowledgeRows {
    /// The article of a row of (document, helpful, not_helpful).
    static func decode(_ row: PostgresRow) throws -> KnowledgeArticle {
        try ArticleDocument.decode(try row.bytes(0), votes: ArticleVotes(helpful: try row.int(1), notHelpful: try row.int(2)))
    }
}
