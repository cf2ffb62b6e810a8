/// Who an article is written for. Readers see the audiences of their role
/// (``KnowledgeAudience/visible(to:)``): buyers the buyers' articles; merchants the buyers' and
/// the merchants' (they need to know what buyers are told); agents and the platform every one.
public enum KnowledgeAudience: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Buyers (买家): policies and how-tos.
    case buyers
    /// Merchants (商家): how to handle cases.
    case merchants
    /// Support agents (客服): internal procedures.
    case agents

    /// The audiences whose articles `role` may read.
    public static func visible(to role: ActorRole) -> Set<KnowledgeAudience> {
        switch role {
        case .buyer: [.buyers]
        case .merchant: [.buyers, .merchants]
        case .agent, .platform, .system: Set(allCases)
        }
    }

    /// By declaration order.
    public static func < (lhs: KnowledgeAudience, rhs: KnowledgeAudience) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// Where an article stands: only a published one is served to readers and searched.
public enum ArticleStatus: String, Sendable, Hashable, CaseIterable {
    /// Written, never published (or edited since creation only); editors see it.
    case draft
    /// One of its revisions is served and searchable (later edits wait for the next publication).
    case published
    /// Withdrawn from readers and search; editors may publish it again.
    case archived
}

/// What one revision of an article says and whom it is for.
public struct ArticleContent: Sendable, Hashable {
    /// The title (1–200 characters).
    public var title: String
    /// The body, plain text (1–20,000 characters).
    public var body: String
    /// Keywords (at most 20 distinct, 1–32 characters each); they weigh more than the body.
    public var tags: [String]
    /// The product categories it is about (at most 20, 1–64 characters each), as orders name them.
    public var categories: [String]
    /// The case kinds it is about (suggested when such a case is opened).
    public var caseKinds: [AfterSaleKind]
    /// The catalog reasons it is about (codes; suggested when a case gives one).
    public var reasonCodes: [String]
    /// Who it is written for.
    public var audience: KnowledgeAudience

    /// Creates content.
    public init(title: String, body: String, tags: [String] = [], categories: [String] = [], caseKinds: [AfterSaleKind] = [],
                reasonCodes: [String] = [], audience: KnowledgeAudience) {
        self.title = title
        self.body = body
        self.tags = tags
        self.categories = categories
        self.caseKinds = caseKinds
        self.reasonCodes = reasonCodes
        self.audience = audience
    }

    /// Checks the limits above, naming the field (as the wire names it) in the error.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public func validate() throws(DomainError) {
        try Self.text(title, field: "content.title", maximum: 200, lines: false)
        try Self.text(body, field: "content.body", maximum: 20_000, lines: true)
        try Self.list(tags, field: "content.tags", maximumCount: 20, maximumLength: 32)
        try Self.list(categories, field: "content.categories", maximumCount: 20, maximumLength: 64)
        guard Set(caseKinds).count == caseKinds.count else {
            throw .invalidArgument(field: "content.case_kinds", message: "must not repeat a kind")
        }
        guard reasonCodes.count <= 20, Set(reasonCodes).count == reasonCodes.count else {
            throw .invalidArgument(field: "content.reason_codes", message: "at most 20 distinct codes")
        }
        for code in reasonCodes {
            let allowed = code.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
            guard !code.isEmpty, code.utf8.count <= 64, allowed else {
                throw .invalidArgument(field: "content.reason_codes", message: "\"\(code.prefix(64))\" is not a reason code (1 to 64 of a-z, 0-9, _)")
            }
        }
    }

    static func text(_ value: String, field: String, maximum: Int, lines: Bool) throws(DomainError) {
        guard value.contains(where: { !$0.isWhitespace }) else { throw .invalidArgument(field: field, message: "must not be empty") }
        guard value.count <= maximum else {
            throw .invalidArgument(field: field, message: "must be at most \(maximum) characters, got \(value.count)")
        }
        let allowed: (Unicode.Scalar) -> Bool = { s in
            (s.value >= 0x20 && s.value != 0x7F) || (lines && (s == "\n" || s == "\t" || s == "\r"))
        }
        guard value.unicodeScalars.allSatisfy(allowed) else {
            throw .invalidArgument(field: field, message: lines ? "must not contain control characters other than line breaks and tabs"
                                                                : "must not contain control characters or line breaks")
        }
    }

    static func list(_ values: [String], field: String, maximumCount: Int, maximumLength: Int) throws(DomainError) {
        guard values.count <= maximumCount else {
            throw .invalidArgument(field: field, message: "at most \(maximumCount) entries, got \(values.count)")
        }
        guard Set(values).count == values.count else { throw .invalidArgument(field: field, message: "must not repeat an entry") }
        for value in values {
            guard value == value.trimmingSpaces else {
                throw .invalidArgument(field: field, message: "\"\(value.prefix(64))\" has leading or trailing spaces")
            }
            try text(value, field: field, maximum: maximumLength, lines: false)
        }
    }
}

