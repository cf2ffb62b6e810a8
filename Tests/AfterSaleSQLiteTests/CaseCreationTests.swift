import AfterSaleDomain
import Foundation
import StorageConformance
import Testing
@testable import AfterSaleSQLite
import AfterSaleStorage

@Suite("Creating and loading cases (SQLite only)")
struct CaseCreationTests {
    @Test("case numbers follow one sequence per day and continue after reopening")
    func numbersPerDay() async throws {
        let directory = StorageFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let day1 = StorageFixture.now
        let day2 = day1.adding(days: 1)
        var repository = try SQLiteRepository.open(dataDirectory: directory)
        #expect(try await repository.nextCaseNumber(at: day1).sequence == 1)
        #expect(try await repository.nextCaseNumber(at: day1).sequence == 2)
        #expect(try await repository.nextCaseNumber(at: day2).sequence == 1)
        let stored = try await repository.nextCaseNumber(at: day1)
        try await StorageFixture.store(repository, StorageFixture.syntheticCase(sequence: stored.sequence, day: day1, createdAt: day1))
        repository.close()

        repository = try SQLiteRepository.open(dataDirectory: directory)
        defer { repository.close() }
        #expect(try await repository.nextCaseNumber(at: day1).sequence == stored.sequence + 1)
    }

}
