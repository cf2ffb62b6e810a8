import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// Inserts the order, or replaces it under its row lock when the stored version is older, so
    /// concurrent snapshots of one order (late, out of order, from several replicas) settle on the newest.
    @discardableResult
    public func saveOrder(_ order: OrderSnapshot) async throws -> OrderSaveOutcome {
        let document = OrderDocument.encode(order)
        let values: [PostgresValue] = [.text(order.id), .int64(order.version), .text(order.buyerID), .text(order.shop.id),
                                       .text(order.status.rawValue), .bytes(document)]
        return try await write("saveOrder") { connection in
            let inserted = try connection.query("""
                INSERT INTO orders (order_id, version, buyer_id, shop_id, status, stored_at, document)
                VALUES ($1, $2, $3, $4, $5, floor(extract(epoch FROM now()) * 1000)::bigint, $6)
                ON CONFLICT (order_id) DO NOTHING RETURNING 1
                """, parameters: values)
            if !inserted.isEmpty { return .inserted }
            guard let stored = try connection.queryOne("SELECT version FROM orders WHERE order_id = $1 FOR UPDATE",
                                                        .text(order.id), decode: { try $0.int64(0) }) else {
                throw PostgresError(kind: .other, message: "order \(order.id) vanished while being saved")
            }
            guard stored < order.version else { return .ignored(storedVersion: stored) }
            try connection.execute("""
                UPDATE orders SET version = $2, buyer_id = $3, shop_id = $4, status = $5,
                    stored_at = floor(extract(epoch FROM now()) * 1000)::bigint, document = $6
                WHERE order_id = $1
                """, parameters: values)
            return .updated(previousVersion: stored)
        }
    }

    /// The stored snapshot of the order, or nil.
    public func order(_ id: String) async throws -> OrderSnapshot? {
        try await read("order") { connection in
            try connection.queryOne("SELECT document FROM orders WHERE order_id = $1", .text(id)) {
                try OrderDocument.decode(try $0.bytes(0))
            }
        }
    }
}