/// One revision of an article: every edit makes the next (1, 2, …); they are kept, so the history
/// can be listed and any revision published again.
public struct ArticleRevision: Sendable, Hashable {
    /// The article.
    public var articleID: String
    /// 1 for the first text, one more per edit.
    public var revision: Int64
    /// What it says.
    public var content: ArticleContent
    /// Who wrote it (`agent a-1`).
    public var editedBy: Principal
    /// When.
    public var editedAt: Timestamp

    /// Creates a revision.
    public init(articleID: String, revision: Int64, content: ArticleContent, editedBy: Principal, editedAt: Timestamp) {
        self.articleID = articleID
        self.revision = revision
        self.content = content
        self.editedBy = editedBy
        self.editedAt = editedAt
    }
}

/// A knowledge-base article (知识库文章): its newest revision, the revision served to readers (if
/// published) and its helpful votes.
///
/// Two numbers: `revision` counts texts (each edit makes one); `version` counts every change of the
/// record (an edit, a publication, an archive) and is what an edit compares and sets, so an edit
/// based on a stale read is refused (ABORTED) instead of silently overwriting another.
public struct KnowledgeArticle: Sendable, Hashable {
    /// `KB…`, given by the server.
    public var id: String
    /// Every change adds one (1 when created).
    public var version: Int64
    /// The newest revision's number.
    public var revision: Int64
    /// Where it stands.
    public var status: ArticleStatus
    /// The newest revision's content (editors see it; it is served only once published).
    public var latest: ArticleContent
    /// The revision served to readers and searched, while published.
    public var publishedRevision: Int64?
    /// That revision's content.
    public var published: ArticleContent?
    /// Who created it.
    public var author: Principal
    /// When created.
    public var createdAt: Timestamp
    /// When last changed.
    public var updatedAt: Timestamp
    /// When last published.
    public var publishedAt: Timestamp?
    /// Readers who found it helpful (kept by the store, not by this value's writes).
    public var helpfulVotes: Int
    /// Readers who did not.
    public var notHelpfulVotes: Int

    /// Creates an article (storage rebuilds stored ones; new ones come from ``draft(id:content:by:at:)``).
    public init(id: String, version: Int64, revision: Int64, status: ArticleStatus, latest: ArticleContent, publishedRevision: Int64?,
                published: ArticleContent?, author: Principal, createdAt: Timestamp, updatedAt: Timestamp, publishedAt: Timestamp?,
                helpfulVotes: Int = 0, notHelpfulVotes: Int = 0) {
        self.id = id
        self.version = version
        self.revision = revision
        self.status = status
        self.latest = latest
        self.publishedRevision = publishedRevision
        self.published = published
        self.author = author
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.publishedAt = publishedAt
        self.helpfulVotes = helpfulVotes
        self.notHelpfulVotes = notHelpfulVotes
    }

