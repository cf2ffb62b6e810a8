/// How refund orders are retried and leased to payment workers.
public struct RefundPolicy: Sendable, Hashable {
    /// Attempts (claims) allowed before a failed refund needs an agent's attention.
    public var maxAttempts: Int
    /// The wait after the first failed attempt; each later failure doubles it.
    public var initialBackoffMs: Int64
    /// The longest wait between attempts.
    public var maximumBackoffMs: Int64
    /// The lease a claim gets when the worker asks for none.
    public var defaultLeaseMs: Int64
    /// The shortest lease a worker may ask for.
    public var minimumLeaseMs: Int64
    /// The longest lease a worker may ask for.
    public var maximumLeaseMs: Int64

    /// Creates a refund policy; the defaults suit a payment channel that answers within seconds.
    public init(maxAttempts: Int = 5, initialBackoffMs: Int64 = 5_000, maximumBackoffMs: Int64 = 600_000,
                defaultLeaseMs: Int64 = 30_000, minimumLeaseMs: Int64 = 50, maximumLeaseMs: Int64 = 600_000) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.maximumBackoffMs = maximumBackoffMs
        self.defaultLeaseMs = defaultLeaseMs
        self.minimumLeaseMs = minimumLeaseMs
        self.maximumLeaseMs = maximumLeaseMs
    }

    /// The wait before the next attempt after `attempts` attempts failed: initial × 2^(attempts − 1), capped.
    public func backoff(afterAttempts attempts: Int) -> Int64 {
        let doublings = max(0, min(attempts - 1, 40))
        let (scaled, overflow) = initialBackoffMs.multipliedReportingOverflow(by: Int64(1) << doublings)
        return overflow ? maximumBackoffMs : min(scaled, maximumBackoffMs)
    }

    /// The lease to grant when a worker asks for `requestedMs` (0 = the default), clamped to the bounds.
    public func lease(requestedMs: Int64) -> Int64 {
        let asked = requestedMs <= 0 ? defaultLeaseMs : requestedMs
        return min(max(asked, minimumLeaseMs), maximumLeaseMs)
    }

    /// The standard policy.
    public static let standard = RefundPolicy()
}
