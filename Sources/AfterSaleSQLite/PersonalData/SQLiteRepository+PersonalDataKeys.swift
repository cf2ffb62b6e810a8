import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    public func personalDataKeys(of buyerID: String) async throws -> [PersonalDataKeyRecord] {
        try await read { connection in
            try connection.query("""
                SELECT generation, wrapped_key, created_at, erased_at FROM personal_data_keys WHERE buyer_id = ?1 ORDER BY generation
                """, bind: { $0.bind(1, buyerID) }) { row in
                PersonalDataKeyRecord(buyerID: buyerID, generation: row.int(0), wrappedKey: row.isNull(1) ? nil : row.blob(1),
                                      createdAt: Timestamp(millisecondsSinceEpoch: row.int64(2)),
                                      erasedAt: row.optionalInt64(3).map(Timestamp.init(millisecondsSinceEpoch:)))
            }
        }
    }

    public func insertPersonalDataKey(_ record: PersonalDataKeyRecord) async throws -> PersonalDataKeyRecord {
        try StorageContract.check(record)
        try await write { connection in
            try connection.run("""
                INSERT OR IGNORE INTO personal_data_keys (buyer_id, generation, wrapped_key, created_at, erased_at)
                VALUES (?1, ?2, ?3, ?4, ?5)
                """) { s in
                s.bind(1, record.buyerID).bind(2, Int64(record.generation)).bind(4, record.createdAt.millisecondsSinceEpoch)
                if let wrapped = record.wrappedKey { s.bind(3, blob: wrapped) }
                if let erased = record.erasedAt { s.bind(5, erased.millisecondsSinceEpoch) }
            }
        }
        guard let stored = try await personalDataKeys(of: record.buyerID).first(where: { $0.generation == record.generation }) else {
            throw RepositoryError.storageFailure("the data key of \(record.buyerID) generation \(record.generation) was not stored")
        }
        return stored
    }

    public func erasePersonalDataKeys(of buyerID: String, at: Timestamp) async throws -> Int {
        try await write { connection in
            try connection.run("""
                UPDATE personal_data_keys SET wrapped_key = NULL, erased_at = ?2 WHERE buyer_id = ?1 AND wrapped_key IS NOT NULL
                """) { $0.bind(1, buyerID).bind(2, at.millisecondsSinceEpoch) }
        }
    }
}
