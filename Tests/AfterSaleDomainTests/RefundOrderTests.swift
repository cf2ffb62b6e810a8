import AfterSaleDomain
import Testing

/// Shared refund orders, workers and reports for the refund tests.
enum RefundFixture {
    /// Short numbers so a test can walk through every attempt: 3 attempts, 1 s doubling to at most 8 s.
    static let policy = RefundPolicy(maxAttempts: 3, initialBackoffMs: 1_000, maximumBackoffMs: 8_000,
                                     defaultLeaseMs: 30_000, minimumLeaseMs: 50, maximumLeaseMs: 600_000)
    static let start = Fixture.now
    static let leaseMs: Int64 = 10_000

    /// The refund request of a refund-only case on the fixture order (49.42 CNY, for one phone case).
    static func request() throws -> RefundRequest {
        try #require(try Fixture.open(.refundOnly, [("l-2", 1)]).refundRequest)
    }

    /// A new pending refund order for ``request()``, created at ``start``.
    static func pending(policy: RefundPolicy = policy) throws -> RefundOrder {
        RefundOrder.requested(try request(), order: Fixture.order(status: .paid), policy: policy, at: start)
    }

    static func success(_ worker: String, _ token: String, transaction: String = "ch-1", amount: Money,
                        paidAt: Timestamp = start) -> RefundReport {
        RefundReport(worker: worker, leaseToken: token,
                     outcome: .succeeded(channelTransactionID: transaction, amount: amount, paidAt: paidAt))
    }

    static func failure(_ worker: String, _ token: String, code: String = "timeout", reason: String = "channel did not answer",
                        permanent: Bool = false) -> RefundReport {
        RefundReport(worker: worker, leaseToken: token, outcome: .failed(code: code, reason: reason, permanent: permanent))
    }

    /// The order an applied decision carries; records an issue and returns nil for a duplicate.
    static func applied(_ decision: RefundReportDecision, sourceLocation: SourceLocation = #_sourceLocation) -> (order: RefundOrder, action: Action)? {
        guard case .applied(let order, let action) = decision else {
            Issue.record("expected an applied report, got \(decision)", sourceLocation: sourceLocation)
            return nil
        }
        return (order, action)
    }

    /// The field an `invalidArgument` error names, nil for any other error.
    static func invalidField(_ error: DomainError?) -> String? {
        guard case .invalidArgument(let field, _)? = error else { return nil }
        return field
    }

    /// True for a `refundConflict` about `refund`.
    static func isConflict(_ error: DomainError?, on refund: RefundOrder) -> Bool {
        guard case .refundConflict(let id, _)? = error else { return false }
        return id == refund.id
    }
}

@Suite("Refund orders: claims, leases, reports, retries")
struct RefundOrderTests {
    typealias F = RefundFixture

    // MARK: - Creation

    @Test("a requested refund copies the request and the order's channel and starts pending at version 1")
    func requested() throws {
        let request = try F.request()
        let refund = RefundOrder.requested(request, order: Fixture.order(status: .paid), policy: F.policy, at: F.start)
        #expect(refund.id == RefundOrder.id(for: request.caseNumber))
        #expect(refund.id == "RF" + request.caseNumber.rawValue.dropFirst(2))
        #expect(refund.caseNumber == request.caseNumber)
        #expect(refund.orderID == "o-1")
        #expect(refund.shopID == "s-1")
        #expect(refund.buyerID == "b-1")
        #expect(refund.amount == request.amount)
        #expect(refund.amount == .cny(4_942))
        #expect(refund.trigger == .refundOnlyCreated)
        #expect(refund.paymentChannel == "alipay")
        #expect(refund.paymentTransactionID == "tx-1")
        #expect(refund.status == .pending)
        #expect(refund.version == 1)
        #expect(refund.attempts == 0)
        #expect(refund.maxAttempts == 3)
        #expect(refund.refundedAmount == .cny(0))
        #expect(refund.channelTransactionID == nil)
        #expect(refund.succeededAt == nil)
        #expect(refund.lease == nil)
        #expect(refund.nextAttemptAt == nil)
        #expect(refund.lastReport == nil)
        #expect(refund.createdAt == F.start && refund.updatedAt == F.start)
    }

    @Test("without a known order the channel is empty; a policy without attempts still allows one")
    func requestedEdges() throws {
        let unknownOrder = RefundOrder.requested(try F.request(), order: nil, policy: F.policy, at: F.start)
        #expect(unknownOrder.paymentChannel == "")
        #expect(unknownOrder.paymentTransactionID == "")
        var none = F.policy
        none.maxAttempts = 0
        #expect(RefundOrder.requested(try F.request(), order: nil, policy: none, at: F.start).maxAttempts == 1)
    }

