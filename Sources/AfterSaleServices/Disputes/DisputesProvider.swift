import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire
import ServiceKit

/// `aftersale.v1.Disputes` (维权, 平台介入): buyers escalate rejected cases and claim guarantees, the
/// platform steps in when a merchant is overdue; parties make statements with evidence, agents ask
/// for evidence and rule, the merchant may appeal once. A ruling for the buyer or a mediated amount
/// is refunded through the case's refund order under an idempotency key of the dispute, so a retried
/// or racing ruling replays the first and the money moves once.
public struct DisputesProvider: DisputesHandler {
    let core: DisputeCore
    let workflow: CaseWorkflow
    /// Which disputes agents may see: those of their tickets' cases.
    let agentScope: AgentCaseScope

    /// Pages of ListDisputes.
    static let paging = Paging(defaultSize: 20, maximumSize: 100)

    /// The service over `store`; rulings refund through the same case workflow as ForceRefund.
    public init(store: any AfterSaleRepository, desk: Desk, timers: TimerPolicySource, personalData: PersonalDataVault,
                clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard, disputes: DisputePolicy = .standard,
                logger: Logger = .disabled) {
        core = DisputeCore(store: store, desk: desk, clock: clock, policy: disputes, logger: logger, personalData: personalData)
        agentScope = AgentCaseScope(desk: store)
        workflow = CaseWorkflow(cases: store, orders: store, idempotency: store, timers: timers, clock: clock, policy: policy,
                                logger: logger, personalData: personalData)
    }

    var store: any AfterSaleRepository { core.store }

