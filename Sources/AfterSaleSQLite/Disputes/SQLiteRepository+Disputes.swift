import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    public func dispute(_ id: String) async throws -> Dispute? {
        try await read { connection in
            try connection.queryOne("SELECT document FROM disputes WHERE dispute_id = ?1", bind: { $0.bind(1, id) }) {
                try DisputeDocument.decode($0.blob(0))
            }
        }
    }

    public func disputes(ofOrder orderID: String) async throws -> [Dispute] {
        try await read { connection in
            try connection.query("SELECT document FROM disputes WHERE order_id = ?1 ORDER BY opened_at, dispute_id",
                                 bind: { $0.bind(1, orderID) }) { try DisputeDocument.decode($0.blob(0)) }
        }
    }

    public func listDisputes(_ query: DisputeQuery) async throws -> DisputePage {
        try StorageContract.check(query)
        let rows = try await read { connection -> [Dispute] in
            var clauses: [String] = []
            var texts: [(Int32, String)] = []
            var integers: [(Int32, Int64)] = []
            var next: Int32 = 0
            func text(_ value: String) -> String { next += 1; texts.append((next, value)); return "?\(next)" }
            func integer(_ value: Int64) -> String { next += 1; integers.append((next, value)); return "?\(next)" }
            if let buyer = query.buyerID { clauses.append("buyer_id = \(text(buyer))") }
            if let shop = query.shopID { clauses.append("shop_id = \(text(shop))") }
            if let numbers = query.caseNumbers {
                let ids = numbers.map { CaseKey.id(of: $0) }.sorted()
                clauses.append(ids.isEmpty ? "0" : "case_id IN (" + ids.map(integer).joined(separator: ", ") + ")")
            }
            if !query.statuses.isEmpty {
                clauses.append("status IN (" + query.statuses.map(\.rawValue).sorted().map(text).joined(separator: ", ") + ")")
            }
            if let from = query.openedFrom { clauses.append("opened_at >= \(integer(from.millisecondsSinceEpoch))") }
            if let after = query.after {
                clauses.append("(opened_at, dispute_id) < (\(integer(after.openedAt.millisecondsSinceEpoch)), \(text(after.id)))")
            }
            let limit = integer(Int64(query.pageSize + 1))
            let sql = "SELECT document FROM disputes" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
                + " ORDER BY opened_at DESC, dispute_id DESC LIMIT \(limit)"
            return try connection.query(sql, bind: { s in
                for (index, value) in texts { s.bind(index, value) }
                for (index, value) in integers { s.bind(index, value) }
            }) { try DisputeDocument.decode($0.blob(0)) }
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return DisputePage(disputes: page, next: last.map { DisputeCursor(openedAt: $0.openedAt, id: $0.id) })
    }

    public func disputesDue(at now: Timestamp, limit: Int) async throws -> [Dispute] {
        try await read { connection in
            try connection.query("""
                SELECT document FROM disputes WHERE next_at IS NOT NULL AND next_at <= ?1 ORDER BY next_at, dispute_id LIMIT ?2
                """, bind: { $0.bind(1, now.millisecondsSinceEpoch).bind(2, max(0, limit)) }) { try DisputeDocument.decode($0.blob(0)) }
        }
    }

    public func saveDispute(_ dispute: Dispute, expectedVersion: Int64, events: [OutboxEvent], basis: EligibilityBasis?) async throws {
        try StorageContract.check(dispute, expectedVersion: expectedVersion)
        let document = DisputeDocument.encode(dispute)
        let last = try await write { connection -> Int64? in
            let stored = try connection.queryOne("SELECT version FROM disputes WHERE dispute_id = ?1", bind: { $0.bind(1, dispute.id) }) {
                $0.int64(0)
            } ?? 0
            if expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "dispute \(dispute.id) exists") }
            guard stored == expectedVersion else { throw DomainError.versionConflict(expected: expectedVersion, actual: stored) }
            if let basis { try Self.check(basis, on: connection, saving: dispute.id) }
            try connection.run("""
                INSERT OR REPLACE INTO disputes (dispute_id, case_id, order_id, buyer_id, shop_id, status, opened_at, next_at, version, document)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """) { s in
                s.bind(1, dispute.id).bind(2, CaseKey.id(of: dispute.caseNumber)).bind(3, dispute.orderID).bind(4, dispute.buyerID)
                s.bind(5, dispute.shopID).bind(6, dispute.status.rawValue).bind(7, dispute.openedAt.millisecondsSinceEpoch)
                s.bind(8, dispute.nextAt?.millisecondsSinceEpoch).bind(9, dispute.version).bind(10, blob: document)
            }
            return try EventRows.append(events, on: connection)
        }
        if let last { feedSignal.advance(to: last) }
    }
}
