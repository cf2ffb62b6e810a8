import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import ProtoRuntime
import RPCWire
import ServiceKit

/// `aftersale.v1.RefundBridge`: payment workers claim refund orders under a lease, pay them and
/// report; agents list and re-queue the ones that need attention. Every refund order is paid
/// exactly once: a lease goes to one worker at a time, a success is recorded once (its case
/// completes in the same transaction), and repeats or conflicting reports change nothing.
public struct RefundBridgeProvider: RefundBridgeHandler {
    let refunds: any RefundRepository
    let cases: any CaseRepository
    let orders: any OrderRepository
    let idempotency: any IdempotencyRepository
    let timers: TimerPolicySource
    /// Which cases agents may act on: those of their tickets.
    let agentScope: AgentCaseScope
    let clock: any WallClock
    let policy: PolicyConfig
    let logger: Logger
    /// Seals the buyer's personal data in stored changes and responses.
    let personalData: PersonalDataVault

    /// Claims per call when the worker asks for 0, and the most it may ask for.
    static let claimPaging = Paging(defaultSize: 16, maximumSize: 256)
    /// Rows per ListRefunds page when the caller asks for 0, and the most it may ask for.
    static let refundPaging = Paging(defaultSize: 50, maximumSize: 500)

    /// The bridge over the refund orders, the cases they pay and the orders of those cases.
    public init(refunds: any RefundRepository, cases: any CaseRepository, orders: any OrderRepository,
                idempotency: any IdempotencyRepository, timers: TimerPolicySource, desk: any DeskRepository,
                personalData: PersonalDataVault, clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard,
                logger: Logger = .disabled) {
        self.timers = timers
        self.personalData = personalData
        agentScope = AgentCaseScope(desk: desk)
        self.refunds = refunds
        self.cases = cases
        self.orders = orders
        self.idempotency = idempotency
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    var workflow: CaseWorkflow {
        CaseWorkflow(cases: cases, orders: orders, idempotency: idempotency, timers: timers, clock: clock, policy: policy,
                     logger: logger, personalData: personalData)
    }

    public func claimRefunds(_ request: ClaimRefundsRequest, context: ServerContext) async throws -> ClaimRefundsResponse {
        let caller = try context.caller
        let principal = caller.principal
        return try await mapped {
            try Permissions.require(principal, .claimRefunds)
            let limit = try Fields.pageSize(request.maxRefunds, Self.claimPaging, field: "max_refunds")
            guard request.leaseMs >= 0 else {
                throw DomainError.invalidArgument(field: "lease_ms", message: "must not be negative, got \(request.leaseMs)")
            }
            let leaseMs = policy.refunds.lease(requestedMs: request.leaseMs)
            let tokens = (0..<limit).map { _ in UUID().uuidString.lowercased() }
            let claim = RefundClaim(owner: principal.id, limit: limit, channels: Set(request.paymentChannels), leaseMs: leaseMs,
                                    at: clock.now(), tokens: tokens)
            let respond: @Sendable ([AfterSaleDomain.RefundOrder]) -> ClaimRefundsResponse = { claimed in
                var response = ClaimRefundsResponse()
                response.leases = claimed.map { refund in
                    var lease = RefundLease()
                    lease.refund = ProtoMapping.refundOrder(refund)
                    lease.leaseToken = refund.lease?.token ?? ""
                    lease.leaseExpiresAtUnixMs = refund.lease?.expiresAt.millisecondsSinceEpoch ?? 0
                    return lease
                }
                return response
            }
            // Under a key, a worker that lost the answer gets the same leases again instead of new ones.
            guard let call = caller.idempotentCall(RefundBridge.claimRefunds.info, request) else {
                return respond(try await refunds.claimRefunds(claim))
            }
            return try CaseWorkflow.decode(try await refunds.claimRefunds(claim, call: call, respond: { respond($0).serializedBytes() }))
        }
    }

    public func reportRefundResult(_ request: ReportRefundResultRequest, context: ServerContext) async throws -> ReportRefundResultResponse {
        let caller = try context.caller
        let principal = caller.principal
        return try await mapped {
            try Permissions.require(principal, .reportRefundResults)
            guard !request.refundId.isEmpty else { throw DomainError.invalidArgument(field: "refund_id", message: "must not be empty") }
            guard !request.leaseToken.isEmpty else { throw DomainError.invalidArgument(field: "lease_token", message: "must not be empty") }
            return try await DecideAgain.run("refund \(request.refundId) kept changing while the report was applied; retry") {
                guard let refund = try await refunds.refund(request.refundId) else {
                    throw RepositoryError.refundNotFound(request.refundId)
                }
                let now = clock.now()
                let report = try Self.report(request, worker: principal.id, currency: refund.amount.currency, now: now)
                let decision: RefundReportDecision
                do throws(DomainError) {
                    decision = try refund.reporting(report, at: now, policy: policy.refunds)
                } catch {
                    if case .refundConflict(_, let message) = error {
                        try await recordRefusal(of: report, on: refund, by: caller, reason: message, at: now)
                    }
                    throw error
                }
                var response = ReportRefundResultResponse()
                switch decision {
                case .duplicate:
                    response.refund = ProtoMapping.refundOrder(refund)
                    response.disposition = .duplicate
                    return response
                case .applied(let next, let caseAction):
                    guard let current = try await cases.afterSale(refund.caseNumber) else {
                        throw RepositoryError.caseNotFound(refund.caseNumber)
                    }
                    let transition = try await workflow.decideRecordingRefusal(current, caseAction, by: caller, expectedVersion: nil)
                    // The refund or its case may have moved (a concurrent report): then look again.
                    guard try await DecideAgain.commit({
                        try await workflow.commit(transition, before: current,
                                                  refundUpdate: RefundUpdate(refund: next, expectedVersion: refund.version))
                    }) != nil else { return nil }
                    response.refund = ProtoMapping.refundOrder(next)
                    response.disposition = .applied
                    return response
                }
            }
        }
    }

    /// The report in domain terms.
    static func report(_ request: ReportRefundResultRequest, worker: String, currency: CurrencyCode,
                       now: Timestamp) throws(DomainError) -> RefundReport {
        switch request.outcome {
        case .succeeded:
            guard let wire = request.refundedAmount else {
                throw .invalidArgument(field: "refunded_amount", message: "is required for a success")
            }
            guard request.refundedAtUnixMs >= 0 else {
                throw .invalidArgument(field: "refunded_at_unix_ms", message: "must not be negative")
            }
            let paid = try ProtoMapping.money(wire, field: "refunded_amount", defaultCurrency: currency)
            let paidAt = request.refundedAtUnixMs == 0 ? now : Timestamp(millisecondsSinceEpoch: request.refundedAtUnixMs)
            return RefundReport(worker: worker, leaseToken: request.leaseToken,
                                outcome: .succeeded(channelTransactionID: request.channelTransactionId, amount: paid, paidAt: paidAt))
        case .failed:
            return RefundReport(worker: worker, leaseToken: request.leaseToken,
                                outcome: .failed(code: request.failureCode, reason: request.failureReason,
                                                 permanent: request.permanentFailure))
        default:
            throw .invalidArgument(field: "outcome", message: "must be SUCCEEDED or FAILED")
        }
    }

    /// Records a refused report on the refund's log and as a refused trace record on its case.
    private func recordRefusal(of report: RefundReport, on refund: AfterSaleDomain.RefundOrder, by caller: Caller,
                               reason: String, at now: Timestamp) async throws {
        let status = try await cases.afterSale(refund.caseNumber)?.status ?? .pendingRefund
        let step: CaseStep = if case .succeeded = report.outcome { .refundSucceeded } else { .refundFailed }
        let trace = TraceRecord(caseNumber: refund.caseNumber, actor: caller.principal, step: step, from: status, to: status, at: now,
                                outcome: .rejected, details: "refund \(refund.id) \(reason); report \(report.fingerprint)",
                                refundID: refund.id, traceID: caller.traceID)
        try await refunds.recordRefusedReport(RefusedRefundReport(refundID: refund.id, report: report, reason: reason, trace: trace))
    }

    public func listRefunds(_ request: ListRefundsRequest, context: ServerContext) async throws -> ListRefundsResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .listRefunds)
            var query = RefundQuery()
            for (index, status) in request.statuses.enumerated() {
                query.statuses.insert(try ProtoMapping.refundStatus(status, field: "statuses[\(index)]"))
            }
            query.basis = switch request.timeBasis {
            case .unspecified, .created: .created
            case .updated: .updated
            case .succeeded: .succeeded
            default: throw DomainError.invalidArgument(field: "time_basis", message: "is not a known time basis (\(request.timeBasis.rawValue))")
            }
            query.from = try Fields.instant(request.fromUnixMs, field: "from_unix_ms")
            query.before = try Fields.instant(request.toUnixMs, field: "to_unix_ms")
            query.shopID = Fields.filter(request.shopId)
            if !request.caseNumber.isEmpty { query.caseNumber = try Fields.caseNumber(request.caseNumber) }
            // An agent sees the refunds of the cases of their tickets.
            query.caseNumbers = try await agentScope.cases(of: principal)
            query.pageSize = try Fields.pageSize(request.pageSize, Self.refundPaging)
            if !request.pageToken.isEmpty { query.after = try Self.cursor(request.pageToken) }
            let page = try await refunds.listRefunds(query)
            var response = ListRefundsResponse()
            response.refunds = page.rows.map(ProtoMapping.refundOrder)
            response.nextPageToken = page.next.map { "\($0.at).\($0.refundID)" } ?? ""
            response.totals = page.totals.map { total in
                var t = AfterSaleProto.RefundTotal()
                t.status = ProtoMapping.refundStatus(total.status)
                t.count = total.count
                t.amount = ProtoMapping.money(total.amount)
                t.refundedAmount = ProtoMapping.money(total.refunded)
                return t
            }
            return response
        }
    }

    /// Parses a page token `<ms>.<refund id>`.
    static func cursor(_ token: String) throws(DomainError) -> RefundCursor {
        let parts = token.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let at = Int64(parts[0]), parts[1].hasPrefix("RF") else {
            throw .invalidArgument(field: "page_token", message: "is not a token this service issued")
        }
        return RefundCursor(at: at, refundID: String(parts[1]))
    }

    public func requeueRefund(_ request: RequeueRefundRequest, context: ServerContext) async throws -> RequeueRefundResponse {
        let caller = try context.caller
        let principal = caller.principal
        return try await mapped {
            try Permissions.require(principal, .requeueRefunds)
            try TextRules.optional(request.note, field: "note")
            let call = caller.idempotentCall(RefundBridge.requeueRefund.info, request)
            if let call, let stored = try await idempotency.storedResponse(for: call) { return try CaseWorkflow.decode(stored) }
            guard let refund = try await refunds.refund(request.refundId),
                  try await agentScope.allows(principal, refund.caseNumber) else {
                throw RepositoryError.refundNotFound(request.refundId)
            }
            let now = clock.now()
            let next = try refund.requeued(expectedVersion: request.expectedVersion, at: now)
            guard let afterSale = try await cases.afterSale(refund.caseNumber) else {
                throw RepositoryError.caseNotFound(refund.caseNumber)
            }
            let events = EventPlanner.events(forRequeued: next, of: afterSale, by: principal, note: request.note, at: now)
            let trace = TraceRecord(caseNumber: afterSale.number, actor: principal, step: .refundRequeued, from: afterSale.status,
                                    to: afterSale.status, at: now, outcome: .applied,
                                    details: request.note.isEmpty ? "re-queued" : "re-queued: \(request.note)", refundID: next.id,
                                    traceID: caller.traceID)
            var response = RequeueRefundResponse()
            response.refund = ProtoMapping.refundOrder(next)
            let outcome = try await refunds.updateRefund(RefundUpdate(refund: next, expectedVersion: refund.version), trace: trace,
                                                         events: events.map(ProtoMapping.outbox),
                                                         response: call.map { IdempotentResponse(call: $0, response: response.serializedBytes()) })
            if case .replayed(let stored) = outcome { return try CaseWorkflow.decode(stored) }
            return response
        }
    }
}
