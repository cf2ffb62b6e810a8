import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import ProtoRuntime
import RPCWire
import ServiceKit

/// `aftersale.v1.AfterSaleService` over the domain's storage ports: takes the caller the identity
/// interceptor authenticated, maps the request to the domain, decides there, stores through the
/// ports, and maps the result (or the refusal, see Common/Errors.swift) back.
public struct AfterSaleServiceProvider: AfterSaleServiceHandler {
    let cases: any CaseRepository
    let orders: any OrderRepository
    let messages: any MessageRepository
    let reasons: any ReasonCatalogRepository
    let refunds: any RefundRepository
    let feed: any EventFeedRepository
    let idempotency: any IdempotencyRepository
    let timers: TimerPolicySource
    /// Which cases agents may see: those of their tickets.
    let agentScope: AgentCaseScope
    let clock: any WallClock
    let policy: PolicyConfig
    let logger: Logger
    /// Seals and opens the buyer's personal data.
    let personalData: PersonalDataVault
    /// How long after a buyer's last case finished their personal data must be kept.
    let personalDataRetention: Duration
    /// Test-only faults (see ``FaultInjection``).
    var faults = FaultInjection.none
    /// The limits within which refund-only cases are approved at once (abuse control, 风控).
    public var abuse = AbuseLimits.standard
    /// Opens the manual-review ticket of a held refund-only case; nil: none is opened.
    public var desk: Desk?
    /// The knowledge-base articles suggested with a new case (``CreateAfterSaleResponse/suggestedArticles``);
    /// nil: none are suggested.
    public var suggestions: ArticleSuggestions?

    /// Pages of ListAfterSales and ListMessages.
    static let casePaging = Paging(defaultSize: 20, maximumSize: 100)
    static let messagePaging = Paging(defaultSize: 50, maximumSize: 200)

