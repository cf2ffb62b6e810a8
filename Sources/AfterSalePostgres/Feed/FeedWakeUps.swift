import AfterSaleStorage
import ServiceKit

/// Tells this process's feed readers that events got cursors, on whichever replica.
///
/// Three sources advance the in-process ``AfterSaleStorage/EventFeedSignal``:
/// - this repository's own sequencing rounds, right after their COMMIT returned;
/// - the ``PostgresListener``'s notifications: every round that numbered events sends
///   `NOTIFY <channel>, '<new head>'`, delivered at its commit to every replica;
/// - a catch-up read of the head when the listener connects again, since notifications sent while
///   it was disconnected are lost.
///
/// Notifications are hints: a waiter's timeout stays the backstop, and readers always read the
/// events themselves from the database.
final class FeedWakeUps: Sendable {
    /// What waiting readers wait on.
    let signal = EventFeedSignal()
    private let pool: PostgresPool
    private let logger: Logger

    init(pool: PostgresPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Events up to `cursor` are committed.
    func advance(to cursor: Int64) {
        signal.advance(to: cursor)
    }

    /// A notification arrived (on the listener's thread): its payload is the new head.
    func notified(payload: String) {
        if let head = Int64(payload) {
            signal.advance(to: head)
        } else {
            catchUp()  // not ours, or malformed: look at the head itself
        }
    }

    /// Reads the head and advances to it (after the listener reconnected).
    func catchUp() {
        let pool = self.pool, signal = self.signal, logger = self.logger
        Task {
            do {
                let head = try await pool.run { connection in try FeedRows.head(on: connection) }
                signal.advance(to: head)
            } catch {
                logger.log(.warning, "the feed's catch-up read failed; waits rely on their timeout", ["error": String(describing: error)])
            }
        }
    }

    /// The listener failed to connect or lost its connection; it retries by itself.
    func listenerFailed(_ error: PostgresError) {
        logger.log(.warning, "the feed listener lost its connection; reconnecting", ["error": String(describing: error)])
    }
}
