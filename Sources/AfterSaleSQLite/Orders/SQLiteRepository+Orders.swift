import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension SQLiteRepository {
    @discardableResult
    public func saveOrder(_ order: OrderSnapshot) async throws -> OrderSaveOutcome {
        let document = OrderDocument.encode(order)
        let storedAt = Int64(Date().timeIntervalSince1970 * 1000)
        return try await write { connection in
            let stored = try connection.queryOne("SELECT version FROM orders WHERE order_id = ?1",
                                                 bind: { $0.bind(1, order.id) }) { $0.int64(0) }
            if let stored, stored >= order.version { return .ignored(storedVersion: stored) }
            try connection.run("""
                INSERT INTO orders (order_id, version, buyer_id, shop_id, status, stored_at, document)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                ON CONFLICT (order_id) DO UPDATE SET version = ?2, buyer_id = ?3, shop_id = ?4, status = ?5,
                    stored_at = ?6, document = ?7
                """) {
                $0.bind(1, order.id)
                $0.bind(2, order.version)
                $0.bind(3, order.buyerID)
                $0.bind(4, order.shop.id)
                $0.bind(5, order.status.rawValue)
                $0.bind(6, storedAt)
                $0.bind(7, blob: document)
            }
            return stored.map { .updated(previousVersion: $0) } ?? .inserted
        }
    }

    public func order(_ id: String) async throws -> OrderSnapshot? {
        try await read { connection in
            try connection.queryOne("SELECT document FROM orders WHERE order_id = ?1", bind: { $0.bind(1, id) }) {
                try OrderDocument.decode($0.blob(0))
            }
        }
    }
}
