import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleSQLite
import AfterSaleStorage
import Foundation
import RPCWire
import SignedTokens
import Testing

// The audit trail as the platform verifies it: aftersalectl's verifier (AuditVerifier) reads the
// chain through aftersale.v1.Audit and recomputes it, while the tests tamper with the rows directly
// in the database (SQLite, or PostgreSQL when AFTERSALE_TEST_BACKEND=postgres).

extension Integration {
    @Suite("Audit: the trace records form a hash chain whose verifier catches every kind of tampering")
    struct AuditTests {
        /// Three cases and their actions (six trace records), checkpointed with a fresh key.
        static func story(_ f: IntegrationFixture) async throws -> NoteSigner {
            for (index, order) in ["o-a1", "o-a2", "o-a3"].enumerated() {
                try await f.upsert(TestOrder(id: order, status: .delivered))
                let created = try await f.create(Requests.create(order: order, kind: .returnAndRefund, reason: "no_reason_7_days",
                                                                 lines: [("l-3", 1)]))
                switch index {
                case 0: _ = try await f.afterSale.reviewAfterSale(Requests.approve(created), options: Callers.merchant())
                case 1: _ = try await f.afterSale.withdrawAfterSale(Requests.withdraw(created, note: "changed my mind"), options: Callers.buyer())
                default: break
                }
            }
            let signer = try NoteSigner(name: "aftersale.test/audit", privateKey: Ed25519PrivateKey.generate())
            let written = try await AuditCheckpointer(store: f.repository, signer: signer).checkpointNow()
            #expect(written?.size == 5)
            return signer
        }

        static func verify(_ f: IntegrationFixture, _ signer: NoteSigner, external: [String] = []) async throws(AuditVerificationError)
            -> AuditVerificationReport {
            try await AuditVerifier(key: signer.verifier).verify(f.client.audit, external: external, options: Callers.platform())
        }

        /// Runs `sql` (per backend) on the fixture's database, behind the server's back.
        static func tamper(_ f: IntegrationFixture, sqlite: String, postgres: String) async throws {
            if let database = f.store.database {
                try await TestPostgres.admin(postgres, server: database.url)
            } else {
                let connection = try SQLiteConnection(path: f.store.directory + "/aftersale.sqlite3")
                defer { connection.close() }
                try connection.execute("PRAGMA busy_timeout = 5000")
                try connection.execute(sqlite)
            }
        }

        /// Expects verification to fail at `position` of the chain.
        static func expectChainFailure(_ f: IntegrationFixture, _ signer: NoteSigner, at position: Int64,
                                       sourceLocation: SourceLocation = #_sourceLocation) async {
            do {
                let report = try await verify(f, signer)
                Issue.record("the tampered chain verified: \(report.records) records", sourceLocation: sourceLocation)
            } catch {
                guard case .chain(let failure) = error else {
                    Issue.record("expected a chain failure, got \(error)", sourceLocation: sourceLocation)
                    return
                }
                #expect(failure.position == position, "\(failure)", sourceLocation: sourceLocation)
            }
        }

