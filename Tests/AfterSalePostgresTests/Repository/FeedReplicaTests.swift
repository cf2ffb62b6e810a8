import AfterSaleDomain
import AfterSaleStorage
import Foundation
import StorageConformance
import Synchronization
import Testing
@testable import AfterSalePostgres

@Suite("The event feed across replicas")
struct FeedReplicaTests {
    struct Rollback: Error {}

    /// What the appenders did: payloads of committed and of rolled-back transactions.
    final class Ledger: Sendable {
        private let state = Mutex<(committed: Set<[UInt8]>, rolledBack: Set<[UInt8]>)>(([], []))
        func committed(_ payloads: [[UInt8]]) { state.withLock { $0.committed.formUnion(payloads) } }
        func rolledBack(_ payloads: [[UInt8]]) { state.withLock { $0.rolledBack.formUnion(payloads) } }
        var snapshot: (committed: Set<[UInt8]>, rolledBack: Set<[UInt8]>) { state.withLock { $0 } }
    }

    @Test("appenders on three replicas, pausing before COMMIT and sometimes rolling back, give a tailer strictly consecutive cursors, every committed event and no rolled-back one")
    func commitOrderUnderConcurrency() async throws {
        let (seen, ledger) = try await Replicas.with("feed_order", count: 3) { replicas -> ([StoredEvent], Ledger) in
            let number = try await Replicas.storedCase(replicas[0])
            let ledger = Ledger()
            let appendersDone = Mailbox<Int>()
            let appenders = 6, rounds = 25
            for appender in 0..<appenders {
                let replica = replicas[appender % replicas.count]
                Task {
                    for round in 0..<rounds {
                        let payloads = (0..<Int.random(in: 1...3)).map { Array("\(appender)-\(round)-\($0)".utf8) }
                        let events = payloads.map { Replicas.event(number, $0) }
                        if round % 4 == 0 {
                            // The public path: a message with its events, committed.
                            _ = try? await replica.appendMessage(
                                NewMessage(caseNumber: number, sender: .buyer("b-1"), text: "m", sentAt: StorageFixture.now),
                                idempotency: nil, events: { _ in events })
                            ledger.committed(payloads)
                            continue
                        }
                        // The repository's own write path, pausing between the insert and COMMIT (the
                        // window in which a cursor taken at insert would let a later cursor commit
                        // first), and rolling back one time in four after inserting.
                        let rollBack = Int.random(in: 0..<4) == 0
                        let pause = UInt32.random(in: 0...15_000)
                        do {
                            let appended = try await replica.write("test append") { connection -> Bool in
                                let appended = try FeedRows.append(events, on: connection)
                                usleep(pause)
                                if rollBack { throw Rollback() }
                                return appended
                            }
                            ledger.committed(payloads)
                            await replica.settle(appended: appended)
                        } catch {
                            ledger.rolledBack(payloads)
                        }
                    }
                    appendersDone.put(appender)
                }
            }

            // The tailer, on another replica than most appenders, reading as a subscriber does.
            let tailer = replicas[2]
            var cursor: Int64 = 0
            var seen: [StoredEvent] = []
            let deadline = ContinuousClock.now.advanced(by: .seconds(120))
            while ContinuousClock.now < deadline {
                let batch = try await tailer.events(after: cursor, types: nil, limit: 7, scanLimit: 50)
                for (offset, event) in batch.events.enumerated() {
                    #expect(event.cursor == cursor + Int64(offset) + 1, "cursor \(event.cursor) after \(cursor + Int64(offset))")
                }
                // Unfiltered, a batch holds every position it scanned: nothing between it and the head is missing.
                #expect(batch.scannedThrough == (batch.events.last?.cursor ?? cursor), "a batch scanned past what it returned")
                seen += batch.events
                cursor = max(cursor, batch.scannedThrough)
                if batch.events.isEmpty {
                    if appendersDone.count == appenders, cursor == (try await tailer.eventFeedHead()) { break }
                    await tailer.waitForEvents(after: cursor, timeout: .milliseconds(200))
                }
            }
            #expect(ContinuousClock.now < deadline, "the tailer did not finish")
            return (seen, ledger)
        }
        let (committed, rolledBack) = ledger.snapshot
        #expect(seen.map(\.cursor) == Array(1...Int64(seen.count)))
        #expect(Set(seen.map(\.payload)) == committed, "every committed event, and only those")
        #expect(Set(seen.map(\.payload)).isDisjoint(with: rolledBack))
        #expect(seen.count == committed.count, "no event twice")
        #expect(!rolledBack.isEmpty, "the run rolled back nothing, so it showed nothing about rollbacks")
    }

