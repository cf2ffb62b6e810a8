import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// Chains every record committed so far (rounds of up to 5,000, see ``AuditRows``).
    func chainAudit() async throws {
        while try await write("chainAudit", { connection in try AuditRows.chain(limit: 5_000, on: connection) }) >= 5_000 {}
    }

    public func auditEntries(after position: Int64, limit: Int) async throws -> [AuditEntry] {
        try StorageContract.checkAuditPage(after: position, limit: limit)
        try await chainAudit()
        return try await read("auditEntries") { connection in try AuditRows.entries(after: position, limit: limit, on: connection) }
    }

    public func auditHead() async throws -> AuditHead {
        try await chainAudit()
        return try await read("auditHead") { connection in try AuditRows.head(on: connection) }
    }

    public func saveAuditCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        try StorageContract.check(checkpoint)
        try await write("saveAuditCheckpoint") { connection in try AuditRows.saveCheckpoint(checkpoint, on: connection) }
    }

    public func auditCheckpoints(after size: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try StorageContract.checkAuditPage(after: size, limit: limit)
        return try await read("auditCheckpoints") { connection in try AuditRows.checkpoints(after: size, limit: limit, on: connection) }
    }

    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await read("latestAuditCheckpoint") { connection in
            try AuditRows.checkpoints(after: -1, limit: 1, descending: true, on: connection).first
        }
    }
}
