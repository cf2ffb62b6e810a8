import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing the rows of a case: `cases`, `timeline_entries`, `trace_records`.
enum CaseRows {
    typealias Encoded = EncodedCase

    /// Adds a new case with its whole timeline and its trace record to `write`; a unique violation
    /// of the write means the number names a case already (``RepositoryError/caseNumberTaken(_:)``).
    static func insertNew(_ transition: Transition, encoded: Encoded, into write: inout CombinedWrite) {
        let summary = encoded.summary
        write.insert("""
            cases (id, order_id, buyer_id, shop_id, shop_name, shop_contact, kind, status, created_at, updated_at, version,
                   title, spec, image_url, quantity, line_count, refund_units, currency, document)
            """, rows: [[
                .int64(encoded.id), .text(summary.orderID), .text(summary.buyerID), .text(summary.shop.id),
                .utf8(summary.shop.name), .utf8(summary.shop.contact), .text(summary.kind.rawValue),
                .text(summary.status.rawValue), .time(summary.appliedAt), .time(summary.updatedAt), .int64(summary.version),
                .utf8(summary.title), .utf8(summary.spec), .utf8(summary.imageURL), .int64(Int64(summary.quantity)),
                .int64(Int64(summary.lineCount)), PostgresValue(summary.refundAmount?.minorUnits),
                .text(encoded.afterSale.currency.code), .bytes(encoded.document),
            ]], types: ["bigint", "text", "text", "text", "bytea", "bytea", "text", "text", "bigint", "bigint", "bigint", "bytea",
                        "bytea", "bytea", "bigint", "bigint", "bigint", "text", "bytea"])
        insertTimeline(encoded.afterSale.timeline, caseID: encoded.id, firstSeq: 0, into: &write)
        insertTrace(transition.trace, into: &write)
    }

    /// Adds the compare-and-set of the columns a transition can change to `write`, counted: it
    /// changes one row when the case is still at `expectedVersion`, none otherwise (see ``versionMismatch(_:expectedVersion:on:)``).
    /// - Returns: the part's index, for the parts that must only follow a successful update.
    static func update(_ encoded: Encoded, expectedVersion: Int64, into write: inout CombinedWrite) -> Int {
        let summary = encoded.summary
        // A concurrent transition of the same case holds the row: this UPDATE waits for it, then
        // sees its version and matches nothing.
        return write.add(counted: true) { sql in
            """
            UPDATE cases SET status = \(sql.parameter(.text(summary.status.rawValue))), \
            updated_at = \(sql.parameter(.time(summary.updatedAt)))::bigint, version = \(sql.parameter(.int64(summary.version)))::bigint, \
            refund_units = \(sql.parameter(PostgresValue(summary.refundAmount?.minorUnits)))::bigint, \
            document = \(sql.parameter(.bytes(encoded.document)))::bytea
            WHERE id = \(sql.parameter(.int64(encoded.id)))::bigint AND version = \(sql.parameter(.int64(expectedVersion)))::bigint
            RETURNING 1
            """
        }
    }

    /// Why a compare-and-set of case `encoded` matched nothing: a version conflict or no such case.
    static func versionMismatch(_ encoded: Encoded, expectedVersion: Int64, on connection: PostgresConnection) throws -> any Error {
        guard let actual = try version(of: encoded.id, on: connection) else {
            return RepositoryError.caseNotFound(encoded.afterSale.number)
        }
        return DomainError.versionConflict(expected: expectedVersion, actual: actual)
    }

    /// The stored version of case `id`, nil when there is no such case.
    static func version(of id: Int64, on connection: PostgresConnection) throws -> Int64? {
        try connection.queryOne("SELECT version FROM cases WHERE id = $1", .int64(id)) { try $0.int64(0) }
    }

    /// Adds `entries` at positions `firstSeq`, `firstSeq + 1`, … of case `caseID`'s timeline to
    /// `write` (only if part `onlyIf` changed a row, when given).
    static func insertTimeline(_ entries: [TimelineEntry], caseID: Int64, firstSeq: Int, onlyIf part: Int? = nil,
                               into write: inout CombinedWrite) {
        guard !entries.isEmpty else { return }
        let rows = entries.enumerated().map { offset, entry -> [PostgresValue] in
            [.int64(caseID), .int32(Int32(clamping: firstSeq + offset)), .time(entry.at), .text(entry.step.rawValue),
             .text(entry.actor.role.rawValue), .text(entry.actor.id), PostgresValue(entry.actor.shopID), .name(entry.from),
             .text(entry.to.rawValue), .utf8(entry.note)]
        }
        write.insert("timeline_entries (case_id, seq, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, note)",
                     rows: rows, types: ["bigint", "integer", "bigint", "text", "text", "text", "text", "text", "text", "bytea"],
                     onlyIf: part)
    }