    /// The service over each port it uses.
    public init(cases: any CaseRepository, orders: any OrderRepository, messages: any MessageRepository,
                reasons: any ReasonCatalogRepository, refunds: any RefundRepository, feed: any EventFeedRepository,
                idempotency: any IdempotencyRepository, timers: TimerPolicySource, desk: any DeskRepository,
                personalData: PersonalDataVault, personalDataRetention: Duration = PersonalDataVault.defaultRetention,
                clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard, logger: Logger = .disabled) {
        self.timers = timers
        self.personalData = personalData
        self.personalDataRetention = personalDataRetention
        agentScope = AgentCaseScope(desk: desk)
        self.cases = cases
        self.orders = orders
        self.messages = messages
        self.reasons = reasons
        self.refunds = refunds
        self.feed = feed
        self.idempotency = idempotency
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    /// The service over a store that provides every port.
    /// - Parameter timers: the timer settings source shared with the other services and the
    ///   timer worker (default: a new one over `store` with `policy`'s timer defaults).
    public init(store: any AfterSaleRepository, timers: TimerPolicySource? = nil, personalData: PersonalDataVault,
                personalDataRetention: Duration = PersonalDataVault.defaultRetention, clock: any WallClock = SystemClock(),
                policy: PolicyConfig = .standard, logger: Logger = .disabled) {
        self.init(cases: store, orders: store, messages: store, reasons: store, refunds: store, feed: store,
                  idempotency: store, timers: timers ?? TimerPolicySource(store: store, platform: policy.timers, clock: clock),
                  desk: store, personalData: personalData, personalDataRetention: personalDataRetention, clock: clock,
                  policy: policy, logger: logger)
    }

    /// The shared domain core: decide, then commit with refund orders and events.
    var workflow: CaseWorkflow {
        CaseWorkflow(cases: cases, orders: orders, idempotency: idempotency, timers: timers, clock: clock, policy: policy,
                     logger: logger, personalData: personalData)
    }

    // MARK: - Cases

    public func createAfterSale(_ request: CreateAfterSaleRequest, context: ServerContext) async throws -> CreateAfterSaleResponse {
        let caller = try context.caller
        let principal = caller.principal
        guard let key = caller.idempotencyKey else {
            throw RPCError(.invalidArgument, "idempotency-key metadata is required")
        }
        return try await mapped {
            guard let kind = try ProtoMapping.kind(request.kind, field: "kind") else {
                throw DomainError.invalidArgument(field: "kind", message: "must not be UNSPECIFIED")
            }
            let application = Application(orderID: request.orderId, kind: kind,
                                          lines: request.lines.map(ProtoMapping.requestedLine),
                                          reasonCode: request.reasonCode, buyerNote: request.buyerNote,
                                          evidence: try ProtoMapping.evidence(request.evidence, field: "evidence"))
            try application.validate(evidencePolicy: policy.evidence)
            let idempotency = IdempotencyRecord(
                key: key, principal: principal,
                fingerprint: RequestFingerprint.of(request.serializedBytes(), operation: AfterSaleService.createAfterSale.path))
            return try await DecideAgain.run("order \(application.orderID) kept changing while the application was decided; retry") {
                let creation = try await cases.creationContext(orderID: application.orderID, idempotency: idempotency)
                if let replay = creation.replay { return try await createdResponse(replay, for: principal) }
                let now = clock.now()
                let catalog = try await reasons.reasonCatalog()
                let number = try await cases.nextCaseNumber(at: now)
                var transition = try AfterSaleDomain.AfterSaleCase.open(
                    application, number: number, order: creation.order, existingCases: creation.existingCases,
                    catalog: catalog, policy: policy, by: principal, at: now)
                var held: AbuseDecision?
                if kind == .refundOnly, !abuse.isOff {
                    // Decided again with the buyer's recent history: within limits it is approved at once, beyond them it waits.
                    let history = try await buyerHistory(transition.afterSale.buyerID, now: now)
                    let decision = AbuseDecision.decide(history, adding: transition.afterSale.amounts.computed, limits: abuse)
                    transition = try AfterSaleDomain.AfterSaleCase.open(
                        application, number: number, order: creation.order, existingCases: creation.existingCases,
                        catalog: catalog, policy: policy, by: principal, at: now, abuse: decision)
                    if decision.holds { held = decision }
                }
                let openDisputes = try await workflow.openDisputeIDs(ofOrder: application.orderID)
                var basis = creation.basis
                if workflow.disputes != nil { basis?.openDisputeIDs = Set(openDisputes) }
                let (refund, events, timer) = try await workflow.creationEffects(of: transition, order: creation.order,
                                                                                  existingCases: creation.existingCases,
                                                                                  openDisputeIDs: openDisputes)
                transition.trace.refundID = refund?.id
                transition.trace.traceID = caller.traceID
                guard let created = try await DecideAgain.commit({
                    try await cases.createCase(CaseCreation(transition: transition, idempotency: idempotency,
                                                            basis: basis, refund: refund, events: events,
                                                            timer: timer))
                }) else { return nil }
                guard !created.replayed else { return try await createdResponse(created, for: principal) }
                faults.committed(AfterSaleService.createAfterSale.name)
                if let held { await openManualReview(transition.afterSale, decision: held) }
                // Stored as decided: answer from the values in hand instead of reading them back.
                var response = CreateAfterSaleResponse()
                response.afterSale = ProtoMapping.afterSale(transition.afterSale, refund: refund, timer: timer,
                                                            pauses: try await timers.settings().pauses, now: now,
                                                            viewer: principal)
                response.suggestedArticles = await suggested(for: transition.afterSale)
                return response
            }
        }
    }

    /// What buyer `buyerID` did within the abuse window: refund-only cases and their money (one
    /// bounded page: beyond the count limit the count is decided anyway), disputes decided and lost.
    func buyerHistory(_ buyerID: String, now: Timestamp) async throws -> BuyerHistory {
        let from = now.adding(milliseconds: -abuse.windowMs)
        let rows = abuse.maximumRefundOnlyCases > 0 ? min(1_000, abuse.maximumRefundOnlyCases + 1) : 1_000
        let page = try await cases.listCases(CaseQuery(buyerID: buyerID, kind: .refundOnly, appliedFrom: from, pageSize: rows))
        // Saturating: the figures only compare against limits.
        let amount = page.rows.reduce(Int64(0)) { total, row in
            let (sum, overflow) = total.addingReportingOverflow(max(0, row.refundAmount?.minorUnits ?? 0))
            return overflow ? Int64.max : sum
        }
        var history = BuyerHistory(refundOnlyCases: page.rows.count, refundOnlyMinorUnits: amount)
        if abuse.maximumDisputeLossPercent < 100, let disputes = cases as? any DisputeRepository {
            history.count(try await disputes.listDisputes(DisputeQuery(buyerID: buyerID, openedFrom: from, pageSize: 200)).disputes)
        }
        return history
    }

    /// Opens the ticket that asks a person to review a held refund-only case (once: its id derives
    /// from the case); a failure is logged, and the dispute worker's repair pass opens it later.
    func openManualReview(_ afterSale: AfterSaleDomain.AfterSaleCase, decision: AbuseDecision) async {
        guard let desk else { return }
        do {
            _ = try await ManualReview.open(afterSale, rule: decision.rule, details: decision.details, desk: desk, at: clock.now())
        } catch {
            logger.log(.warning, "could not open a manual-review ticket", ["case": afterSale.number.rawValue, "error": String(describing: error)])
        }
    }

    private func createdResponse(_ created: CreatedCase, for viewer: Principal) async throws -> CreateAfterSaleResponse {
        guard let afterSale = try await cases.afterSale(created.number) else {
            throw RepositoryError.caseNotFound(created.number)
        }
        var response = CreateAfterSaleResponse()
        response.afterSale = try await wire(afterSale, for: viewer)
        response.replayed = created.replayed
        // Never part of what the key keeps: a replay looks them up again.
        response.suggestedArticles = await suggested(for: afterSale)
        return response
    }

    /// The articles suggested with `afterSale`, looked up after the commit; empty without a
    /// suggestion cache or when the knowledge base could not be read (the case stands either way).
    private func suggested(for afterSale: AfterSaleDomain.AfterSaleCase) async -> [ArticleHit] {
        guard let suggestions else { return [] }
        return await suggestions.suggestions(for: afterSale)
    }

    public func getAfterSale(_ request: GetAfterSaleRequest, context: ServerContext) async throws -> GetAfterSaleResponse {
        let principal = try context.principal
        return try await mapped {
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            var response = GetAfterSaleResponse()
            response.afterSale = try await wire(afterSale, for: principal)
            if request.includeTrace {
                try Permissions.require(principal, .readTraceRecords)
                let records = try await cases.traceRecords(of: afterSale.number)
                response.traceRecords = records.enumerated().map { index, record in
                    ProtoMapping.trace(record, id: "\(afterSale.number.rawValue)-\(index + 1)")
                }
            }
            return response
        }
    }

    public func listAfterSales(_ request: ListAfterSalesRequest, context: ServerContext) async throws -> ListAfterSalesResponse {
        let principal = try context.principal
        return try await mapped {
            var query = CaseQuery()
            query.buyerID = Fields.filter(request.buyerId)
            query.shopID = Fields.filter(request.shopId)
            switch principal.role {
            case .buyer: query.buyerID = principal.id
            case .merchant: query.shopID = principal.actingShopID
            case .agent: query.caseNumbers = try await agentScope.cases(of: principal)
            case .platform, .system: break
            }
            query.kind = try ProtoMapping.kind(request.kind, field: "kind")
            var statuses: Set<AfterSaleDomain.CaseStatus> = []
            for (index, status) in request.statuses.enumerated() {
                guard let mapped = try ProtoMapping.status(status, field: "statuses[\(index)]") else {
                    throw DomainError.invalidArgument(field: "statuses[\(index)]", message: "must not be UNSPECIFIED")
                }
                statuses.insert(mapped)
            }
            query.statuses = statuses
            query.appliedFrom = try Fields.instant(request.createdFromUnixMs, field: "created_from_unix_ms")
            query.appliedBefore = try Fields.instant(request.createdToUnixMs, field: "created_to_unix_ms")
            let search = request.search.trimmingCharacters(in: .whitespaces)
            query.search = search.isEmpty ? nil : search
            query.pageSize = try Fields.pageSize(request.pageSize, Self.casePaging)
            if !request.pageToken.isEmpty { query.after = try CaseCursor(token: request.pageToken) }
            let page = try await cases.listCases(query)
            var response = ListAfterSalesResponse()
            let running = try await timers.repository.caseTimers(of: page.rows.map(\.number))
            let pauses = try await timers.settings().pauses
            let now = clock.now()
            response.items = page.rows.map { ProtoMapping.summary($0, timer: running[$0.number], pauses: pauses, now: now) }
            response.nextPageToken = page.next?.token ?? ""
            return response
        }
    }

    public func withdrawAfterSale(_ request: WithdrawAfterSaleRequest, context: ServerContext) async throws -> WithdrawAfterSaleResponse {
        try await act(AfterSaleService.withdrawAfterSale, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { _ in
            .withdraw(note: request.note)
        }
    }

    public func reviewAfterSale(_ request: ReviewAfterSaleRequest, context: ServerContext) async throws -> ReviewAfterSaleResponse {
        try await act(AfterSaleService.reviewAfterSale, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { current in
            switch request.decision {
            case .approve:
                let fee = try request.serviceFee.map { wire throws(DomainError) in
                    try ProtoMapping.money(wire, field: "service_fee", defaultCurrency: current.currency)
                }
                return .approve(serviceFee: fee, returnAddress: request.returnAddress.map(ProtoMapping.address), note: request.note)
            case .reject:
                return .reject(reason: request.rejectionReason)
            default:
                throw DomainError.invalidArgument(field: "decision", message: "must be APPROVE or REJECT")
            }
        }
    }

    public func submitReturnShipment(_ request: SubmitReturnShipmentRequest, context: ServerContext) async throws -> SubmitReturnShipmentResponse {
        try await act(AfterSaleService.submitReturnShipment, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { _ in
            switch request.method {
            case .unspecified, .selfShip:
                // UNSPECIFIED reads as self-ship: the common case, and the one the tracking number describes.
                return .shipReturn(carrier: request.carrier, trackingNumber: request.trackingNumber)
            case .pickup:
                guard let address = request.pickupAddress else {
                    throw DomainError.invalidArgument(field: "pickup_address", message: "is required for a pickup")
                }
                var window: ClosedRange<Timestamp>?
                let start = request.pickupWindowStartUnixMs, end = request.pickupWindowEndUnixMs
                if start != 0 || end != 0 {
                    guard start > 0, end >= start else {
                        throw DomainError.invalidArgument(field: "pickup_window_end_unix_ms",
                                                          message: "must be set with the start and not before it")
                    }
                    window = Timestamp(millisecondsSinceEpoch: start)...Timestamp(millisecondsSinceEpoch: end)
                }
                return .bookPickup(carrier: request.carrier, address: ProtoMapping.address(address), window: window)
            default:
                throw DomainError.invalidArgument(field: "method", message: "is not a known return method (\(request.method.rawValue))")
            }
        }
    }

    public func confirmReturnReceived(_ request: ConfirmReturnReceivedRequest, context: ServerContext) async throws -> ConfirmReturnReceivedResponse {
        try await act(AfterSaleService.confirmReturnReceived, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { _ in
            let condition = try ProtoMapping.condition(request.condition, field: "condition")
            return .confirmReturnReceived(condition: condition, note: request.note,
                                          evidence: try ProtoMapping.evidence(request.evidence, field: "evidence"))
        }
    }

    public func shipReplacement(_ request: ShipReplacementRequest, context: ServerContext) async throws -> ShipReplacementResponse {
        try await act(AfterSaleService.shipReplacement, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { _ in
            .shipReplacement(carrier: request.carrier, trackingNumber: request.trackingNumber, note: request.note)
        }
    }

    public func confirmReplacementReceived(_ request: ConfirmReplacementReceivedRequest, context: ServerContext) async throws -> ConfirmReplacementReceivedResponse {
        try await act(AfterSaleService.confirmReplacementReceived, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { _ in
            .confirmReplacementReceived(note: request.note)
        }
    }

    public func forceRefund(_ request: ForceRefundRequest, context: ServerContext) async throws -> ForceRefundResponse {
        try await act(AfterSaleService.forceRefund, request, on: request.caseNumber, expectedVersion: request.expectedVersion,
                      context: context) { current in
            let amount = try request.amount.map { wire throws(DomainError) in
                try ProtoMapping.money(wire, field: "amount", defaultCurrency: current.currency)
            }
            return .forceRefund(amount: amount, ruling: request.ruling)
        }
    }

    /// Decides `makeAction(case)` by the caller and commits it through the workflow (which decides
    /// again when the case or its order moved, records refusals, and replays the stored response of
    /// an identical retry under the same idempotency key).
    private func act<Request: ProtoMessage, Response: CaseChangeResponse>(
        _ method: RPCMethod<Request, Response>, _ request: Request, on caseNumber: String, expectedVersion: Int64?,
        context: ServerContext, _ makeAction: (AfterSaleDomain.AfterSaleCase) throws -> Action
    ) async throws(RPCError) -> Response {
        let caller = try context.caller
        return try await mapped {
            let number = try Fields.caseNumber(caseNumber)
            // An agent acts only on the cases of their tickets (where the method lets agents act at all;
            // elsewhere the decision refuses the role).
            if MethodAccess.table[method.info.path]?.allowedRoles?.contains(.agent) == true {
                guard try await agentScope.allows(caller.principal, number) else { throw RepositoryError.caseNotFound(number) }
            }
            let response = try await workflow.act(on: number, by: caller, call: caller.idempotentCall(method.info, request),
                                                  expectedVersion: expectedVersion, respond: { committed in
                var response = Response()
                response.afterSale = ProtoMapping.afterSale(committed.view, refund: committed.refund,
                                                            timer: committed.timer, pauses: committed.pauses,
                                                            now: committed.transition.afterSale.updatedAt,
                                                            viewer: caller.principal)
                response.refund = committed.refund.map(ProtoMapping.refundOrder)
                return response
            }, makeAction)
            faults.committed(method.name)
            return response
        }
    }

    // MARK: - Helpers

    /// The case, or NOT_FOUND when it does not exist or the caller may not see it (so that callers
    /// cannot probe for other buyers' or shops' case numbers).
    func visibleCase(_ text: String, to principal: Principal) async throws -> AfterSaleDomain.AfterSaleCase {
        let number = try Fields.caseNumber(text)
        guard let afterSale = try await cases.afterSale(number), Permissions.canView(principal, afterSale),
              try await agentScope.allows(principal, number) else {
            throw RepositoryError.caseNotFound(number)
        }
        return afterSale
    }

    /// The case as the wire shows it, with its refund order if one was requested.
    func wire(_ afterSale: AfterSaleDomain.AfterSaleCase, for viewer: Principal) async throws -> AfterSaleProto.AfterSaleCase {
        let refund = afterSale.status == .pendingReview ? nil : try await refunds.refund(of: afterSale.number)
        let timer = TimerRule(waitingIn: afterSale.status) == nil ? nil : try await timers.repository.caseTimer(of: afterSale.number)
        return ProtoMapping.afterSale(try await personalData.opened(afterSale), refund: refund, timer: timer,
                                      pauses: try await timers.settings().pauses,
                                      now: clock.now(), viewer: viewer)
    }
}

/// The response of a call that changes one case: it carries the case as it is after the change,
/// and the refund order the change created or moved (when the response has room for it).
protocol CaseChangeResponse: ProtoMessage {
    /// The case after the change.
    var afterSale: AfterSaleProto.AfterSaleCase? { get set }
    /// The refund order the change created or moved; ignored by responses without one.
    var refund: AfterSaleProto.RefundOrder? { get set }
}

extension CaseChangeResponse {
    var refund: AfterSaleProto.RefundOrder? {
        get { nil }
        set {}
    }
}

extension WithdrawAfterSaleResponse: CaseChangeResponse {}
extension ReviewAfterSaleResponse: CaseChangeResponse {}
extension SubmitReturnShipmentResponse: CaseChangeResponse {}
extension ConfirmReturnReceivedResponse: CaseChangeResponse {}
extension ShipReplacementResponse: CaseChangeResponse {}
extension ConfirmReplacementReceivedResponse: CaseChangeResponse {}
extension ForceRefundResponse: CaseChangeResponse {}
