/// Who may do what (权限): roles per action, and ownership of cases by buyers and shops.
public enum Permissions {
    /// Checks that `principal` may take `action` on `afterSale`: a well-formed principal, a role the
    /// action allows on the case's kind (``ActionKind/allowedRoles(on:)``), and for buyers their own case, for merchants their own shop's case.
    /// Agents, the platform and systems may act on any case.
    /// - Throws: ``DomainError/permissionDenied(_:)`` or ``DomainError/invalidArgument(field:message:)``.
    public static func authorize(_ principal: Principal, _ action: ActionKind, on afterSale: AfterSaleCase) throws(DomainError) {
        try principal.validate()
        let allowed = action.allowedRoles(on: afterSale.kind)
        guard allowed.contains(principal.role) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: action.verb, allowed: allowed))
        }
        try requireOwnership(principal, of: afterSale)
    }

    /// Checks that `principal` may see `afterSale` (detail, conversation): the same ownership rule.
    public static func authorizeView(_ principal: Principal, of afterSale: AfterSaleCase) throws(DomainError) {
        try principal.validate()
        try requireOwnership(principal, of: afterSale)
    }

    /// True when `principal` may see `afterSale`.
    public static func canView(_ principal: Principal, _ afterSale: AfterSaleCase) -> Bool {
        (try? authorizeView(principal, of: afterSale)) != nil
    }

    /// The roles that may apply for an after-sale: the buyer, or support acting on the buyer's behalf.
    public static var applicantRoles: Set<ActorRole> { Operation.apply.allowedRoles }

    /// Checks that `principal`'s role may perform `operation` (ownership is checked where the
    /// resource is read: a buyer's own case, a merchant's own shop).
    /// - Throws: ``DomainError/permissionDenied(_:)``.
    public static func require(_ principal: Principal, _ operation: Operation) throws(DomainError) {
        guard operation.allowedRoles.contains(principal.role) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: operation.verb, allowed: operation.allowedRoles))
        }
    }

    /// Checks that `principal` may apply for an after-sale on `order`.
    public static func authorizeApplication(_ principal: Principal, on order: OrderSnapshot) throws(DomainError) {
        try principal.validate()
        guard applicantRoles.contains(principal.role) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "apply for an after-sale", allowed: applicantRoles))
        }
        if principal.role == .buyer && principal.id != order.buyerID {
            throw .permissionDenied(.notOrderBuyer(buyerID: principal.id, orderID: order.id))
        }
    }

    private static func requireOwnership(_ principal: Principal, of afterSale: AfterSaleCase) throws(DomainError) {
        switch principal.role {
        case .buyer where principal.id != afterSale.buyerID:
            throw .permissionDenied(.notCaseBuyer(buyerID: principal.id, caseNumber: afterSale.number))
        case .merchant where principal.actingShopID != afterSale.shop.id:
            throw .permissionDenied(.notShopOwner(merchantID: principal.id, shopID: afterSale.shop.id))
        default:
            return
        }
    }
}

/// What a principal may do besides acting on one case (those are ``ActionKind``s): the roles
/// allowed for each, declared once. The services gate their methods on this table, and the
/// protocol's method × role table is generated from it.
public enum Operation: String, Sendable, Hashable, CaseIterable {
    /// Apply for an after-sale on an order (the buyer, or support on the buyer's behalf).
    case apply
    /// Read a case, its conversation and its order's after-sale state (ownership applies).
    case viewCase = "view_case"
    /// Read a case's trace records.
    case readTraceRecords = "read_trace_records"
    /// Add a message to a case's conversation.
    case addMessage = "add_message"
    /// List reasons retired from the catalog.
    case listRetiredReasons = "list_retired_reasons"
    /// Create or change catalog reasons.
    case editReasonCatalog = "edit_reason_catalog"
    /// Report carrier tracking events.
    case ingestTracking = "ingest_tracking"
    /// Read and acknowledge the event feed.
    case readEventFeed = "read_event_feed"
    /// Send order snapshots.
    case upsertOrders = "upsert_orders"
    /// Claim refund orders to pay.
    case claimRefunds = "claim_refunds"
    /// Report the outcome of a refund payment.
    case reportRefundResults = "report_refund_results"
    /// List refund orders.
    case listRefunds = "list_refunds"
    /// Put a refund that needs attention back in the queue.
    case requeueRefunds = "requeue_refunds"
    /// Change timer policies and pauses, fire a timer early.
    case manageTimers = "manage_timers"
    /// Create and change support agents.
    case manageAgents = "manage_agents"
    /// See support agents.
    case viewAgents = "view_agents"
    /// Work tickets: presence, take, transfer, release, pending, solve.
    case workTickets = "work_tickets"
    /// Open, see and reply on tickets.
    case useServiceDesk = "use_service_desk"
    /// An agent's own console: heartbeats, taking a ticket.
    case agentConsole = "agent_console"
    /// Rate a completed case or a solved ticket (the buyer it concerns).
    case rate
    /// See ratings (their own, their shop's, theirs as an agent, or all).
    case viewRatings = "view_ratings"
    /// List ratings (their shop's, theirs as an agent, or all).
    case listRatings = "list_ratings"
    /// Write, publish and archive knowledge-base articles; see drafts and revisions.
    case manageKnowledge = "manage_knowledge"
    /// Search and read the published knowledge-base articles of the caller's audiences, get suggestions.
    case readKnowledge = "read_knowledge"
    /// Say whether a knowledge-base article helped (one vote per caller and article).
    case voteOnArticles = "vote_on_articles"
    /// Read the audit chain and its signed checkpoints.
    case readAudit = "read_audit"
    /// See a buyer's personal data on a case unmasked, with a reason that the trace records keep.
    case revealPersonalData = "reveal_personal_data"
    /// Erase a buyer's personal data once it is past retention (crypto-shredding).
    case erasePersonalData = "erase_personal_data"
    /// See statistics (a merchant: their shop's; an agent: their team's; the platform: any).
    case viewStatistics = "view_statistics"
    /// Open a dispute (维权): the buyer after a rejection or for a guarantee, the platform for any grounds.
    case openDispute = "open_dispute"
    /// See disputes (the buyer's own, the shop's, any for agents and the platform).
    case viewDisputes = "view_disputes"
    /// Make a statement with evidence in a dispute (its parties).
    case disputeStatement = "dispute_statement"
    /// Ask for evidence and rule on disputes (agents with the review ticket, the platform).
    case arbitrate
    /// Appeal a ruling (the merchant, once).
    case appealRuling = "appeal_ruling"

