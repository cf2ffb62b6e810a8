/// Why the domain refused something; every case carries what the caller needs to change.
///
/// Mapping to RPC status codes happens in the service layer, in one place, not here.
public enum DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A field is missing or malformed.
    case invalidArgument(field: String, message: String)
    /// The action may not start from the case's status.
    case illegalTransition(action: ActionKind, caseNumber: CaseNumber, from: CaseStatus)
    /// The principal may not take the action or see the case.
    case permissionDenied(PermissionDenial)
    /// The application breaks an eligibility rule.
    case notEligible(rule: EligibilityRule, message: String)
    /// More units asked for than the line still has available.
    case quantityExceedsRefundable(lineID: String, requested: Int, available: Int)
    /// A service fee outside 0…computed.
    case serviceFeeOutOfRange(fee: Money, computed: Money)
    /// A refund larger than what the case may still refund, or negative.
    case refundExceedsRefundable(requested: Money, refundable: Money)
    /// The caller saw an older version of the case than the current one.
    case versionConflict(expected: Int64, actual: Int64)
    /// Amounts in different currencies were combined.
    case currencyMismatch(expected: CurrencyCode, actual: CurrencyCode)
    /// An amount computation would overflow 64 bits.
    case arithmeticOverflow(operation: String)
    /// The same fact was reported twice (e.g. a tracking event); nothing changed.
    case duplicate(message: String)
    /// A report or command conflicts with what the refund order records (another success, a lease
    /// the caller does not hold, a status that does not allow it); nothing changed.
    case refundConflict(refundID: String, message: String)
    /// A command that the state of what it concerns does not allow (a solved ticket taken, a
    /// release by someone who does not hold it, a rating past its window, personal data still
    /// within retention); nothing changed.
    case stateConflict(message: String)

    /// A human-readable message telling the caller what went wrong.
    public var message: String {
        switch self {
        case .invalidArgument(let field, let message):
            "invalid argument: \(field) \(message)"
        case .illegalTransition(let action, let number, let from):
            "cannot \(action.verb): case \(number) is \(from)"
        case .permissionDenied(let denial):
            "permission denied: \(denial.message)"
        case .notEligible(let rule, let message):
            "not eligible (\(rule.code)): \(message)"
        case .quantityExceedsRefundable(let lineID, let requested, let available):
            "quantity exceeds what is available: line \(lineID) has \(available) unit(s) left, \(requested) requested"
        case .serviceFeeOutOfRange(let fee, let computed):
            "service fee \(fee) must be between 0 and the computed refund \(computed)"
        case .refundExceedsRefundable(let requested, let refundable):
            "refund \(requested) must be between 0 and the refundable \(refundable)"
        case .versionConflict(let expected, let actual):
            "version conflict: expected version \(expected), the case is at version \(actual); reload and retry"
        case .currencyMismatch(let expected, let actual):
            "currency mismatch: expected \(expected), got \(actual)"
        case .arithmeticOverflow(let operation):
            "amount out of range: \(operation) overflows"
        case .duplicate(let message):
            "duplicate: \(message)"
        case .refundConflict(let refundID, let message):
            "refund \(refundID) \(message)"
        case .stateConflict(let message):
            message
        }
    }

    /// The message.
    public var description: String { message }
}

/// Why a principal was refused.
public enum PermissionDenial: Sendable, Hashable {
    /// The principal's role may not take the action at all.
    case roleNotAllowed(principal: Principal, action: String, allowed: Set<ActorRole>)
    /// A buyer acted on a case that is not theirs.
    case notCaseBuyer(buyerID: String, caseNumber: CaseNumber)
    /// A merchant acted on a case of another shop.
    case notShopOwner(merchantID: String, shopID: String)
    /// A buyer applied on an order they did not place.
    case notOrderBuyer(buyerID: String, orderID: String)
    /// An agent acted on a ticket or an agent record held by someone else.
    case notHolder(principal: Principal, resource: String)

    /// What was refused, e.g. `merchant m-2 does not own shop s-1`.
    public var message: String {
        switch self {
        case .roleNotAllowed(let principal, let action, let allowed):
            "\(principal) may not \(action) (allowed: \(allowed.map(\.rawValue).sorted().joined(separator: ", ")))"
        case .notCaseBuyer(let buyerID, let caseNumber):
            "buyer \(buyerID) does not own case \(caseNumber)"
        case .notShopOwner(let merchantID, let shopID):
            "merchant \(merchantID) does not own shop \(shopID)"
        case .notOrderBuyer(let buyerID, let orderID):
            "buyer \(buyerID) did not place order \(orderID)"
        case .notHolder(let principal, let resource):
            "\(principal) does not hold \(resource)"
        }
    }
}
