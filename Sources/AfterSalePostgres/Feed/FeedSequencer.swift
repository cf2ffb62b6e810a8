import ServiceKit
import Synchronization

/// Gives committed events their feed cursors, in rounds, after they commit (the design is in
/// ``FeedRows``). One per repository; the rounds of every replica take turns under one advisory lock.
///
/// - A writer that appended events calls ``sequence()`` after its COMMIT returned and waits for a
///   round that **started after** that call: the round's snapshot includes the writer's events, so
///   when the writer answers, its events have cursors. Callers that arrive while a round runs share
///   the next one: under load a round numbers many writers' events with one commit.
/// - A round numbers at most `batchLimit` events and repeats while it found that many.
/// - The backstop: every `backstopInterval` it looks for events nobody numbered (their writer's
///   replica died between its commit and its round) and numbers them.
/// - A failed round (the database went away) is logged; the writers waiting on it are released all
///   the same (their changes committed) and the next round or the backstop numbers their events.
final class FeedSequencer: Sendable {
    private struct State {
        /// Requests so far; request n is served by the first round that starts after it.
        var requested: UInt64 = 0
        /// Every request up to this one has been served.
        var served: UInt64 = 0
        var running = false
        var waiters: [(request: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    /// The advisory lock of sequencing rounds ("AftSeqnc"); different from the migrator's.
    static let lockKey: Int64 = 0x4166_7453_6571_6e63

    private let state = Mutex(State())
    private let pool: PostgresPool
    private let channel: String
    private let batchLimit: Int
    private let advanced: @Sendable (Int64) -> Void
    private let logger: Logger
    private let backstop = Mutex<Task<Void, Never>?>(nil)

    /// - Parameter advanced: called with the new head after every round that numbered events.
    init(pool: PostgresPool, channel: String, batchLimit: Int = 5_000, logger: Logger,
         advanced: @escaping @Sendable (Int64) -> Void) {
        self.pool = pool
        self.channel = channel
        self.batchLimit = batchLimit
        self.logger = logger
        self.advanced = advanced
    }

    /// Returns after a round that started after this call ended (successfully or not).
    func sequence() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let start = state.withLock { state -> Bool in
                state.requested += 1
                state.waiters.append((state.requested, continuation))
                guard !state.running else { return false }
                state.running = true
                return true
            }
            if start { Task.detached { await self.drain() } }
        }
    }

    /// Runs rounds until every request so far is served.
    private func drain() async {
        while true {
            let target: UInt64? = state.withLock { state in
                guard state.served < state.requested else {
                    state.running = false
                    return nil
                }
                return state.requested
            }
            guard let target else { return }
            await runRounds()
            let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.served = target
                let ready = state.waiters.filter { $0.request <= target }.map(\.continuation)
                state.waiters.removeAll { $0.request <= target }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }
    }

    /// Rounds until one finds fewer than `batchLimit` events (or fails).
    private func runRounds() async {
        let limit = batchLimit, channel = self.channel
        while true {
            do {
                let (numbered, head) = try await pool.run { connection in
                    try FeedRows.sequence(limit: limit, lockKey: Self.lockKey, channel: channel, on: connection)
                }
                if numbered > 0 { advanced(head) }
                if numbered < limit { return }
            } catch {
                logger.log(.warning, "a feed sequencing round failed; the next round or the backstop numbers its events",
                           ["error": String(describing: error)])
                return
            }
        }
    }

    /// Starts the backstop: every `interval`, numbers events whose writer did not (cancelled by ``stop()``).
    func startBackstop(interval: Duration) {
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                do {
                    if try await self.pool.run({ try FeedRows.hasUnsequenced(on: $0) }) { await self.sequence() }
                } catch {
                    // The database is away; the store's health monitor reports it.
                }
            }
        }
        backstop.withLock { $0 = task }
    }

    /// Stops the backstop.
    func stop() {
        backstop.withLock { $0?.cancel() }
    }
}
