import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

/// Who may call a method, declared once per method in ``MethodAccess/table``: the authorization
/// interceptor enforces the role gates before the handler runs, the handlers add ownership (a
/// buyer's own cases, a merchant's own shop), and PROTOCOL.md's method × role table is generated
/// from it.
public enum MethodAccess: Sendable, Hashable {
    /// Anyone, without an identity (health checks, reflection).
    case open
    /// The roles of a domain operation (``Operation/allowedRoles``), checked by the interceptor.
    case operation(Operation)
    /// The roles of the case actions the method may take on some kind (``ActionKind/rolesOnAnyKind``), checked by
    /// the domain's decision so that a refused attempt leaves a trace record on the case.
    case actions([ActionKind])

    /// The roles that may call the method; nil for an open method.
    public var allowedRoles: Set<AfterSaleDomain.ActorRole>? {
        switch self {
        case .open: nil
        case .operation(let operation): operation.allowedRoles
        case .actions(let actions): actions.reduce(into: Set<AfterSaleDomain.ActorRole>()) { $0.formUnion($1.rolesOnAnyKind) }
        }
    }

    /// Every method of the contracts with its access. A method missing here is refused to every
    /// caller (deny by default); a test checks that every declared method is listed.
    public static let table: [String: MethodAccess] = {
        var table: [String: MethodAccess] = [:]
        for method in Health.methods + Reflection.methods { table[method.path] = .open }
        let entries: [(RPCMethodInfo, MethodAccess)] = [
            (AfterSaleService.createAfterSale.info, .operation(.apply)),
            (AfterSaleService.getAfterSale.info, .operation(.viewCase)),
            (AfterSaleService.listAfterSales.info, .operation(.viewCase)),
            (AfterSaleService.withdrawAfterSale.info, .actions([.withdraw])),
            (AfterSaleService.reviewAfterSale.info, .actions([.approve, .reject])),
            (AfterSaleService.submitReturnShipment.info, .actions([.shipReturn, .bookPickup])),
            (AfterSaleService.confirmReturnReceived.info, .actions([.confirmReturnReceived])),
            (AfterSaleService.shipReplacement.info, .actions([.shipReplacement])),
            (AfterSaleService.confirmReplacementReceived.info, .actions([.confirmReplacementReceived])),
            (AfterSaleService.forceRefund.info, .actions([.forceRefund])),
            (AfterSaleService.addMessage.info, .operation(.addMessage)),
            (AfterSaleService.listMessages.info, .operation(.viewCase)),
            (AfterSaleService.getReasonCatalog.info, .operation(.viewCase)),
            (AfterSaleService.upsertReason.info, .operation(.editReasonCatalog)),
            (AfterSaleService.ingestTrackingEvent.info, .operation(.ingestTracking)),
            (AfterSaleService.subscribe.info, .operation(.readEventFeed)),
            (AfterSaleService.acknowledgeEvents.info, .operation(.readEventFeed)),
            (AfterSaleService.revealPersonalData.info, .operation(.revealPersonalData)),
            (AfterSaleService.erasePersonalData.info, .operation(.erasePersonalData)),
            (OrderBridge.upsertOrder.info, .operation(.upsertOrders)),
            (OrderBridge.getOrderAfterSaleState.info, .operation(.viewCase)),
            (RefundBridge.claimRefunds.info, .operation(.claimRefunds)),
            (RefundBridge.reportRefundResult.info, .operation(.reportRefundResults)),
            (RefundBridge.listRefunds.info, .operation(.listRefunds)),
            (RefundBridge.requeueRefund.info, .operation(.requeueRefunds)),
            (Timers.getTimerPolicy.info, .operation(.manageTimers)),
            (Timers.setTimerOverride.info, .operation(.manageTimers)),
            (Timers.pauseTimers.info, .operation(.manageTimers)),
            (Timers.endTimerPause.info, .operation(.manageTimers)),
            (Timers.listTimerPauses.info, .operation(.manageTimers)),
            (Timers.fireTimer.info, .operation(.manageTimers)),
            (Feedback.submitRating.info, .operation(.rate)),
            (Feedback.editRating.info, .operation(.rate)),
            (Feedback.getRating.info, .operation(.viewRatings)),
            (Feedback.listRatings.info, .operation(.listRatings)),
            (Knowledge.createArticle.info, .operation(.manageKnowledge)),
            (Knowledge.updateArticle.info, .operation(.manageKnowledge)),
            (Knowledge.publishArticle.info, .operation(.manageKnowledge)),
            (Knowledge.archiveArticle.info, .operation(.manageKnowledge)),
            (Knowledge.listArticleRevisions.info, .operation(.manageKnowledge)),
            (Knowledge.getArticle.info, .operation(.readKnowledge)),
            (Knowledge.listArticles.info, .operation(.readKnowledge)),
            (Knowledge.searchArticles.info, .operation(.readKnowledge)),
            (Knowledge.suggestArticles.info, .operation(.readKnowledge)),
            (Knowledge.voteArticle.info, .operation(.voteOnArticles)),
            (ServiceDesk.upsertAgent.info, .operation(.manageAgents)),
            (ServiceDesk.getAgent.info, .operation(.viewAgents)),
            (ServiceDesk.listAgents.info, .operation(.viewAgents)),
            (ServiceDesk.setPresence.info, .operation(.workTickets)),
            (ServiceDesk.heartbeat.info, .operation(.agentConsole)),
            (ServiceDesk.openTicket.info, .operation(.useServiceDesk)),
            (ServiceDesk.getTicket.info, .operation(.useServiceDesk)),
            (ServiceDesk.listTickets.info, .operation(.useServiceDesk)),
            (ServiceDesk.replyToTicket.info, .operation(.useServiceDesk)),
            (ServiceDesk.updateTicketStatus.info, .operation(.workTickets)),
            (ServiceDesk.takeTicket.info, .operation(.agentConsole)),
            (ServiceDesk.transferTicket.info, .operation(.workTickets)),
            (ServiceDesk.releaseTicket.info, .operation(.workTickets)),
            (Audit.readAuditChain.info, .operation(.readAudit)),
            (Disputes.openDispute.info, .operation(.openDispute)),
            (Disputes.getDispute.info, .operation(.viewDisputes)),
            (Disputes.listDisputes.info, .operation(.viewDisputes)),
            (Disputes.submitStatement.info, .operation(.disputeStatement)),
            (Disputes.requestEvidence.info, .operation(.arbitrate)),
            (Disputes.ruleDispute.info, .operation(.arbitrate)),
            (Disputes.appealRuling.info, .operation(.appealRuling)),
            (Audit.listAuditCheckpoints.info, .operation(.readAudit)),
            (Statistics.getStatistics.info, .operation(.viewStatistics)),
        ]
        for (method, access) in entries { table[method.path] = access }
        return table
    }()

