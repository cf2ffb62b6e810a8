import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing `idempotency_keys`.
///
/// A write that spends a key **claims it with its first statement** (`INSERT … ON CONFLICT DO
/// NOTHING`). A concurrent call with the same key, on any replica, then waits in that INSERT until
/// the first transaction ends: if it committed, the INSERT finds the key and the call replays what
/// was stored; if it rolled back, the INSERT goes through and the call proceeds. So two identical
/// retries never both run the change (which a read-then-write check would allow), and an identical
/// retry of a change that committed replays instead of meeting its own version conflict.
enum IdempotencyRows {
    /// The stored key of `record`'s principal and key, or nil.
    static func find(_ record: IdempotencyRecord, on connection: PostgresConnection) throws -> StoredIdempotencyKey? {
        try connection.queryOne("""
            SELECT operation, fingerprint, result, response FROM idempotency_keys
            WHERE principal_role = $1 AND principal_id = $2 AND key = $3
            """, .text(record.principal.role.rawValue), .text(record.principal.id), .text(record.key)) { row in
            StoredIdempotencyKey(operation: try row.string(0), fingerprint: try row.string(1), result: try row.string(2),
                                 response: try row.optionalBytes(3))
        }
    }

    /// Claims `record`'s key for `operation` with `result` and `response` (waiting for a concurrent
    /// claimer of the same key to finish).
    /// - Returns: nil when the key is now this transaction's; the key as stored when it was spent before.
    static func claim(_ record: IdempotencyRecord, operation: String, result: String = "", response: [UInt8]? = nil,
                      at instant: Timestamp, on connection: PostgresConnection) throws -> StoredIdempotencyKey? {
        let inserted = try connection.query("""
            INSERT INTO idempotency_keys (principal_role, principal_id, key, operation, fingerprint, result, response, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, $8)
            ON CONFLICT (principal_role, principal_id, key) DO NOTHING RETURNING 1
            """, parameters: [.text(record.principal.role.rawValue), .text(record.principal.id), .text(record.key),
                              .text(operation), .text(record.fingerprint), .text(result), PostgresValue(response),
                              .time(instant)])
        if !inserted.isEmpty { return nil }
        // The claimer committed before our INSERT returned, so this statement sees its row.
        guard let stored = try find(record, on: connection) else {
            throw PostgresError(kind: .other, message: "an idempotency key conflicted but cannot be read")
        }
        return stored
    }

    /// Claims `call`'s key with a placeholder response, to be filled by ``store(response:for:on:)``
    /// before the transaction commits.
    /// - Returns: nil when claimed; the stored response when an identical call spent the key.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when another call or request spent it.
    static func claim(_ call: IdempotentCall, response: [UInt8]? = nil, at instant: Timestamp,
                      on connection: PostgresConnection) throws -> [UInt8]? {
        guard let stored = try claim(call.record, operation: call.operation, response: response, at: instant, on: connection) else {
            return nil
        }
        guard let replay = try IdempotencyReplay.response(of: call, stored: stored) else {
            throw PostgresError(kind: .other, message: "an idempotency key conflicted but was not stored")
        }
        return replay
    }

    /// Fills in the response of a key this transaction claimed.
    static func store(response: [UInt8], for record: IdempotencyRecord, on connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE idempotency_keys SET response = $4 WHERE principal_role = $1 AND principal_id = $2 AND key = $3
            """, .text(record.principal.role.rawValue), .text(record.principal.id), .text(record.key), .bytes(response))
    }

    /// Fills in the result of a key this transaction claimed (a message id).
    static func store(result: String, for record: IdempotencyRecord, on connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE idempotency_keys SET result = $4 WHERE principal_role = $1 AND principal_id = $2 AND key = $3
            """, .text(record.principal.role.rawValue), .text(record.principal.id), .text(record.key), .text(result))
    }

    /// The response stored for `call`'s key (nil when unused); refused when spent on something else.
    static func response(for call: IdempotentCall, on connection: PostgresConnection) throws -> [UInt8]? {
        try IdempotencyReplay.response(of: call, stored: try find(call.record, on: connection))
    }
}