    @Test("a waiter on one replica returns promptly when another replica commits an event")
    func wakeUpAcrossReplicas() async throws {
        try await Replicas.with("feed_wake", count: 2) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            let number = try await Replicas.storedCase(b)
            let head = try await a.eventFeedHead()
            let clock = ContinuousClock()
            let waiter = Task { () -> Duration in
                let start = clock.now
                await a.waitForEvents(after: head, timeout: .seconds(60))
                return clock.now - start
            }
            try await Task.sleep(for: .milliseconds(100))
            _ = try await b.appendMessage(NewMessage(caseNumber: number, sender: .buyer("b-1"), text: "hi", sentAt: StorageFixture.now),
                                          idempotency: nil, events: { _ in [Replicas.event(number, [1])] })
            let waited = await waiter.value
            #expect(waited < .seconds(30), "woken by the notification, not by the 60 s timeout")
            #expect(try await a.eventFeedHead() == head + 1)
        }
    }

    @Test("after the listener's connection is killed, a commit on another replica still wakes the waiter (notification or catch-up)")
    func wakeUpAfterListenerReconnects() async throws {
        try await Replicas.with("feed_reconnect", count: 2) { replicas in
            let (a, b) = (replicas[0], replicas[1])
            let number = try await Replicas.storedCase(b)
            let head = try await a.eventFeedHead()
            let waiter = Task { () -> Duration in
                let start = ContinuousClock.now
                await a.waitForEvents(after: head, timeout: .seconds(60))
                return ContinuousClock.now - start
            }
            let pid = a.listener.backendPID
            try await onThread { try TestDatabase.terminate(pid, using: TestDatabase.admin()) }
            _ = try await b.appendMessage(NewMessage(caseNumber: number, sender: .buyer("b-1"), text: "hi", sentAt: StorageFixture.now),
                                          idempotency: nil, events: { _ in [Replicas.event(number, [2])] })
            #expect(await waiter.value < .seconds(30))
            #expect(await a.listener.waitUntilListening(timeout: .seconds(10)))
        }
    }

    @Test("reading near Int64.max saturates instead of overflowing, and acknowledgements stay between the stored cursor and the head")
    func extremeCursors() async throws {
        try await Replicas.with("feed_extremes", count: 1) { replicas in
            let repository = replicas[0]
            let number = try await Replicas.storedCase(repository)
            _ = try await repository.appendMessage(NewMessage(caseNumber: number, sender: .buyer("b-1"), text: "x", sentAt: StorageFixture.now),
                                                   idempotency: nil, events: { _ in [Replicas.event(number, [1]), Replicas.event(number, [2])] })
            let far = try await repository.events(after: .max - 1, types: nil, limit: 10, scanLimit: .max)
            #expect(far == EventBatch(events: [], scannedThrough: .max - 1))
            let all = try await repository.events(after: 0, types: nil, limit: .max, scanLimit: .max)
            #expect(all.events.map(\.cursor) == [1, 2])
            #expect(all.scannedThrough == 2)
            let none = try await repository.events(after: 0, types: [], limit: 10, scanLimit: 10)
            #expect(none == EventBatch(events: [], scannedThrough: 2))
            #expect(try await repository.acknowledge(consumer: "c", cursor: 2, at: StorageFixture.now) == 2)
            #expect(try await repository.acknowledge(consumer: "c", cursor: 1, at: StorageFixture.now) == 2)
            await #expect(throws: DomainError.self) {
                try await repository.acknowledge(consumer: "c", cursor: .max, at: StorageFixture.now)
            }
        }
    }
}
