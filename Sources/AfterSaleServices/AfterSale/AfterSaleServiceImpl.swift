import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import RPCWire

/// The wall clock of the process.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// `aftersale.v1.AfterSaleService` over an ``AfterSaleRepository``: reads the caller from the
/// metadata, maps the request to the domain, decides there, stores through the repository, and maps
/// the result (or the refusal, see DomainErrorMapping.swift) back.
public struct AfterSaleServiceImpl: AfterSaleServiceHandler {
    public let repository: any AfterSaleRepository
    public let clock: any WallClock
    public let policy: PolicyConfig

    /// Default and maximum page sizes of ListAfterSales and ListMessages.
    public static let defaultCasePage = 20
    public static let maximumCasePage = 100
    public static let defaultMessagePage = 50
    public static let maximumMessagePage = 200
    /// How many times CreateAfterSale decides again when the order changed under it.
    static let creationAttempts = 8
    /// The roles of the back office (catalog management, trace records).
    static let backOffice: Set<AfterSaleDomain.ActorRole> = [.agent, .platform]

    public init(repository: any AfterSaleRepository, clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard) {
        self.repository = repository
        self.clock = clock
        self.policy = policy
    }

    /// The shared domain core: decide, then commit with refund orders and events.
    var workflow: CaseWorkflow { CaseWorkflow(repository: repository, clock: clock, policy: policy) }

    // MARK: - Cases

