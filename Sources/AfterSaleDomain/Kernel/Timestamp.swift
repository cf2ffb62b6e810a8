/// An instant in time as milliseconds since the Unix epoch (UTC); the domain never reads the system clock.
///
/// Callers pass "now" in explicitly (from a ``WallClock``), so every decision is reproducible in tests.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z; negative values are instants before the epoch.
    public var millisecondsSinceEpoch: Int64

    /// Creates an instant from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Milliseconds in one day (policy windows are counted in whole days of 24 hours).
    public static let millisecondsPerDay: Int64 = 86_400_000

    /// The instant `days` whole days later (earlier when negative), saturating instead of overflowing.
    public func adding(days: Int) -> Timestamp {
        let (milliseconds, overflow) = Int64(clamping: days).multipliedReportingOverflow(by: Self.millisecondsPerDay)
        if overflow { return Timestamp(millisecondsSinceEpoch: days < 0 ? Int64.min : Int64.max) }
        return adding(milliseconds: milliseconds)
    }

    /// The instant `milliseconds` later (earlier when negative), saturating instead of overflowing.
    public func adding(milliseconds: Int64) -> Timestamp {
        let (sum, overflow) = millisecondsSinceEpoch.addingReportingOverflow(milliseconds)
        if overflow { return Timestamp(millisecondsSinceEpoch: milliseconds < 0 ? Int64.min : Int64.max) }
        return Timestamp(millisecondsSinceEpoch: sum)
    }

    /// Orders instants chronologically.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The instant as milliseconds, e.g. `@1763683200000`.
    public var description: String { "@\(millisecondsSinceEpoch)" }
}

/// The source of "now" for the layers around the domain (named so it does not shadow the standard `Clock`).
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

/// A clock that always reads the same instant: for tests and for replaying recorded commands.
public struct FixedClock: WallClock, Equatable {
    /// The instant this clock reads.
    public var instant: Timestamp

    /// Creates a clock stopped at `instant`.
    public init(_ instant: Timestamp) { self.instant = instant }

    /// Returns the fixed instant.
    public func now() -> Timestamp { instant }
}
