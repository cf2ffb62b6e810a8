/// A period in which countdowns stand still (JD pauses them over Spring Festival), for every shop
/// or for some: a wait that overlaps it ends later by the overlap.
///
/// Pauses are versioned like overrides: ending one early stores a new version with an earlier end.
public struct TimerPause: Sendable, Hashable {
    /// Its identifier.
    public var id: String
    /// When countdowns stop.
    public var startsAt: Timestamp
    /// When they resume.
    public var endsAt: Timestamp
    /// The shops it applies to; empty: every shop.
    public var shopIDs: [String]
    /// Why (shown to operators).
    public var reason: String
    /// 1 when created, one more for each change.
    public var version: Int64
    /// Who created or last changed it.
    public var setBy: Principal
    /// When.
    public var setAt: Timestamp

    /// Creates a pause.
    public init(id: String, startsAt: Timestamp, endsAt: Timestamp, shopIDs: [String], reason: String, version: Int64,
                setBy: Principal, setAt: Timestamp) {
        self.id = id
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.shopIDs = shopIDs
        self.reason = reason
        self.version = version
        self.setBy = setBy
        self.setAt = setAt
    }

    /// True when it stops the countdowns of `shopID`'s cases.
    public func applies(toShop shopID: String) -> Bool { shopIDs.isEmpty || shopIDs.contains(shopID) }

    /// The longest pause: 60 days.
    public static let maximumLengthMs: Int64 = 60 * 86_400_000

    /// Checks a new pause: it ends after it starts, lasts at most 60 days, starts no earlier than `now`
    /// (a pause never rewrites the past), names at most 1,000 shops, and has a reason.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public func validate(at now: Timestamp) throws(DomainError) {
        guard startsAt >= now else {
            throw .invalidArgument(field: "starts_at_unix_ms", message: "a pause cannot start in the past")
        }
        guard endsAt > startsAt else { throw .invalidArgument(field: "ends_at_unix_ms", message: "a pause must end after it starts") }
        guard endsAt.millisecondsSinceEpoch - startsAt.millisecondsSinceEpoch <= Self.maximumLengthMs else {
            throw .invalidArgument(field: "ends_at_unix_ms", message: "a pause lasts at most 60 days")
        }
        guard shopIDs.count <= 1_000, shopIDs.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 }) else {
            throw .invalidArgument(field: "shop_ids", message: "at most 1000 shop ids of 1 to 64 bytes")
        }
        guard !reason.isEmpty, reason.count <= 200 else {
            throw .invalidArgument(field: "reason", message: "a reason of 1 to 200 characters is required")
        }
    }
}

/// Countdowns that stand still during pauses: when a wait of some length, started at some instant,
/// runs out.
public enum PausableClock {
    /// The instant at which `durationMs` of unpaused time has passed since `start`.
    public static func instant(after durationMs: Int64, from start: Timestamp, pauses: [TimerPause], shopID: String) -> Timestamp {
        let windows = merged(pauses.filter { $0.applies(toShop: shopID) }.map { ($0.startsAt, $0.endsAt) })
        var now = start
        var remaining = max(0, durationMs)
        for (from, to) in windows where to > now {
            if from > now {
                let gap = from.millisecondsSinceEpoch - now.millisecondsSinceEpoch
                if remaining <= gap { return now.adding(milliseconds: remaining) }
                remaining -= gap
            }
            now = to
        }
        return now.adding(milliseconds: remaining)
    }

    /// Sorted, non-overlapping windows covering the same instants as `windows`.
    static func merged(_ windows: [(Timestamp, Timestamp)]) -> [(Timestamp, Timestamp)] {
        var result: [(Timestamp, Timestamp)] = []
        for window in windows.filter({ $0.1 > $0.0 }).sorted(by: { $0.0 < $1.0 }) {
            if let last = result.last, window.0 <= last.1 {
                result[result.count - 1].1 = max(last.1, window.1)
            } else {
                result.append(window)
            }
        }
        return result
    }
}
