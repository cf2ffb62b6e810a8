import AfterSaleDomain
import Testing
import AfterSaleStorage

/// Order snapshots.
struct OrderRepositoryChecks: Sendable {
    let repository: any AfterSaleRepository

    func roundTrip() async throws {
        let order = StorageFixture.order()
        #expect(try await repository.saveOrder(order) == OrderSaveOutcome.inserted)
        #expect(try await repository.order("o-1") == order)
        #expect(try await repository.order("o-404") == nil)
    }

    func versionsOnlyMoveForward() async throws {
        let v2 = StorageFixture.order(status: .shipped, version: 2)
        #expect(try await repository.saveOrder(v2) == OrderSaveOutcome.inserted)

        let late = StorageFixture.order(status: .paid, version: 1)
        #expect(try await repository.saveOrder(late) == OrderSaveOutcome.ignored(storedVersion: 2))
        var sameVersion = StorageFixture.order(status: .paid, version: 2)
        sameVersion.paymentChannel = "other"
        #expect(try await repository.saveOrder(sameVersion) == OrderSaveOutcome.ignored(storedVersion: 2))
        #expect(try await repository.order("o-1") == v2)

        let v3 = StorageFixture.order(status: .delivered, version: 3)
        #expect(try await repository.saveOrder(v3) == OrderSaveOutcome.updated(previousVersion: 2))
        #expect(try await repository.order("o-1") == v3)
    }
}

extension OrderRepositoryChecks {
    static let checks: [ConformanceCheck] = ([
        [ConformanceCheck("a saved order loads back equal, and an unknown one is nil") { try await OrderRepositoryChecks(repository: $0).roundTrip() }],
        [ConformanceCheck("an older or equal version is ignored and a newer one replaces the stored snapshot") { try await OrderRepositoryChecks(repository: $0).versionsOnlyMoveForward() }],
    ] as [[ConformanceCheck]]).flatMap { $0 }
}
