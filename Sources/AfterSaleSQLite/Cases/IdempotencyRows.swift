import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing `idempotency_keys`.
enum IdempotencyRows {
    static func find(_ record: IdempotencyRecord, on connection: SQLiteConnection) throws -> StoredIdempotencyKey? {
        try connection.queryOne("""
            SELECT operation, fingerprint, result FROM idempotency_keys
            WHERE principal_role = ?1 AND principal_id = ?2 AND key = ?3
            """, bind: {
            $0.bind(1, record.principal.role.rawValue)
            $0.bind(2, record.principal.id)
            $0.bind(3, record.key)
        }) { StoredIdempotencyKey(operation: $0.string(0), fingerprint: $0.string(1), result: $0.string(2)) }
    }

    static func insert(_ record: IdempotencyRecord, operation: IdempotentOperation, result: String, at: Timestamp,
                       on connection: SQLiteConnection) throws {
        try connection.run("""
            INSERT INTO idempotency_keys (principal_role, principal_id, key, operation, fingerprint, result, created_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """) {
            $0.bind(1, record.principal.role.rawValue)
            $0.bind(2, record.principal.id)
            $0.bind(3, record.key)
            $0.bind(4, operation.rawValue)
            $0.bind(5, record.fingerprint)
            $0.bind(6, result)
            $0.bind(7, at.millisecondsSinceEpoch)
        }
    }
}
