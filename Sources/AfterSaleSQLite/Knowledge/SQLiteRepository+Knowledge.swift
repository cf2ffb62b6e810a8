import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    public func article(_ id: String) async throws -> KnowledgeArticle? {
        try await read { connection in try KnowledgeRows.article(id, on: connection) }
    }

    public func articleRevision(_ id: String, revision: Int64) async throws -> ArticleRevision? {
        try await read { connection in
            try connection.queryOne("SELECT document FROM knowledge_revisions WHERE article_id = ?1 AND revision = ?2",
                                    bind: { $0.bind(1, id).bind(2, revision) }) { try ArticleRevisionDocument.decode($0.blob(0)) }
        }
    }

    public func articleRevisions(_ id: String, before: Int64?, limit: Int) async throws -> [ArticleRevision] {
        try StorageContract.checkKnowledgePage(limit)
        return try await read { connection in
            try connection.query("""
                SELECT document FROM knowledge_revisions WHERE article_id = ?1 AND revision < ?2 ORDER BY revision DESC LIMIT ?3
                """, bind: { $0.bind(1, id).bind(2, before ?? Int64.max).bind(3, limit) }) { try ArticleRevisionDocument.decode($0.blob(0)) }
        }
    }

    public func saveArticle(_ article: KnowledgeArticle, revision: ArticleRevision?, expectedVersion: Int64) async throws {
        try StorageContract.check(article, revision: revision, expectedVersion: expectedVersion)
        let document = ArticleDocument.encode(article)
        let revisionDocument = revision.map(ArticleRevisionDocument.encode)
        let index = article.status == .published ? article.published.map(ArticleIndex.of) : nil
        try await write { connection in
            let stored = try connection.queryOne("SELECT version FROM knowledge_articles WHERE article_id = ?1", bind: { $0.bind(1, article.id) }) {
                $0.int64(0)
            } ?? 0
            if expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "article \(article.id) exists already") }
            guard stored == expectedVersion else { throw DomainError.versionConflict(expected: expectedVersion, actual: stored) }
            try connection.run("""
                INSERT INTO knowledge_articles (article_id, status, audience, version, revision, published_revision, updated_at,
                                                title_length, tags_length, body_length, document)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                ON CONFLICT (article_id) DO UPDATE SET status = excluded.status, audience = excluded.audience, version = excluded.version,
                    revision = excluded.revision, published_revision = excluded.published_revision, updated_at = excluded.updated_at,
                    title_length = excluded.title_length, tags_length = excluded.tags_length, body_length = excluded.body_length,
                    document = excluded.document
                """) { s in
                s.bind(1, article.id).bind(2, article.status.rawValue).bind(3, article.listedAudience.rawValue).bind(4, article.version)
                s.bind(5, article.revision).bind(6, article.publishedRevision).bind(7, article.updatedAt.millisecondsSinceEpoch)
                s.bind(8, index?.titleLength ?? 0).bind(9, index?.tagsLength ?? 0).bind(10, index?.bodyLength ?? 0).bind(11, blob: document)
            }
            if let revision, let revisionDocument {
                try connection.run("INSERT INTO knowledge_revisions (article_id, revision, document) VALUES (?1, ?2, ?3)") { s in
                    s.bind(1, article.id).bind(2, revision.revision).bind(3, blob: revisionDocument)
                }
            }
            try connection.run("DELETE FROM knowledge_terms WHERE article_id = ?1") { $0.bind(1, article.id) }
            for entry in index?.terms ?? [] {
                try connection.run("INSERT INTO knowledge_terms (term, article_id, field, count) VALUES (?1, ?2, ?3, ?4)") { s in
                    s.bind(1, entry.term).bind(2, article.id).bind(3, entry.field.rawValue).bind(4, entry.count)
                }
            }
        }
    }

    public func articles(_ query: ArticleQuery) async throws -> ArticlePage {
        try StorageContract.checkKnowledgePage(query.pageSize)
        let rows = try await read { connection -> [KnowledgeArticle] in
            var clauses: [String] = []
            var texts: [(Int32, String)] = []
            var next: Int32 = 0
            func text(_ value: String) -> String { next += 1; texts.append((next, value)); return "?\(next)" }
            if let statuses = query.statuses {
                clauses.append("status IN (" + (statuses.isEmpty ? "NULL" : statuses.map(\.rawValue).sorted().map(text).joined(separator: ", ")) + ")")
            }
            if let audiences = query.audiences {
                clauses.append("audience IN (" + (audiences.isEmpty ? "NULL" : audiences.map(\.rawValue).sorted().map(text).joined(separator: ", ")) + ")")
            }
            if let after = query.after { clauses.append("article_id < \(text(after))") }
            next += 1
            let limit = next
            let sql = "SELECT document, helpful, not_helpful FROM knowledge_articles"
                + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY article_id DESC LIMIT ?\(limit)"
            return try connection.query(sql, bind: { s in
                for (index, value) in texts { s.bind(index, value) }
                s.bind(limit, query.pageSize + 1)
            }) { try KnowledgeRows.decode($0) }
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return ArticlePage(articles: page, next: last?.id)
    }

    public func knowledgeIndex(terms: Set<String>) async throws -> KnowledgeIndexSlice {
        try StorageContract.checkKnowledgeTerms(terms)
        return try await read { connection in
            try connection.readTransaction {
                let corpus = try connection.queryOne("""
                    SELECT count(*), coalesce(sum(title_length), 0), coalesce(sum(tags_length), 0), coalesce(sum(body_length), 0)
                    FROM knowledge_articles WHERE status = 'published'
                    """) { s in KnowledgeCorpus(documents: s.int(0), titleLength: s.int64(1), tagsLength: s.int64(2), bodyLength: s.int64(3)) }
                // One primary-key range per term: SQLite is in-process, so many small reads cost little.
                var postings: [KnowledgePosting] = []
                for term in terms.sorted() {
                    postings += try connection.query("SELECT article_id, field, count FROM knowledge_terms WHERE term = ?1",
                                                     bind: { $0.bind(1, term) }) { s in
                        guard let field = KnowledgeField(rawValue: s.int(1)) else { throw CorruptDocument(message: "unknown knowledge field \(s.int(1))") }
                        return KnowledgePosting(term: term, articleID: s.string(0), field: field, count: s.int(2))
                    }
                }
                var articles: [IndexedArticle] = []
                for id in Set(postings.map(\.articleID)).sorted() {
                    if let article = try connection.queryOne("""
                        SELECT audience, title_length, tags_length, body_length, helpful, not_helpful FROM knowledge_articles
                        WHERE article_id = ?1 AND status = 'published'
                        """, bind: { $0.bind(1, id) }, row: { s in
                            IndexedArticle(articleID: id, audience: try decodeEnum(s.string(0), as: KnowledgeAudience.self), titleLength: s.int(1),
                                           tagsLength: s.int(2), bodyLength: s.int(3), helpfulVotes: s.int(4), notHelpfulVotes: s.int(5))
                        }) {
                        articles.append(article)
                    }
                }
                return KnowledgeIndexSlice(corpus: corpus ?? KnowledgeCorpus(documents: 0, titleLength: 0, tagsLength: 0, bodyLength: 0),
                                           postings: postings, articles: articles)
            }
        }
    }

    public func castVote(_ vote: HelpfulVote?, on articleID: String, by voter: String, at now: Timestamp) async throws -> ArticleVotes {
        try await write { connection in
            guard try connection.queryOne("SELECT 1 FROM knowledge_articles WHERE article_id = ?1", bind: { $0.bind(1, articleID) }, row: { _ in true })
                    != nil else { throw RepositoryError.articleNotFound(articleID) }
            let previous = try connection.queryOne("SELECT vote FROM knowledge_votes WHERE article_id = ?1 AND voter = ?2",
                                                   bind: { $0.bind(1, articleID).bind(2, voter) }) { try decodeEnum($0.string(0), as: HelpfulVote.self) }
            if let vote {
                try connection.run("""
                    INSERT INTO knowledge_votes (article_id, voter, vote, voted_at) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (article_id, voter) DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at
                    """) { $0.bind(1, articleID).bind(2, voter).bind(3, vote.rawValue).bind(4, now.millisecondsSinceEpoch) }
            } else {
                try connection.run("DELETE FROM knowledge_votes WHERE article_id = ?1 AND voter = ?2") { $0.bind(1, articleID).bind(2, voter) }
            }
            let helpful = (vote == .helpful ? 1 : 0) - (previous == .helpful ? 1 : 0)
            let notHelpful = (vote == .notHelpful ? 1 : 0) - (previous == .notHelpful ? 1 : 0)
            try connection.run("UPDATE knowledge_articles SET helpful = helpful + ?2, not_helpful = not_helpful + ?3 WHERE article_id = ?1") {
                $0.bind(1, articleID).bind(2, helpful).bind(3, notHelpful)
            }
            return try connection.queryOne("SELECT helpful, not_helpful FROM knowledge_articles WHERE article_id = ?1", bind: { $0.bind(1, articleID) }) {
                ArticleVotes(helpful: $0.int(0), notHelpful: $0.int(1))
            } ?? ArticleVotes(helpful: 0, notHelpful: 0)
        }
    }

    public func articleVote(on articleID: String, by voter: String) async throws -> HelpfulVote? {
        try await read { connection in
            try connection.queryOne("SELECT vote FROM knowledge_votes WHERE article_id = ?1 AND voter = ?2",
                                    bind: { $0.bind(1, articleID).bind(2, voter) }) { try decodeEnum($0.string(0), as: HelpfulVote.self) }
        }
    }
}

/// Reads of knowledge-base rows.
enum KnowledgeRows {
    static func article(_ id: String, on connection: SQLiteConnection) throws -> KnowledgeArticle? {
        try connection.queryOne("SELECT document, helpful, not_helpful FROM knowledge_articles WHERE article_id = ?1", bind: { $0.bind(1, id) }) {
            try decode($0)
        }
    }

    /// The article of a row of (document, helpful, not_helpful).
    static func decode(_ s: Statement) throws -> KnowledgeArticle {
        try ArticleDocument.decode(s.blob(0), votes: ArticleVotes(helpful: s.int(1), notHelpful: s.int(2)))
    }
}
