import CSQLite
import Dispatch
import Foundation
import Synchronization

/// Runs every write on one thread and commits the writes that arrive together in one
/// transaction, so one fsync serves many callers (group commit).
///
/// A write that throws is undone alone and its caller gets the error; the others still commit
/// (see `commit(_:)` for how, without a savepoint per write). No caller hears back before the
/// COMMIT that holds its write has returned, so an acknowledged write is on disk (with
/// `synchronous=FULL`).
public final class GroupCommitWriter: @unchecked Sendable {
    private let connection: SQLiteConnection
    private let pending = Mutex<[WriteJob]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let transactionCount = Atomic<Int>(0)
    private let writeCount = Atomic<Int>(0)
    /// The most writes one transaction takes.
    public let maxBatch: Int

    /// Starts the writer thread on `connection`, which it owns from now on (and closes on ``close()``).
    public init(connection: SQLiteConnection, maxBatch: Int = 256) {
        self.connection = connection
        self.maxBatch = maxBatch
        let thread = Thread { [self] in run() }
        thread.name = "sqlite-writer"
        thread.start()
    }

    /// Runs `body` in the next group transaction and returns its result once that transaction is durable.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let job = WriteJob(
                run: { connection in box.value = try body(connection) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let value = box.value {
                        continuation.resume(returning: value)
                    } else {
                        continuation.resume(throwing: StorageClosed())
                    }
                })
            let accepted = pending.withLock { jobs -> Bool in
                if stopping.load(ordering: .acquiring) { return false }
                jobs.append(job)
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: StorageClosed()) }
        }
    }

    /// Group transactions committed so far: far fewer than ``writes`` when writes arrive together.
    public var transactions: Int { transactionCount.load(ordering: .relaxed) }

    /// Writes that committed so far (a write that threw is not counted).
    public var writes: Int { writeCount.load(ordering: .relaxed) }

    /// Finishes the writes already queued, then stops the thread.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        stopped.wait()
    }

    private func run() {
        while true {
            wake.wait()
            var batch = pending.withLock { jobs -> [WriteJob] in
                let n = min(jobs.count, maxBatch)
                let taken = Array(jobs.prefix(n))
                jobs.removeFirst(n)
                return taken
            }
            if batch.isEmpty {
                if stopping.load(ordering: .acquiring) && pending.withLock({ $0.isEmpty }) { break }
                continue
            }
            // Anything left behind needs another turn.
            if !pending.withLock({ $0.isEmpty }) { wake.signal() }
            commit(&batch)
        }
        connection.close()
        stopped.signal()
    }

    private func commit(_ batch: inout [WriteJob]) {
        // Almost every write either succeeds or fails before it changes a row (its checks come
        // first), so the batch first runs without savepoints: a savepoint makes SQLite copy every
        // page the write touches into a sub-journal, which is most of a small write's cost. Only
        // when a write fails after changing rows is the transaction rolled back and the batch run
        // again, each write in its own savepoint. Writes are plain SQL on this connection, so
        // running one again after a rollback is safe.
        for isolated in [false, true] {
            switch run(batch, isolated: isolated) {
            case .committed(let results):
                return finish(batch, results)
            case .failed(let error):
                return batch.forEach { $0.finish(error) }
            case .needsIsolation:
                continue  // only the first pass asks for it
            }
        }
    }

    private enum BatchOutcome {
        /// Committed; the error of each write that failed (and changed nothing), nil for the others.
        case committed([(any Error)?])
        /// Nothing committed; every caller gets this error.
        case failed(any Error)
        /// A write failed after changing rows: rolled back, run again with savepoints.
        case needsIsolation
    }

    private func run(_ batch: [WriteJob], isolated: Bool) -> BatchOutcome {
        var results: [(any Error)?] = []
        results.reserveCapacity(batch.count)
        // The transaction statements are prepared once and cached: sqlite3_exec would parse each
        // of them again for every write.
        do {
            try connection.run("BEGIN IMMEDIATE")
        } catch {
            return .failed(error)
        }
        for job in batch {
            let changesBefore = connection.totalChanges
            do {
                if isolated { try connection.run("SAVEPOINT w") }
                try job.run(connection)
                if isolated { try connection.run("RELEASE w") }
                results.append(nil)
            } catch {
                guard connection.isInTransaction else {
                    // Some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) roll the whole transaction
                    // back: the writes before this one are gone too, so nobody may hear success.
                    return .failed(error)
                }
                if isolated {
                    _ = try? connection.run("ROLLBACK TO w")
                    _ = try? connection.run("RELEASE w")
                } else if connection.totalChanges != changesBefore {
                    _ = try? connection.run("ROLLBACK")
                    return .needsIsolation
                }
                results.append(error)
            }
        }
        do {
            try connection.run("COMMIT")
        } catch {
            _ = try? connection.run("ROLLBACK")
            return .failed(error)
        }
        return .committed(results)
    }

    private func finish(_ batch: [WriteJob], _ results: [(any Error)?]) {
        transactionCount.add(1, ordering: .relaxed)
        writeCount.add(results.count(where: { $0 == nil }), ordering: .relaxed)
        for (job, result) in zip(batch, results) { job.finish(result) }
    }
}

/// One queued write and how to tell its caller.
struct WriteJob: Sendable {
    let run: @Sendable (SQLiteConnection) throws -> Void
    let finish: @Sendable ((any Error)?) -> Void
}

/// Carries a write's value from the writer thread to its caller; written before `finish`, read after.
final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// The storage was closed before the call could run.
public struct StorageClosed: Error, CustomStringConvertible {
    /// Says the storage is closed.
    public var description: String { "the storage is closed" }
}