    static let timelineColumns = "at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, note"

    /// A timeline entry from ``timelineColumns`` starting at `offset`.
    static func timelineEntry(_ row: PostgresRow, offset: Int = 0) throws -> TimelineEntry {
        TimelineEntry(at: try row.timestamp(offset), step: try row.name(offset + 1, as: CaseStep.self),
                      actor: try row.principal(offset + 2), from: try row.optionalName(offset + 5, as: CaseStatus.self),
                      to: try row.name(offset + 6, as: CaseStatus.self), note: try row.utf8(offset + 7))
    }

    /// Adds `record` to `write` (only if part `onlyIf` changed a row, when given).
    static func insertTrace(_ record: TraceRecord, onlyIf part: Int? = nil, into write: inout CombinedWrite) {
        write.insert("""
            trace_records (case_id, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, outcome, details,
                           refund_id, trace_id)
            """, rows: [[
                .int64(CaseKey.id(of: record.caseNumber)), .time(record.at), .text(record.step.rawValue),
                .text(record.actor.role.rawValue), .text(record.actor.id), PostgresValue(record.actor.shopID), .name(record.from),
                .text(record.to.rawValue), .text(record.outcome.rawValue), .utf8(record.details), PostgresValue(record.refundID),
                .text(record.traceID),
            ]], types: ["bigint", "bigint", "text", "text", "text", "text", "text", "text", "text", "bytea", "text", "text"],
            onlyIf: part)
    }

    /// Inserts `record` now.
    static func insertTrace(_ record: TraceRecord, on connection: PostgresConnection) throws {
        var write = CombinedWrite()
        insertTrace(record, into: &write)
        try write.run(on: connection)
    }

    /// Inserts `record` only if its case exists (the reference adds a trace to a case it has, and
    /// drops one about a case it does not).
    static func insertTraceIfCaseExists(_ record: TraceRecord, on connection: PostgresConnection) throws {
        guard try version(of: CaseKey.id(of: record.caseNumber), on: connection) != nil else { return }
        try insertTrace(record, on: connection)
    }

    static func traces(of caseID: Int64, on connection: PostgresConnection) throws -> [TraceRecord] {
        let number = try CaseKey.number(of: caseID)
        return try connection.query("""
            SELECT at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, outcome, details, refund_id, trace_id
            FROM trace_records WHERE case_id = $1 ORDER BY id
            """, .int64(caseID)) { row in
            TraceRecord(caseNumber: number, actor: try row.principal(2), step: try row.name(1, as: CaseStep.self),
                        from: try row.optionalName(5, as: CaseStatus.self), to: try row.name(6, as: CaseStatus.self),
                        at: try row.timestamp(0), outcome: try row.name(7, as: TraceOutcome.self), details: try row.utf8(8),
                        refundID: try row.optionalString(9), traceID: try row.string(10))
        }
    }

    // MARK: loading

    /// Case `id` with its timeline, read by one statement (one snapshot, one round trip).
    static func load(_ id: Int64, on connection: PostgresConnection) throws -> AfterSaleCase? {
        let rows = try connection.query("""
            SELECT 0 AS part, 0 AS seq, NULL::bigint AS at, NULL::text AS step, NULL::text AS actor_role, NULL::text AS actor_id,
                   NULL::text AS actor_shop_id, NULL::text AS from_status, NULL::text AS to_status, NULL::bytea AS note, document
            FROM cases WHERE id = $1
            UNION ALL
            SELECT 1, seq, \(timelineColumns), NULL FROM timeline_entries WHERE case_id = $1
            """, .int64(id)) { row -> (part: Int, seq: Int, row: PostgresRow) in (try row.int(0), try row.int(1), row) }
        guard let document = try rows.first(where: { $0.part == 0 }).map({ try $0.row.bytes(10) }) else { return nil }
        let timeline = try rows.filter { $0.part == 1 }.sorted { $0.seq < $1.seq }.map { try timelineEntry($0.row, offset: 2) }
        return try CaseDocument.decode(document, timeline: timeline)
    }

