import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    public func dispute(_ id: String) async throws -> Dispute? {
        try await read("dispute") { connection in
            try connection.queryOne("SELECT document FROM disputes WHERE dispute_id = $1", .text(id)) { try DisputeDocument.decode(try $0.bytes(0)) }
        }
    }

    public func disputes(ofOrder orderID: String) async throws -> [Dispute] {
        try await read("disputesOfOrder") { connection in
            try connection.query("SELECT document FROM disputes WHERE order_id = $1 ORDER BY opened_at, dispute_id",
                                 parameters: [.text(orderID)]) { try DisputeDocument.decode(try $0.bytes(0)) }
        }
    }

    public func listDisputes(_ query: DisputeQuery) async throws -> DisputePage {
        try StorageContract.check(query)
        let rows = try await read("listDisputes") { connection -> [Dispute] in
            var sql = StatementBuilder()
            var clauses: [String] = []
            if let buyer = query.buyerID { clauses.append("buyer_id = \(sql.parameter(.text(buyer)))") }
            if let shop = query.shopID { clauses.append("shop_id = \(sql.parameter(.text(shop)))") }
            if let numbers = query.caseNumbers {
                let ids = numbers.map { String(CaseKey.id(of: $0)) }.sorted()
                clauses.append("case_id = ANY (\(sql.parameter(.text("{" + ids.joined(separator: ",") + "}")))::bigint[])")
            }
            if !query.statuses.isEmpty {
                let names = sql.parameter(.text(query.statuses.map(\.rawValue).sorted().joined(separator: ",")))
                clauses.append("status = ANY (string_to_array(\(names)::text, ','))")
            }
            if let from = query.openedFrom { clauses.append("opened_at >= \(sql.parameter(.time(from)))::bigint") }
            if let after = query.after {
                clauses.append("(opened_at, dispute_id) < (\(sql.parameter(.time(after.openedAt)))::bigint, \(sql.parameter(.text(after.id)))::text)")
            }
            let limit = sql.parameter(.int64(Int64(query.pageSize + 1)))
            let text = "SELECT document FROM disputes" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
                + " ORDER BY opened_at DESC, dispute_id DESC LIMIT \(limit)::bigint"
            return try connection.query(text, parameters: sql.parameters) { try DisputeDocument.decode(try $0.bytes(0)) }
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return DisputePage(disputes: page, next: last.map { DisputeCursor(openedAt: $0.openedAt, id: $0.id) })
    }

    public func disputesDue(at now: Timestamp, limit: Int) async throws -> [Dispute] {
        try await read("disputesDue") { connection in
            try connection.query("""
                SELECT document FROM disputes WHERE next_at IS NOT NULL AND next_at <= $1 ORDER BY next_at, dispute_id LIMIT $2
                """, parameters: [.time(now), .int64(Int64(max(0, limit)))]) { try DisputeDocument.decode(try $0.bytes(0)) }
        }
    }

    public func saveDispute(_ dispute: Dispute, expectedVersion: Int64, events: [OutboxEvent], basis: EligibilityBasis?) async throws {
        try StorageContract.check(dispute, expectedVersion: expectedVersion)
        let document = DisputeDocument.encode(dispute)
        let appended = try await write("saveDispute") { connection -> Bool in
            // The order's lock first, as a case change's basis check takes it: one of the two waits.
            if let basis { try CaseRows.check(basis, on: connection, saving: dispute.id) }
            let values: [PostgresValue] = [
                .text(dispute.id), .int64(CaseKey.id(of: dispute.caseNumber)), .text(dispute.orderID), .text(dispute.buyerID),
                .text(dispute.shopID), .text(dispute.status.rawValue), .time(dispute.openedAt), PostgresValue(dispute.nextAt?.millisecondsSinceEpoch),
                .int64(dispute.version), .bytes(document), .int64(expectedVersion),
            ]
            if expectedVersion == 0 {
                let inserted = try connection.execute("""
                    INSERT INTO disputes (dispute_id, case_id, order_id, buyer_id, shop_id, status, opened_at, next_at, version, document)
                    SELECT $1, $2, $3, $4, $5, $6, $7, $8::bigint, $9, $10 WHERE $11::bigint = 0 ON CONFLICT (dispute_id) DO NOTHING
                    """, parameters: values)
                guard inserted == 1 else { throw DomainError.duplicate(message: "dispute \(dispute.id) exists") }
            } else {
                let updated = try connection.execute("""
                    UPDATE disputes SET case_id = $2, order_id = $3, buyer_id = $4, shop_id = $5, status = $6, opened_at = $7,
                        next_at = $8::bigint, version = $9, document = $10
                    WHERE dispute_id = $1 AND version = $11
                    """, parameters: values)
                guard updated == 1 else {
                    let actual = try connection.queryOne("SELECT version FROM disputes WHERE dispute_id = $1", .text(dispute.id)) { try $0.int64(0) }
                    throw DomainError.versionConflict(expected: expectedVersion, actual: actual ?? 0)
                }
            }
            return try FeedRows.append(events, on: connection)
        }
        await settle(appended: appended)
    }
}
