import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// Every stored reason, active or retired, by sort order then code.
    public func storedReasons() async throws -> [StoredReason] {
        try await cachedCatalog().stored
    }

    /// The catalog, built once per change of the stored reasons on any replica, not once per call.
    public func reasonCatalog() async throws -> ReasonCatalog {
        try await cachedCatalog().catalog
    }

    private func cachedCatalog() async throws -> ReasonCatalogGenerationCache.Entry {
        let generation = try await read("reasonCatalogGeneration") { connection in try ReasonRows.generation(on: connection) }
        if let cached = reasonCache.entry(of: generation) { return cached }
        let (current, stored) = try await snapshot("storedReasons") { connection in try ReasonRows.load(on: connection) }
        let entry = ReasonCatalogGenerationCache.Entry(generation: current, stored: stored, catalog: ReasonCatalog(stored.map(\.reason)))
        reasonCache.keep(entry)
        return entry
    }

    /// Creates or replaces a reason, compare-and-set on its version under the row's lock.
    /// - Throws: ``AfterSaleDomain/DomainError/versionConflict(expected:actual:)`` (actual 0 when there is no entry).
    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp) async throws -> StoredReason {
        try await write("upsertReason") { connection in
            try ReasonRows.upsert(reason, expectedVersion: expectedVersion, at: instant, on: connection)
        }
    }

    /// ``upsertReason(_:expectedVersion:at:)`` under an idempotency key claimed first: an identical
    /// retry (on any replica) gets the stored response and changes nothing.
    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp, call: IdempotentCall,
                             respond: @escaping @Sendable (StoredReason) -> [UInt8]) async throws -> [UInt8] {
        try await write("upsertReason") { connection in
            if let stored = try IdempotencyRows.claim(call, at: instant, on: connection) { return stored }
            let response = respond(try ReasonRows.upsert(reason, expectedVersion: expectedVersion, at: instant, on: connection))
            try IdempotencyRows.store(response: response, for: call.record, on: connection)
            return response
        }
    }
}