    public func createAfterSale(_ request: CreateAfterSaleRequest, context: ServerContext) async throws -> CreateAfterSaleResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        guard let key = try CallerMetadata.idempotencyKey(from: context.metadata) else {
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
            for _ in 0..<Self.creationAttempts {
                let creation = try await repository.creationContext(orderID: application.orderID, idempotency: idempotency)
                if let replay = creation.replay { return try await createdResponse(replay) }
                let now = clock.now()
                let catalog = try await repository.reasonCatalog()
                let number = try await repository.nextCaseNumber(at: now)
                var transition = try AfterSaleDomain.AfterSaleCase.open(
                    application, number: number, order: creation.order, existingCases: creation.existingCases,
                    catalog: catalog, policy: policy, by: principal, at: now)
                let (refund, events) = try workflow.creationEffects(of: transition, order: creation.order,
                                                                     existingCases: creation.existingCases)
                transition.trace.refundID = refund?.id
                do {
                    let created = try await repository.createCase(
                        CaseCreation(transition: transition, idempotency: idempotency, basis: creation.basis,
                                     refund: refund, events: events))
                    guard !created.replayed else { return try await createdResponse(created) }
                    // Stored as decided: answer from the values in hand instead of reading them back.
                    var response = CreateAfterSaleResponse()
                    response.afterSale = ProtoMapping.afterSale(transition.afterSale, refund: refund, timers: policy.timers)
                    return response
                } catch RepositoryError.eligibilityChanged, RepositoryError.caseNumberTaken {
                    continue  // the order or its cases moved while we decided: decide again on fresh facts
                }
            }
            throw RPCError(.aborted, "order \(application.orderID) kept changing while the application was decided; retry")
        }
    }

    private func createdResponse(_ created: CreatedCase) async throws -> CreateAfterSaleResponse {
        guard let afterSale = try await repository.afterSale(created.number) else {
            throw RepositoryError.caseNotFound(created.number)
        }
        var response = CreateAfterSaleResponse()
        response.afterSale = try await wire(afterSale)
        response.replayed = created.replayed
        return response
    }

    public func getAfterSale(_ request: GetAfterSaleRequest, context: ServerContext) async throws -> GetAfterSaleResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            var response = GetAfterSaleResponse()
            response.afterSale = try await wire(afterSale)
            if request.includeTrace {
                guard Self.backOffice.contains(principal.role) || principal.role == .system else {
                    throw RPCError(.permissionDenied, "\(principal) may not read trace records (allowed: agent, platform, system)")
                }
                let records = try await repository.traceRecords(of: afterSale.number)
                response.traceRecords = records.enumerated().map { index, record in
                    ProtoMapping.trace(record, id: "\(afterSale.number.rawValue)-\(index + 1)")
                }
            }
            return response
        }
    }

    public func listAfterSales(_ request: ListAfterSalesRequest, context: ServerContext) async throws -> ListAfterSalesResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            var query = CaseQuery()
            query.buyerID = request.buyerId.isEmpty ? nil : request.buyerId
            query.shopID = request.shopId.isEmpty ? nil : request.shopId
            switch principal.role {
            case .buyer: query.buyerID = principal.id
            case .merchant: query.shopID = principal.actingShopID
            case .agent, .platform, .system: break
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
            guard request.createdFromUnixMs >= 0 else {
                throw DomainError.invalidArgument(field: "created_from_unix_ms", message: "must not be negative")
            }
            guard request.createdToUnixMs >= 0 else {
                throw DomainError.invalidArgument(field: "created_to_unix_ms", message: "must not be negative")
            }
            if request.createdFromUnixMs > 0 { query.appliedFrom = Timestamp(millisecondsSinceEpoch: request.createdFromUnixMs) }
            if request.createdToUnixMs > 0 { query.appliedBefore = Timestamp(millisecondsSinceEpoch: request.createdToUnixMs) }
            let search = request.search.trimmingCharacters(in: .whitespaces)
            query.search = search.isEmpty ? nil : search
            guard request.pageSize >= 0 else {
                throw DomainError.invalidArgument(field: "page_size", message: "must not be negative, got \(request.pageSize)")
            }
            query.pageSize = request.pageSize == 0 ? Self.defaultCasePage : min(Int(request.pageSize), Self.maximumCasePage)
            if !request.pageToken.isEmpty { query.after = try CaseCursor(token: request.pageToken) }
            let page = try await repository.listCases(query)
            var response = ListAfterSalesResponse()
            response.items = page.rows.map(ProtoMapping.summary)
            response.nextPageToken = page.next?.token ?? ""
            return response
        }
    }

    public func withdrawAfterSale(_ request: WithdrawAfterSaleRequest, context: ServerContext) async throws -> WithdrawAfterSaleResponse {
        var response = WithdrawAfterSaleResponse()
        response.afterSale = try await act(on: request.caseNumber, expectedVersion: request.expectedVersion, context: context) { _ in
            .withdraw(note: request.note)
        }
        return response
    }

    public func reviewAfterSale(_ request: ReviewAfterSaleRequest, context: ServerContext) async throws -> ReviewAfterSaleResponse {
        var response = ReviewAfterSaleResponse()
        response.afterSale = try await act(on: request.caseNumber, expectedVersion: request.expectedVersion, context: context) { current in
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
        return response
    }

    public func submitReturnShipment(_ request: SubmitReturnShipmentRequest, context: ServerContext) async throws -> SubmitReturnShipmentResponse {
        var response = SubmitReturnShipmentResponse()
        response.afterSale = try await act(on: request.caseNumber, expectedVersion: request.expectedVersion, context: context) { _ in
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
        return response
    }

    public func confirmReturnReceived(_ request: ConfirmReturnReceivedRequest, context: ServerContext) async throws -> ConfirmReturnReceivedResponse {
        var response = ConfirmReturnReceivedResponse()
        response.afterSale = try await act(on: request.caseNumber, expectedVersion: request.expectedVersion, context: context) { _ in
            let condition = try ProtoMapping.condition(request.condition, field: "condition")
            return .confirmReturnReceived(condition: condition, note: request.note,
                                          evidence: try ProtoMapping.evidence(request.evidence, field: "evidence"))
        }
        return response
    }

    public func shipReplacement(_ request: ShipReplacementRequest, context: ServerContext) async throws -> ShipReplacementResponse {
        var response = ShipReplacementResponse()
        response.afterSale = try await act(on: request.caseNumber, expectedVersion: request.expectedVersion, context: context) { _ in
            .shipReplacement(carrier: request.carrier, trackingNumber: request.trackingNumber, note: request.note)
        }
        return response
    }

    public func confirmReplacementReceived(_ request: ConfirmReplacementReceivedRequest, context: ServerContext) async throws -> ConfirmReplacementReceivedResponse {
        var response = ConfirmReplacementReceivedResponse()
        response.afterSale = try await act(on: request.caseNumber, expectedVersion: request.expectedVersion, context: context) { _ in
            .confirmReplacementReceived(note: request.note)
        }
        return response
    }

    public func forceRefund(_ request: ForceRefundRequest, context: ServerContext) async throws -> ForceRefundResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            let number = try parseCaseNumber(request.caseNumber)
            let committed = try await workflow.act(on: number, by: principal, expectedVersion: request.expectedVersion?.value) { current in
                let amount = try request.amount.map { wire throws(DomainError) in
                    try ProtoMapping.money(wire, field: "amount", defaultCurrency: current.currency)
                }
                return .forceRefund(amount: amount, ruling: request.ruling)
            }
            var response = ForceRefundResponse()
            response.afterSale = ProtoMapping.afterSale(committed.transition.afterSale, refund: committed.refund, timers: policy.timers)
            response.refund = committed.refund.map(ProtoMapping.refundOrder)
            return response
        }
    }

    /// Decides `makeAction(case)` by the caller and commits it through the workflow (which decides
    /// again when the case or its order moved, and records refusals).
    private func act(on caseNumber: String, expectedVersion: Int64Value?, context: ServerContext,
                     _ makeAction: (AfterSaleDomain.AfterSaleCase) throws -> Action) async throws(RPCError) -> PB.Case {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            let number = try parseCaseNumber(caseNumber)
            let committed = try await workflow.act(on: number, by: principal, expectedVersion: expectedVersion?.value, makeAction)
            return ProtoMapping.afterSale(committed.transition.afterSale, refund: committed.refund, timers: policy.timers)
        }
    }

    // MARK: - Conversation

    public func addMessage(_ request: AddMessageRequest, context: ServerContext) async throws -> AddMessageResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        let key = try CallerMetadata.idempotencyKey(from: context.metadata)
        return try await mapped {
            let senders: Set<AfterSaleDomain.ActorRole> = [.buyer, .merchant, .agent, .platform]
            guard senders.contains(principal.role) else {
                throw DomainError.permissionDenied(.roleNotAllowed(principal: principal, action: "add a message", allowed: senders))
            }
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            let attachments = try ProtoMapping.evidence(request.attachments, field: "attachments")
            try policy.evidence.validate(attachments, field: "attachments")
            guard !request.text.isEmpty || !attachments.isEmpty else {
                throw DomainError.invalidArgument(field: "text", message: "must not be empty unless attachments are given")
            }
            guard request.text.utf8.count <= 2000 else {
                throw DomainError.invalidArgument(field: "text", message: "must be at most 2000 bytes, got \(request.text.utf8.count)")
            }
            let idempotency = key.map {
                IdempotencyRecord(key: $0, principal: principal,
                                  fingerprint: RequestFingerprint.of(request.serializedBytes(), operation: AfterSaleService.addMessage.path))
            }
            let appended = try await repository.appendMessage(
                NewMessage(caseNumber: afterSale.number, sender: principal, text: request.text, attachments: attachments,
                           sentAt: clock.now()),
                idempotency: idempotency,
                events: { stored in EventPlanner.events(forMessage: stored, on: afterSale).map(ProtoMapping.outbox) })
            var response = AddMessageResponse()
            response.message = ProtoMapping.message(appended.message)
            return response
        }
    }

    public func listMessages(_ request: ListMessagesRequest, context: ServerContext) async throws -> ListMessagesResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            guard request.pageSize >= 0 else {
                throw DomainError.invalidArgument(field: "page_size", message: "must not be negative, got \(request.pageSize)")
            }
            let limit = request.pageSize == 0 ? Self.defaultMessagePage : min(Int(request.pageSize), Self.maximumMessagePage)
            var after: Int64?
            if !request.pageToken.isEmpty {
                guard let id = Int64(request.pageToken), id >= 0 else {
                    throw DomainError.invalidArgument(field: "page_token", message: "is not a token this service issued")
                }
                after = id
            }
            let page = try await repository.messages(of: afterSale.number, after: after, limit: limit)
            var response = ListMessagesResponse()
            response.messages = page.messages.map(ProtoMapping.message)
            response.nextPageToken = page.next.map(String.init) ?? ""
            return response
        }
    }

    // MARK: - Reason catalog

    public func getReasonCatalog(_ request: GetReasonCatalogRequest, context: ServerContext) async throws -> GetReasonCatalogResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            if request.includeInactive && !Self.backOffice.contains(principal.role) {
                throw RPCError(.permissionDenied, "\(principal) may not list retired reasons (allowed: agent, platform)")
            }
            let kind = try ProtoMapping.kind(request.kind, field: "kind")
            let stored = try await repository.storedReasons()
                .filter { (request.includeInactive || $0.reason.isActive) && (kind.map($0.reason.kinds.contains) ?? true) }
                .sorted { ($0.reason.sortOrder, $0.reason.code) < ($1.reason.sortOrder, $1.reason.code) }
            var response = GetReasonCatalogResponse()
            response.reasons = stored.map(ProtoMapping.reason)
            return response
        }
    }

    public func upsertReason(_ request: UpsertReasonRequest, context: ServerContext) async throws -> UpsertReasonResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            guard Self.backOffice.contains(principal.role) else {
                throw DomainError.permissionDenied(.roleNotAllowed(principal: principal, action: "edit the reason catalog",
                                                                   allowed: Self.backOffice))
            }
            guard let wire = request.reason else {
                throw DomainError.invalidArgument(field: "reason", message: "is required")
            }
            let reason = try ProtoMapping.reason(wire, field: "reason")
            try reason.validate()
            if let expected = request.expectedVersion?.value, expected < 0 {
                throw DomainError.invalidArgument(field: "expected_version", message: "must not be negative")
            }
            let stored = try await repository.upsertReason(reason, expectedVersion: request.expectedVersion?.value, at: clock.now())
            var response = UpsertReasonResponse()
            response.reason = ProtoMapping.reason(stored)
            return response
        }
    }

    // MARK: - Helpers

    func parseCaseNumber(_ text: String) throws(DomainError) -> CaseNumber {
        guard !text.isEmpty else { throw .invalidArgument(field: "case_number", message: "must not be empty") }
        do {
            return try CaseNumber(parsing: text)
        } catch {
            throw .invalidArgument(field: "case_number", message: "is not a case number: \"\(text.prefix(64))\"")
        }
    }

    /// The case, or NOT_FOUND when it does not exist or the caller may not see it (so that callers
    /// cannot probe for other buyers' or shops' case numbers).
    func visibleCase(_ text: String, to principal: Principal) async throws -> AfterSaleDomain.AfterSaleCase {
        let number = try parseCaseNumber(text)
        guard let afterSale = try await repository.afterSale(number), Permissions.canView(principal, afterSale) else {
            throw RepositoryError.caseNotFound(number)
        }
        return afterSale
    }

    /// The case as the wire shows it, with its refund order if one was requested.
    func wire(_ afterSale: AfterSaleDomain.AfterSaleCase) async throws -> PB.Case {
        let refund = afterSale.status == .pendingReview ? nil : try await repository.refund(of: afterSale.number)
        return ProtoMapping.afterSale(afterSale, refund: refund, timers: policy.timers)
    }
}