    // MARK: - Claims

    @Test("claimability of every status")
    func claimability() throws {
        let pending = try F.pending()
        #expect(pending.isClaimable(at: F.start))

        let claimed = pending.claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let expiry = F.start.adding(milliseconds: F.leaseMs)
        #expect(!claimed.isClaimable(at: F.start))
        #expect(!claimed.isClaimable(at: expiry.adding(milliseconds: -1)), "a live lease is not claimable")
        #expect(claimed.isClaimable(at: expiry), "an expired lease is claimable")
        #expect(claimed.isClaimable(at: expiry.adding(days: 1)))

        let failedAt = F.start.adding(milliseconds: 100)
        let retry = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1"), at: failedAt, policy: F.policy))).order
        #expect(retry.status == .retryScheduled)
        let due = failedAt.adding(milliseconds: F.policy.backoff(afterAttempts: 1))
        #expect(retry.nextAttemptAt == due)
        #expect(!retry.isClaimable(at: failedAt), "a retry is not due at once")
        #expect(!retry.isClaimable(at: due.adding(milliseconds: -1)))
        #expect(retry.isClaimable(at: due))
        #expect(retry.isClaimable(at: due.adding(days: 1)))

        let succeeded = try #require(F.applied(try claimed.reporting(F.success("w-1", "t-1", amount: claimed.amount), at: failedAt,
                                                                      policy: F.policy))).order
        #expect(succeeded.status == .succeeded)
        #expect(!succeeded.isClaimable(at: failedAt))
        #expect(!succeeded.isClaimable(at: failedAt.adding(days: 365)))

        let stuck = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1", permanent: true), at: failedAt,
                                                                  policy: F.policy))).order
        #expect(stuck.status == .needsAttention)
        #expect(!stuck.isClaimable(at: failedAt))
        #expect(!stuck.isClaimable(at: failedAt.adding(days: 365)))
    }

    @Test("a claim is one more attempt: status claimed, lease to the worker, version + 1")
    func claim() throws {
        let pending = try F.pending()
        let at = F.start.adding(milliseconds: 500)
        let claimed = pending.claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: at)
        #expect(claimed.status == .claimed)
        #expect(claimed.attempts == 1)
        #expect(claimed.version == 2)
        #expect(claimed.lease == RefundLease(owner: "w-1", token: "t-1", expiresAt: at.adding(milliseconds: F.leaseMs)))
        #expect(claimed.updatedAt == at)
        #expect(claimed.createdAt == F.start)
        #expect(claimed.nextAttemptAt == nil)
        #expect(claimed.amount == pending.amount && claimed.refundedAmount == pending.refundedAmount)

        // A due retry claimed again: the schedule is cleared, attempts and version keep counting.
        let retry = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1"), at: at, policy: F.policy))).order
        let due = try #require(retry.nextAttemptAt)
        let second = retry.claimed(by: "w-2", token: "t-2", leaseMs: 60_000, at: due)
        #expect(second.attempts == 2)
        #expect(second.version == retry.version + 1)
        #expect(second.nextAttemptAt == nil)
        #expect(second.lease == RefundLease(owner: "w-2", token: "t-2", expiresAt: due.adding(milliseconds: 60_000)))
    }

    // MARK: - Success

    @Test("success with the lease's token pays exactly once: succeeded, refunded = amount, case records success")
    func success() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let reportedAt = F.start.adding(milliseconds: 2_000)
        let paidAt = F.start.adding(milliseconds: 1_500)
        let report = F.success("w-1", "t-1", transaction: "ch-42", amount: claimed.amount, paidAt: paidAt)
        let (paid, action) = try #require(F.applied(try claimed.reporting(report, at: reportedAt, policy: F.policy)))
        #expect(action == .refundSucceeded)
        #expect(paid.status == .succeeded)
        #expect(paid.channelTransactionID == "ch-42")
        #expect(paid.refundedAmount == claimed.amount)
        #expect(paid.succeededAt == paidAt)
        #expect(paid.lease == nil)
        #expect(paid.version == claimed.version + 1)
        #expect(paid.updatedAt == reportedAt)
        #expect(paid.attempts == 1)
        #expect(paid.lastReport == "t-1|" + report.fingerprint)
    }

    @Test("success for another amount is malformed: invalid refunded_amount, in either direction")
    func wrongAmount() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        for paid: Money in [.cny(4_941), .cny(4_943), .cny(0), .cny(9_884)] {
            let error = #expect(throws: DomainError.self) {
                try claimed.reporting(F.success("w-1", "t-1", amount: paid), at: F.start, policy: F.policy)
            }
            #expect(F.invalidField(error) == "refunded_amount", "paid \(paid): \(String(describing: error))")
        }
        // The right lease can still report the right amount afterwards.
        let decision = try claimed.reporting(F.success("w-1", "t-1", amount: claimed.amount), at: F.start, policy: F.policy)
        #expect(F.applied(decision)?.order.status == .succeeded)
    }

    @Test("success without a usable channel transaction id is malformed")
    func emptyTransaction() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        for transaction in ["", "ch 1", String(repeating: "x", count: 65)] {
            let error = #expect(throws: DomainError.self) {
                try claimed.reporting(F.success("w-1", "t-1", transaction: transaction, amount: claimed.amount), at: F.start, policy: F.policy)
            }
            #expect(F.invalidField(error) == "channel_transaction_id", "\"\(transaction)\": \(String(describing: error))")
        }
    }

    // MARK: - Failure

    @Test("a failure schedules a retry at now + backoff and tells the case why")
    func failureSchedulesRetry() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let at = F.start.adding(milliseconds: 700)
        let (retry, action) = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1", code: "timeout", reason: "no answer"),
                                                                            at: at, policy: F.policy)))
        #expect(retry.status == .retryScheduled)
        #expect(retry.nextAttemptAt == at.adding(milliseconds: 1_000))
        #expect(retry.nextAttemptAt == at.adding(milliseconds: F.policy.backoff(afterAttempts: 1)))
        #expect(retry.lastFailureCode == "timeout")
        #expect(retry.lastFailureReason == "no answer")
        #expect(retry.lease == nil)
        #expect(retry.version == claimed.version + 1)
        #expect(retry.updatedAt == at)
        #expect(retry.refundedAmount == .cny(0))
        #expect(retry.channelTransactionID == nil)
        guard case .refundFailed(let reason) = action else {
            Issue.record("expected refundFailed, got \(action)")
            return
        }
        #expect(reason.contains("attempt 1 of 3"))
        #expect(reason.contains("timeout: no answer"))
    }

    @Test("later failures wait twice as long; the last allowed attempt's failure needs attention")
    func failuresUntilAttention() throws {
        var refund = try F.pending()
        var now = F.start
        var waits: [Int64] = []
        for attempt in 1...3 {
            #expect(refund.isClaimable(at: now))
            refund = refund.claimed(by: "w-1", token: "t-\(attempt)", leaseMs: F.leaseMs, at: now)
            #expect(refund.attempts == attempt)
            let (next, action) = try #require(F.applied(try refund.reporting(F.failure("w-1", "t-\(attempt)"), at: now, policy: F.policy)))
            refund = next
            if attempt < 3 {
                #expect(refund.status == .retryScheduled)
                let due = try #require(refund.nextAttemptAt)
                waits.append(due.millisecondsSinceEpoch - now.millisecondsSinceEpoch)
                now = due
            } else {
                #expect(refund.status == .needsAttention)
                #expect(refund.nextAttemptAt == nil)
                guard case .refundFailed(let reason) = action else {
                    Issue.record("expected refundFailed, got \(action)")
                    return
                }
                #expect(reason.contains("attempt 3 of 3"))
                #expect(reason.contains("needs attention"))
            }
        }
        #expect(waits == [1_000, 2_000])
        #expect(refund.version == 7)  // 1 + 3 claims + 3 reports
        #expect(!refund.isClaimable(at: now.adding(days: 30)))
    }

    @Test("a permanent failure needs attention at once, whatever attempts are left")
    func permanentFailure() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let (stuck, _) = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1", code: "account_closed", reason: "", permanent: true),
                                                                       at: F.start, policy: F.policy)))
        #expect(stuck.status == .needsAttention)
        #expect(stuck.nextAttemptAt == nil)
        #expect(stuck.attempts == 1)
        #expect(stuck.lastFailureCode == "account_closed")
        #expect(stuck.lastFailureReason == "")
    }

    @Test("a failure without a code is malformed")
    func failureWithoutCode() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let error = #expect(throws: DomainError.self) {
            try claimed.reporting(F.failure("w-1", "t-1", code: "  "), at: F.start, policy: F.policy)
        }
        #expect(F.invalidField(error) == "failure_code")
    }

    // MARK: - Duplicates and conflicts

    @Test("an identical repeat of the last report is a duplicate, for a failure and for a success")
    func identicalRepeat() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let failure = F.failure("w-1", "t-1")
        let retry = try #require(F.applied(try claimed.reporting(failure, at: F.start, policy: F.policy))).order
        #expect(try retry.reporting(failure, at: F.start.adding(milliseconds: 5), policy: F.policy) == .duplicate)

        let success = F.success("w-1", "t-1", amount: claimed.amount)
        let paid = try #require(F.applied(try claimed.reporting(success, at: F.start, policy: F.policy))).order
        #expect(try paid.reporting(success, at: F.start.adding(days: 1), policy: F.policy) == .duplicate)
    }

    @Test("after success, the same transaction and amount from anyone is a duplicate; anything else conflicts")
    func afterSuccess() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let paid = try #require(F.applied(try claimed.reporting(F.success("w-1", "t-1", transaction: "ch-1", amount: claimed.amount),
                                                                 at: F.start, policy: F.policy))).order
        // Another worker with a stale token, whose idempotent channel answered with the same transaction.
        let later = F.start.adding(milliseconds: 3)
        #expect(try paid.reporting(F.success("w-2", "old", transaction: "ch-1", amount: claimed.amount, paidAt: later),
                                   at: later, policy: F.policy) == .duplicate)

        let other = #expect(throws: DomainError.self) {
            try paid.reporting(F.success("w-1", "t-1", transaction: "ch-2", amount: claimed.amount), at: later, policy: F.policy)
        }
        #expect(F.isConflict(other, on: paid), "\(String(describing: other))")
        let more = #expect(throws: DomainError.self) {
            try paid.reporting(F.success("w-1", "t-1", transaction: "ch-1", amount: .cny(1)), at: later, policy: F.policy)
        }
        #expect(F.isConflict(more, on: paid), "\(String(describing: more))")
        let failed = #expect(throws: DomainError.self) {
            try paid.reporting(F.failure("w-1", "t-1"), at: later, policy: F.policy)
        }
        #expect(F.isConflict(failed, on: paid), "\(String(describing: failed))")
    }

    @Test("after the lease expired and another worker claimed, the first worker's token is refused")
    func staleToken() throws {
        let first = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: 1_000, at: F.start)
        let expired = F.start.adding(milliseconds: 1_000)
        #expect(first.isClaimable(at: expired))
        let second = first.claimed(by: "w-2", token: "t-2", leaseMs: F.leaseMs, at: expired)
        #expect(second.attempts == 2)
        for report in [F.success("w-1", "t-1", amount: second.amount), F.failure("w-1", "t-1"),
                       F.failure("w-1", "t-1", permanent: true)] {
            let error = #expect(throws: DomainError.self) {
                try second.reporting(report, at: expired.adding(milliseconds: 10), policy: F.policy)
            }
            #expect(F.isConflict(error, on: second), "\(String(describing: error))")
        }
        // The current holder's report is the one that counts.
        let paid = try #require(F.applied(try second.reporting(F.success("w-2", "t-2", amount: second.amount),
                                                                at: expired.adding(milliseconds: 20), policy: F.policy))).order
        #expect(paid.status == .succeeded)
    }

    @Test("the right token from the wrong worker is refused")
    func wrongWorker() throws {
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let error = #expect(throws: DomainError.self) {
            try claimed.reporting(F.success("w-2", "t-1", amount: claimed.amount), at: F.start, policy: F.policy)
        }
        #expect(F.isConflict(error, on: claimed))
    }

    @Test("a report on a refund nobody holds conflicts: pending, retry scheduled, needs attention")
    func notClaimed() throws {
        let pending = try F.pending()
        let onPending = #expect(throws: DomainError.self) {
            try pending.reporting(F.success("w-1", "t-1", amount: pending.amount), at: F.start, policy: F.policy)
        }
        #expect(F.isConflict(onPending, on: pending))

        let claimed = pending.claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let retry = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1"), at: F.start, policy: F.policy))).order
        // The same token, a different outcome: the lease ended with the failure.
        let onRetry = #expect(throws: DomainError.self) {
            try retry.reporting(F.success("w-1", "t-1", amount: retry.amount), at: F.start, policy: F.policy)
        }
        #expect(F.isConflict(onRetry, on: retry))

        let stuck = try #require(F.applied(try claimed.reporting(F.failure("w-1", "t-1", permanent: true), at: F.start,
                                                                  policy: F.policy))).order
        let onStuck = #expect(throws: DomainError.self) {
            try stuck.reporting(F.success("w-1", "t-1", amount: stuck.amount), at: F.start, policy: F.policy)
        }
        #expect(F.isConflict(onStuck, on: stuck))
    }

    // MARK: - Re-queue

    @Test("only a refund that needs attention can be re-queued; it gets a fresh set of attempts")
    func requeue() throws {
        var refund = try F.pending()
        var now = F.start
        for attempt in 1...3 {
            refund = refund.claimed(by: "w-1", token: "t-\(attempt)", leaseMs: F.leaseMs, at: now)
            refund = try #require(F.applied(try refund.reporting(F.failure("w-1", "t-\(attempt)"), at: now, policy: F.policy))).order
            now = refund.nextAttemptAt ?? now
        }
        #expect(refund.status == .needsAttention)
        let later = now.adding(days: 1)
        let requeued = try refund.requeued(expectedVersion: refund.version, at: later)
        #expect(requeued.status == .pending)
        #expect(requeued.attempts == 0)
        #expect(requeued.nextAttemptAt == nil)
        #expect(requeued.lease == nil)
        #expect(requeued.version == refund.version + 1)
        #expect(requeued.updatedAt == later)
        #expect(requeued.isClaimable(at: later))
        #expect(try refund.requeued(expectedVersion: nil, at: later).status == .pending)

        // Fresh attempts: the next failure is a retry again, not attention.
        let again = requeued.claimed(by: "w-2", token: "t-4", leaseMs: F.leaseMs, at: later)
        let retry = try #require(F.applied(try again.reporting(F.failure("w-2", "t-4"), at: later, policy: F.policy))).order
        #expect(retry.status == .retryScheduled)

        #expect(throws: DomainError.versionConflict(expected: refund.version - 1, actual: refund.version)) {
            try refund.requeued(expectedVersion: refund.version - 1, at: later)
        }
        let claimed = try F.pending().claimed(by: "w-1", token: "t-1", leaseMs: F.leaseMs, at: F.start)
        let paid = try #require(F.applied(try claimed.reporting(F.success("w-1", "t-1", amount: claimed.amount), at: F.start,
                                                                 policy: F.policy))).order
        for other in [try F.pending(), claimed, retry, paid] {
            let error = #expect(throws: DomainError.self) {
                try other.requeued(expectedVersion: other.version, at: later)
            }
            #expect(F.isConflict(error, on: other), "\(other.status): \(String(describing: error))")
        }
    }

    // MARK: - Policy arithmetic

    @Test("backoff starts at the initial wait, doubles per failed attempt and stops at the maximum")
    func backoff() {
        let policy = F.policy
        #expect(policy.backoff(afterAttempts: 0) == 1_000)
        #expect(policy.backoff(afterAttempts: 1) == 1_000)
        #expect(policy.backoff(afterAttempts: 2) == 2_000)
        #expect(policy.backoff(afterAttempts: 3) == 4_000)
        #expect(policy.backoff(afterAttempts: 4) == 8_000)
        #expect(policy.backoff(afterAttempts: 5) == 8_000)
        #expect(policy.backoff(afterAttempts: 1_000) == 8_000)
        #expect(policy.backoff(afterAttempts: Int.max) == 8_000)

        let standard = RefundPolicy.standard
        #expect((1...8).map { standard.backoff(afterAttempts: $0) } == [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000])

        // A huge initial wait overflows when doubled: the cap, not a trap.
        let huge = RefundPolicy(initialBackoffMs: Int64.max / 2 + 1, maximumBackoffMs: 3_600_000)
        #expect(huge.backoff(afterAttempts: 2) == 3_600_000)
        #expect(huge.backoff(afterAttempts: 60) == 3_600_000)
    }

    @Test("the lease asked for is clamped to the policy's bounds; zero or less means the default")
    func leaseClamping() {
        let policy = F.policy
        #expect(policy.lease(requestedMs: 0) == 30_000)
        #expect(policy.lease(requestedMs: -5) == 30_000)
        #expect(policy.lease(requestedMs: 1) == 50)
        #expect(policy.lease(requestedMs: 49) == 50)
        #expect(policy.lease(requestedMs: 50) == 50)
        #expect(policy.lease(requestedMs: 12_345) == 12_345)
        #expect(policy.lease(requestedMs: 600_000) == 600_000)
        #expect(policy.lease(requestedMs: 600_001) == 600_000)
        #expect(policy.lease(requestedMs: Int64.max) == 600_000)
        let odd = RefundPolicy(defaultLeaseMs: 10, minimumLeaseMs: 100, maximumLeaseMs: 1_000)
        #expect(odd.lease(requestedMs: 0) == 100, "a default below the minimum is raised to it")
    }
}
