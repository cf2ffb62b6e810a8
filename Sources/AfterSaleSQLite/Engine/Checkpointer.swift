import Dispatch
import Foundation
import Synchronization

/// Copies committed WAL frames back into the database file on its own thread and connection.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold, so the writer
/// (and every caller waiting on that group transaction) would wait for the checkpoint's writes and
/// fsync. A PASSIVE checkpoint from another connection does the same work without blocking the
/// writer or the readers; the writer keeps a high automatic threshold only as a backstop.
public final class Checkpointer: @unchecked Sendable {
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let runs = Atomic<Int>(0)

    /// Starts checkpointing on `connection` (which it owns and closes) every `interval`.
    public init(connection: SQLiteConnection, interval: Duration = .milliseconds(100)) {
        let thread = Thread { [self] in run(connection, interval: interval) }
        thread.name = "sqlite-checkpointer"
        thread.start()
    }

    /// Checkpoints run so far.
    public var checkpoints: Int { runs.load(ordering: .relaxed) }

    /// Runs a last checkpoint and stops the thread.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake.signal()
        stopped.wait()
    }

    private func run(_ connection: SQLiteConnection, interval: Duration) {
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        while true {
            let stop = wake.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success
                || stopping.load(ordering: .acquiring)
            // Failures (SQLITE_BUSY while another checkpoint runs) are harmless: the next turn retries.
            _ = try? connection.queryOne("PRAGMA wal_checkpoint(PASSIVE)") { $0.int64(0) }
            runs.add(1, ordering: .relaxed)
            if stop { break }
        }
        connection.close()
        stopped.signal()
    }
}
