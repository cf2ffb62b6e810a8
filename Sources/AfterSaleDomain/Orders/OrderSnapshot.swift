/// The lifecycle status of an order as the order system reports it.
public enum OrderStatus: String, Sendable, Hashable, CaseIterable {
    /// Created, not paid yet (待付款).
    case created
    /// Paid, not shipped yet (待发货).
    case paid
    /// Shipped to the buyer (已发货).
    case shipped
    /// Delivered to, signed for by, the buyer (已签收).
    case delivered
    /// Trade completed (交易完成).
    case completed
    /// Cancelled before completion.
    case cancelled
}

/// One line of an order with the discount already allocated to it.
public struct OrderLine: Sendable, Hashable {
    /// The line's identifier, unique within the order.
    public var id: String
    /// The stock-keeping unit.
    public var sku: String
    /// The product title.
    public var title: String
    /// The chosen specification (colour, size...).
    public var spec: String
    /// The product image URL.
    public var imageURL: String
    /// The product category; policy windows and exclusions are configured per category.
    public var category: String
    /// The list price of one unit.
    public var unitPrice: Money
    /// Units purchased (> 0).
    public var quantity: Int
    /// The share of the order's coupon/points discount allocated to this line; never refunded as cash.
    public var allocatedDiscount: Money
    /// What the buyer actually paid for the line: unit price × quantity − allocated discount.
    public var paidAmount: Money
    /// True when the buyer confirmed at purchase that this item is excluded from no-reason returns.
    public var excludedFromNoReasonReturn: Bool

    /// Creates a line; ``OrderSnapshot/validate()`` checks that the amounts agree.
    public init(id: String, sku: String, title: String, spec: String = "", imageURL: String = "",
                category: String, unitPrice: Money, quantity: Int, allocatedDiscount: Money,
                paidAmount: Money, excludedFromNoReasonReturn: Bool = false) {
        self.id = id
        self.sku = sku
        self.title = title
        self.spec = spec
        self.imageURL = imageURL
        self.category = category
        self.unitPrice = unitPrice
        self.quantity = quantity
        self.allocatedDiscount = allocatedDiscount
        self.paidAmount = paidAmount
        self.excludedFromNoReasonReturn = excludedFromNoReasonReturn
    }
}

/// When an order reached each step of its lifecycle; absent for steps not reached.
public struct OrderTimestamps: Sendable, Hashable {
    /// When the order was created.
    public var created: Timestamp
    /// When it was paid.
    public var paid: Timestamp?
    /// When it was shipped.
    public var shipped: Timestamp?
    /// When it was delivered; the 7-day no-reason and 三包 windows count from here.
    public var delivered: Timestamp?
    /// When the trade completed.
    public var completed: Timestamp?
    /// When it was cancelled.
    public var cancelled: Timestamp?

    /// Creates the timestamps of an order.
    public init(created: Timestamp, paid: Timestamp? = nil, shipped: Timestamp? = nil, delivered: Timestamp? = nil,
                completed: Timestamp? = nil, cancelled: Timestamp? = nil) {
        self.created = created
        self.paid = paid
        self.shipped = shipped
        self.delivered = delivered
        self.completed = completed
        self.cancelled = cancelled
    }
}

/// An order as after-sales sees it: the facts the order system sends, read-only to this service.
public struct OrderSnapshot: Sendable, Hashable {
    /// The order number.
    public var id: String
    /// The order system's version of this order; a late, older snapshot must not replace a newer one.
    public var version: Int64
    /// The shop that sold the order.
    public var shop: ShopInfo
    /// The buyer's identifier.
    public var buyerID: String
    /// The lifecycle status.
    public var status: OrderStatus
    /// The order lines.
    public var lines: [OrderLine]
    /// The shipping fee the buyer paid.
    public var shippingFee: Money
    /// Σ lines' paid amounts + shipping fee.
    public var totalPaid: Money
    /// The payment channel refunds go back through (e.g. "alipay").
    public var paymentChannel: String
    /// The channel's transaction id of the original payment.
    public var paymentTransactionID: String
    /// The delivery address, masked.
    public var deliveryAddress: Address?
    /// When the order reached each step.
    public var timestamps: OrderTimestamps

    /// Creates a snapshot; call ``validate()`` before trusting one that came from outside.
    public init(id: String, version: Int64 = 1, shop: ShopInfo, buyerID: String, status: OrderStatus,
                lines: [OrderLine], shippingFee: Money, totalPaid: Money, paymentChannel: String = "",
                paymentTransactionID: String = "", deliveryAddress: Address? = nil, timestamps: OrderTimestamps) {
        self.id = id
        self.version = version
        self.shop = shop
        self.buyerID = buyerID
        self.status = status
        self.lines = lines
        self.shippingFee = shippingFee
        self.totalPaid = totalPaid
        self.paymentChannel = paymentChannel
        self.paymentTransactionID = paymentTransactionID
        self.deliveryAddress = deliveryAddress
        self.timestamps = timestamps
    }

