import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
@testable import AfterSaleSQLite

/// Temporary SQLite databases for the SQLite backend's own tests.
extension StorageFixture {
    /// A fresh, empty directory under the system's temporary directory.
    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-storage-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Opens a repository in a new temporary directory, runs `body`, closes it and deletes the directory.
    static func withRepository<T>(options: SQLiteRepository.Options = .init(),
                                  _ body: (SQLiteRepository, String) async throws -> T) async throws -> T {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = try SQLiteRepository.open(dataDirectory: directory, options: options)
        do {
            let value = try await body(repository, directory)
            repository.close()
            return value
        } catch {
            repository.close()
            throw error
        }
    }
}
