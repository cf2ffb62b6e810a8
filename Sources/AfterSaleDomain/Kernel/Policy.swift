/// Every configurable after-sale rule: per-category windows, evidence limits and timers.
public struct PolicyConfig: Sendable, Hashable {
    /// The policy of categories without their own entry.
    public var defaultCategory: CategoryPolicy
    /// Policies by category name.
    public var categories: [String: CategoryPolicy]
    /// Limits on evidence references.
    public var evidence: EvidencePolicy
    /// Timer settings.
    public var timers: TimerPolicy
    /// Retries and leases of refund orders.
    public var refunds: RefundPolicy
    /// What carrier tracking updates may do to a case.
    public var tracking: TrackingPolicy

    /// Creates a policy configuration.
    public init(defaultCategory: CategoryPolicy = .standard, categories: [String: CategoryPolicy] = [:],
                evidence: EvidencePolicy = .standard, timers: TimerPolicy = TimerPolicy(),
                refunds: RefundPolicy = .standard, tracking: TrackingPolicy = TrackingPolicy()) {
        self.defaultCategory = defaultCategory
        self.categories = categories
        self.evidence = evidence
        self.timers = timers
        self.refunds = refunds
        self.tracking = tracking
    }

    /// The policy that applies to `category`.
    public func policy(for category: String) -> CategoryPolicy { categories[category] ?? defaultCategory }

    /// A copy in which the given categories are excluded from no-reason returns.
    public func excludingFromNoReasonReturns(_ excluded: Set<String>) -> PolicyConfig {
        var copy = self
        for category in excluded {
            var policy = copy.policy(for: category)
            policy.allowsNoReasonReturn = false
            copy.categories[category] = policy
        }
        return copy
    }

    /// Categories the law excludes from no-reason returns (消费者权益保护法 第二十五条).
    public static let legallyExcludedCategories: Set<String> = [
        "custom", "fresh", "digital", "audio_video_software", "newspapers_periodicals",
    ]

    /// The law's defaults, with the legally excluded categories excluded.
    public static let standard = PolicyConfig().excludingFromNoReasonReturns(legallyExcludedCategories)
}