    /// The currency of the order (that of its total).
    public var currency: CurrencyCode { totalPaid.currency }

    /// The line with `id`, if the order has one.
    public func line(_ id: String) -> OrderLine? { lines.first { $0.id == id } }

    /// True once the goods have reached the buyer (delivered, or the trade completed after delivery).
    public var isDelivered: Bool { status == .delivered || status == .completed }

    /// Checks the snapshot is self-consistent: ids present and unique, one currency, positive
    /// quantities, paid = price × quantity − discount per line, total = Σ paid + shipping, and the
    /// timestamp of every step the status implies.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming the first offending field.
    public func validate() throws(DomainError) {
        guard !id.isEmpty else { throw .invalidArgument(field: "order.order_id", message: "must not be empty") }
        guard !buyerID.isEmpty else { throw .invalidArgument(field: "order.buyer_id", message: "must not be empty") }
        guard !shop.id.isEmpty else { throw .invalidArgument(field: "order.shop.shop_id", message: "must not be empty") }
        guard !lines.isEmpty else { throw .invalidArgument(field: "order.lines", message: "must have at least one line") }
        let currency = totalPaid.currency
        guard currency.isKnown else {
            throw .invalidArgument(field: "order.total_paid.currency", message: "is not an ISO 4217 currency in circulation, got \(currency)")
        }
        guard shippingFee.currency == currency else {
            throw .invalidArgument(field: "order.shipping_fee", message: "must be in \(currency), got \(shippingFee.currency)")
        }
        guard shippingFee.minorUnits >= 0 else {
            throw .invalidArgument(field: "order.shipping_fee", message: "must not be negative, got \(shippingFee)")
        }
        var seen: Set<String> = []
        seen.reserveCapacity(lines.count)
        var paidSum = Money.zero(currency)
        // Field names are formatted only when a check fails: this runs on every application.
        for (index, line) in lines.enumerated() {
            func field(_ name: String) -> String { "order.lines[\(index)].\(name)" }
            guard !line.id.isEmpty else { throw .invalidArgument(field: field("line_id"), message: "must not be empty") }
            guard seen.insert(line.id).inserted else {
                throw .invalidArgument(field: field("line_id"), message: "duplicates line \(line.id)")
            }
            try Self.checkAmount(line.unitPrice, in: currency, field: field("unit_price"))
            try Self.checkAmount(line.allocatedDiscount, in: currency, field: field("allocated_discount"))
            try Self.checkAmount(line.paidAmount, in: currency, field: field("paid_amount"))
            guard line.quantity > 0 else {
                throw .invalidArgument(field: field("quantity"), message: "must be at least 1, got \(line.quantity)")
            }
            let gross = try line.unitPrice.multiplied(by: Int64(line.quantity))
            let expectedPaid = try gross.subtracting(line.allocatedDiscount)
            guard expectedPaid == line.paidAmount else {
                throw .invalidArgument(field: field("paid_amount"),
                                       message: "must equal unit_price × quantity − allocated_discount = \(expectedPaid), got \(line.paidAmount)")
            }
            paidSum = try paidSum.adding(line.paidAmount)
        }
        let expectedTotal = try paidSum.adding(shippingFee)
        guard expectedTotal == totalPaid else {
            throw .invalidArgument(field: "order.total_paid", message: "must equal Σ paid_amount + shipping_fee = \(expectedTotal), got \(totalPaid)")
        }
        // Each status implies the steps before it happened: created → paid → shipped → delivered → completed.
        let reached: Int = switch status {
        case .created, .cancelled: 0
        case .paid: 1
        case .shipped: 2
        case .delivered: 3
        case .completed: 4
        }
        let steps: [(Int, Timestamp?, StaticString)] = [
            (1, timestamps.paid, "paid_at"), (2, timestamps.shipped, "shipped_at"),
            (3, timestamps.delivered, "delivered_at"), (4, timestamps.completed, "completed_at"),
        ]
        for (rank, at, name) in steps where rank <= reached && at == nil {
            throw .invalidArgument(field: "order.\(name)", message: "must be set for an order that is \(status.rawValue)")
        }
        if status == .cancelled && timestamps.cancelled == nil {
            throw .invalidArgument(field: "order.cancelled_at", message: "must be set for an order that is cancelled")
        }
    }

    private static func checkAmount(_ amount: Money, in currency: CurrencyCode, field: @autoclosure () -> String) throws(DomainError) {
        guard amount.currency == currency else {
            throw .invalidArgument(field: field(), message: "must be in \(currency), got \(amount.currency)")
        }
        guard amount.minorUnits >= 0 else {
            throw .invalidArgument(field: field(), message: "must not be negative, got \(amount)")
        }
    }
}
