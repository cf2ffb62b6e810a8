import Foundation
import Synchronization

/// Wakes event-feed readers in this process when a commit appended events, so a subscriber hears
/// of a new event within moments of its commit instead of polling.
///
/// Writers call ``advance(to:)`` after their transaction committed; readers call
/// ``wait(after:timeout:)``, which returns at once if the feed is already past their cursor.
/// Waits are bounded by a timeout, so a reader also notices commits made by another process.
public final class EventFeedSignal: Sendable {
    private struct State {
        var head: Int64 = 0
        var nextID = 0
        var waiters: [Int: (cursor: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
        /// Waits whose timeout or cancellation came before they registered.
        var expired: Set<Int> = []
    }
    private let state = Mutex(State())

    /// A signal at cursor 0.
    public init() {}

    /// Records that events up to `cursor` are committed and wakes the readers behind it.
    public func advance(to cursor: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard cursor > state.head else { return [] }
            state.head = cursor
            let ready = state.waiters.filter { $0.value.cursor < cursor }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.map(\.value.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once an event after `cursor` committed, `timeout` passed, or the task was cancelled.
    public func wait(after cursor: Int64, timeout: Duration) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }  // cancelled: the wait is over
            self?.resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.expired.remove(id) != nil || state.head > cursor || Task.isCancelled { return true }
                    state.waiters[id] = (cursor, continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            resume(id)
        }
        timer.cancel()
        state.withLock { _ = $0.expired.remove(id) }
    }

    private func resume(_ id: Int) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                state.expired.insert(id)
                return nil
            }
            return waiter.continuation
        }
        continuation?.resume()
    }
}
