/// The legal or business ground a catalog reason stands on; eligibility windows depend on it.
public enum ReasonBasis: String, Sendable, Hashable, CaseIterable {
    /// No reason needed: the 7-day no-reason return (七天无理由) counted from delivery.
    case noReason = "no_reason"
    /// A performance fault under the three guarantees (三包): 7-day, 15-day and warranty windows.
    case performanceFault = "performance_fault"
    /// The seller's fault: wrong, damaged, fake or not as described.
    case sellerFault = "seller_fault"
    /// A logistics problem: not received, lost or damaged in transit.
    case logistics
    /// Anything else (e.g. "no longer wanted" before shipment).
    case other
}

/// One reason a buyer may choose (售后原因), managed by the back office.
public struct Reason: Sendable, Hashable {
    /// The stable code, unique across the catalog, e.g. `quality_fault`.
    public var code: String
    /// The label shown to buyers.
    public var title: String
    /// The kinds of after-sale this reason may be chosen for.
    public var kinds: Set<AfterSaleKind>
    /// The ground the reason stands on.
    public var basis: ReasonBasis
    /// True when the buyer must attach evidence when choosing it.
    public var requiresEvidence: Bool
    /// False when retired: no longer offered, still shown on old cases.
    public var isActive: Bool
    /// Display order, ascending.
    public var sortOrder: Int

    /// Creates a catalog entry.
    public init(code: String, title: String, kinds: Set<AfterSaleKind>, basis: ReasonBasis,
                requiresEvidence: Bool = false, isActive: Bool = true, sortOrder: Int = 0) {
        self.code = code
        self.title = title
        self.kinds = kinds
        self.basis = basis
        self.requiresEvidence = requiresEvidence
        self.isActive = isActive
        self.sortOrder = sortOrder
    }

    /// True for a quality reason under the three guarantees (三包).
    public var isQualityReason: Bool { basis == .performanceFault }

    /// Checks the entry before the back office stores it: a code of 1…64 lowercase letters, digits
    /// and `_`, a title, and at least one kind.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming the field.
    public func validate() throws(DomainError) {
        let allowed = code.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard !code.isEmpty, code.utf8.count <= 64, allowed else {
            throw .invalidArgument(field: "reason.code", message: "must be 1 to 64 characters of a-z, 0-9 and _, got \"\(code)\"")
        }
        guard !title.isEmpty else { throw .invalidArgument(field: "reason.label", message: "must not be empty") }
        guard !kinds.isEmpty else { throw .invalidArgument(field: "reason.kinds", message: "must name at least one kind") }
    }
}

/// The reasons buyers may choose, per kind (原因库).
public struct ReasonCatalog: Sendable, Equatable {
    /// The entries by code.
    public private(set) var reasonsByCode: [String: Reason]

    /// Creates a catalog; a later entry with the same code replaces an earlier one.
    public init(_ reasons: [Reason]) {
        reasonsByCode = [:]
        for reason in reasons { reasonsByCode[reason.code] = reason }
    }

    /// The entry with `code`, active or retired.
    public func reason(_ code: String) -> Reason? { reasonsByCode[code] }

    /// The reasons offered for `kind` (all kinds when nil), sorted by display order then code.
    public func reasons(for kind: AfterSaleKind?, includeInactive: Bool = false) -> [Reason] {
        reasonsByCode.values
            .filter { (kind == nil || $0.kinds.contains(kind!)) && (includeInactive || $0.isActive) }
            .sorted { ($0.sortOrder, $0.code) < ($1.sortOrder, $1.code) }
    }

    /// Adds or replaces an entry after validating it.
    public mutating func upsert(_ reason: Reason) throws(DomainError) {
        try reason.validate()
        reasonsByCode[reason.code] = reason
    }

    /// The reasons a platform starts with; the back office edits them later.
    public static let standard = ReasonCatalog([
        Reason(code: "no_longer_wanted", title: "不想要了 No longer wanted", kinds: [.refundOnly], basis: .other, sortOrder: 10),
        Reason(code: "wrong_order_details", title: "拍错/多拍 Ordered by mistake", kinds: [.refundOnly], basis: .other, sortOrder: 20),
        Reason(code: "not_shipped_in_time", title: "未按约定时间发货 Not shipped in time", kinds: [.refundOnly], basis: .sellerFault, sortOrder: 30),
        Reason(code: "no_reason_7_days", title: "七天无理由 7-day no-reason return", kinds: [.returnAndRefund, .exchange], basis: .noReason, sortOrder: 40),
        Reason(code: "quality_fault", title: "质量问题 Performance fault (三包)", kinds: [.returnAndRefund, .exchange, .repair], basis: .performanceFault, requiresEvidence: true, sortOrder: 50),
        Reason(code: "not_as_described", title: "与描述不符 Not as described", kinds: [.returnAndRefund, .exchange], basis: .sellerFault, requiresEvidence: true, sortOrder: 60),
        Reason(code: "wrong_item", title: "发错货 Wrong item sent", kinds: [.returnAndRefund, .exchange], basis: .sellerFault, requiresEvidence: true, sortOrder: 70),
        Reason(code: "damaged_in_transit", title: "运输途中损坏 Damaged in transit", kinds: [.returnAndRefund, .exchange], basis: .logistics, requiresEvidence: true, sortOrder: 80),
        Reason(code: "size_does_not_fit", title: "尺码不合适 Size does not fit", kinds: [.exchange], basis: .other, sortOrder: 90),
    ])
}