    /// What a role that may call the method gets to see or change, per method (the ownership rules
    /// the handlers apply), for the protocol document.
    public static let scope: [String: String] = [
        AfterSaleService.getAfterSale.info.path: "buyers: their own cases; merchants: their shop's; agents: the cases of the tickets they may see (theirs, their team's, the unrouted queue); the platform and systems: any. Another's case is NOT_FOUND; trace records need agent, platform or system",
        AfterSaleService.listAfterSales.info.path: "buyers: their own cases; merchants: their shop's (the filter is forced); agents: the cases of their tickets; the platform and systems: any",
        AfterSaleService.listMessages.info.path: "the conversation of a case the caller may see (agents: the cases of their tickets)",
        AfterSaleService.addMessage.info.path: "a case the caller may see",
        AfterSaleService.getReasonCatalog.info.path: "retired reasons (include_inactive) need agent or platform",
        AfterSaleService.createAfterSale.info.path: "buyers: their own orders; agents and the platform on a buyer's behalf",
        AfterSaleService.withdrawAfterSale.info.path: "the buyer's own case",
        AfterSaleService.reviewAfterSale.info.path: "the merchant's own shop's case; agents (the cases of their tickets) and the platform: only REJECT of a refund-only case held by abuse control (§13.17)",
        AfterSaleService.submitReturnShipment.info.path: "the buyer's own case",
        AfterSaleService.confirmReturnReceived.info.path: "merchants: their shop's case; system: any (timers)",
        AfterSaleService.shipReplacement.info.path: "the merchant's own shop's case",
        AfterSaleService.confirmReplacementReceived.info.path: "buyers: their own case; system: any (timers)",
        AfterSaleService.forceRefund.info.path: "agents: the cases of their tickets; the platform: any case",
        AfterSaleService.revealPersonalData.info.path: "a case the caller may see (as GetAfterSale); a reason is required and kept, with the caller, in the case's trace record",
        AfterSaleService.erasePersonalData.info.path: "any buyer once none of their cases is open or within retention; the reason is kept in a trace record on each of their cases",
        RefundBridge.listRefunds.info.path: "agents: the refunds of the cases of their tickets (theirs, their team's, the queue); others: any",
        OrderBridge.getOrderAfterSaleState.info.path: "buyers: their own orders; merchants: their shop's; agents: orders with a case of their tickets; others: any",
        Feedback.submitRating.info.path: "the buyer of a completed case (not one a timer completed without them) or of a solved ticket they opened",
        Feedback.editRating.info.path: "the buyer who rated, once",
        Feedback.getRating.info.path: "buyers: their own; merchants: their shop's; agents: theirs; the platform: any",
        Feedback.listRatings.info.path: "merchants: their shop's; agents: theirs; the platform: any",
        Knowledge.getArticle.info.path: "buyers: published buyers' articles; merchants: published buyers' and merchants'; agents and the platform: any, drafts and the newest revision included. Others are NOT_FOUND",
        Knowledge.listArticles.info.path: "as GetArticle: readers get published articles of their audiences, editors any status",
        Knowledge.searchArticles.info.path: "published articles of the caller's audiences (buyers: buyers'; merchants: buyers' and merchants'; agents and the platform: all)",
        Knowledge.suggestArticles.info.path: "as SearchArticles; a ticket_id or case_number must name one the caller may see",
        Knowledge.voteArticle.info.path: "a published article the caller may read; one vote per caller, replaced by the next",
        ServiceDesk.getAgent.info.path: "agents: themselves; the platform: any",
        ServiceDesk.listAgents.info.path: "agents: their own team; the platform: any",
        ServiceDesk.setPresence.info.path: "agents: themselves; the platform: any agent",
        ServiceDesk.heartbeat.info.path: "agents: themselves",
        ServiceDesk.openTicket.info.path: "buyers and merchants: about their own cases and orders (no skills, teams or URGENT); agents and the platform: any",
        ServiceDesk.getTicket.info.path: "buyers: tickets they opened or about them; merchants: their shop's; agents: theirs, their team's and the unrouted queue; the platform: any. Others' are NOT_FOUND; internal notes only for agents and the platform",
        ServiceDesk.listTickets.info.path: "as GetTicket (the scope is forced)",
        ServiceDesk.replyToTicket.info.path: "a ticket the caller may see; internal notes: agents and the platform",
        ServiceDesk.updateTicketStatus.info.path: "the agent holding the ticket (or any, while queued); the platform: any",
        ServiceDesk.takeTicket.info.path: "agents: a queued ticket they may see (even beyond their capacity)",
        ServiceDesk.transferTicket.info.path: "the agent holding the ticket; the platform: any",
        ServiceDesk.releaseTicket.info.path: "the agent holding the ticket; the platform: any",
        Statistics.getStatistics.info.path: "merchants: their own shop (forced); agents: their own team (forced); the platform: the platform, any shop or any team",
        Disputes.openDispute.info.path: "buyers: their own rejected case (within the escalation window) or completed exchange or repair (within the guarantee period); the platform: any grounds, MERCHANT_OVERDUE only by it",
        Disputes.getDispute.info.path: "buyers: their own; merchants: their shop's; agents: those of the cases of their tickets (the review ticket's holder, team and queue included); the platform: any. Others' are NOT_FOUND",
        Disputes.listDisputes.info.path: "as GetDispute (buyers' and merchants' filters are forced)",
        Disputes.submitStatement.info.path: "the dispute's buyer or the merchant of its shop, while it is not ruled",
        Disputes.requestEvidence.info.path: "agents: the one holding the dispute's review ticket; the platform: any",
        Disputes.ruleDispute.info.path: "agents: the one holding the dispute's review ticket; the platform: any",
        Disputes.appealRuling.info.path: "the merchant of the dispute's shop, once, within the appeal window, against a ruling for the buyer or mediated",
    ]
}

