import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    public func personalDataKeys(of buyerID: String) async throws -> [PersonalDataKeyRecord] {
        try await read("personalDataKeys") { connection in
            try connection.query("""
                SELECT generation, wrapped_key, created_at, erased_at FROM personal_data_keys WHERE buyer_id = $1 ORDER BY generation
                """, .text(buyerID)) { row in
                PersonalDataKeyRecord(buyerID: buyerID, generation: Int(try row.int64(0)), wrappedKey: try row.optionalBytes(1),
                                      createdAt: Timestamp(millisecondsSinceEpoch: try row.int64(2)),
                                      erasedAt: try row.optionalInt64(3).map(Timestamp.init(millisecondsSinceEpoch:)))
            }
        }
    }

    public func insertPersonalDataKey(_ record: PersonalDataKeyRecord) async throws -> PersonalDataKeyRecord {
        try StorageContract.check(record)
        try await write("insertPersonalDataKey") { connection in
            _ = try connection.execute("""
                INSERT INTO personal_data_keys (buyer_id, generation, wrapped_key, created_at, erased_at)
                VALUES ($1, $2, $3, $4, $5) ON CONFLICT (buyer_id, generation) DO NOTHING
                """, .text(record.buyerID), .int64(Int64(record.generation)), PostgresValue(record.wrappedKey),
                .time(record.createdAt), .time(record.erasedAt))
        }
        guard let stored = try await personalDataKeys(of: record.buyerID).first(where: { $0.generation == record.generation }) else {
            throw RepositoryError.storageFailure("the data key of \(record.buyerID) generation \(record.generation) was not stored")
        }
        return stored
    }

    public func erasePersonalDataKeys(of buyerID: String, at: Timestamp) async throws -> Int {
        try await write("erasePersonalDataKeys") { connection in
            try connection.execute("""
                UPDATE personal_data_keys SET wrapped_key = NULL, erased_at = $2 WHERE buyer_id = $1 AND wrapped_key IS NOT NULL
                """, .text(buyerID), .time(at))
        }
    }
}
