import AfterSaleDomain
import AfterSaleStorage
import Testing

/// Buyers' wrapped data keys: one winner per generation, erasure keeps the row and drops the bytes.
struct PersonalDataKeyChecks: Sendable {
    let repository: any AfterSaleRepository

    static func key(_ buyer: String, generation: Int, byte: UInt8, at offset: Int64 = 0) -> PersonalDataKeyRecord {
        PersonalDataKeyRecord(buyerID: buyer, generation: generation, wrappedKey: [UInt8](repeating: byte, count: 60),
                              createdAt: StorageFixture.now.adding(milliseconds: offset))
    }

    func firstWriterWins() async throws {
        #expect(try await repository.personalDataKeys(of: "b-1").isEmpty)
        let first = Self.key("b-1", generation: 1, byte: 1)
        #expect(try await repository.insertPersonalDataKey(first) == first)
        // A second maker of generation 1 (another replica) gets the stored key back, not its own.
        #expect(try await repository.insertPersonalDataKey(Self.key("b-1", generation: 1, byte: 2, at: 5)) == first)
        #expect(try await repository.personalDataKeys(of: "b-1") == [first])
        #expect(try await repository.personalDataKeys(of: "b-2").isEmpty)
        // Sixteen makers of another buyer's first key at once: one key, the same for all of them.
        let results = try await withThrowingTaskGroup(of: PersonalDataKeyRecord.self) { group in
            for index in 0..<16 { group.addTask { try await repository.insertPersonalDataKey(Self.key("b-3", generation: 1, byte: UInt8(index))) } }
            var all: [PersonalDataKeyRecord] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(Set(results).count == 1)
        #expect(try await repository.personalDataKeys(of: "b-3") == [results[0]])
        await #expect(throws: RepositoryError.self) {
            try await repository.insertPersonalDataKey(PersonalDataKeyRecord(buyerID: "b-4", generation: 0, wrappedKey: [1],
                                                                             createdAt: StorageFixture.now))
        }
    }

    func erasureKeepsTheRow() async throws {
        let first = Self.key("b-1", generation: 1, byte: 1)
        _ = try await repository.insertPersonalDataKey(first)
        _ = try await repository.insertPersonalDataKey(Self.key("b-2", generation: 1, byte: 9))
        let at = StorageFixture.now.adding(milliseconds: 100)
        #expect(try await repository.erasePersonalDataKeys(of: "b-1", at: at) == 1)
        #expect(try await repository.erasePersonalDataKeys(of: "b-1", at: at) == 0)
        var erased = first
        erased.wrappedKey = nil
        erased.erasedAt = at
        #expect(try await repository.personalDataKeys(of: "b-1") == [erased])
        #expect(try await repository.personalDataKeys(of: "b-2").first?.wrappedKey == [UInt8](repeating: 9, count: 60))
        // After an erasure the buyer's next key is a new generation; the erased one stays erased.
        let second = Self.key("b-1", generation: 2, byte: 3, at: 200)
        #expect(try await repository.insertPersonalDataKey(second) == second)
        #expect(try await repository.personalDataKeys(of: "b-1") == [erased, second])
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("a buyer's data key generation is made once: racing makers all get the stored one") {
            try await PersonalDataKeyChecks(repository: $0).firstWriterWins()
        },
        ConformanceCheck("erasing a buyer's keys drops the wrapped bytes, keeps the rows, and the next key is a new generation") {
            try await PersonalDataKeyChecks(repository: $0).erasureKeepsTheRow()
        },
    ]
}
