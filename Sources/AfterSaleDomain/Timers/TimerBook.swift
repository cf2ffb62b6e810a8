/// What a platform override of the timer defaults applies to.
public enum TimerScope: Sendable, Hashable, CustomStringConvertible {
    /// One shop's cases.
    case shop(String)
    /// Cases of goods in one product category.
    case category(String)

    /// `shop:ID` or `category:NAME`, as stored and shown.
    public var description: String {
        switch self {
        case .shop(let id): "shop:\(id)"
        case .category(let name): "category:\(name)"
        }
    }

    /// The scope `text` writes (`shop:ID` or `category:NAME`).
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` for anything else.
    public init(parsing text: String) throws(DomainError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].count <= 64,
              parts[1].unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x20 }) else {
            throw .invalidArgument(field: "scope", message: "'\(text)' is not shop:ID or category:NAME")
        }
        switch parts[0] {
        case "shop": self = .shop(parts[1])
        case "category": self = .category(parts[1])
        default: throw .invalidArgument(field: "scope", message: "'\(text)' is not shop:ID or category:NAME")
        }
    }
}

/// A versioned replacement of some of the platform's wait lengths for a shop or a category.
///
/// Each change is a new version (the old ones stay, so every timer can name the version it was
/// armed under); an override with no durations left restores the platform defaults.
public struct TimerOverride: Sendable, Hashable {
    /// What it applies to.
    public var scope: TimerScope
    /// The wait lengths it replaces, in milliseconds; rules not listed keep the platform's.
    public var durations: [TimerRule: Int64]
    /// 1 for the first version of the scope, one more for each change.
    public var version: Int64
    /// Who set it.
    public var setBy: Principal
    /// When.
    public var setAt: Timestamp

    /// Creates an override.
    public init(scope: TimerScope, durations: [TimerRule: Int64], version: Int64, setBy: Principal, setAt: Timestamp) {
        self.scope = scope
        self.durations = durations
        self.version = version
        self.setBy = setBy
        self.setAt = setAt
    }

    /// The longest wait an override may set: one year.
    public static let maximumDurationMs: Int64 = 366 * 86_400_000

    /// Checks every duration is between 1 ms and a year.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public func validate() throws(DomainError) {
        for (rule, duration) in durations where !(1...Self.maximumDurationMs).contains(duration) {
            throw .invalidArgument(field: "durations", message: "\(rule.rawValue) must be between 1 ms and 366 days, got \(duration) ms")
        }
    }
}

/// The wait a timer gets, and the policy it came from.
public struct ResolvedWait: Sendable, Hashable {
    /// The wait's length.
    public var durationMs: Int64
    /// How long before its end the reminder goes out (0: none).
    public var reminderLeadMs: Int64
    /// `platform`, or the override's scope and version (`shop:s-1@v3`).
    public var policyVersion: String

    /// Creates a resolved wait.
    public init(durationMs: Int64, reminderLeadMs: Int64, policyVersion: String) {
        self.durationMs = durationMs
        self.reminderLeadMs = reminderLeadMs
        self.policyVersion = policyVersion
    }
}

/// Every timer rule in force: the platform's defaults and the latest override of each scope.
///
/// A wait's length comes from the shop's override when it sets the rule, else from the longest of
/// the case's categories' overrides that set it (no party loses time a category grants), else from
/// the platform.
public struct TimerBook: Sendable, Hashable {
    /// The platform's defaults.
    public var platform: TimerPolicy
    /// The latest override of each scope.
    public var overrides: [TimerScope: TimerOverride]

    /// Creates a book.
    public init(platform: TimerPolicy, overrides: [TimerOverride] = []) {
        self.platform = platform
        self.overrides = Dictionary(overrides.map { ($0.scope, $0) }, uniquingKeysWith: { $0.version >= $1.version ? $0 : $1 })
    }

    /// The wait `rule` gets for a case of `shopID` over goods of `categories`.
    public func wait(_ rule: TimerRule, shopID: String, categories: [String]) -> ResolvedWait {
        let (duration, version): (Int64, String)
        if let shop = overrides[.shop(shopID)], let value = shop.durations[rule] {
            (duration, version) = (value, "\(shop.scope)@v\(shop.version)")
        } else if let best = Set(categories).compactMap({ overrides[.category($0)] })
            .compactMap({ o in o.durations[rule].map { (o, $0) } })
            .max(by: { ($0.1, $1.0.scope.description) < ($1.1, $0.0.scope.description) }) {
            (duration, version) = (best.1, "\(best.0.scope)@v\(best.0.version)")
        } else {
            (duration, version) = (platform.duration(rule), "platform")
        }
        return ResolvedWait(durationMs: duration, reminderLeadMs: platform.reminderLead(forWaitOf: duration), policyVersion: version)
    }
}
