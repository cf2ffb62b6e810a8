import AfterSaleDomain
import AfterSaleStorage
import Foundation

/// Reading and writing the audit chain: `trace_records.chain_position` and `chain_hash`, the
/// `audit_head` row and `audit_checkpoints`.
///
/// The one writer serializes every write, so a record is chained in the transaction that stores
/// it: read the head, hash the record after it, store both, move the head. Chain order is commit
/// order. A batch the writer rolls back and runs again re-reads the head, so nothing of a failed
/// write stays in the chain.
enum AuditRows {
    /// The columns of a trace record, in the order ``record(_:offset:)`` reads them.
    static let recordColumns = "case_id, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, outcome, details, refund_id, trace_id"

    /// The record in `row`'s columns from `offset` (laid out as ``recordColumns``).
    static func record(_ row: Statement, offset: Int32 = 0) throws -> TraceRecord {
        TraceRecord(caseNumber: try CaseKey.number(of: row.int64(offset)),
                    actor: try CaseRows.principal(role: row.string(offset + 3), id: row.string(offset + 4),
                                                  shopID: row.optionalString(offset + 5)),
                    step: try decodeEnum(row.string(offset + 2), as: CaseStep.self),
                    from: try row.optionalString(offset + 6).map { try decodeEnum($0, as: CaseStatus.self) },
                    to: try decodeEnum(row.string(offset + 7), as: CaseStatus.self),
                    at: Timestamp(millisecondsSinceEpoch: row.int64(offset + 1)),
                    outcome: try decodeEnum(row.string(offset + 8), as: TraceOutcome.self), details: row.string(offset + 9),
                    refundID: row.optionalString(offset + 10), traceID: row.string(offset + 11))
    }

    /// The head of the chain, as the `audit_head` row states it.
    static func head(on connection: SQLiteConnection) throws -> AuditHead {
        guard let head = try connection.queryOne("SELECT size, hash FROM audit_head WHERE id = 1", row: {
            AuditHead(size: $0.int64(0), hash: $0.blob(1))
        }) else { throw RepositoryError.storageFailure("the audit_head row is missing") }
        return head
    }

    /// Chains `record` after the head: its position and hash, with the head moved to it.
    static func next(_ record: TraceRecord, on connection: SQLiteConnection) throws -> AuditHead {
        let head = try head(on: connection)
        let position = head.size + 1
        let next = AuditHead(size: position, hash: try AuditChain.link(record, position: position, previous: head.hash))
        try connection.run("UPDATE audit_head SET size = ?1, hash = ?2 WHERE id = 1") {
            $0.bind(1, next.size)
            $0.bind(2, blob: next.hash)
        }
        return next
    }

    static func entries(after position: Int64, limit: Int, on connection: SQLiteConnection) throws -> [AuditEntry] {
        try connection.query("""
            SELECT chain_position, chain_hash, \(recordColumns) FROM trace_records
            WHERE chain_position > ?1 ORDER BY chain_position LIMIT ?2
            """, bind: { $0.bind(1, position); $0.bind(2, limit) }) { row in
            AuditEntry(position: row.int64(0), record: try record(row, offset: 2), hash: row.blob(1))
        }
    }

    static func saveCheckpoint(_ checkpoint: AuditCheckpoint, on connection: SQLiteConnection) throws {
        try connection.run("""
            INSERT INTO audit_checkpoints (size, hash, note, signed_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (size) DO NOTHING
            """) {
            $0.bind(1, checkpoint.size)
            $0.bind(2, blob: checkpoint.hash)
            $0.bind(3, checkpoint.note)
            $0.bind(4, checkpoint.signedAt.millisecondsSinceEpoch)
        }
    }

    static func checkpoints(after size: Int64, limit: Int, descending: Bool = false, on connection: SQLiteConnection) throws -> [AuditCheckpoint] {
        try connection.query("""
            SELECT size, hash, note, signed_at FROM audit_checkpoints WHERE size > ?1 ORDER BY size \(descending ? "DESC" : "") LIMIT ?2
            """, bind: { $0.bind(1, size); $0.bind(2, limit) }) { row in
            AuditCheckpoint(size: row.int64(0), hash: row.blob(1), note: row.string(2),
                            signedAt: Timestamp(millisecondsSinceEpoch: row.int64(3)))
        }
    }

    /// Migration 8: the chain's columns and tables, and every trace record stored before it chained
    /// in the order they happened (time, then case number, then their order within the case), so
    /// the chain starts at the first record ever written, not at the upgrade.
    @Sendable static func migrate(_ connection: SQLiteConnection) throws {
        try connection.execute("""
            ALTER TABLE trace_records ADD COLUMN chain_position INTEGER;  -- 1, 2, … over every case
            ALTER TABLE trace_records ADD COLUMN chain_hash BLOB;         -- SHA-256, see AuditChain
            CREATE TABLE audit_head (
                id   INTEGER PRIMARY KEY CHECK (id = 1),
                size INTEGER NOT NULL,
                hash BLOB    NOT NULL
            );
            CREATE TABLE audit_checkpoints (
                size      INTEGER PRIMARY KEY,
                hash      BLOB    NOT NULL,
                note      TEXT    NOT NULL,  -- the signed note (C2SP signed-note, tlog-checkpoint text)
                signed_at INTEGER NOT NULL
            );
            """)
        var head = AuditHead.empty
        var links: [(caseID: Int64, seq: Int64, head: AuditHead)] = []
        _ = try connection.query("SELECT seq, \(recordColumns) FROM trace_records ORDER BY at, case_id, seq") { row in
            let position = head.size + 1
            head = AuditHead(size: position, hash: try AuditChain.link(try record(row, offset: 1), position: position, previous: head.hash))
            links.append((row.int64(1), row.int64(0), head))
        }
        for link in links {
            try connection.run("UPDATE trace_records SET chain_position = ?1, chain_hash = ?2 WHERE case_id = ?3 AND seq = ?4") {
                $0.bind(1, link.head.size)
                $0.bind(2, blob: link.head.hash)
                $0.bind(3, link.caseID)
                $0.bind(4, link.seq)
            }
        }
        try connection.execute("CREATE UNIQUE INDEX trace_records_by_chain ON trace_records (chain_position)")
        try connection.run("INSERT INTO audit_head (id, size, hash) VALUES (1, ?1, ?2)") {
            $0.bind(1, head.size)
            $0.bind(2, blob: head.hash)
        }
    }
}
