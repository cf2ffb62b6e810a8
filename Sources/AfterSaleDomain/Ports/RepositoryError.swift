/// Why a repository refused or failed a call, in the domain's terms (no SQL, no driver codes).
///
/// A stale expected version is reported as ``DomainError/versionConflict(expected:actual:)``
/// instead, so the service maps every version conflict the same way.
public enum RepositoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No case has this number.
    case caseNotFound(CaseNumber)
    /// No refund order has this id.
    case refundNotFound(String)
    /// After-sales knows no order with this id.
    case orderNotFound(String)
    /// No ticket has this id.
    case ticketNotFound(String)
    /// No agent has this id.
    case agentNotFound(String)
    /// No knowledge-base article has this id (or none the caller may see).
    case articleNotFound(String)
    /// The idempotency key was used before for a different request (another fingerprint or operation).
    case idempotencyKeyReused(key: String)
    /// The order or its cases changed after the eligibility decision read them; decide again.
    case eligibilityChanged(orderID: String)
    /// The number already names another case.
    case caseNumberTaken(CaseNumber)
    /// The day (yyyyMMdd) has used all its case numbers.
    case sequenceExhausted(day: String)
    /// The call was malformed (a programming error in the caller), e.g. a transition whose version
    /// does not follow the expected one.
    case invalidRequest(String)
    /// The repository was closed.
    case closed
    /// The storage failed (disk full, I/O error, corrupt file); the write, if any, did not happen.
    case storageFailure(String)
    /// The storage cannot be reached for now (a database server that is down, unreachable or lost
    /// its connection): retry later. The message is the backend's own words, never a driver's or
    /// server's text; for a write it says whether the change may have been made.
    case unavailable(String)

    /// A human-readable message.
    public var description: String {
        switch self {
        case .caseNotFound(let number): "case \(number) not found"
        case .refundNotFound(let id): "refund \(id) not found"
        case .orderNotFound(let id): "order \(id) not found"
        case .ticketNotFound(let id): "ticket \(id) not found"
        case .agentNotFound(let id): "agent \(id) not found"
        case .articleNotFound(let id): "article \(id) not found"
        case .idempotencyKeyReused(let key): "idempotency key \"\(key)\" was already used for a different request"
        case .eligibilityChanged(let orderID): "order \(orderID) or its cases changed while the application was decided; retry"
        case .caseNumberTaken(let number): "case number \(number) is already taken"
        case .sequenceExhausted(let day): "no case numbers left for \(day)"
        case .invalidRequest(let message): "invalid repository request: \(message)"
        case .closed: "the repository is closed"
        case .storageFailure(let message): "storage failure: \(message)"
        case .unavailable(let message): "storage unavailable: \(message)"
        }
    }
}
