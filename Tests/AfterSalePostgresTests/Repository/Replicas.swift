import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Testing
@testable import AfterSalePostgres

/// Several repositories on one fresh schema, each with its own pool and listener: what separate
/// `aftersaled` replicas on one database are, inside one test process.
enum Replicas {
    /// Runs `body` with `count` repositories opened on a fresh schema, then closes them and drops it.
    static func with<T: Sendable>(_ label: String, count: Int, poolSize: Int = 3,
                                  leaseClock: PostgresRepository.LeaseClock = .database,
                                  _ body: @Sendable ([PostgresRepository]) async throws -> T) async throws -> T {
        try await TestSchema.with(label) { schema in
            let options = PostgresRepository.Options(poolSize: poolSize, notificationChannel: "feed_\(schema.name)",
                                                     leaseClock: leaseClock)
            var repositories: [PostgresRepository] = []
            do {
                for _ in 0..<count {
                    repositories.append(try await PostgresRepository.open(configuration: schema.configuration, options: options))
                }
                let value = try await body(repositories)
                for repository in repositories { repository.close() }
                return value
            } catch {
                for repository in repositories { repository.close() }
                throw error
            }
        }
    }

    /// An event about case `number` with `payload`.
    static func event(_ number: CaseNumber?, _ payload: [UInt8], type: EventType = .messageAdded) -> OutboxEvent {
        OutboxEvent(type: type, caseNumber: number, orderID: "o-1", occurredAt: StorageFixture.now, payload: payload)
    }

    /// A stored case to hang messages and events on.
    static func storedCase(_ repository: PostgresRepository, sequence: Int = 1) async throws -> CaseNumber {
        let transition = StorageFixture.syntheticCase(sequence: sequence, createdAt: StorageFixture.now)
        try await StorageFixture.store(repository, transition)
        return transition.afterSale.number
    }
}

/// Released by one ``open()``: lets tasks start a race together.
final class StartLine: Sendable {
    private let opened = Mailbox<Bool>()

    func open() { opened.put(true) }

    /// Waits (bounded) until the line opens.
    func wait() async { _ = await opened.wait(for: .seconds(30)) }
}

/// Unix milliseconds by this process's clock.
func wallClockNow() -> Timestamp {
    Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
}