    /// Every case of order `orderID`, oldest number first, with or without timelines; call inside a snapshot.
    static func load(orderID: String, timelines: Bool = true, on connection: PostgresConnection) throws -> [AfterSaleCase] {
        let documents = try connection.query("SELECT id, document FROM cases WHERE order_id = $1 ORDER BY id", .text(orderID)) {
            (try $0.int64(0), try $0.bytes(1))
        }
        guard !documents.isEmpty else { return [] }
        guard timelines else { return try documents.map { try CaseDocument.decode($0.1, timeline: []) } }
        var entries: [Int64: [TimelineEntry]] = [:]
        let rows = try connection.query("""
            SELECT t.case_id, t.at, t.step, t.actor_role, t.actor_id, t.actor_shop_id, t.from_status, t.to_status, t.note
            FROM cases AS c JOIN timeline_entries AS t ON t.case_id = c.id
            WHERE c.order_id = $1 ORDER BY t.case_id, t.seq
            """, .text(orderID)) { row in (try row.int64(0), try timelineEntry(row, offset: 1)) }
        for (id, entry) in rows { entries[id, default: []].append(entry) }
        return try documents.map { id, document in try CaseDocument.decode(document, timeline: entries[id] ?? []) }
    }

    // MARK: list rows

    /// The columns a list row reads, in the order ``summary(_:)`` decodes them.
    static let summaryColumns = """
        id, order_id, buyer_id, shop_id, shop_name, shop_contact, kind, status, title, spec, image_url, quantity, \
        line_count, refund_units, currency, created_at, updated_at, version
        """

    static func summary(_ row: PostgresRow) throws -> CaseSummary {
        let currency = try decoding { try CurrencyCode(try row.string(14)) }
        return CaseSummary(
            number: try CaseKey.number(of: try row.int64(0)), orderID: try row.string(1), buyerID: try row.string(2),
            shop: ShopInfo(id: try row.string(3), name: try row.utf8(4), contact: try row.utf8(5)),
            kind: try row.name(6, as: AfterSaleKind.self), status: try row.name(7, as: CaseStatus.self),
            title: try row.utf8(8), spec: try row.utf8(9), imageURL: try row.utf8(10), quantity: try row.int(11),
            lineCount: try row.int(12), refundAmount: try row.optionalInt64(13).map { Money(minorUnits: $0, currency: currency) },
            appliedAt: try row.timestamp(15), updatedAt: try row.timestamp(16), version: try row.int64(17))
    }

    // MARK: eligibility

    /// Fails unless the order and its cases are exactly as the eligibility decision read them.
    ///
    /// Locks the order row (`FOR UPDATE`: one basis check per order at a time, and a newer snapshot
    /// of the order waits) and shares its cases (`FOR SHARE`: a concurrent transition of one of them
    /// waits for this transaction, or this one sees its new version), so what was checked cannot
    /// change before the commit.
    /// The order's open disputes (other than `dispute`, being saved) are read under the order's
    /// lock too: a dispute saved with a basis takes it first (``check(_:on:saving:)`` from
    /// `saveDispute`), so a case change and a dispute change on one order never both pass.
    static func check(_ basis: EligibilityBasis, on connection: PostgresConnection, saving dispute: String? = nil) throws {
        let orderVersion = try connection.queryOne("SELECT version FROM orders WHERE order_id = $1 FOR UPDATE",
                                                   .text(basis.orderID)) { try $0.int64(0) }
        let stored = try connection.query("SELECT id, version FROM cases WHERE order_id = $1 FOR SHARE", .text(basis.orderID)) {
            (try $0.int64(0), try $0.int64(1))
        }
        let expected = Dictionary(basis.caseVersions.map { (CaseKey.id(of: $0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
        guard orderVersion == basis.orderVersion, Dictionary(stored, uniquingKeysWith: { first, _ in first }) == expected else {
            throw RepositoryError.eligibilityChanged(orderID: basis.orderID)
        }
        if basis.openDisputeIDs != nil {
            let open = try connection.query("SELECT dispute_id FROM disputes WHERE order_id = $1 AND status = ANY($2::text[])",
                                            .text(basis.orderID), .text("{" + EligibilityBasis.openDisputeStatuses.joined(separator: ",") + "}")) {
                try $0.string(0)
            }
            guard basis.openDisputesMatch(open, saving: dispute) else { throw RepositoryError.eligibilityChanged(orderID: basis.orderID) }
        }
    }
}
