/// How long each wait lasts and how long before its end a reminder goes out, in milliseconds.
///
/// The platform's defaults come from configuration; ``TimerOverride`` replaces some of them for a
/// shop or a product category (see ``TimerBook``).
public struct TimerPolicy: Sendable, Hashable {
    /// The length of each wait.
    public var durations: [TimerRule: Int64]
    /// How long before a wait ends its reminder goes out (0: no reminder). A lead is never more
    /// than half the wait, so a short wait still reminds halfway.
    public var reminderLeadMs: Int64

    /// WeChat's after-sale rules: 48 h to answer, 7 d to ship the return, 10 d to confirm its receipt,
    /// 7 d to confirm a replacement; a reminder 12 h before.
    public static let marketplaceDefaults = TimerPolicy(durations: [
        .merchantReview: 48 * hour, .returnShipment: 7 * day, .receiptConfirmation: 10 * day, .replacementConfirmation: 7 * day,
    ], reminderLeadMs: 12 * hour)

    /// Creates a policy; rules missing from `durations` take the marketplace default.
    public init(durations: [TimerRule: Int64] = [:], reminderLeadMs: Int64 = 12 * 3_600_000) {
        var complete = durations
        for rule in TimerRule.allCases where complete[rule] == nil {
            complete[rule] = Self.defaultDuration(rule)
        }
        self.durations = complete
        self.reminderLeadMs = reminderLeadMs
    }

    /// The length of `rule`'s wait.
    public func duration(_ rule: TimerRule) -> Int64 { durations[rule] ?? Self.defaultDuration(rule) }

    /// The reminder lead of a wait of `duration`.
    public func reminderLead(forWaitOf duration: Int64) -> Int64 { max(0, min(reminderLeadMs, duration / 2)) }

    private static let hour: Int64 = 3_600_000
    private static let day: Int64 = 24 * hour

    private static func defaultDuration(_ rule: TimerRule) -> Int64 {
        switch rule {
        case .merchantReview: 48 * hour
        case .returnShipment: 7 * day
        case .receiptConfirmation: 10 * day
        case .replacementConfirmation: 7 * day
        }
    }
}
