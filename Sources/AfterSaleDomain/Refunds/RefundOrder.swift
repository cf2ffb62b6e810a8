/// Where a refund order stands with the payment system.
public enum RefundStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting to be claimed by a payment worker.
    case pending
    /// Leased to a payment worker.
    case claimed
    /// An attempt failed; claimable again from ``RefundOrder/nextAttemptAt``.
    case retryScheduled = "retry_scheduled"
    /// Paid, exactly once. Terminal.
    case succeeded
    /// Out of attempts, or failed for good: an agent must look and may re-queue it.
    case needsAttention = "needs_attention"
}

/// A payment worker's hold on a refund order: only the holder of the token may report on it.
public struct RefundLease: Sendable, Hashable {
    /// The worker (its caller id).
    public var owner: String
    /// The opaque token the claim issued.
    public var token: String
    /// When the lease expires; after that another worker may claim the refund.
    public var expiresAt: Timestamp

    /// Creates a lease.
    public init(owner: String, token: String, expiresAt: Timestamp) {
        self.owner = owner
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// What a payment worker reports about one attempt.
public struct RefundReport: Sendable, Hashable {
    /// The attempt's result.
    public enum Outcome: Sendable, Hashable {
        /// The channel paid `amount` under its transaction `channelTransactionID` at `paidAt`.
        case succeeded(channelTransactionID: String, amount: Money, paidAt: Timestamp)
        /// The channel refused or failed; `permanent` when retrying cannot help.
        case failed(code: String, reason: String, permanent: Bool)
    }

    /// The worker reporting (its caller id).
    public var worker: String
    /// The lease token the worker holds.
    public var leaseToken: String
    /// The result.
    public var outcome: Outcome

    /// Creates a report.
    public init(worker: String, leaseToken: String, outcome: Outcome) {
        self.worker = worker
        self.leaseToken = leaseToken
        self.outcome = outcome
    }

    /// A stable text of the outcome: two reports with the same token and fingerprint are the same report.
    public var fingerprint: String {
        switch outcome {
        case .succeeded(let transaction, let amount, let paidAt):
            "succeeded|\(transaction)|\(amount.minorUnits)|\(amount.currency.code)|\(paidAt.millisecondsSinceEpoch)"
        case .failed(let code, let reason, let permanent):
            "failed|\(code)|\(reason)|\(permanent)"
        }
    }
}

/// What accepting a report did.
public enum RefundReportDecision: Sendable, Hashable {
    /// The report moved the refund on; `caseAction` is what the case must record with it
    /// (``Action/refundSucceeded`` or ``Action/refundFailed(reason:)``).
    case applied(RefundOrder, caseAction: Action)
    /// The same report was already recorded (or the refund already succeeded identically): nothing changes.
    case duplicate
}

/// A refund order (退款单): the money a case returns to the buyer, paid exactly once by the payment
/// system through the original channel.
///
/// Created with the case transition that calls for it (``RefundRequest``), at most one per case
/// (its id derives from the case number). Workers claim it under a lease, then report success or
/// failure; every change bumps ``version``. Pure values: the functions below return the next
/// order and never touch storage or the clock.
public struct RefundOrder: Sendable, Hashable {
    /// `RF` + the case number's digits.
    public var id: String
    /// The case it pays.
    public var caseNumber: CaseNumber
    /// The order it refunds.
    public var orderID: String
    /// The shop that pays.
    public var shopID: String
    /// The buyer who receives the money.
    public var buyerID: String
    /// The amount to pay: the case's approved amount.
    public var amount: Money
    /// What created it.
    public var trigger: RefundTrigger
    /// Where it stands.
    public var status: RefundStatus
    /// The original payment channel (from the order).
    public var paymentChannel: String
    /// The original payment's transaction id (from the order).
    public var paymentTransactionID: String
    /// Claims so far (each claim is an attempt).
    public var attempts: Int
    /// Attempts allowed before a failure needs attention.
    public var maxAttempts: Int
    /// When a scheduled retry becomes claimable.
    public var nextAttemptAt: Timestamp?
    /// The current lease, while claimed.
    public var lease: RefundLease?
    /// The last failure's code and reason.
    public var lastFailureCode: String
    /// The last failure's reason.
    public var lastFailureReason: String
    /// The channel's transaction id of the refund, once paid.
    public var channelTransactionID: String?
    /// What was paid (zero until it succeeds, then equal to ``amount``).
    public var refundedAmount: Money
    /// When it was paid.
    public var succeededAt: Timestamp?
    /// When it was created.
    public var createdAt: Timestamp
    /// When it last changed.
    public var updatedAt: Timestamp
    /// Starts at 1, +1 on every change.
    public var version: Int64
    /// The token and fingerprint of the last report applied, to recognise an identical repeat.
    public var lastReport: String?

    /// Rebuilds a stored refund order (storage), or creates one (tests).
    public init(id: String, caseNumber: CaseNumber, orderID: String, shopID: String, buyerID: String, amount: Money,
                trigger: RefundTrigger, status: RefundStatus, paymentChannel: String, paymentTransactionID: String,
                attempts: Int, maxAttempts: Int, nextAttemptAt: Timestamp? = nil, lease: RefundLease? = nil,
                lastFailureCode: String = "", lastFailureReason: String = "", channelTransactionID: String? = nil,
                refundedAmount: Money, succeededAt: Timestamp? = nil, createdAt: Timestamp, updatedAt: Timestamp,
                version: Int64, lastReport: String? = nil) {
        self.id = id
        self.caseNumber = caseNumber
        self.orderID = orderID
        self.shopID = shopID
        self.buyerID = buyerID
        self.amount = amount
        self.trigger = trigger
        self.status = status
        self.paymentChannel = paymentChannel
        self.paymentTransactionID = paymentTransactionID
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextAttemptAt = nextAttemptAt
        self.lease = lease
        self.lastFailureCode = lastFailureCode
        self.lastFailureReason = lastFailureReason
        self.channelTransactionID = channelTransactionID
        self.refundedAmount = refundedAmount
        self.succeededAt = succeededAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
        self.lastReport = lastReport
    }

    /// The id of the refund order of case `number`: `RF` + its digits, so a case has at most one.
    public static func id(for number: CaseNumber) -> String { "RF" + number.rawValue.dropFirst(2) }

    /// The refund order a transition's request creates, pending, paid through the order's channel.
    public static func requested(_ request: RefundRequest, order: OrderSnapshot?, policy: RefundPolicy,
                                 at now: Timestamp) -> RefundOrder {
        RefundOrder(id: id(for: request.caseNumber), caseNumber: request.caseNumber, orderID: request.orderID,
                    shopID: request.shopID, buyerID: request.buyerID, amount: request.amount, trigger: request.trigger,
                    status: .pending, paymentChannel: order?.paymentChannel ?? "",
                    paymentTransactionID: order?.paymentTransactionID ?? "", attempts: 0,
                    maxAttempts: max(1, policy.maxAttempts), refundedAmount: .zero(request.amount.currency),
                    createdAt: now, updatedAt: now, version: 1)
    }

    /// True when a worker may claim it at `now`: pending, a retry that is due, or a lease that expired.
    public func isClaimable(at now: Timestamp) -> Bool {
        switch status {
        case .pending: true
        case .retryScheduled: (nextAttemptAt ?? now) <= now
        case .claimed: (lease?.expiresAt ?? now) <= now
        case .succeeded, .needsAttention: false
        }
    }

    /// The order leased to `owner` for `leaseMs` from `now` under `token`: one more attempt.
    /// The caller checks ``isClaimable(at:)`` first.
    public func claimed(by owner: String, token: String, leaseMs: Int64, at now: Timestamp) -> RefundOrder {
        var next = self
        next.status = .claimed
        next.attempts += 1
        next.lease = RefundLease(owner: owner, token: token, expiresAt: now.adding(milliseconds: leaseMs))
        next.nextAttemptAt = nil
        next.updatedAt = now
        next.version += 1
        return next
    }

    /// Decides a worker's report at `now`.
    ///
    /// Success needs the current lease's token, the channel's transaction id and exactly ``amount``;
    /// it makes the order succeeded (terminal). Failure schedules a retry after the policy's backoff,
    /// or, out of attempts or when permanent, needs attention. An identical repeat of the last report
    /// (or of the success already recorded) is a duplicate.
    /// - Throws: ``DomainError/refundConflict(refundID:message:)`` when the report conflicts with what
    ///   is recorded (another success, a lease the worker does not hold); ``DomainError/invalidArgument(field:message:)``
    ///   for a malformed report.
    public func reporting(_ report: RefundReport, at now: Timestamp, policy: RefundPolicy) throws(DomainError) -> RefundReportDecision {
        if status == .succeeded {
            if case .succeeded(let transaction, let paid, _) = report.outcome,
               transaction == channelTransactionID, paid == refundedAmount {
                return .duplicate
            }
            throw .refundConflict(refundID: id, message: "already succeeded with channel transaction \(channelTransactionID ?? "?") for \(refundedAmount)")
        }
        let mark = report.leaseToken + "|" + report.fingerprint
        if lastReport == mark { return .duplicate }
        guard status == .claimed, let lease else {
            throw .refundConflict(refundID: id, message: "is \(status.rawValue), not claimed; claim it before reporting")
        }
        guard lease.token == report.leaseToken else {
            throw .refundConflict(refundID: id, message: "is not held by this lease (it is leased to \(lease.owner) under another token)")
        }
        guard lease.owner == report.worker else {
            throw .refundConflict(refundID: id, message: "is leased to \(lease.owner), not to \(report.worker)")
        }
        var next = self
        next.lease = nil
        next.lastReport = mark
        next.updatedAt = now
        next.version += 1
        switch report.outcome {
        case .succeeded(let transaction, let paid, let paidAt):
            try TextRules.code(transaction, field: "channel_transaction_id")
            guard paid == amount else {
                throw .invalidArgument(field: "refunded_amount", message: "must equal the refund amount \(amount), got \(paid)")
            }
            next.status = .succeeded
            next.channelTransactionID = transaction
            next.refundedAmount = paid
            next.succeededAt = paidAt
            return .applied(next, caseAction: .refundSucceeded)
        case .failed(let code, let reason, let permanent):
            try TextRules.required(code, field: "failure_code")
            try TextRules.optional(reason, field: "failure_reason")
            next.lastFailureCode = code
            next.lastFailureReason = reason
            if permanent || attempts >= maxAttempts {
                next.status = .needsAttention
                next.nextAttemptAt = nil
            } else {
                next.status = .retryScheduled
                next.nextAttemptAt = now.adding(milliseconds: policy.backoff(afterAttempts: attempts))
            }
            let why = reason.isEmpty ? code : "\(code): \(reason)"
            let outlook = next.status == .needsAttention ? "needs attention" : "retry at \(next.nextAttemptAt?.millisecondsSinceEpoch ?? 0)"
            return .applied(next, caseAction: .refundFailed(reason: "attempt \(attempts) of \(maxAttempts) failed (\(why)); \(outlook)"))
        }
    }

    /// Puts a refund that needs attention back in the queue with a fresh set of attempts.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` on a stale `expectedVersion`;
    ///   ``DomainError/refundConflict(refundID:message:)`` when it does not need attention.
    public func requeued(expectedVersion: Int64?, at now: Timestamp) throws(DomainError) -> RefundOrder {
        if let expectedVersion, expectedVersion != version {
            throw .versionConflict(expected: expectedVersion, actual: version)
        }
        guard status == .needsAttention else {
            throw .refundConflict(refundID: id, message: "is \(status.rawValue); only a refund that needs attention can be re-queued")
        }
        var next = self
        next.status = .pending
        next.attempts = 0
        next.nextAttemptAt = nil
        next.lease = nil
        next.updatedAt = now
        next.version += 1
        return next
    }
}
