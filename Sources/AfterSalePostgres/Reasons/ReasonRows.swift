import AfterSaleDomain
import AfterSaleStorage
import Synchronization

/// Reading and writing rows of `reasons` and the catalog's generation.
enum ReasonRows {
    static let select = """
        SELECT code, title, kinds, basis, requires_evidence, active, sort_order, version, updated_at FROM reasons
        """

    static func decode(_ row: PostgresRow) throws -> StoredReason {
        let kinds = try row.string(2).split(separator: ",").map { try decodeEnum(String($0), as: AfterSaleKind.self) }
        let reason = Reason(code: try row.string(0), title: try row.utf8(1), kinds: Set(kinds),
                            basis: try row.name(3, as: ReasonBasis.self), requiresEvidence: try row.bool(4),
                            isActive: try row.bool(5), sortOrder: try row.int(6))
        return StoredReason(reason: reason, version: try row.int64(7), updatedAt: try row.timestamp(8))
    }

    /// Every stored reason, by sort order then code, with the catalog generation they belong to;
    /// call inside a snapshot.
    static func load(on connection: PostgresConnection) throws -> (generation: Int64, stored: [StoredReason]) {
        let generation = try self.generation(on: connection)
        return (generation, try connection.query(select + " ORDER BY sort_order, code", decode: decode))
    }

    /// How many times the catalog changed.
    static func generation(on connection: PostgresConnection) throws -> Int64 {
        guard let generation = try connection.queryOne("SELECT generation FROM reason_catalog WHERE id = 1",
                                                       decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the reason_catalog row is missing")
        }
        return generation
    }

    /// Creates or replaces `reason` if its stored version is `expectedVersion` (nil: any), under
    /// the row's lock, and counts the change in the catalog's generation.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` (actual 0 when there is no entry).
    static func upsert(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp,
                       on connection: PostgresConnection) throws -> StoredReason {
        let kinds = reason.kinds.map(\.rawValue).sorted().joined(separator: ",")
        // Twice at most: a code created by a concurrent call between our read and our insert is
        // found (and locked) by the second read.
        for _ in 0..<2 {
            let current = try connection.queryOne("SELECT version FROM reasons WHERE code = $1 FOR UPDATE", .text(reason.code),
                                                  decode: { try $0.int64(0) }) ?? 0
            if let expectedVersion, expectedVersion != current {
                throw DomainError.versionConflict(expected: expectedVersion, actual: current)
            }
            let values: [PostgresValue] = [.text(reason.code), .utf8(reason.title), .text(kinds), .text(reason.basis.rawValue),
                                           .bool(reason.requiresEvidence), .bool(reason.isActive),
                                           .int64(Int64(reason.sortOrder)), .int64(current + 1), .time(instant)]
            if current == 0 {
                let inserted = try connection.query("""
                    INSERT INTO reasons (code, title, kinds, basis, requires_evidence, active, sort_order, version, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING RETURNING 1
                    """, parameters: values)
                if inserted.isEmpty { continue }
            } else {
                try connection.execute("""
                    UPDATE reasons SET title = $2, kinds = $3, basis = $4, requires_evidence = $5, active = $6, sort_order = $7,
                        version = $8, updated_at = $9
                    WHERE code = $1
                    """, parameters: values)
            }
            try connection.execute("UPDATE reason_catalog SET generation = generation + 1 WHERE id = 1")
            return StoredReason(reason: reason, version: current + 1, updatedAt: instant)
        }
        throw PostgresError(kind: .other, message: "reason \(reason.code) kept changing while it was upserted")
    }
}

/// The reason catalog as last read, labelled with the catalog generation it was read at.
///
/// Every replica may change the catalog, so a cached catalog is good only while the generation in
/// the database is the one it was read at: one tiny read per call instead of reading and building
/// the catalog (``AfterSaleStorage/ReasonCatalogCache`` assumes one writing process).
final class ReasonCatalogGenerationCache: Sendable {
    /// A catalog and the generation it belongs to.
    struct Entry: Sendable {
        let generation: Int64
        let stored: [StoredReason]
        let catalog: ReasonCatalog
    }

    private let entry = Mutex<Entry?>(nil)

    /// The cached entry if it is of `generation`.
    func entry(of generation: Int64) -> Entry? {
        entry.withLock { $0?.generation == generation ? $0 : nil }
    }

    /// Keeps `new` unless a newer generation is cached already.
    func keep(_ new: Entry) {
        entry.withLock { current in
            if (current?.generation ?? .min) < new.generation { current = new }
        }
    }
}
