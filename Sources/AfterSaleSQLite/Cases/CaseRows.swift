import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing the rows of a case: `cases`, `timeline_entries`, `trace_records`.
///
/// Every function runs on the connection's own thread (the writer's or a reader's).
enum CaseRows {

    // MARK: cases

    typealias Encoded = EncodedCase

    static func insert(_ encoded: Encoded, on connection: SQLiteConnection) throws {
        let summary = encoded.summary
        try connection.run("""
            INSERT INTO cases (id, order_id, buyer_id, shop_id, shop_name, shop_contact, kind, status, created_at,
                               updated_at, version, title, spec, image_url, quantity, line_count, refund_units, currency,
                               document)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
            """) {
            $0.bind(1, encoded.id)
            $0.bind(2, summary.orderID)
            $0.bind(3, summary.buyerID)
            $0.bind(4, summary.shop.id)
            $0.bind(5, summary.shop.name)
            $0.bind(6, summary.shop.contact)
            $0.bind(7, summary.kind.rawValue)
            $0.bind(8, summary.status.rawValue)
            $0.bind(9, summary.appliedAt.millisecondsSinceEpoch)
            $0.bind(10, summary.updatedAt.millisecondsSinceEpoch)
            $0.bind(11, summary.version)
            $0.bind(12, summary.title)
            $0.bind(13, summary.spec)
            $0.bind(14, summary.imageURL)
            $0.bind(15, summary.quantity)
            $0.bind(16, summary.lineCount)
            $0.bind(17, summary.refundAmount?.minorUnits)
            $0.bind(18, encoded.afterSale.currency.code)
            $0.bind(19, blob: encoded.document)
        }
    }

    /// Writes the changing columns of a case if it is still at `expectedVersion`.
    /// - Returns: false when no row matched (stale version or no such case).
    static func update(_ encoded: Encoded, expectedVersion: Int64, on connection: SQLiteConnection) throws -> Bool {
        // Only the columns a transition can change are set: title, lines and parties never change.
        let summary = encoded.summary
        let changed = try connection.run("""
            UPDATE cases SET status = ?2, updated_at = ?3, version = ?4, refund_units = ?5, document = ?6
            WHERE id = ?1 AND version = ?7
            """) {
            $0.bind(1, encoded.id)
            $0.bind(2, summary.status.rawValue)
            $0.bind(3, summary.updatedAt.millisecondsSinceEpoch)
            $0.bind(4, summary.version)
            $0.bind(5, summary.refundAmount?.minorUnits)
            $0.bind(6, blob: encoded.document)
            $0.bind(7, expectedVersion)
        }
        return changed == 1
    }

    /// The stored version of case `id`, nil when there is no such case.
    static func version(of id: Int64, on connection: SQLiteConnection) throws -> Int64? {
        try connection.queryOne("SELECT version FROM cases WHERE id = ?1", bind: { $0.bind(1, id) }) { $0.int64(0) }
    }

    /// The columns a list row reads, in the order ``summary(_:)`` decodes them.
    static let summaryColumns = """
        id, order_id, buyer_id, shop_id, shop_name, shop_contact, kind, status, title, spec, image_url, quantity, \
        line_count, refund_units, currency, created_at, updated_at, version
        """

    static func summary(_ row: Statement) throws -> CaseSummary {
        let currency = try decoding { try CurrencyCode(row.string(14)) }
        return CaseSummary(
            number: try CaseKey.number(of: row.int64(0)), orderID: row.string(1), buyerID: row.string(2),
            shop: ShopInfo(id: row.string(3), name: row.string(4), contact: row.string(5)),
            kind: try decodeEnum(row.string(6), as: AfterSaleKind.self),
            status: try decodeEnum(row.string(7), as: CaseStatus.self), title: row.string(8), spec: row.string(9),
            imageURL: row.string(10), quantity: row.int(11), lineCount: row.int(12),
            refundAmount: row.optionalInt64(13).map { Money(minorUnits: $0, currency: currency) },
            appliedAt: Timestamp(millisecondsSinceEpoch: row.int64(15)),
            updatedAt: Timestamp(millisecondsSinceEpoch: row.int64(16)), version: row.int64(17))
    }

    /// Case `id` with its timeline; call inside a read transaction so both come from one snapshot.
    static func load(_ id: Int64, on connection: SQLiteConnection) throws -> AfterSaleCase? {
        guard let document = try connection.queryOne("SELECT document FROM cases WHERE id = ?1",
                                                      bind: { $0.bind(1, id) }, row: { $0.blob(0) }) else { return nil }
        let timeline = try connection.query("""
            SELECT at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, note
            FROM timeline_entries WHERE case_id = ?1 ORDER BY seq
            """, bind: { $0.bind(1, id) }, row: timelineEntry)
        return try CaseDocument.decode(document, timeline: timeline)
    }

    /// Every case of order `orderID` with its timeline, in two queries (not one per case); call
    /// inside a read transaction. With `timelines: false` the cases come without their timelines
    /// (one query, fewer pages): enough to decide a new case on the order, which reads their lines,
    /// amounts, status and versions only.
    static func load(orderID: String, timelines: Bool = true, on connection: SQLiteConnection) throws -> [AfterSaleCase] {
        let documents = try connection.query("SELECT id, document FROM cases WHERE order_id = ?1 ORDER BY id",
                                              bind: { $0.bind(1, orderID) }) { ($0.int64(0), $0.blob(1)) }
        guard !documents.isEmpty else { return [] }
        guard timelines else { return try documents.map { try CaseDocument.decode($0.1, timeline: []) } }
        var timelines: [Int64: [TimelineEntry]] = [:]
        let rows = try connection.query("""
            SELECT t.case_id, t.at, t.step, t.actor_role, t.actor_id, t.actor_shop_id, t.from_status, t.to_status, t.note
            FROM cases AS c JOIN timeline_entries AS t ON t.case_id = c.id
            WHERE c.order_id = ?1 ORDER BY t.case_id, t.seq
            """, bind: { $0.bind(1, orderID) }) { row in (row.int64(0), try timelineEntry(row, offset: 1)) }
        for (id, entry) in rows { timelines[id, default: []].append(entry) }
        return try documents.map { id, document in
            try CaseDocument.decode(document, timeline: timelines[id] ?? [])
        }
    }

