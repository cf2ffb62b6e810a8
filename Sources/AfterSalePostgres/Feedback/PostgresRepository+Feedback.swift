import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    public func rating(of subject: RatingSubject) async throws -> Rating? {
        let key = subject.description
        return try await read("rating") { connection in
            try connection.queryOne("SELECT document FROM ratings WHERE subject = $1", .text(key)) { try RatingDocument.decode(try $0.bytes(0)) }
        }
    }

    public func saveRating(_ rating: Rating, expectedVersion: Int64, events: [OutboxEvent]) async throws {
        try StorageContract.check(rating, expectedVersion: expectedVersion)
        let document = RatingDocument.encode(rating)
        let key = rating.subject.description
        let appended = try await write("saveRating") { connection -> Bool in
            let values: [PostgresValue] = [.text(key), .text(rating.shopID), PostgresValue(rating.agentID), .time(rating.ratedAt),
                                           .int64(rating.version), .bytes(document), .int64(expectedVersion)]
            if expectedVersion == 0 {
                let inserted = try connection.execute("""
                    INSERT INTO ratings (subject, shop_id, agent_id, rated_at, version, document)
                    SELECT $1, $2, $3::text, $4, $5, $6 WHERE $7::bigint = 0 ON CONFLICT (subject) DO NOTHING
                    """, parameters: values)
                guard inserted == 1 else { throw DomainError.duplicate(message: "\(rating.subject) is rated already") }
            } else {
                let updated = try connection.execute("""
                    UPDATE ratings SET shop_id = $2, agent_id = $3::text, rated_at = $4, version = $5, document = $6
                    WHERE subject = $1 AND version = $7
                    """, parameters: values)
                guard updated == 1 else {
                    let actual = try connection.queryOne("SELECT version FROM ratings WHERE subject = $1", .text(key)) { try $0.int64(0) }
                    throw DomainError.versionConflict(expected: expectedVersion, actual: actual ?? 0)
                }
            }
            return try FeedRows.append(events, on: connection)
        }
        await settle(appended: appended)
    }

    public func ratings(_ query: RatingQuery) async throws -> RatingPage {
        try StorageContract.check(query)
        let rows = try await read("ratings") { connection -> [Rating] in
            var sql = StatementBuilder()
            var clauses: [String] = []
            if let shop = query.shopID { clauses.append("shop_id = \(sql.parameter(.text(shop)))") }
            if let agent = query.agentID { clauses.append("agent_id = \(sql.parameter(.text(agent)))") }
            if let from = query.from { clauses.append("rated_at >= \(sql.parameter(.time(from)))::bigint") }
            if let before = query.before { clauses.append("rated_at < \(sql.parameter(.time(before)))::bigint") }
            if let after = query.after {
                clauses.append("(rated_at, subject) < (\(sql.parameter(.time(after.ratedAt)))::bigint, \(sql.parameter(.text(after.subject)))::text)")
            }
            let limit = sql.parameter(.int64(Int64(query.pageSize + 1)))
            let text = "SELECT document FROM ratings" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
                + " ORDER BY rated_at DESC, subject DESC LIMIT \(limit)::bigint"
            return try connection.query(text, parameters: sql.parameters) { try RatingDocument.decode(try $0.bytes(0)) }
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return RatingPage(ratings: page, next: last.map { RatingCursor(ratedAt: $0.ratedAt, subject: $0.subject.description) })
    }
}