    /// The roles allowed.
    public var allowedRoles: Set<ActorRole> {
        switch self {
        case .apply: [.buyer, .agent, .platform]
        case .viewCase: Set(ActorRole.allCases)
        case .readTraceRecords: [.agent, .platform, .system]
        case .addMessage: [.buyer, .merchant, .agent, .platform]
        case .listRetiredReasons, .editReasonCatalog, .requeueRefunds, .revealPersonalData: [.agent, .platform]
        case .ingestTracking, .upsertOrders, .claimRefunds, .reportRefundResults: [.system]
        case .readEventFeed: [.system, .platform]
        case .listRefunds: [.system, .agent, .platform]
        case .manageTimers, .manageAgents: [.platform]
        case .viewAgents, .workTickets: [.agent, .platform]
        case .useServiceDesk: [.buyer, .merchant, .agent, .platform]
        case .agentConsole: [.agent]
        case .rate: [.buyer]
        case .viewRatings: [.buyer, .merchant, .agent, .platform]
        case .listRatings: [.merchant, .agent, .platform]
        case .manageKnowledge: [.agent, .platform]
        case .readKnowledge, .voteOnArticles: [.buyer, .merchant, .agent, .platform]
        case .readAudit, .erasePersonalData: [.platform]
        case .viewStatistics: [.merchant, .agent, .platform]
        case .openDispute: [.buyer, .platform]
        case .viewDisputes: [.buyer, .merchant, .agent, .platform]
        case .disputeStatement: [.buyer, .merchant]
        case .arbitrate: [.agent, .platform]
        case .appealRuling: [.merchant]
        }
    }

    /// The operation as a verb phrase for messages, e.g. `claim refunds`.
    public var verb: String {
        switch self {
        case .apply: "apply for an after-sale"
        case .viewCase: "view cases"
        case .readTraceRecords: "read trace records"
        case .addMessage: "add a message"
        case .listRetiredReasons: "list retired reasons"
        case .editReasonCatalog: "edit the reason catalog"
        case .ingestTracking: "ingest tracking events"
        case .readEventFeed: "read the event feed"
        case .upsertOrders: "upsert orders"
        case .claimRefunds: "claim refunds"
        case .reportRefundResults: "report refund results"
        case .listRefunds: "list refunds"
        case .requeueRefunds: "re-queue refunds"
        case .manageTimers: "manage timers"
        case .manageAgents: "manage support agents"
        case .viewAgents: "view support agents"
        case .workTickets: "work tickets"
        case .useServiceDesk: "use the service desk"
        case .agentConsole: "use an agent's console"
        case .rate: "rate a case or a ticket"
        case .viewRatings: "see ratings"
        case .listRatings: "list ratings"
        case .manageKnowledge: "manage knowledge-base articles"
        case .readKnowledge: "read the knowledge base"
        case .voteOnArticles: "vote on articles"
        case .readAudit: "read the audit trail"
        case .revealPersonalData: "reveal personal data"
        case .erasePersonalData: "erase personal data"
        case .viewStatistics: "view statistics"
        case .openDispute: "open a dispute"
        case .viewDisputes: "see disputes"
        case .disputeStatement: "make a statement in a dispute"
        case .arbitrate: "arbitrate disputes"
        case .appealRuling: "appeal a ruling"
        }
    }
}
