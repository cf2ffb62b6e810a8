/// A rule an application for an after-sale must satisfy; a refusal names the rule that refused.
public enum EligibilityRule: String, Sendable, Hashable, CaseIterable {
    /// The order is not known to after-sales.
    case orderUnknown
    /// Refund only needs an order that is paid and not yet shipped.
    case refundOnlyNeedsUnshippedOrder
    /// Return and refund needs an order that has shipped (delivered or not).
    case returnNeedsShippedOrder
    /// Exchange and repair need an order that has been delivered.
    case exchangeOrRepairNeedsDelivery
    /// The reason code is not in the catalog.
    case reasonUnknown
    /// The reason has been retired from the catalog.
    case reasonRetired
    /// The reason may not be chosen for this kind.
    case reasonNotForKind
    /// The kind or the reason needs photos and none were attached.
    case evidenceRequired
    /// The 7-day no-reason window (counted from delivery) has passed.
    case noReasonWindowExpired
    /// The product's category is excluded from no-reason returns.
    case noReasonCategoryExcluded
    /// The buyer confirmed at purchase that the item is excluded from no-reason returns.
    case noReasonExcludedAtPurchase
    /// A performance fault must be claimed on delivered goods.
    case qualityNeedsDelivery
    /// 三包: a return for a performance fault is only possible within the first window (7 days).
    case qualityReturnWindowExpired
    /// 三包: an exchange for a performance fault is only possible within the second window (15 days).
    case qualityExchangeWindowExpired
    /// 三包: repair is only possible within the warranty period.
    case warrantyExpired
    /// The category's after-sale window for seller, logistics and other reasons has passed.
    case afterSaleWindowExpired

    /// The stable code clients and statistics key on.
    public var code: String {
        switch self {
        case .orderUnknown: "order.unknown"
        case .refundOnlyNeedsUnshippedOrder: "order.refund_only_needs_unshipped"
        case .returnNeedsShippedOrder: "order.return_needs_shipment"
        case .exchangeOrRepairNeedsDelivery: "order.needs_delivery"
        case .reasonUnknown: "reason.unknown"
        case .reasonRetired: "reason.retired"
        case .reasonNotForKind: "reason.kind_mismatch"
        case .evidenceRequired: "evidence.required"
        case .noReasonWindowExpired: "policy.no_reason.window_expired"
        case .noReasonCategoryExcluded: "policy.no_reason.category_excluded"
        case .noReasonExcludedAtPurchase: "policy.no_reason.excluded_at_purchase"
        case .qualityNeedsDelivery: "policy.three_guarantees.not_delivered"
        case .qualityReturnWindowExpired: "policy.three_guarantees.return_window_expired"
        case .qualityExchangeWindowExpired: "policy.three_guarantees.exchange_window_expired"
        case .warrantyExpired: "policy.three_guarantees.warranty_expired"
        case .afterSaleWindowExpired: "policy.after_sale.window_expired"
        }
    }

    /// What the rule says, in one sentence.
    public var summary: String {
        switch self {
        case .orderUnknown: "the order is not known to after-sales"
        case .refundOnlyNeedsUnshippedOrder: "refund only needs an order that is paid and not yet shipped"
        case .returnNeedsShippedOrder: "return and refund needs an order that has shipped"
        case .exchangeOrRepairNeedsDelivery: "exchange and repair need an order that has been delivered"
        case .reasonUnknown: "the reason is not in the catalog"
        case .reasonRetired: "the reason is no longer offered"
        case .reasonNotForKind: "the reason may not be chosen for this kind of after-sale"
        case .evidenceRequired: "photos are required"
        case .noReasonWindowExpired: "the no-reason return window has passed"
        case .noReasonCategoryExcluded: "the category is excluded from no-reason returns"
        case .noReasonExcludedAtPurchase: "the item was bought as excluded from no-reason returns"
        case .qualityNeedsDelivery: "a performance fault can only be claimed on delivered goods"
        case .qualityReturnWindowExpired: "the three-guarantees return window has passed"
        case .qualityExchangeWindowExpired: "the three-guarantees exchange window has passed"
        case .warrantyExpired: "the warranty has expired"
        case .afterSaleWindowExpired: "the after-sale window has passed"
        }
    }
}

