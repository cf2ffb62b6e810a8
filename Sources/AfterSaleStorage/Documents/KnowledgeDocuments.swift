import AfterSaleDomain

extension DocumentWriter {
    mutating func content(_ c: ArticleContent) {
        string(c.title)
        string(c.body)
        list(c.tags) { $0.string($1) }
        list(c.categories) { $0.string($1) }
        list(c.caseKinds) { $0.name($1) }
        list(c.reasonCodes) { $0.string($1) }
        name(c.audience)
    }
}

extension DocumentReader {
    mutating func content() throws -> ArticleContent {
        ArticleContent(title: try string(), body: try string(), tags: try list { try $0.string() }, categories: try list { try $0.string() },
                       caseKinds: try list { try $0.name(AfterSaleKind.self) }, reasonCodes: try list { try $0.string() },
                       audience: try name(KnowledgeAudience.self))
    }
}

/// The stored form of a knowledge-base article (without its vote tallies, which are columns).
public enum ArticleDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    /// The document of `a`.
    public static func encode(_ a: KnowledgeArticle) -> [UInt8] {
        var w = DocumentWriter(format: format)
        w.string(a.id)
        w.integer(a.version)
        w.integer(a.revision)
        w.name(a.status)
        w.content(a.latest)
        w.optional(a.publishedRevision) { $0.integer($1) }
        w.optional(a.published) { $0.content($1) }
        w.principal(a.author)
        w.timestamp(a.createdAt)
        w.timestamp(a.updatedAt)
        w.optional(a.publishedAt) { $0.timestamp($1) }
        return w.bytes
    }

    /// The article `bytes` hold, with the tallies given.
    public static func decode(_ bytes: [UInt8], votes: ArticleVotes) throws -> KnowledgeArticle {
        var r = try DocumentReader(bytes, format: format, kind: "article")
        let article = KnowledgeArticle(id: try r.string(), version: try r.integer(), revision: try r.integer(), status: try r.name(ArticleStatus.self),
                                       latest: try r.content(), publishedRevision: try r.optional { try $0.integer() },
                                       published: try r.optional { try $0.content() }, author: try r.principal(), createdAt: try r.timestamp(),
                                       updatedAt: try r.timestamp(), publishedAt: try r.optional { try $0.timestamp() },
                                       helpfulVotes: votes.helpful, notHelpfulVotes: votes.notHelpful)
        try r.finish()
        return article
    }
}

/// The stored form of an article revision.
public enum ArticleRevisionDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    /// The document of `r`.
    public static func encode(_ r: ArticleRevision) -> [UInt8] {
        var w = DocumentWriter(format: format)
        w.string(r.articleID)
        w.integer(r.revision)
        w.content(r.content)
        w.principal(r.editedBy)
        w.timestamp(r.editedAt)
        return w.bytes
    }

    /// The revision `bytes` hold.
    public static func decode(_ bytes: [UInt8]) throws -> ArticleRevision {
        var r = try DocumentReader(bytes, format: format, kind: "article revision")
        let revision = ArticleRevision(articleID: try r.string(), revision: try r.integer(), content: try r.content(), editedBy: try r.principal(),
                                       editedAt: try r.timestamp())
        try r.finish()
        return revision
    }
}
