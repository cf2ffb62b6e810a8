import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `reasons`.
enum ReasonRows {
    static func insert(_ reason: Reason, version: Int64, at: Int64, on connection: SQLiteConnection) throws {
        try connection.run("""
            INSERT INTO reasons (code, title, kinds, basis, requires_evidence, active, sort_order, version, updated_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT (code) DO UPDATE SET title = ?2, kinds = ?3, basis = ?4, requires_evidence = ?5, active = ?6,
                sort_order = ?7, version = ?8, updated_at = ?9
            """) {
            $0.bind(1, reason.code)
            $0.bind(2, reason.title)
            $0.bind(3, reason.kinds.map(\.rawValue).sorted().joined(separator: ","))
            $0.bind(4, reason.basis.rawValue)
            $0.bind(5, reason.requiresEvidence)
            $0.bind(6, reason.isActive)
            $0.bind(7, reason.sortOrder)
            $0.bind(8, version)
            $0.bind(9, at)
        }
    }

    static let select = """
        SELECT code, title, kinds, basis, requires_evidence, active, sort_order, version, updated_at FROM reasons
        """

    static func decode(_ row: Statement) throws -> StoredReason {
        let kinds = try row.string(2).split(separator: ",").map { try decodeEnum(String($0), as: AfterSaleKind.self) }
        let reason = Reason(code: row.string(0), title: row.string(1), kinds: Set(kinds),
                            basis: try decodeEnum(row.string(3), as: ReasonBasis.self), requiresEvidence: row.bool(4),
                            isActive: row.bool(5), sortOrder: row.int(6))
        return StoredReason(reason: reason, version: row.int64(7), updatedAt: Timestamp(millisecondsSinceEpoch: row.int64(8)))
    }
}
