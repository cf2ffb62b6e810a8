import Dispatch
import Foundation
import Synchronization

/// A fixed number of threads, each owning one PostgreSQL connection, that run jobs off the Swift
/// task pool (libpq calls block).
///
/// A thread connects when its first job arrives and reconnects when its connection has broken: a
/// connection the server ended while idle is noticed before the next job and replaced, so that job
/// does not fail; a job running when the connection breaks gets the ``PostgresError/Kind/connection``
/// error (the pool never runs a job twice, since it cannot know whether the job wrote).
///
/// When the server is unreachable a job fails promptly instead of waiting: one connection attempt
/// takes at most ``PostgresConfiguration/connectTimeoutSeconds`` (and a refused or missing socket
/// fails at once); after a failed attempt, jobs on that thread fail with the same error without
/// trying again until a backoff has passed (doubling from 50 ms up to `maxReconnectDelayMilliseconds`).
/// Callers retry as suits them.
///
/// Call ``close()`` when done: the threads keep the pool (and their connections) alive until then.
public final class PostgresPool: @unchecked Sendable {
    /// How every connection is opened.
    public let configuration: PostgresConfiguration
    /// The number of threads, and so the most connections the pool opens at once.
    public let size: Int
    private let maxReconnectDelayMilliseconds: Int
    private let pending = Mutex<[PoolJob]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let opened = Atomic<Int>(0)

    /// Starts `size` threads; no connection is opened until a job needs it.
    public init(configuration: PostgresConfiguration, size: Int, name: String = "postgres",
                maxReconnectDelayMilliseconds: Int = 1_000) {
        self.configuration = configuration
        self.size = max(1, size)
        self.maxReconnectDelayMilliseconds = maxReconnectDelayMilliseconds
        for index in 0..<self.size {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a pool thread with that thread's connection and returns what it returns.
    ///
    /// `body` may run several statements or a ``PostgresConnection/transaction(isolation:readOnly:resolveUnknownCommit:_:)``;
    /// a transaction it leaves open is rolled back afterwards. Cancelling the calling task does not
    /// stop a job already queued; bound the work with the session's `statement_timeout`.
    /// - Throws: `body`'s error; a ``PostgresError/Kind/connection`` error when no connection could be
    ///   opened; ``PostgresError/Kind/closed`` after ``close()``.
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = PoolJob(
                run: { connection in
                    do { continuation.resume(returning: try body(connection)) } catch { continuation.resume(throwing: error) }
                },
                fail: { error in continuation.resume(throwing: error) })
            let accepted = pending.withLock { jobs -> Bool in
                if stopping.load(ordering: .acquiring) { return false }
                jobs.append(job)
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: PostgresError.closed("pool")) }
        }
    }

    /// Jobs waiting for a thread (not counting those running).
    public var queuedJobs: Int { pending.withLock { $0.count } }

    /// Connections opened so far, reconnections included.
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    /// Runs the jobs already queued, then closes every connection and stops the threads. Later
    /// calls to ``run(_:)`` fail with ``PostgresError/Kind/closed``.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for _ in 0..<size { wake.signal() }
        for _ in 0..<size { stopped.wait() }
    }

    private func work() {
        var connection: PostgresConnection?
        var failedAttempts = 0
        var retryAt = ContinuousClock.now
        var lastFailure: PostgresError?
        while true {
            wake.wait()
            guard let job = pending.withLock({ jobs -> PoolJob? in jobs.isEmpty ? nil : jobs.removeFirst() }) else {
                if stopping.load(ordering: .acquiring) { break }
                continue
            }
            if let current = connection, !current.isAliveAfterIdle() {
                current.close()
                connection = nil
            }
            if connection == nil {
                if let lastFailure, ContinuousClock.now < retryAt {
                    job.fail(lastFailure)
                    continue
                }
                do {
                    connection = try PostgresConnection(configuration: configuration)
                    opened.add(1, ordering: .relaxed)
                    failedAttempts = 0
                    lastFailure = nil
                } catch {
                    failedAttempts += 1
                    let delay = min(50 << min(failedAttempts - 1, 16), maxReconnectDelayMilliseconds)
                    retryAt = ContinuousClock.now.advanced(by: .milliseconds(delay))
                    lastFailure = error
                    job.fail(error)
                    continue
                }
            }
            guard let current = connection else { continue }
            job.run(current)
            // Leave the connection clean for the next job, or drop it.
            current.rollBackQuietly()
            if current.isBroken || current.isInTransaction {
                current.close()
                connection = nil
            }
        }
        connection?.close()
        stopped.signal()
    }
}

/// One queued job and how to tell its caller it could not run.
struct PoolJob: Sendable {
    let run: @Sendable (PostgresConnection) -> Void
    let fail: @Sendable (PostgresError) -> Void
}
