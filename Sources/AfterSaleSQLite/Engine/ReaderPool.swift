import Dispatch
import Foundation
import Synchronization

/// A few threads, each with its own read-only connection, that run queries off the Swift task
/// pool (SQLite calls block). In WAL mode readers see the last committed state and never wait
/// for the writer.
public final class ReaderPool: @unchecked Sendable {
    private let pending = Mutex<[ReadJob]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let threads: Int
    private let stopped = DispatchSemaphore(value: 0)

    /// `open` makes one connection per thread.
    public init(threads: Int, open: () throws -> SQLiteConnection) throws {
        self.threads = threads
        for i in 0..<threads {
            let connection = try open()
            let thread = Thread { [self] in run(connection) }
            thread.name = "sqlite-reader-\(i)"
            thread.start()
        }
    }

    /// Runs `body` on a reader thread.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = ReadJob { connection in
                do { continuation.resume(returning: try body(connection)) } catch { continuation.resume(throwing: error) }
            }
            let accepted = pending.withLock { jobs -> Bool in
                if stopping.load(ordering: .acquiring) { return false }
                jobs.append(job)
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: StorageClosed()) }
        }
    }

    /// Stops every reader after the queued reads.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for _ in 0..<threads { wake.signal() }
        for _ in 0..<threads { stopped.wait() }
    }

    private func run(_ connection: SQLiteConnection) {
        while true {
            wake.wait()
            let job = pending.withLock { jobs -> ReadJob? in jobs.isEmpty ? nil : jobs.removeFirst() }
            if let job {
                job.run(connection)
            } else if stopping.load(ordering: .acquiring) {
                break
            }
        }
        connection.close()
        stopped.signal()
    }
}

struct ReadJob: Sendable {
    let run: @Sendable (SQLiteConnection) -> Void
}
