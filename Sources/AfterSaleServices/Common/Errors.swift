import AfterSaleDomain
import RPCWire

// Domain and repository errors become RPC statuses here, in one place.
//
// Choices worth knowing:
// - A refused transition or eligibility rule is FAILED_PRECONDITION, its message naming the action,
//   case and status ("cannot ship return: case AS… is pending_review") or the rule ("not eligible (…)").
// - A stale expected version is ABORTED: reload and retry.
// - An idempotency key reused with a different request is INVALID_ARGUMENT, as the contract
//   (after_sale_service.proto, CreateAfterSale) states: the caller sent a bad request, nothing exists
//   that it could mean (ALREADY_EXISTS would suggest it may fetch "its" resource).
// - Storage failures are INTERNAL (the write did not happen); a closed repository, or a database
//   that cannot be reached or lost its connection, is UNAVAILABLE (retry, with the same idempotency key).
//   The storage's own text (SQL, driver messages) never reaches the caller: the backend logs it.

extension DomainError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .invalidArgument(let field, let message):
            RPCError(.invalidArgument, "\(field): \(message)")
        case .illegalTransition, .notEligible, .quantityExceedsRefundable:
            RPCError(.failedPrecondition, message)
        case .permissionDenied(let denial):
            RPCError(.permissionDenied, denial.message)
        case .serviceFeeOutOfRange:
            RPCError(.invalidArgument, "service_fee: \(message)")
        case .refundExceedsRefundable:
            RPCError(.invalidArgument, "amount: \(message)")
        case .versionConflict:
            RPCError(.aborted, message)
        case .currencyMismatch:
            RPCError(.invalidArgument, message)
        case .arithmeticOverflow:
            RPCError(.outOfRange, message)
        case .duplicate:
            RPCError(.alreadyExists, message)
        case .refundConflict, .stateConflict:
            RPCError(.failedPrecondition, message)
        }
    }
}

extension RepositoryError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .caseNotFound, .refundNotFound, .orderNotFound, .ticketNotFound, .agentNotFound, .articleNotFound:
            RPCError(.notFound, description)
        case .idempotencyKeyReused:
            RPCError(.invalidArgument, "idempotency-key: \(description)")
        case .eligibilityChanged:
            RPCError(.aborted, description)
        case .caseNumberTaken:
            RPCError(.aborted, description)
        case .sequenceExhausted:
            RPCError(.resourceExhausted, description)
        case .invalidRequest:
            RPCError(.internal, description)
        case .closed:
            RPCError(.unavailable, description)
        case .unavailable:
            RPCError(.unavailable, description)
        case .storageFailure:
            RPCError(.internal, "storage failure: the change was not made; retry later")
        }
    }
}

extension RPCError {
    /// `error` as the status the caller sees (domain and repository errors through their mapping).
    static func mapping(_ error: any Error) -> RPCError { RPCError(wrapping: error) }
}

/// Runs a handler's `body`, turning every error into the RPCError the caller sees.
func mapped<T>(_ body: () async throws -> T) async throws(RPCError) -> T {
    do {
        return try await body()
    } catch {
        throw RPCError.mapping(error)
    }
}
