import AfterSaleDomain

/// The argument contracts of the storage ports, checked the same way by every backend before it
/// writes anything. A breach is a programming error in the caller, reported as
/// ``RepositoryError/invalidRequest(_:)``.
public enum StorageContract {
    /// A new case: its trace record and refund request name it, and its basis and refund order are about it.
    public static func check(_ creation: CaseCreation) throws(RepositoryError) {
        let transition = creation.transition
        let afterSale = transition.afterSale
        guard transition.trace.caseNumber == afterSale.number,
              transition.refundRequest.map({ $0.caseNumber == afterSale.number }) ?? true else {
            throw .invalidRequest("the trace record and refund request must name case \(afterSale.number)")
        }
        if let basis = creation.basis, basis.orderID != afterSale.orderID {
            throw .invalidRequest("the eligibility basis is about order \(basis.orderID), the case about \(afterSale.orderID)")
        }
        if let refund = creation.refund, refund.caseNumber != afterSale.number {
            throw .invalidRequest("the refund order must pay case \(afterSale.number)")
        }
        if let timer = creation.timer { try check(timer, of: afterSale.number) }
    }

    /// A timer written with a case's change is that case's.
    public static func check(_ timer: CaseTimer, of number: CaseNumber) throws(RepositoryError) {
        guard timer.caseNumber == number else {
            throw .invalidRequest("the timer of case \(timer.caseNumber) cannot be written with case \(number)")
        }
        guard timer.durationMs >= 0, timer.reminderLeadMs >= 0, timer.reminderLeadMs <= timer.durationMs,
              !timer.policyVersion.isEmpty else {
            throw .invalidRequest("a timer needs a non-negative duration, a reminder lead within it and a policy version")
        }
    }

    /// The most timers one ``TimerRepository/dueTimers(at:limit:)`` call returns.
    public static let maximumDueTimers = 1000

    /// A due-timer read asks for 1 to ``maximumDueTimers``.
    public static func checkDueTimers(limit: Int) throws(RepositoryError) {
        guard (1...maximumDueTimers).contains(limit) else {
            throw .invalidRequest("limit must be between 1 and \(maximumDueTimers), got \(limit)")
        }
    }

    /// The most tickets one queue or wake-up read returns.
    public static let maximumDeskBatch = 5_000

    /// A queue or wake-up read asks for 1 to ``maximumDeskBatch`` tickets.
    public static func checkDeskBatch(limit: Int) throws(RepositoryError) {
        guard (1...maximumDeskBatch).contains(limit) else {
            throw .invalidRequest("limit must be between 1 and \(maximumDeskBatch), got \(limit)")
        }
    }

    /// A ticket page asks for 1 to 1000 rows.
    public static func checkTicketPage(_ query: TicketQuery) throws(RepositoryError) {
        guard (1...1_000).contains(query.pageSize) else {
            throw .invalidRequest("page size must be between 1 and 1000, got \(query.pageSize)")
        }
    }

    /// A desk write names each ticket and agent once, each one version on from its expected one.
    public static func check(_ write: DeskWrite) throws(RepositoryError) {
        guard Set(write.tickets.map(\.ticket.id)).count == write.tickets.count,
              Set(write.agents.map(\.agent.id)).count == write.agents.count else {
            throw .invalidRequest("a desk write names a ticket or an agent twice")
        }
        for w in write.tickets where w.ticket.version != w.expectedVersion + 1 {
            throw .invalidRequest("ticket \(w.ticket.id) at version \(w.ticket.version) does not follow \(w.expectedVersion)")
        }
        for w in write.agents where w.agent.version != w.expectedVersion + 1 {
            throw .invalidRequest("agent \(w.agent.id) at version \(w.agent.version) does not follow \(w.expectedVersion)")
        }
    }

    /// A rating is one version on from the stored one.
    public static func check(_ rating: Rating, expectedVersion: Int64) throws(RepositoryError) {
        guard rating.version == expectedVersion + 1 else {
            throw .invalidRequest("a rating at version \(rating.version) does not follow \(expectedVersion)")
        }
    }

    /// A projection moves its cursor forward (or leaves it) from a cursor that exists.
    public static func checkProjection(expectedCursor: Int64, cursor: Int64) throws(DomainError) {
        guard expectedCursor >= 0, cursor >= expectedCursor else {
            throw .invalidArgument(field: "cursor", message: "\(cursor) is behind the projector's cursor \(expectedCursor)")
        }
    }

    /// A statistics read names at most a few runs of blocks of the kept spans, in order.
    public static func check(_ query: StatisticsBlockQuery) throws(DomainError) {
        let spans = StatisticsBlocks.spans(for: query.grouping)
        guard query.runs.count <= 2 * spans.count, query.runs.allSatisfy({ run in
            spans.contains(run.span) && run.firstStart <= run.lastStart
                && StatisticsBlocks.start(of: run.firstStart, span: run.span) == run.firstStart
                && (run.lastStart - run.firstStart) / run.span < StatisticsDays.maximumRange
        }) else {
            throw .invalidArgument(field: "to_date", message: "a range of 1 to \(StatisticsDays.maximumRange) days")
        }
    }

    /// A data key is stored live (wrapped bytes, no erasure time) at generation 1 or later.
    public static func check(_ key: PersonalDataKeyRecord) throws(RepositoryError) {
        guard key.generation >= 1, let wrapped = key.wrappedKey, !wrapped.isEmpty, key.erasedAt == nil else {
            throw .invalidRequest("a new data key is live, wrapped, at generation 1 or later")
        }
    }