    public func openDispute(_ request: OpenDisputeRequest, context: ServerContext) async throws -> DisputeResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .openDispute)
            let number = try Fields.caseNumber(request.caseNumber)
            let grounds = try ProtoMapping.grounds(request.grounds, field: "grounds")
            let evidence = try ProtoMapping.evidence(request.evidence, field: "evidence")
            guard let afterSale = try await store.afterSale(number), principal.role != .buyer || afterSale.buyerID == principal.id else {
                throw RepositoryError.caseNotFound(number)
            }
            let dispute = try Dispute.open(afterSale, grounds: grounds, statement: request.statement, evidence: evidence, by: principal,
                                           at: core.clock.now(), policy: core.policy, evidencePolicy: workflow.policy.evidence)
            do {
                try await core.commit(dispute, before: nil, by: principal)
            } catch DomainError.duplicate {
                throw DomainError.duplicate(message: "case \(number) has a dispute already (\(dispute.id)): one per case")
            }
            return Self.response(dispute)
        }
    }

    public func getDispute(_ request: GetDisputeRequest, context: ServerContext) async throws -> DisputeResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .viewDisputes)
            return Self.response(try await visible(request.disputeId, to: principal))
        }
    }

    public func listDisputes(_ request: ListDisputesRequest, context: ServerContext) async throws -> ListDisputesResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .viewDisputes)
            var query = DisputeQuery()
            query.buyerID = Fields.filter(request.buyerId)
            query.shopID = Fields.filter(request.shopId)
            switch principal.role {
            case .buyer: query.buyerID = principal.id
            case .merchant: query.shopID = principal.actingShopID
            case .agent: query.caseNumbers = try await agentScope.cases(of: principal)
            case .platform, .system: break
            }
            query.statuses = Set(try request.statuses.map { s throws(DomainError) in try ProtoMapping.disputeStatus(s, field: "statuses") })
            query.pageSize = try Fields.pageSize(request.pageSize, Self.paging)
            if !request.pageToken.isEmpty { query.after = try DisputeCursor(token: request.pageToken) }
            let page = try await store.listDisputes(query)
            var response = ListDisputesResponse()
            response.disputes = page.disputes.map { ProtoMapping.dispute($0) }
            response.nextPageToken = page.next?.token ?? ""
            return response
        }
    }

    public func submitStatement(_ request: SubmitStatementRequest, context: ServerContext) async throws -> DisputeResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .disputeStatement)
            let id = try Self.disputeID(request.disputeId)
            let evidence = try ProtoMapping.evidence(request.evidence, field: "evidence")
            return Self.response(try await change(id, by: principal, expectedVersion: request.expectedVersion) { current, now throws(DomainError) in
                try current.statement(request.text, evidence: evidence, by: principal, at: now, evidencePolicy: workflow.policy.evidence)
            })
        }
    }

    public func requestEvidence(_ request: RequestEvidenceRequest, context: ServerContext) async throws -> DisputeResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .arbitrate)
            let id = try Self.disputeID(request.disputeId)
            var parties = Set<AfterSaleDomain.ActorRole>()
            for party in request.parties {
                guard let role = ProtoMapping.role(party) else { throw DomainError.invalidArgument(field: "parties", message: "name BUYER or MERCHANT") }
                parties.insert(role)
            }
            let due = try Fields.instant(request.dueUnixMs, field: "due_unix_ms")
            try await requireReviewer(principal, of: id)
            return Self.response(try await change(id, by: principal, expectedVersion: request.expectedVersion) { current, now throws(DomainError) in
                try current.requestEvidence(from: parties, note: request.note, dueAt: due, by: principal, at: now, policy: core.policy)
            })
        }
    }

    public func ruleDispute(_ request: RuleDisputeRequest, context: ServerContext) async throws -> DisputeResponse {
        let caller = try context.caller
        let principal = caller.principal
        return try await mapped {
            try Permissions.require(principal, .arbitrate)
            let id = try Self.disputeID(request.disputeId)
            let outcome = try ProtoMapping.outcome(request.outcome, field: "outcome")
            try TextRules.required(request.reason, field: "reason")
            try await requireReviewer(principal, of: id)
            return Self.response(try await rule(id, outcome: outcome, amount: request.amount, reason: request.reason, by: caller))
        }
    }

    public func appealRuling(_ request: AppealRulingRequest, context: ServerContext) async throws -> DisputeResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .appealRuling)
            let id = try Self.disputeID(request.disputeId)
            let evidence = try ProtoMapping.evidence(request.evidence, field: "evidence")
            return Self.response(try await change(id, by: principal, expectedVersion: 0) { current, now throws(DomainError) in
                try current.appeal(request.reason, evidence: evidence, by: principal, at: now, evidencePolicy: workflow.policy.evidence)
            })
        }
    }

    // MARK: - Rulings

    /// Rules on dispute `id`. A first ruling takes two steps: the case change (the refund for the
    /// buyer or mediated, the closing of an open case for the merchant) is made under the
    /// dispute's idempotency key with the ruling stored as its response, then the ruling is
    /// recorded on the dispute by compare-and-set. A ruling that finds the dispute ruled the same way
    /// already answers with it (a retry or a race); one interrupted between the steps is recorded
    /// from the stored ruling, here on a retry or by the dispute worker (``DisputeCore/recordInterruptedRuling(_:)``).
    func rule(_ id: String, outcome: DisputeOutcome, amount wireAmount: AfterSaleProto.Money?, reason: String,
              by caller: Caller) async throws -> Dispute {
        let principal = caller.principal
        for _ in 0..<5 {
            guard let current = try await store.dispute(id) else { throw Self.notFound(id) }
            if let done = Self.sameRuling(current, outcome: outcome, amount: wireAmount) { return done }
            guard let afterSale = try await store.afterSale(current.caseNumber) else { throw RepositoryError.caseNotFound(current.caseNumber) }
            let amount: AfterSaleDomain.Money? = try wireAmount.map { money throws(DomainError) in
                try ProtoMapping.money(money, field: "amount", defaultCurrency: afterSale.currency)
            } ?? (outcome == .forBuyer ? (current.status == .appealed ? current.ruling?.amount : Self.defaultRefund(of: afterSale)) : nil)
            let now = core.clock.now()
            // Refused steps (status, role, amount) are refused before any money moves.
            var ruled = try current.rule(outcome, amount: amount, reason: reason, refundID: nil, by: principal, at: now, policy: core.policy)
            if current.status == .underReview, let intended = ruled.ruling {
                let recorded = try await applyToCase(current, afterSale: afterSale, ruling: intended, by: caller)
                guard recorded.outcome == intended.outcome, recorded.amount == intended.amount else {
                    throw DomainError.stateConflict(message: "dispute \(id) was ruled differently meanwhile; reload it")
                }
                ruled = try core.recording(recorded, on: current, at: now)
            }
            do {
                try await core.commit(ruled, before: current, by: ruled.effectiveRuling?.ruledBy ?? principal)
                return ruled
            } catch DomainError.versionConflict {
                continue   // a racing ruling, the worker or a deadline moved it: look again (the money moved once, under the key)
            }
        }
        throw DomainError.stateConflict(message: "dispute \(id) kept changing while it was ruled; retry")
    }

    /// The dispute when it is ruled as asked already (in force), else nil.
    static func sameRuling(_ d: Dispute, outcome: DisputeOutcome, amount: AfterSaleProto.Money?) -> Dispute? {
        guard d.status == .ruled || d.status == .final, let ruling = d.effectiveRuling, ruling.outcome == outcome else { return nil }
        if let amount, ruling.amount?.minorUnits != amount.amountMinor { return nil }
        return d
    }

    /// What a ruling for the buyer refunds when it names no amount: the approved or computed
    /// refund, or the goods' value for exchange and repair.
    static func defaultRefund(of afterSale: AfterSaleDomain.AfterSaleCase) -> AfterSaleDomain.Money {
        afterSale.kind.refundsMoney ? (afterSale.amounts.approved ?? afterSale.amounts.computed) : afterSale.maximumRefund
    }

    /// The case side of a first ruling: the refund (for the buyer, mediated) or the closing of an
    /// open case (for the merchant), exactly once under the dispute's key (``DisputeCore/rulingCall(_:)``),
    /// which stores `ruling` with the refund order's id as its response.
    /// - Returns: the ruling the key holds: `ruling` with its refund's id when this call made the
    ///   change, the first one's when another call made it already (the caller compares them), or
    ///   `ruling` itself when the case needs no change.
    func applyToCase(_ dispute: Dispute, afterSale: AfterSaleDomain.AfterSaleCase, ruling: AfterSaleDomain.DisputeRuling,
                     by caller: Caller) async throws -> AfterSaleDomain.DisputeRuling {
        let call = DisputeCore.rulingCall(dispute.id)
        let action: Action
        switch ruling.outcome {
        case .forMerchant:
            // An open case closes; one already refunding (or finished) stays as it is.
            guard Transitions.target(of: .close, kind: afterSale.kind, from: afterSale.status) != nil else {
                if let stored = try await storedRuling(call, afterSale: afterSale) { return stored }
                return ruling
            }
            action = .close(reason: "dispute \(dispute.id) ruled for the merchant: \(ruling.reason)")
        case .forBuyer, .mediated:
            guard let amount = ruling.amount else { throw DomainError.invalidArgument(field: "amount", message: "is required") }
            // The refund first, then the key: a racing ruling's refund and key are written together, so
            // a refund seen here without the key is another one's.
            if let existing = try await store.refund(of: afterSale.number), try await store.storedResponse(for: call) == nil {
                throw DomainError.stateConflict(message: "case \(afterSale.number) has a refund order already (\(existing.id)): "
                                                + "a ruling cannot refund it a second time; rule for the merchant or record the refund outside")
            }
            action = .arbitrationRefund(amount: amount, disputeID: dispute.id, ruling: ruling.reason)
        }
        let stored: AfterSaleProto.DisputeRuling
        do {
            stored = try await workflow.act(on: afterSale.number, by: caller, call: call, expectedVersion: nil, respond: { committed in
                var paid = ruling
                paid.refundID = committed.refund?.id
                return ProtoMapping.ruling(paid)
            }) { _ in action }
        } catch RepositoryError.idempotencyKeyReused {
            throw DomainError.stateConflict(message: "dispute \(dispute.id) was ruled differently meanwhile; reload it")
        }
        return try ProtoMapping.ruling(stored, currency: afterSale.currency)
    }

    /// The ruling stored under the dispute's key, nil when the key is unused.
    func storedRuling(_ call: IdempotentCall, afterSale: AfterSaleDomain.AfterSaleCase) async throws -> AfterSaleDomain.DisputeRuling? {
        guard let bytes = try await store.storedResponse(for: call) else { return nil }
        let opened = try await workflow.personalData.openedResponse(bytes, buyerID: afterSale.buyerID)
        return try ProtoMapping.ruling(try AfterSaleProto.DisputeRuling(serializedBytes: opened), currency: afterSale.currency)
    }

    // MARK: - Helpers

    /// Loads dispute `id`, applies `step` at the clock's now and stores it (compare-and-set),
    /// deciding again when a deadline or another party moved it meanwhile.
    func change(_ id: String, by principal: Principal, expectedVersion: Int64,
                _ step: (Dispute, Timestamp) throws(DomainError) -> Dispute) async throws -> Dispute {
        for attempt in 0..<5 {
            let current = try await visible(id, to: principal)
            if attempt == 0, expectedVersion != 0, expectedVersion != current.version {
                throw DomainError.versionConflict(expected: expectedVersion, actual: current.version)
            }
            let next = try step(current, core.clock.now())
            do {
                try await core.commit(next, before: current, by: principal)
                return next
            } catch DomainError.versionConflict {
                continue
            }
        }
        throw DomainError.stateConflict(message: "dispute \(id) kept changing; retry")
    }

    /// Dispute `id` if `principal` may see it, else NOT_FOUND.
    func visible(_ id: String, to principal: Principal) async throws -> Dispute {
        let id = try Self.disputeID(id)
        // Agents see the disputes of the cases of their tickets (the review ticket names the case).
        guard let dispute = try await store.dispute(id), dispute.isVisible(to: principal),
              try await agentScope.allows(principal, dispute.caseNumber) else { throw Self.notFound(id) }
        return dispute
    }

    /// Agents arbitrate only the disputes whose review ticket they hold; the platform any.
    func requireReviewer(_ principal: Principal, of id: String) async throws {
        guard principal.role == .agent else { return }
        let dispute = try await visible(id, to: principal)
        guard let ticketID = dispute.ticketID, let ticket = try await store.ticket(ticketID), ticket.assignee == principal.id else {
            throw DomainError.permissionDenied(.notHolder(principal: principal, resource: "the review ticket of dispute \(id)"))
        }
    }

    static func disputeID(_ text: String) throws(DomainError) -> String {
        guard !text.isEmpty else { throw .invalidArgument(field: "dispute_id", message: "must not be empty") }
        guard text.utf8.count <= 64 else { throw .invalidArgument(field: "dispute_id", message: "at most 64 bytes") }
        return text
    }

    static func notFound(_ id: String) -> RPCError { RPCError(.notFound, "dispute \(id) not found") }

    static func response(_ d: Dispute) -> DisputeResponse {
        var response = DisputeResponse()
        response.dispute = ProtoMapping.dispute(d)
        return response
    }
}