/// Enforces ``MethodAccess/table`` after the identity interceptor: a method not in the table is
/// refused to everyone, an operation's role gate is checked here, and an action's is left to the
/// domain's decision (which records refused attempts).
public struct AuthorizationInterceptor: ServerInterceptor {
    /// The access of each method, by path.
    public let table: [String: MethodAccess]

    /// The interceptor over `table`.
    public init(table: [String: MethodAccess] = MethodAccess.table) {
        self.table = table
    }

    /// Open methods need nothing here.
    public func applies(to method: RPCMethodInfo) -> Bool {
        switch table[method.path] {
        case nil, .operation?, .actions?: true
        case .open?: false
        }
    }

    public func intercept(_ context: inout ServerContext) throws(RPCError) {
        guard let access = table[context.method.path] else {
            throw RPCError(.permissionDenied, "method \(context.method.path) is not open to any caller")
        }
        // Credentials limited to some methods (a payment worker's key: RefundBridge only).
        if let authentication = context[AuthenticationKey.self], !authentication.allows(method: context.method.path) {
            throw RPCError(.permissionDenied, "the credentials of \(authentication.principal) do not allow \(context.method.path)")
        }
        guard case .operation(let operation) = access else { return }
        do {
            try Permissions.require(try context.principal, operation)
        } catch let error as DomainError {
            throw error.rpcError
        } catch {
            throw RPCError(wrapping: error)
        }
    }
}