    // MARK: timeline, trace, refunds

    /// Appends `entries` to case `id`'s timeline at positions `firstSeq`, `firstSeq + 1`, …
    /// Stores a new case with everything its opening transition carries: the case row, its
    /// timeline, its trace record and its refund request. A taken number is `caseNumberTaken`.
    static func insertNew(_ transition: Transition, encoded: Encoded, on connection: SQLiteConnection) throws {
        let afterSale = transition.afterSale
        do {
            try insert(encoded, on: connection)
        } catch let error as SQLiteError where error.isUniqueViolation {
            throw RepositoryError.caseNumberTaken(afterSale.number)
        }
        try insertTimeline(afterSale.timeline, caseID: encoded.id, firstSeq: 0, on: connection)
        try insertTrace(transition.trace, on: connection)
    }

    static func insertTimeline(_ entries: [TimelineEntry], caseID: Int64, firstSeq: Int, on connection: SQLiteConnection) throws {
        for (offset, entry) in entries.enumerated() {
            try connection.run("""
                INSERT INTO timeline_entries (case_id, seq, at, step, actor_role, actor_id, actor_shop_id, from_status,
                                              to_status, note)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """) {
                $0.bind(1, caseID)
                $0.bind(2, firstSeq + offset)
                $0.bind(3, entry.at.millisecondsSinceEpoch)
                $0.bind(4, entry.step.rawValue)
                $0.bind(5, entry.actor.role.rawValue)
                $0.bind(6, entry.actor.id)
                $0.bind(7, entry.actor.shopID)
                $0.bind(8, entry.from?.rawValue)
                $0.bind(9, entry.to.rawValue)
                $0.bind(10, entry.note)
            }
        }
    }

    static func timelineEntry(_ row: Statement) throws -> TimelineEntry { try timelineEntry(row, offset: 0) }

    static func timelineEntry(_ row: Statement, offset: Int32) throws -> TimelineEntry {
        TimelineEntry(at: Timestamp(millisecondsSinceEpoch: row.int64(offset)),
                      step: try decodeEnum(row.string(offset + 1), as: CaseStep.self),
                      actor: try principal(role: row.string(offset + 2), id: row.string(offset + 3),
                                           shopID: row.optionalString(offset + 4)),
                      from: try row.optionalString(offset + 5).map { try decodeEnum($0, as: CaseStatus.self) },
                      to: try decodeEnum(row.string(offset + 6), as: CaseStatus.self), note: row.string(offset + 7))
    }

    /// Stores `record` as the case's next trace record and the audit chain's next link (see ``AuditRows``).
    static func insertTrace(_ record: TraceRecord, on connection: SQLiteConnection) throws {
        let link = try AuditRows.next(record, on: connection)
        try connection.run("""
            INSERT INTO trace_records (case_id, seq, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                                       outcome, details, refund_id, trace_id, chain_position, chain_hash)
            VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM trace_records WHERE case_id = ?1),
                    ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
            """) {
            $0.bind(13, link.size)
            $0.bind(14, blob: link.hash)
            $0.bind(1, CaseKey.id(of: record.caseNumber))
            $0.bind(2, record.at.millisecondsSinceEpoch)
            $0.bind(3, record.step.rawValue)
            $0.bind(4, record.actor.role.rawValue)
            $0.bind(5, record.actor.id)
            $0.bind(6, record.actor.shopID)
            $0.bind(7, record.from?.rawValue)
            $0.bind(8, record.to.rawValue)
            $0.bind(9, record.outcome.rawValue)
            $0.bind(10, record.details)
            $0.bind(11, record.refundID)
            $0.bind(12, record.traceID)
        }
    }

    static func traces(of caseID: Int64, on connection: SQLiteConnection) throws -> [TraceRecord] {
        let number = try CaseKey.number(of: caseID)
        return try connection.query("""
            SELECT at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, outcome, details, refund_id, trace_id
            FROM trace_records WHERE case_id = ?1 ORDER BY seq
            """, bind: { $0.bind(1, caseID) }) { row in
            TraceRecord(caseNumber: number,
                        actor: try principal(role: row.string(2), id: row.string(3), shopID: row.optionalString(4)),
                        step: try decodeEnum(row.string(1), as: CaseStep.self),
                        from: try row.optionalString(5).map { try decodeEnum($0, as: CaseStatus.self) },
                        to: try decodeEnum(row.string(6), as: CaseStatus.self),
                        at: Timestamp(millisecondsSinceEpoch: row.int64(0)),
                        outcome: try decodeEnum(row.string(7), as: TraceOutcome.self), details: row.string(8),
                        refundID: row.optionalString(9), traceID: row.string(10))
        }
    }

    static func principal(role: String, id: String, shopID: String?) throws -> Principal {
        Principal(role: try decodeEnum(role, as: ActorRole.self), id: id, shopID: shopID)
    }
}
