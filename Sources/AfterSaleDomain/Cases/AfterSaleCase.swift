/// One order line covered by a case, with its share of the money.
public struct CaseLine: Sendable, Hashable {
    /// The order line's identifier.
    public var orderLineID: String
    /// The stock-keeping unit.
    public var sku: String
    /// The product title.
    public var title: String
    /// The chosen specification.
    public var spec: String
    /// The product image URL.
    public var imageURL: String
    /// The product category.
    public var category: String
    /// The list price of one unit.
    public var unitPrice: Money
    /// Units covered by the case.
    public var quantity: Int
    /// The share of the line's paid amount these units stand for (see ``ProRata``); the case holds
    /// it while open or completed, whatever its kind, so later cases on the line cannot claim it.
    public var claimAmount: Money
    /// The computed refund of the line: its claim for refund kinds, zero for exchange and repair.
    public var refundAmount: Money
    /// The approved refund of the line (after the service fee or a forced amount); nil until approved.
    public var approvedAmount: Money?
    /// What has been refunded for the line by this case.
    public var refundedAmount: Money

    /// Creates a case line.
    public init(orderLineID: String, sku: String, title: String, spec: String = "", imageURL: String = "",
                category: String, unitPrice: Money, quantity: Int, claimAmount: Money, refundAmount: Money,
                approvedAmount: Money? = nil, refundedAmount: Money) {
        self.orderLineID = orderLineID
        self.sku = sku
        self.title = title
        self.spec = spec
        self.imageURL = imageURL
        self.category = category
        self.unitPrice = unitPrice
        self.quantity = quantity
        self.claimAmount = claimAmount
        self.refundAmount = refundAmount
        self.approvedAmount = approvedAmount
        self.refundedAmount = refundedAmount
    }
}

/// The money of a case: computed on application, approved on review, refunded on payment.
public struct CaseAmounts: Sendable, Hashable {
    /// Σ lines' refund amounts.
    public var goods: Money
    /// Shipping refunded: the order's fee for the refund-only case that completes the order's refund
    /// before shipment (alone or after other refund-only cases), else zero.
    public var shipping: Money
    /// goods + shipping.
    public var computed: Money
    /// The service fee the merchant deducted on approval; nil when none was given.
    public var serviceFee: Money?
    /// The approved refund (computed − fee, or a forced amount); nil until approved.
    public var approved: Money?
    /// What has actually been refunded.
    public var refunded: Money

    /// Creates case amounts.
    public init(goods: Money, shipping: Money, computed: Money, serviceFee: Money? = nil, approved: Money? = nil, refunded: Money) {
        self.goods = goods
        self.shipping = shipping
        self.computed = computed
        self.serviceFee = serviceFee
        self.approved = approved
        self.refunded = refunded
    }

    /// The amount shown in lists: approved when approved, else computed.
    public var displayed: Money { approved ?? computed }
}

/// An after-sale case (售后单): the application, its money, its status and its history.
///
/// Values change only through ``decide(_:_:by:at:expectedVersion:policy:)``, which returns the next value;
/// the memberwise initializer exists for storage to rebuild stored cases.
public struct AfterSaleCase: Sendable, Hashable {
    /// The human-friendly unique number.
    public internal(set) var number: CaseNumber
    /// The order it belongs to.
    public internal(set) var orderID: String
    /// The buyer who applied.
    public internal(set) var buyerID: String
    /// The shop that sold the order.
    public internal(set) var shop: ShopInfo
    /// The kind of after-sale.
    public internal(set) var kind: AfterSaleKind
    /// The catalog code of the reason chosen.
    public internal(set) var reasonCode: String
    /// The reason's label as it read when the case was created.
    public internal(set) var reasonTitle: String
    /// The buyer's note.
    public internal(set) var buyerNote: String
    /// The buyer's evidence.
    public internal(set) var evidence: [EvidenceRef]
    /// The lines and quantities covered.
    public internal(set) var lines: [CaseLine]
    /// True when the case covers every line of the order in full quantity.
    public internal(set) var coversWholeOrder: Bool
    /// The money.
    public internal(set) var amounts: CaseAmounts
    /// The current status.
    public internal(set) var status: CaseStatus
    /// The merchant's written reason when rejected.
    public internal(set) var rejectionReason: String?
    /// The merchant's address for returned goods, given on approval.
    public internal(set) var returnAddress: Address?
    /// The buyer's return shipment.
    public internal(set) var returnShipment: Shipment?
    /// The replacement or repaired goods shipped to the buyer.
    public internal(set) var outboundShipment: Shipment?
    /// What the merchant recorded on receiving the return.
    public internal(set) var receipt: ReturnReceipt?
    /// Every step, oldest first.
    public internal(set) var timeline: [TimelineEntry]
    /// Starts at 1 and grows by 1 with every change; callers pass it back as the expected version.
    public internal(set) var version: Int64
    /// When the buyer applied.
    public internal(set) var createdAt: Timestamp
    /// When the case last changed.
    public internal(set) var updatedAt: Timestamp
    /// When the case reached a terminal status.
    public internal(set) var finishedAt: Timestamp?

    /// Rebuilds a case from stored fields (storage only; new cases come from ``AfterSaleCase/open(_:number:order:existingCases:catalog:policy:by:at:)``).
    public init(number: CaseNumber, orderID: String, buyerID: String, shop: ShopInfo, kind: AfterSaleKind,
                reasonCode: String, reasonTitle: String, buyerNote: String, evidence: [EvidenceRef], lines: [CaseLine],
                coversWholeOrder: Bool, amounts: CaseAmounts, status: CaseStatus, rejectionReason: String? = nil,
                returnAddress: Address? = nil, returnShipment: Shipment? = nil, outboundShipment: Shipment? = nil,
                receipt: ReturnReceipt? = nil, timeline: [TimelineEntry], version: Int64, createdAt: Timestamp,
                updatedAt: Timestamp, finishedAt: Timestamp? = nil) {
        self.number = number
        self.orderID = orderID
        self.buyerID = buyerID
        self.shop = shop
        self.kind = kind
        self.reasonCode = reasonCode
        self.reasonTitle = reasonTitle
        self.buyerNote = buyerNote
        self.evidence = evidence
        self.lines = lines
        self.coversWholeOrder = coversWholeOrder
        self.amounts = amounts
        self.status = status
        self.rejectionReason = rejectionReason
        self.returnAddress = returnAddress
        self.returnShipment = returnShipment
        self.outboundShipment = outboundShipment
        self.receipt = receipt
        self.timeline = timeline
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    /// The currency of the case's amounts.
    public var currency: CurrencyCode { amounts.computed.currency }

    /// Total units over the lines.
    public var totalQuantity: Int { lines.reduce(0) { $0 + $1.quantity } }

    /// The most a refund on this case may be: the lines' claims plus any refunded shipping.
    public var maximumRefund: Money {
        Money(minorUnits: lines.reduce(amounts.shipping.minorUnits) { $0 + $1.claimAmount.minorUnits }, currency: currency)
    }
}
