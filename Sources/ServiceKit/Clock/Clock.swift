import Foundation
import Synchronization

/// Where a process reads the wall time, in milliseconds since the Unix epoch: the system's in
/// production, a hand-moved one in tests. Code that needs "now" takes one of these instead of
/// reading the system clock, so its behaviour can be replayed.
public protocol EpochClock: Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    func millisecondsSinceEpoch() -> Int64
}

/// The system's real-time clock.
public struct SystemClock: EpochClock {
    /// The system clock.
    public init() {}

    public func millisecondsSinceEpoch() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// A clock that moves only when told to: for tests of timers and deadlines.
public final class ManualClock: EpochClock {
    private let current: Mutex<Int64>

    /// A clock reading `milliseconds` since the epoch.
    public init(millisecondsSinceEpoch milliseconds: Int64) {
        current = Mutex(milliseconds)
    }

    public func millisecondsSinceEpoch() -> Int64 { current.withLock { $0 } }

    /// Moves the clock forward by `milliseconds` (backwards when negative).
    public func advance(milliseconds: Int64) { current.withLock { $0 += milliseconds } }

    /// Sets the clock to `milliseconds` since the epoch.
    public func set(millisecondsSinceEpoch milliseconds: Int64) { current.withLock { $0 = milliseconds } }
}
