import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    public func rating(of subject: RatingSubject) async throws -> Rating? {
        let key = subject.description
        return try await read { connection in
            try connection.queryOne("SELECT document FROM ratings WHERE subject = ?1", bind: { $0.bind(1, key) }) {
                try RatingDocument.decode($0.blob(0))
            }
        }
    }

    public func saveRating(_ rating: Rating, expectedVersion: Int64, events: [OutboxEvent]) async throws {
        try StorageContract.check(rating, expectedVersion: expectedVersion)
        let document = RatingDocument.encode(rating)
        let last = try await write { connection -> Int64? in
            let key = rating.subject.description
            let stored = try connection.queryOne("SELECT version FROM ratings WHERE subject = ?1", bind: { $0.bind(1, key) }) {
                $0.int64(0)
            } ?? 0
            if expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "\(rating.subject) is rated already") }
            guard stored == expectedVersion else { throw DomainError.versionConflict(expected: expectedVersion, actual: stored) }
            try connection.run("""
                INSERT OR REPLACE INTO ratings (subject, shop_id, agent_id, rated_at, version, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """) { s in
                s.bind(1, key).bind(2, rating.shopID).bind(3, rating.agentID).bind(4, rating.ratedAt.millisecondsSinceEpoch)
                s.bind(5, rating.version).bind(6, blob: document)
            }
            return try EventRows.append(events, on: connection)
        }
        if let last { feedSignal.advance(to: last) }
    }

    public func ratings(_ query: RatingQuery) async throws -> RatingPage {
        try StorageContract.check(query)
        let rows = try await read { connection -> [Rating] in
            var clauses: [String] = []
            var texts: [(Int32, String)] = []
            var integers: [(Int32, Int64)] = []
            var next: Int32 = 0
            func text(_ value: String) -> String { next += 1; texts.append((next, value)); return "?\(next)" }
            func integer(_ value: Int64) -> String { next += 1; integers.append((next, value)); return "?\(next)" }
            if let shop = query.shopID { clauses.append("shop_id = \(text(shop))") }
            if let agent = query.agentID { clauses.append("agent_id = \(text(agent))") }
            if let from = query.from { clauses.append("rated_at >= \(integer(from.millisecondsSinceEpoch))") }
            if let before = query.before { clauses.append("rated_at < \(integer(before.millisecondsSinceEpoch))") }
            if let after = query.after {
                clauses.append("(rated_at, subject) < (\(integer(after.ratedAt.millisecondsSinceEpoch)), \(text(after.subject)))")
            }
            let limit = integer(Int64(query.pageSize + 1))
            let sql = "SELECT document FROM ratings" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
                + " ORDER BY rated_at DESC, subject DESC LIMIT \(limit)"
            return try connection.query(sql, bind: { s in
                for (index, value) in texts { s.bind(index, value) }
                for (index, value) in integers { s.bind(index, value) }
            }) { try RatingDocument.decode($0.blob(0)) }
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return RatingPage(ratings: page, next: last.map { RatingCursor(ratedAt: $0.ratedAt, subject: $0.subject.description) })
    }
}
