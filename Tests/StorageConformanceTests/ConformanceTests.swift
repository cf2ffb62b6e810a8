import AfterSaleSQLite
import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Testing

// Every backend runs the same checks: the in-memory reference and the SQLite engine.

@Suite("Storage conformance: in memory (the reference)")
struct InMemoryConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conforms(_ check: ConformanceCheck) async throws {
        try await check.run(on: InMemoryHarness())
    }
}

@Suite("Storage conformance: SQLite")
struct SQLiteConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conforms(_ check: ConformanceCheck) async throws {
        try await check.run(on: SQLiteHarness())
    }
}

/// A new SQLite database in a temporary directory per check, deleted afterwards.
struct SQLiteHarness: StorageHarness {
    func withStore(_ body: (any AfterSaleRepository) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-conformance-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteRepository.open(dataDirectory: directory)
        defer { store.close() }
        try await body(store)
    }
}