        @Test("an untouched chain verifies with its checkpoint; only the platform may read it; another key is refused")
        func untouched() async throws {
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                let report = try await Self.verify(f, signer)
                #expect(report.records == 5)
                #expect(report.checkpointsMatched == 1)
                let note = try #require(report.latestCheckpointNote)
                #expect(try Checkpoint(note: note, verifier: signer.verifier).size == 5)

                // The chain's records are the cases' trace records, as GetAfterSale shows them.
                var request = ReadAuditChainRequest()
                request.pageSize = 2
                let page = try await f.client.audit.readAuditChain(request, options: Callers.platform())
                #expect(page.headSize == 5)
                #expect(page.records.map(\.position) == [1, 2])
                await #expect { _ = try await f.client.audit.readAuditChain(request, options: Callers.agent()) }
                    throws: { ($0 as? RPCError)?.code == .permissionDenied }

                // A checkpoint signed by another key does not verify.
                let stranger = try NoteSigner(name: signer.name, privateKey: Ed25519PrivateKey.generate())
                await #expect { _ = try await Self.verify(f, stranger) } throws: {
                    if case .checkpoint(let size, _) = $0 as? AuditVerificationError { return size == 5 }
                    return false
                }
            }
        }

        @Test("a modified record is caught at its position")
        func modified() async throws {
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                try await Self.tamper(f, sqlite: "UPDATE trace_records SET details = 'nothing happened' WHERE chain_position = 3",
                                      postgres: "UPDATE trace_records SET details = convert_to('nothing happened', 'UTF8') WHERE chain_position = 3")
                await Self.expectChainFailure(f, signer, at: 3)
            }
        }

        @Test("a deleted record is caught at its position, and the last one by the head and the checkpoint")
        func deleted() async throws {
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                try await Self.tamper(f, sqlite: "DELETE FROM trace_records WHERE chain_position = 3",
                                      postgres: "DELETE FROM trace_records WHERE chain_position = 3")
                await Self.expectChainFailure(f, signer, at: 3)
            }
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                let cut = "DELETE FROM trace_records WHERE chain_position = 5; UPDATE audit_head SET size = 4, "
                try await Self.tamper(f, sqlite: cut + "hash = (SELECT chain_hash FROM trace_records WHERE chain_position = 4)",
                                      postgres: cut + "hash = (SELECT chain_hash FROM trace_records WHERE chain_position = 4)")
                await Self.expectChainFailure(f, signer, at: 5)
            }
        }

        @Test("an inserted record is caught at its position")
        func inserted() async throws {
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                let shift = "UPDATE trace_records SET chain_position = chain_position + 1000000 WHERE chain_position >= 3; "
                    + "UPDATE trace_records SET chain_position = chain_position - 999999 WHERE chain_position >= 1000000; "
                    + "UPDATE audit_head SET size = size + 1; "
                try await Self.tamper(f, sqlite: shift + """
                    INSERT INTO trace_records (case_id, seq, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                                               outcome, details, refund_id, trace_id, chain_position, chain_hash)
                    SELECT case_id, seq + 100, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                           outcome, 'forged', refund_id, trace_id, 3, chain_hash FROM trace_records WHERE chain_position = 2
                    """, postgres: shift + """
                    INSERT INTO trace_records (case_id, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                                               outcome, details, refund_id, trace_id, chain_position, chain_hash)
                    SELECT case_id, at, step, actor_role, actor_id, actor_shop_id, from_status, to_status,
                           outcome, convert_to('forged', 'UTF8'), refund_id, trace_id, 3, chain_hash FROM trace_records WHERE chain_position = 2
                    """)
                await Self.expectChainFailure(f, signer, at: 3)
            }
        }

        @Test("two reordered records are caught at the first")
        func reordered() async throws {
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                let swap = "UPDATE trace_records SET chain_position = -3 WHERE chain_position = 3; "
                    + "UPDATE trace_records SET chain_position = 3 WHERE chain_position = 4; "
                    + "UPDATE trace_records SET chain_position = 4 WHERE chain_position = -3"
                try await Self.tamper(f, sqlite: swap, postgres: swap)
                await Self.expectChainFailure(f, signer, at: 3)
            }
        }

        @Test("a chain rewritten with fresh hashes passes its own hashes but not the signed checkpoint")
        func rewritten() async throws {
            try await IntegrationFixture.run { f in
                let signer = try await Self.story(f)
                let entries = try await f.repository.auditEntries(after: 0, limit: 100)
                var records = entries.map(\.record)
                records[1].details = "rewritten"
                let (forged, head) = try AuditChain.extend(.empty, with: records)
                func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
                var sqlite = "UPDATE trace_records SET details = 'rewritten' WHERE chain_position = 2; "
                var postgres = "UPDATE trace_records SET details = convert_to('rewritten', 'UTF8') WHERE chain_position = 2; "
                for entry in forged {
                    sqlite += "UPDATE trace_records SET chain_hash = x'\(hex(entry.hash))' WHERE chain_position = \(entry.position); "
                    postgres += "UPDATE trace_records SET chain_hash = decode('\(hex(entry.hash))', 'hex') WHERE chain_position = \(entry.position); "
                }
                sqlite += "UPDATE audit_head SET hash = x'\(hex(head.hash))'"
                postgres += "UPDATE audit_head SET hash = decode('\(hex(head.hash))', 'hex')"
                // The attacker also replaces the stored checkpoints: only one kept outside still knows.
                let kept = try #require(try await f.repository.latestAuditCheckpoint()).note
                try await Self.tamper(f, sqlite: sqlite + "; DELETE FROM audit_checkpoints", postgres: postgres + "; DELETE FROM audit_checkpoints")

                let report = try await Self.verify(f, signer)
                #expect(report.records == 5 && report.checkpointsMatched == 0)
                do {
                    _ = try await Self.verify(f, signer, external: [kept])
                    Issue.record("the rewritten chain matched the checkpoint kept outside")
                } catch {
                    guard case .chain(let failure)? = error as? AuditVerificationError else { Issue.record("\(error)"); return }
                    #expect(failure.position == 5, "\(failure)")
                }
            }
        }
    }
}
