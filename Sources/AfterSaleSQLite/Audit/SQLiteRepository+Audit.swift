import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    public func auditEntries(after position: Int64, limit: Int) async throws -> [AuditEntry] {
        try StorageContract.checkAuditPage(after: position, limit: limit)
        return try await read { connection in try AuditRows.entries(after: position, limit: limit, on: connection) }
    }

    public func auditHead() async throws -> AuditHead {
        try await read { connection in try AuditRows.head(on: connection) }
    }

    public func saveAuditCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        try StorageContract.check(checkpoint)
        try await write { connection in try AuditRows.saveCheckpoint(checkpoint, on: connection) }
    }

    public func auditCheckpoints(after size: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try StorageContract.checkAuditPage(after: size, limit: limit)
        return try await read { connection in try AuditRows.checkpoints(after: size, limit: limit, on: connection) }
    }

    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await read { connection in try AuditRows.checkpoints(after: -1, limit: 1, descending: true, on: connection).first }
    }
}