/// The eligibility checks for an application (售后资格), each refusing with the rule that refused.
public enum Eligibility {
    /// Checks the order's status allows `kind`: refund only on a paid, unshipped order; return and
    /// refund once shipped; exchange and repair once delivered (a completed trade counts as delivered).
    public static func checkOrderStatus(_ order: OrderSnapshot, for kind: AfterSaleKind) throws(DomainError) {
        let status = order.status
        switch kind {
        case .refundOnly where status != .paid:
            throw .notEligible(rule: .refundOnlyNeedsUnshippedOrder, message: "refund only needs an order that is paid and not yet shipped; order \(order.id) is \(status.rawValue)")
        case .returnAndRefund where !(status == .shipped || order.isDelivered):
            throw .notEligible(rule: .returnNeedsShippedOrder, message: "return and refund needs an order that has shipped; order \(order.id) is \(status.rawValue)")
        case .exchange where !order.isDelivered, .repair where !order.isDelivered:
            throw .notEligible(rule: .exchangeOrRepairNeedsDelivery, message: "\(kind.rawValue) needs a delivered order; order \(order.id) is \(status.rawValue)")
        default:
            return
        }
    }

    /// Finds the reason in the catalog and checks it is active and offered for `kind`.
    public static func checkReason(_ code: String, for kind: AfterSaleKind, in catalog: ReasonCatalog) throws(DomainError) -> Reason {
        guard let reason = catalog.reason(code) else {
            throw .notEligible(rule: .reasonUnknown, message: "reason \"\(code)\" is not in the catalog")
        }
        guard reason.isActive else {
            throw .notEligible(rule: .reasonRetired, message: "reason \"\(code)\" is no longer offered")
        }
        guard reason.kinds.contains(kind) else {
            throw .notEligible(rule: .reasonNotForKind, message: "reason \"\(code)\" may not be chosen for \(kind.rawValue)")
        }
        return reason
    }

    /// Checks photos are attached when the kind (return and refund, exchange) or the reason needs them.
    public static func checkEvidence(_ evidence: [EvidenceRef], kind: AfterSaleKind, reason: Reason) throws(DomainError) {
        guard evidence.isEmpty else { return }
        if kind.alwaysRequiresEvidence {
            throw .notEligible(rule: .evidenceRequired, message: "\(kind.rawValue) needs at least one photo")
        }
        if reason.requiresEvidence {
            throw .notEligible(rule: .evidenceRequired, message: "reason \"\(reason.code)\" needs at least one photo")
        }
    }

    /// Checks the policy windows of one line's category for `reason` at `now`:
    /// - no reason: category not excluded, item not excluded at purchase, within N days of delivery
    ///   (not yet delivered counts as within: the window has not started);
    /// - performance fault (三包): delivered, and within the return / exchange / warranty window for the kind;
    /// - other grounds: within the category's after-sale window once delivered.
    /// Refund only (before shipment) has no windows.
    public static func checkPolicy(line: OrderLine, order: OrderSnapshot, kind: AfterSaleKind, reason: Reason,
                                   policy: PolicyConfig, now: Timestamp) throws(DomainError) {
        guard kind != .refundOnly else { return }
        let rules = policy.policy(for: line.category)
        let delivered = order.isDelivered ? order.timestamps.delivered : nil
        func within(_ days: Int) -> Bool {
            guard let delivered else { return true }
            return now <= delivered.adding(days: days)
        }
        let subject = "line \(line.id) (\(line.category))"
        switch reason.basis {
        case .noReason:
            guard rules.allowsNoReasonReturn else {
                throw .notEligible(rule: .noReasonCategoryExcluded, message: "\(subject): category \"\(line.category)\" is excluded from no-reason returns")
            }
            guard !line.excludedFromNoReasonReturn else {
                throw .notEligible(rule: .noReasonExcludedAtPurchase, message: "\(subject) was bought as excluded from no-reason returns")
            }
            guard within(rules.noReasonReturnDays) else {
                throw .notEligible(rule: .noReasonWindowExpired, message: "\(subject): no-reason returns end \(rules.noReasonReturnDays) days after delivery")
            }
        case .performanceFault:
            guard delivered != nil else {
                throw .notEligible(rule: .qualityNeedsDelivery, message: "\(subject): a performance fault can only be claimed after delivery; order \(order.id) is \(order.status.rawValue)")
            }
            let windows = rules.threeGuarantees
            switch kind {
            case .returnAndRefund where !within(windows.returnDays):
                throw .notEligible(rule: .qualityReturnWindowExpired, message: "\(subject): a return for a performance fault ends \(windows.returnDays) days after delivery; exchange or repair may still be possible")
            case .exchange where !within(windows.exchangeDays):
                throw .notEligible(rule: .qualityExchangeWindowExpired, message: "\(subject): an exchange for a performance fault ends \(windows.exchangeDays) days after delivery; repair may still be possible")
            case .repair where !within(windows.warrantyDays):
                throw .notEligible(rule: .warrantyExpired, message: "\(subject): the warranty ended \(windows.warrantyDays) days after delivery")
            default:
                return
            }
        case .sellerFault, .logistics, .other:
            guard within(rules.afterSaleWindowDays) else {
                throw .notEligible(rule: .afterSaleWindowExpired, message: "\(subject): after-sales end \(rules.afterSaleWindowDays) days after delivery")
            }
        }
    }
}
