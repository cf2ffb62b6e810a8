/// The kinds of event on the feed other systems consume (inventory, logistics, notification,
/// the order system, payment reconciliation).
public enum EventType: String, Sendable, Hashable, CaseIterable {
    case caseCreated = "case_created"
    case caseApproved = "case_approved"
    case caseRejected = "case_rejected"
    case caseWithdrawn = "case_withdrawn"
    case returnShipped = "return_shipped"
    case returnPickupRequested = "return_pickup_requested"
    case returnReceived = "return_received"
    case refundRequested = "refund_requested"
    case refundSucceeded = "refund_succeeded"
    case refundFailed = "refund_failed"
    case replacementShipped = "replacement_shipped"
    case caseCompleted = "case_completed"
    case caseClosed = "case_closed"
    case orderAfterSaleStateChanged = "order_after_sale_state_changed"
    case messageAdded = "message_added"
    case trackingUpdated = "tracking_updated"
    case refundNeedsAttention = "refund_needs_attention"
    /// A timer's wait runs out soon: the party it waits on is reminded.
    case timerReminder = "timer_reminder"
    /// A service-desk ticket was opened.
    case ticketOpened = "ticket_opened"
    /// A ticket was assigned to an agent (by dispatch, taken, or transferred to them).
    case ticketAssigned = "ticket_assigned"
    /// Any other step of a ticket: a reply, a note, pending, solved, reopened, released, closed.
    case ticketUpdated = "ticket_updated"
    /// A ticket's SLA target is about to pass.
    case ticketSLAWarning = "ticket_sla_warning"
    /// A ticket's SLA target passed.
    case ticketSLABreached = "ticket_sla_breached"
    /// A buyer rated a case or a ticket.
    case ratingSubmitted = "rating_submitted"
    /// A buyer edited their rating (once).
    case ratingEdited = "rating_edited"
    /// A dispute (维权) was opened by the buyer or the platform.
    case disputeOpened = "dispute_opened"
    /// A party made a statement with evidence (the merchant's response included).
    case disputeStatementAdded = "dispute_statement_added"
    /// An agent or the platform asked a party for evidence.
    case disputeEvidenceRequested = "dispute_evidence_requested"
    /// A dispute's deadline passed and its outcome applied (merchant silent, evidence lapsed).
    case disputeDeadlinePassed = "dispute_deadline_passed"
    /// A dispute was ruled (for the buyer, for the merchant, mediated), or ruled again on appeal.
    case disputeRuled = "dispute_ruled"
    /// The merchant appealed a ruling.
    case disputeAppealed = "dispute_appealed"
    /// A ruling became final when the appeal window passed.
    case disputeFinalized = "dispute_finalized"

    /// The event of a dispute step.
    public static func dispute(_ step: DisputeStep) -> EventType {
        switch step {
        case .opened: .disputeOpened
        case .statement, .merchantResponded: .disputeStatementAdded
        case .evidenceRequested: .disputeEvidenceRequested
        case .merchantResponseLapsed, .evidenceLapsed, .reviewResumed: .disputeDeadlinePassed
        case .ruled: .disputeRuled
        case .appealed: .disputeAppealed
        case .finalized: .disputeFinalized
        }
    }
}

/// SKU × quantity that inventory must act on.
public struct StockItem: Sendable, Hashable {
    /// The order line the goods come from.
    public var orderLineID: String
    /// The stock-keeping unit.
    public var sku: String
    /// The units.
    public var quantity: Int
    /// For restocks: the condition the merchant recorded.
    public var condition: GoodsCondition?

    /// Creates a stock item.
    public init(orderLineID: String, sku: String, quantity: Int, condition: GoodsCondition? = nil) {
        self.orderLineID = orderLineID
        self.sku = sku
        self.quantity = quantity
        self.condition = condition
    }
}

/// What logistics needs to collect a return parcel.
public struct PickupInstruction: Sendable, Hashable {
    /// The preferred carrier (empty: logistics chooses).
    public var carrier: String
    /// Where to collect it.
    public var pickupAddress: Address
    /// Where it goes: the merchant's return address.
    public var destination: Address?
    /// When the buyer is available.
    public var window: ClosedRange<Timestamp>?
    /// The goods in the parcel.
    public var items: [StockItem]
}

/// One message the notification system must send.
public struct NotificationInstruction: Sendable, Hashable {
    /// Buyer or merchant.
    public var recipientRole: ActorRole
    /// The buyer id or the shop id.
    public var recipientID: String
    /// The template to render, e.g. `aftersale.approved.buyer`.
    public var templateKey: String
    /// Values for the template, sorted by name.
    public var params: [String: String]
}

/// One event of the feed, as the transaction that made the change appends it (transactional outbox).
///
/// Payloads say what a consumer must do, so no consumer has to call back: inventory reads
/// ``restockItems`` and ``reserveItems``, logistics ``pickup`` and ``shipment``, notification
/// ``notifications``, the order system ``orderState``, payment reconciliation ``refund``.
public struct DomainEvent: Sendable, Hashable {
    /// What happened.
    public var type: EventType
    /// When the change was decided (the transition's time).
    public var occurredAt: Timestamp
    /// The case concerned.
    public var caseNumber: CaseNumber?
    /// The order concerned.
    public var orderID: String
    /// The shop concerned.
    public var shopID: String
    /// The buyer concerned.
    public var buyerID: String
    /// The case's kind.
    public var kind: AfterSaleKind?
    /// The case's status before.
    public var fromStatus: CaseStatus?
    /// The case's status after.
    public var toStatus: CaseStatus?
    /// The case's version after.
    public var caseVersion: Int64
    /// Who caused it.
    public var actor: Principal?
    /// The approved amount, or the refund's amount.
    public var amount: Money?
    /// A reason, note, ruling or failure.
    public var note: String
    /// Inventory: goods to put back into stock.
    public var restockItems: [StockItem]
    /// Inventory: goods to reserve and ship as an exchange replacement.
    public var reserveItems: [StockItem]
    /// Logistics: a pickup to book.
    public var pickup: PickupInstruction?
    /// The shipment concerned, with the address it goes to.
    public var shipment: Shipment?
    /// Where ``shipment`` goes (the merchant's return address for a return; nil for outbound).
    public var shipmentDestination: Address?
    /// Notification: who to tell.
    public var notifications: [NotificationInstruction]
    /// The order system: the order's new after-sale state.
    public var orderState: OrderAfterSaleView?
    /// Payment and reconciliation: the refund order.
    public var refund: RefundOrder?
    /// The conversation message.
    public var message: CaseMessage?

    /// An event about `afterSale` (its state after the change) with every payload empty.
    public init(_ type: EventType, about afterSale: AfterSaleCase, from: CaseStatus?, by actor: Principal?, at: Timestamp) {
        self.type = type
        occurredAt = at
        caseNumber = afterSale.number
        orderID = afterSale.orderID
        shopID = afterSale.shop.id
        buyerID = afterSale.buyerID
        kind = afterSale.kind
        fromStatus = from
        toStatus = afterSale.status
        caseVersion = afterSale.version
        self.actor = actor
        amount = nil
        note = ""
        restockItems = []
        reserveItems = []
        pickup = nil
        shipment = nil
        shipmentDestination = nil
        notifications = []
        orderState = nil
        refund = nil
        message = nil
    }
}