    /// A dispute is one version on from the stored one, with an id.
    public static func check(_ dispute: Dispute, expectedVersion: Int64) throws(RepositoryError) {
        guard !dispute.id.isEmpty, dispute.id.utf8.count <= 64 else { throw .invalidRequest("a dispute id must be 1 to 64 bytes") }
        guard dispute.version == expectedVersion + 1 else {
            throw .invalidRequest("dispute \(dispute.id) at version \(dispute.version) does not follow \(expectedVersion)")
        }
    }

    /// A dispute page asks for 1 to 1000 rows.
    public static func check(_ query: DisputeQuery) throws(RepositoryError) {
        guard (1...1_000).contains(query.pageSize) else {
            throw .invalidRequest("page size must be between 1 and 1000, got \(query.pageSize)")
        }
    }

    /// A rating page asks for 1 to 1000 rows.
    public static func check(_ query: RatingQuery) throws(RepositoryError) {
        guard (1...1_000).contains(query.pageSize) else {
            throw .invalidRequest("page size must be between 1 and 1000, got \(query.pageSize)")
        }
    }

    /// An article is one version on from the stored one; a new article comes with its first
    /// revision, an edit with the next one.
    public static func check(_ article: KnowledgeArticle, revision: ArticleRevision?, expectedVersion: Int64) throws(RepositoryError) {
        guard !article.id.isEmpty, article.id.utf8.count <= 64 else { throw .invalidRequest("an article id must be 1 to 64 bytes") }
        guard article.version == expectedVersion + 1 else {
            throw .invalidRequest("an article at version \(article.version) does not follow \(expectedVersion)")
        }
        if expectedVersion == 0, revision?.revision != 1 || article.revision != 1 {
            throw .invalidRequest("a new article comes with its first revision")
        }
        if let revision, revision.articleID != article.id || revision.revision != article.revision {
            throw .invalidRequest("revision \(revision.revision) of \(revision.articleID) is not the newest of article \(article.id)")
        }
        if (article.status == .published) != (article.published != nil && article.publishedRevision != nil) {
            throw .invalidRequest("a published article, and only one, has published content")
        }
    }

    /// An article page or a revision list asks for 1 to 1000 rows.
    public static func checkKnowledgePage(_ size: Int) throws(RepositoryError) {
        guard (1...1_000).contains(size) else { throw .invalidRequest("page size must be between 1 and 1000, got \(size)") }
    }

    /// An index read asks for 1 to 200 terms.
    public static func checkKnowledgeTerms(_ terms: Set<String>) throws(RepositoryError) {
        guard (1...200).contains(terms.count) else { throw .invalidRequest("an index read asks for 1 to 200 terms, got \(terms.count)") }
    }

    /// The first version of a scope is 1, each later one is one more.
    public static func checkVersion(_ version: Int64) throws(RepositoryError) {
        guard version >= 1 else { throw .invalidRequest("versions start at 1, got \(version)") }
    }

    /// A change of a case: one version on from the expected one, its entries ending its timeline,
    /// its trace record and refunds about it.
    public static func check(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) throws(RepositoryError) {
        let afterSale = transition.afterSale
        let entries = transition.entries
        guard afterSale.version == expectedVersion + 1 else {
            throw .invalidRequest("a transition from version \(expectedVersion) must produce version \(expectedVersion + 1), not \(afterSale.version)")
        }
        guard afterSale.timeline.count >= entries.count, Array(afterSale.timeline.suffix(entries.count)) == entries,
              transition.trace.caseNumber == afterSale.number,
              transition.refundRequest.map({ $0.caseNumber == afterSale.number }) ?? true else {
            throw .invalidRequest("the entries must end the case's timeline, and the trace and refund name case \(afterSale.number)")
        }
        for refund in [effects.newRefund, effects.refundUpdate?.refund].compactMap({ $0 }) where refund.caseNumber != afterSale.number {
            throw .invalidRequest("refund \(refund.id) pays case \(refund.caseNumber), not \(afterSale.number)")
        }
        if case .set(let timer) = effects.timer { try check(timer, of: afterSale.number) }
    }

    /// The most messages one page returns.
    public static let maximumMessagePage = 1000

    /// A page of messages asks for 1 to ``maximumMessagePage`` of them.
    public static func checkMessagePage(limit: Int) throws(RepositoryError) {
        guard (1...maximumMessagePage).contains(limit) else {
            throw .invalidRequest("limit must be between 1 and \(maximumMessagePage), got \(limit)")
        }
    }

    /// The most refunds one claim hands out.
    public static let maximumClaim = 256

    /// The most audit records or checkpoints one page returns.
    public static let maximumAuditPage = 10_000

    /// A page of the audit chain or its checkpoints starts at 0 or later and asks for 1 to
    /// ``maximumAuditPage`` rows.
    public static func checkAuditPage(after position: Int64, limit: Int) throws(RepositoryError) {
        guard position >= 0 else { throw .invalidRequest("the position to read after must be 0 or more, got \(position)") }
        guard (1...maximumAuditPage).contains(limit) else {
            throw .invalidRequest("limit must be between 1 and \(maximumAuditPage), got \(limit)")
        }
    }

    /// A checkpoint names a size of 0 or more, a 32-byte hash and a note.
    public static func check(_ checkpoint: AuditCheckpoint) throws(RepositoryError) {
        guard checkpoint.size >= 0, checkpoint.hash.count == 32, !checkpoint.note.isEmpty else {
            throw .invalidRequest("a checkpoint needs a size of 0 or more, a 32-byte hash and its signed note")
        }
    }
}

/// A keyset page: a backend reads one row more than the page holds, to know whether another page follows.
public enum KeysetPage {
    /// The page of `rows` (read with `pageSize + 1` as the limit) and the row the next page starts after.
    public static func split<Row>(_ rows: [Row], pageSize: Int) -> (page: [Row], last: Row?) {
        let page = Array(rows.prefix(pageSize))
        return (page, rows.count > pageSize ? page.last : nil)
    }
}
