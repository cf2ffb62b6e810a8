import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Testing
@testable import AfterSalePostgres

@Suite("The audit chain with several replicas on one PostgreSQL")
struct AuditReplicaTests {
    @Test("trace records written on three replicas at once, while they read the chain, form one chain every replica reads alike")
    func oneChainAcrossReplicas() async throws {
        try await Replicas.with("audit", count: 3) { replicas in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, replica) in replicas.enumerated() {
                    group.addTask {
                        for round in 0..<8 {
                            let sequence = index * 100 + round + 1
                            let transition = StorageFixture.syntheticCase(sequence: sequence, createdAt: StorageFixture.now)
                            try await StorageFixture.store(replica, transition)
                            try await replica.recordTrace(TraceRecord(
                                caseNumber: transition.afterSale.number, actor: .merchant("m-\(index)", shop: "s-1"), step: .reject,
                                from: .pendingReview, to: .pendingReview, at: StorageFixture.now, outcome: .rejected,
                                details: "replica \(index) round \(round)"))
                        }
                    }
                    // Chaining rounds race with the writers.
                    group.addTask {
                        for _ in 0..<8 { _ = try await replica.auditHead() }
                    }
                }
                try await group.waitForAll()
            }
            var chains: [[AuditEntry]] = []
            for replica in replicas {
                let head = try await replica.auditHead()
                let entries = try await replica.auditEntries(after: 0, limit: 1_000)
                #expect(head.size == 48)
                try AuditChain.verify(entries, head: head)
                chains.append(entries)
            }
            #expect(chains.allSatisfy { $0 == chains[0] })
            #expect(chains[0].map(\.position) == Array(1...48))
            // Each case's records keep their order in the chain.
            for index in 0..<3 {
                let number = try CaseNumber(at: StorageFixture.story, sequence: index * 100 + 1)
                #expect(chains[0].map(\.record).filter { $0.caseNumber == number } == (try await replicas[0].traceRecords(of: number)))
            }
        }
    }

    @Test("migration 8 leaves the records stored before it to the first chaining round, which chains them in id order")
    func migrationChainsOlderRecords() async throws {
        try await TestSchema.with("auditmig") { schema in
            let numbers = try (1...3).map { try CaseNumber(at: StorageFixture.story, sequence: $0) }
            try await onThread {
                let connection = try schema.connect()
                defer { connection.close() }
                try PostgresMigrator.migrate(connection, migrations: Array(PostgresSchema.migrations.prefix(7)))
                for (offset, number) in numbers.reversed().enumerated() {
                    try connection.execute("""
                        INSERT INTO trace_records (case_id, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                                                   outcome, details, refund_id, trace_id)
                        VALUES ($1, $2, 'create', 'buyer', 'b-1', NULL, NULL, 'pending_review', 'applied', $3, NULL, '')
                        """, .int64(CaseKey.id(of: number)), .int64(1_000 + Int64(offset)), .bytes(Array("old \(offset)".utf8)))
                }
            }
            let repository = try await PostgresRepository.open(configuration: schema.configuration,
                                                               options: PostgresRepository.Options(poolSize: 2, notificationChannel: "feed_\(schema.name)"))
            defer { repository.close() }
            #expect(repository.migrationsApplied.first == 8)
            let head = try await repository.auditHead()
            let entries = try await repository.auditEntries(after: 0, limit: 10)
            #expect(head.size == 3)
            #expect(entries.map(\.record.caseNumber) == Array(numbers.reversed()))
            #expect(entries.map(\.record.details) == ["old 0", "old 1", "old 2"])
            try AuditChain.verify(entries, head: head)
        }
    }
}
