import RPCTransport
import Synchronization

/// A rate: so many events per second on average, with bursts of up to `burst` at once.
public struct Rate: Sendable, Equatable, CustomStringConvertible {
    /// Average events per second (> 0).
    public let perSecond: Double
    /// Events allowed at once after a quiet period (≥ 1).
    public let burst: Int

    /// A rate of `perSecond` with bursts of `burst`; nil unless `perSecond` > 0 and `burst` ≥ 1.
    public init?(perSecond: Double, burst: Int) {
        guard perSecond > 0, perSecond.isFinite, burst >= 1 else { return nil }
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Nanoseconds between events at the average rate (at least 1).
    var intervalNanos: UInt64 { UInt64(max(1, (1e9 / perSecond).rounded(.up))) }

    /// "50/s burst 100".
    public var description: String {
        let rate = perSecond == perSecond.rounded() ? String(Int(perSecond)) : String(perSecond)
        return "\(rate)/s burst \(burst)"
    }
}

/// Limits events per key (a caller, an address) with the generic cell rate algorithm (GCRA, as in
/// ATM networks and redis-cell): each key keeps one number, its theoretical arrival time (TAT). An
/// event at `now` is allowed when `TAT - now` stays within the burst tolerance; it then moves the
/// TAT one interval on. A refused event learns exactly how long to wait.
///
/// Thread-safe. Memory is bounded: past `capacity` keys, keys idle long enough to be back at a full
/// burst are forgotten (forgetting them changes nothing), and if that is not enough the oldest half
/// of the table goes.
public final class RateLimiter: Sendable {
    /// The rate every key gets.
    public let rate: Rate
    /// Keys kept at most (about).
    public let capacity: Int
    private let interval: UInt64
    private let tolerance: UInt64
    private let arrivals = Mutex<[String: UInt64]>([:])
    private let clock: @Sendable () -> UInt64

    /// A limiter of `rate` per key; `clock` gives monotonic nanoseconds (a parameter for tests).
    public init(rate: Rate, capacity: Int = 100_000, clock: @escaping @Sendable () -> UInt64 = { MonotonicClock.nanos() }) {
        self.rate = rate
        self.capacity = max(16, capacity)
        self.interval = rate.intervalNanos
        let (product, overflow) = rate.intervalNanos.multipliedReportingOverflow(by: UInt64(rate.burst - 1))
        self.tolerance = overflow ? UInt64.max / 4 : product
        self.clock = clock
    }

    /// Takes one event for `key`: nil when allowed, else how long until one would be (nothing is taken).
    public func acquire(_ key: String) -> Duration? {
        let now = clock()
        let wait = arrivals.withLock { table -> UInt64? in
            let tat = max(table[key] ?? now, now)
            let allowedFrom = tat > tolerance ? tat - tolerance : 0
            if now < allowedFrom { return allowedFrom - now }
            if table[key] == nil && table.count >= capacity { Self.prune(&table, now: now) }
            table[key] = tat &+ interval
            return nil
        }
        return wait.map { .nanoseconds(Int64(clamping: $0)) }
    }

    /// How long until `key` may have an event, without taking one; nil when it may now.
    public func waitTime(_ key: String) -> Duration? {
        let now = clock()
        let wait = arrivals.withLock { table -> UInt64? in
            guard let tat = table[key] else { return nil }
            let allowedFrom = tat > tolerance ? tat - tolerance : 0
            return now < allowedFrom ? allowedFrom - now : nil
        }
        return wait.map { .nanoseconds(Int64(clamping: $0)) }
    }

    /// Keys currently remembered.
    public var trackedKeys: Int { arrivals.withLock { $0.count } }

    /// Forgets keys whose TAT is so old that they are back at a full burst; if that frees less
    /// than a quarter, also the half with the oldest TATs.
    private static func prune(_ table: inout [String: UInt64], now: UInt64) {
        let before = table.count
        table = table.filter { $0.value > now }
        guard table.count > before - before / 4 else { return }
        let keep = table.sorted { $0.value > $1.value }.prefix(table.count / 2)
        table = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
