import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension SQLiteRepository {
    public func events(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int) async throws -> EventBatch {
        try await read { connection in
            try EventRows.read(after: cursor, types: types, limit: max(1, limit), scanLimit: scanLimit, on: connection)
        }
    }

    public func eventFeedHead() async throws -> Int64 {
        try await read { connection in try EventRows.head(on: connection) }
    }

    public func consumerCursor(_ consumer: String) async throws -> Int64? {
        try await read { connection in try EventRows.consumerCursor(consumer, on: connection) }
    }

    public func acknowledge(consumer: String, cursor: Int64, at instant: Timestamp) async throws -> Int64 {
        try await write { connection in
            let head = try EventRows.head(on: connection)
            guard cursor <= head else {
                throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)")
            }
            try connection.run("""
                INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (consumer) DO UPDATE SET cursor = max(cursor, ?2), updated_at = ?3
                """) {
                $0.bind(1, consumer)
                $0.bind(2, cursor)
                $0.bind(3, instant.millisecondsSinceEpoch)
            }
            return try EventRows.consumerCursor(consumer, on: connection) ?? cursor
        }
    }

    public func waitForEvents(after cursor: Int64, timeout: Duration) async {
        await feedSignal.wait(after: cursor, timeout: timeout)
    }
}
