import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing `idempotency_keys`.
enum IdempotencyRows {
    static func find(_ record: IdempotencyRecord, on connection: SQLiteConnection) throws -> StoredIdempotencyKey? {
        try connection.queryOne("""
            SELECT operation, fingerprint, result, response FROM idempotency_keys
            WHERE principal_role = ?1 AND principal_id = ?2 AND key = ?3
            """, bind: {
            $0.bind(1, record.principal.role.rawValue)
            $0.bind(2, record.principal.id)
            $0.bind(3, record.key)
        }) { StoredIdempotencyKey(operation: $0.string(0), fingerprint: $0.string(1), result: $0.string(2),
                                 response: $0.isNull(3) ? nil : $0.blob(3)) }
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

    /// The response stored for `call`'s key (nil when unused); refused when spent on something else.
    static func response(for call: IdempotentCall, on connection: SQLiteConnection) throws -> [UInt8]? {
        try IdempotencyReplay.response(of: call, stored: try find(call.record, on: connection))
    }

    /// Spends `response`'s key on its call, keeping the response for identical retries.
    static func insert(_ response: IdempotentResponse, at: Timestamp, on connection: SQLiteConnection) throws {
        let record = response.call.record
        try connection.run("""
            INSERT INTO idempotency_keys (principal_role, principal_id, key, operation, fingerprint, result, created_at, response)
            VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7)
            """) {
            $0.bind(1, record.principal.role.rawValue)
            $0.bind(2, record.principal.id)
            $0.bind(3, record.key)
            $0.bind(4, response.call.operation)
            $0.bind(5, record.fingerprint)
            $0.bind(6, at.millisecondsSinceEpoch)
            $0.bind(7, blob: response.response)
        }
    }
}
