/// The three-guarantees (三包) windows for a performance fault, in days from delivery.
public struct ThreeGuaranteesWindows: Sendable, Hashable {
    /// Within this many days: return, exchange or repair at the buyer's choice (7 by law).
    public var returnDays: Int
    /// Within this many days: exchange or repair (15 by law).
    public var exchangeDays: Int
    /// Within this many days (the warranty period): repair.
    public var warrantyDays: Int

    /// Creates three-guarantees windows.
    public init(returnDays: Int = 7, exchangeDays: Int = 15, warrantyDays: Int = 365) {
        self.returnDays = returnDays
        self.exchangeDays = exchangeDays
        self.warrantyDays = warrantyDays
    }
}

/// After-sale rules for one product category.
public struct CategoryPolicy: Sendable, Hashable {
    /// False for categories excluded from no-reason returns (custom-made, fresh, digital...).
    public var allowsNoReasonReturn: Bool
    /// Days from delivery within which a no-reason return may be asked for (7 by law).
    public var noReasonReturnDays: Int
    /// The three-guarantees windows for quality reasons.
    public var threeGuarantees: ThreeGuaranteesWindows
    /// Days from delivery within which the seller's fault, logistics or other reasons may be claimed.
    public var afterSaleWindowDays: Int

    /// Creates a category policy.
    public init(allowsNoReasonReturn: Bool = true, noReasonReturnDays: Int = 7,
                threeGuarantees: ThreeGuaranteesWindows = ThreeGuaranteesWindows(), afterSaleWindowDays: Int = 15) {
        self.allowsNoReasonReturn = allowsNoReasonReturn
        self.noReasonReturnDays = noReasonReturnDays
        self.threeGuarantees = threeGuarantees
        self.afterSaleWindowDays = afterSaleWindowDays
    }

    /// The law's defaults: 7-day no-reason returns; 三包 7/15 days and a one-year warranty; 15 days otherwise.
    public static let standard = CategoryPolicy()
}

/// How long each party has before a timer moves a case that nobody moves (in hours).
public struct TimerPolicy: Sendable, Hashable {
    /// Merchant silent on an application: approved automatically after this long.
    public var reviewHours: Int
    /// Buyer never ships an approved return: the case closes after this long.
    public var returnShipmentHours: Int
    /// Merchant never confirms a shipped return: receipt is confirmed automatically after this long.
    public var receiptHours: Int
    /// Buyer never confirms a replacement or repaired goods: confirmed automatically after this long.
    public var replacementConfirmationHours: Int

    /// Creates timer settings.
    public init(reviewHours: Int = 48, returnShipmentHours: Int = 7 * 24, receiptHours: Int = 10 * 24,
                replacementConfirmationHours: Int = 10 * 24) {
        self.reviewHours = reviewHours
        self.returnShipmentHours = returnShipmentHours
        self.receiptHours = receiptHours
        self.replacementConfirmationHours = replacementConfirmationHours
    }
}

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