    /// The roles that write articles.
    public static var editorRoles: Set<ActorRole> { Operation.manageKnowledge.allowedRoles }

    /// A new draft and its first revision.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``; ``DomainError/permissionDenied(_:)`` for non-editors.
    public static func draft(id: String, content: ArticleContent, by editor: Principal, at now: Timestamp) throws(DomainError)
        -> (KnowledgeArticle, ArticleRevision) {
        try Permissions.require(editor, .manageKnowledge)
        try content.validate()
        let article = KnowledgeArticle(id: id, version: 1, revision: 1, status: .draft, latest: content, publishedRevision: nil, published: nil,
                                       author: editor, createdAt: now, updatedAt: now, publishedAt: nil)
        return (article, ArticleRevision(articleID: id, revision: 1, content: content, editedBy: editor, editedAt: now))
    }

    /// The article with `content` as its next revision (a published article keeps serving its
    /// published revision until it is published again).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when `expectedVersion` is not the
    ///   current version; ``DomainError/invalidArgument(field:message:)``.
    public func edited(_ content: ArticleContent, expectedVersion: Int64, by editor: Principal, at now: Timestamp) throws(DomainError)
        -> (KnowledgeArticle, ArticleRevision) {
        try Permissions.require(editor, .manageKnowledge)
        guard expectedVersion == version else { throw .versionConflict(expected: expectedVersion, actual: version) }
        try content.validate()
        var next = self
        next.version += 1
        next.revision += 1
        next.latest = content
        next.updatedAt = now
        return (next, ArticleRevision(articleID: id, revision: next.revision, content: content, editedBy: editor, editedAt: now))
    }

    /// The article serving `revision` (any revision of its history: publishing an older one rolls back).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when `expectedVersion` (0: any) is stale.
    public func publishing(_ revision: ArticleRevision, expectedVersion: Int64, by editor: Principal, at now: Timestamp) throws(DomainError)
        -> KnowledgeArticle {
        try Permissions.require(editor, .manageKnowledge)
        guard expectedVersion == 0 || expectedVersion == version else { throw .versionConflict(expected: expectedVersion, actual: version) }
        guard revision.articleID == id, revision.revision <= self.revision else {
            throw .invalidArgument(field: "revision", message: "article \(id) has no revision \(revision.revision)")
        }
        var next = self
        next.version += 1
        next.status = .published
        next.publishedRevision = revision.revision
        next.published = revision.content
        next.updatedAt = now
        next.publishedAt = now
        return next
    }

    /// The article withdrawn from readers and search.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)``; ``DomainError/stateConflict(message:)`` when it is not published.
    public func archiving(expectedVersion: Int64, by editor: Principal, at now: Timestamp) throws(DomainError) -> KnowledgeArticle {
        try Permissions.require(editor, .manageKnowledge)
        guard expectedVersion == 0 || expectedVersion == version else { throw .versionConflict(expected: expectedVersion, actual: version) }
        guard status == .published else { throw .stateConflict(message: "article \(id) is \(status.rawValue), not published: nothing to archive") }
        var next = self
        next.version += 1
        next.status = .archived
        next.publishedRevision = nil
        next.published = nil
        next.updatedAt = now
        return next
    }

    /// The content readers get, when it is published for an audience `principal` may read.
    public func served(to principal: Principal) -> ArticleContent? {
        guard status == .published, let published, KnowledgeAudience.visible(to: principal.role).contains(published.audience) else { return nil }
        return published
    }

    /// True when `principal` may see the article at all: editors any, readers a published one of their audiences.
    public func isVisible(to principal: Principal) -> Bool {
        Self.editorRoles.contains(principal.role) || served(to: principal) != nil
    }
}

/// A reader's vote on whether an article helped; one per reader and article, changeable.
public enum HelpfulVote: String, Sendable, Hashable, CaseIterable {
    /// It helped.
    case helpful
    /// It did not.
    case notHelpful = "not_helpful"
}
