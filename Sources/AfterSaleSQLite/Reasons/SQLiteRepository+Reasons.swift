import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension SQLiteRepository {
    public func storedReasons() async throws -> [StoredReason] {
        try await cachedCatalog().stored
    }

    /// The catalog built once per change of the stored reasons, not once per call.
    public func reasonCatalog() async throws -> ReasonCatalog {
        try await cachedCatalog().catalog
    }

    private func cachedCatalog() async throws -> ReasonCatalogCache.Entry {
        try await reasonCache.entry {
            try await read { connection in
                try connection.query(ReasonRows.select + " ORDER BY sort_order, code", row: ReasonRows.decode)
            }
        }
    }

    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp) async throws -> StoredReason {
        let stored = try await write { connection in
            try Self.upsert(reason, expectedVersion: expectedVersion, at: instant, on: connection)
        }
        reasonCache.invalidate()  // after the commit: the next read sees the new entry
        return stored
    }

    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp, call: IdempotentCall,
                             respond: @escaping @Sendable (StoredReason) -> [UInt8]) async throws -> [UInt8] {
        let response = try await write { connection -> [UInt8] in
            if let stored = try IdempotencyRows.response(for: call, on: connection) { return stored }
            let response = respond(try Self.upsert(reason, expectedVersion: expectedVersion, at: instant, on: connection))
            try IdempotencyRows.insert(IdempotentResponse(call: call, response: response), at: instant, on: connection)
            return response
        }
        reasonCache.invalidate()
        return response
    }

    private static func upsert(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp,
                               on connection: SQLiteConnection) throws -> StoredReason {
        let current = try connection.queryOne("SELECT version FROM reasons WHERE code = ?1",
                                              bind: { $0.bind(1, reason.code) }) { $0.int64(0) } ?? 0
        if let expectedVersion, expectedVersion != current {
            throw DomainError.versionConflict(expected: expectedVersion, actual: current)
        }
        try ReasonRows.insert(reason, version: current + 1, at: instant.millisecondsSinceEpoch, on: connection)
        return StoredReason(reason: reason, version: current + 1, updatedAt: instant)
    }
}
