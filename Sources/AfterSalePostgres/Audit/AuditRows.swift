import AfterSaleDomain
import AfterSaleStorage

/// The audit chain on PostgreSQL: `trace_records.chain_position` and `chain_hash`, the `audit_head`
/// row and `audit_checkpoints`.
///
/// ## Chain order across replicas
///
/// A writer inserts its trace record with the change, unchained (`chain_position` NULL), and
/// commits without waiting on anyone: locking the chain's head in every writing transaction would
/// make every case change of every replica commit one after another (the feed's first design
/// showed that cost). A **chaining round** (``chain(limit:on:)``), one transaction under a
/// transaction-scoped advisory lock (one round at a time across replicas), reads the head, takes
/// the unchained records its snapshot sees (committed ones only) in `id` order, hashes each after
/// the one before, stores positions and hashes and moves the head; all of it visible at its commit.
/// As with the feed sequencer, each round continues from the head the previous one committed, so
/// positions are contiguous and every reader sees one order.
///
/// Rounds run before the chain is read (``PostgresRepository/auditHead()`` and
/// ``PostgresRepository/auditEntries(after:limit:)``), and so every second from the checkpoint
/// writer of each replica: a record waits at most about a second for its link. Until then it is
/// stored (durable, with its change) but not yet covered by the chain.
enum AuditRows {
    /// The advisory lock of chaining rounds ("AftAudit"); different from the feed's and the migrator's.
    static let lockKey: Int64 = 0x4166_7441_7564_6974

    /// The columns of a trace record, in the order ``record(_:offset:)`` reads them.
    static let recordColumns = "case_id, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status, outcome, details, refund_id, trace_id"

    static func record(_ row: PostgresRow, offset: Int) throws -> TraceRecord {
        TraceRecord(caseNumber: try CaseKey.number(of: try row.int64(offset)), actor: try row.principal(offset + 3),
                    step: try row.name(offset + 2, as: CaseStep.self),
                    from: try row.optionalName(offset + 6, as: CaseStatus.self), to: try row.name(offset + 7, as: CaseStatus.self),
                    at: try row.timestamp(offset + 1), outcome: try row.name(offset + 8, as: TraceOutcome.self),
                    details: try row.utf8(offset + 9), refundID: try row.optionalString(offset + 10), traceID: try row.string(offset + 11))
    }

    /// One chaining round in the caller's transaction: chains up to `limit` committed, unchained
    /// records after the head. - Returns: how many it chained.
    static func chain(limit: Int, on connection: PostgresConnection) throws -> Int {
        try connection.execute("SELECT pg_advisory_xact_lock($1)", .int64(lockKey))
        let head = try head(on: connection)
        let pending = try connection.query("""
            SELECT id, \(recordColumns) FROM trace_records WHERE chain_position IS NULL ORDER BY id LIMIT $1
            """, .int64(Int64(max(1, limit)))) { row in (id: try row.int64(0), record: try record(row, offset: 1)) }
        guard !pending.isEmpty else { return 0 }
        let (entries, next) = try AuditChain.extend(head, with: pending.map(\.record))
        try connection.execute("""
            UPDATE trace_records AS t SET chain_position = u.position, chain_hash = decode(u.hash, 'hex')
            FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS u (id, position, hash)
            WHERE t.id = u.id
            """, .text("{" + pending.map { String($0.id) }.joined(separator: ",") + "}"),
            .text("{" + entries.map { String($0.position) }.joined(separator: ",") + "}"),
            .text("{" + entries.map { hex($0.hash) }.joined(separator: ",") + "}"))
        try connection.execute("UPDATE audit_head SET size = $1, hash = $2 WHERE id = 1", .int64(next.size), .bytes(next.hash))
        return pending.count
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text.append(digits[Int(byte >> 4)]); text.append(digits[Int(byte & 0x0F)]) }
        return String(decoding: text, as: UTF8.self)
    }

    static func head(on connection: PostgresConnection) throws -> AuditHead {
        guard let head = try connection.queryOne("SELECT size, hash FROM audit_head WHERE id = 1", decode: {
            AuditHead(size: try $0.int64(0), hash: try $0.bytes(1))
        }) else { throw RepositoryError.storageFailure("the audit_head row is missing") }
        return head
    }

    static func entries(after position: Int64, limit: Int, on connection: PostgresConnection) throws -> [AuditEntry] {
        try connection.query("""
            SELECT chain_position, chain_hash, \(recordColumns) FROM trace_records
            WHERE chain_position > $1 ORDER BY chain_position LIMIT $2
            """, .int64(position), .int64(Int64(limit))) { row in
            AuditEntry(position: try row.int64(0), record: try record(row, offset: 2), hash: try row.bytes(1))
        }
    }

    static func saveCheckpoint(_ checkpoint: AuditCheckpoint, on connection: PostgresConnection) throws {
        try connection.execute("""
            INSERT INTO audit_checkpoints (size, hash, note, signed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING
            """, .int64(checkpoint.size), .bytes(checkpoint.hash), .text(checkpoint.note), .time(checkpoint.signedAt))
    }

    static func checkpoints(after size: Int64, limit: Int, descending: Bool = false, on connection: PostgresConnection) throws -> [AuditCheckpoint] {
        try connection.query("""
            SELECT size, hash, note, signed_at FROM audit_checkpoints WHERE size > $1 ORDER BY size \(descending ? "DESC" : "") LIMIT $2
            """, .int64(size), .int64(Int64(limit))) { row in
            AuditCheckpoint(size: try row.int64(0), hash: try row.bytes(1), note: try row.string(2), signedAt: try row.timestamp(3))
        }
    }

    /// Migration 8, as SQLite's 8: the chain's columns and tables. Trace records stored before it
    /// stay unchained here and the first chaining round chains them, in `id` order (their order of
    /// insertion), so the chain starts at the first record ever written.
    static let migration = """
        ALTER TABLE trace_records ADD COLUMN chain_position bigint, ADD COLUMN chain_hash bytea;
        CREATE UNIQUE INDEX trace_records_by_chain ON trace_records (chain_position);
        CREATE INDEX trace_records_unchained ON trace_records (id) WHERE chain_position IS NULL;
        CREATE TABLE audit_head (
            id   integer PRIMARY KEY CHECK (id = 1),
            size bigint  NOT NULL,
            hash bytea   NOT NULL
        );
        INSERT INTO audit_head (id, size, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
        CREATE TABLE audit_checkpoints (
            size      bigint PRIMARY KEY,
            hash      bytea  NOT NULL,
            note      text   NOT NULL,
            signed_at bigint NOT NULL
        );
        """
}
