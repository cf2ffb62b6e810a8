import AfterSaleDomain

// The stored layouts of the domain's values, field by field, in the order written. Never reorder
// or drop a field of a shipped format: add a format (see DocumentWriter).

extension DocumentWriter {
    mutating func money(_ value: Money) {
        integer(value.minorUnits)
        string(value.currency.code)
    }

    mutating func timestamp(_ value: Timestamp) { integer(value.millisecondsSinceEpoch) }

    mutating func shop(_ value: ShopInfo) {
        string(value.id)
        string(value.name)
        string(value.contact)
    }

    mutating func address(_ value: Address) {
        string(value.contactName)
        string(value.phone)
        string(value.province)
        string(value.city)
        string(value.district)
        string(value.street)
        string(value.postalCode)
    }

    mutating func evidence(_ value: EvidenceRef) {
        switch value.location {
        case .url(let url):
            bool(false)
            string(url)
        case .objectKey(let key):
            bool(true)
            string(key)
        }
        string(value.contentType)
        integer(value.sizeBytes)
    }

    mutating func shipment(_ value: Shipment) {
        name(value.direction)
        optional(value.method) { $0.name($1) }
        string(value.carrier)
        string(value.trackingNumber)
        timestamp(value.shippedAt)
        optional(value.pickupAddress) { $0.address($1) }
        optional(value.pickupWindow) { writer, window in
            writer.timestamp(window.lowerBound)
            writer.timestamp(window.upperBound)
        }
        list(value.events) { writer, event in
            writer.name(event.status)
            writer.timestamp(event.occurredAt)
            writer.string(event.location)
            writer.string(event.detail)
        }
    }

    mutating func receipt(_ value: ReturnReceipt) {
        optional(value.condition) { $0.name($1) }
        string(value.note)
        list(value.evidence) { $0.evidence($1) }
        timestamp(value.receivedAt)
    }

    mutating func caseLine(_ value: CaseLine) {
        string(value.orderLineID)
        string(value.sku)
        string(value.title)
        string(value.spec)
        string(value.imageURL)
        string(value.category)
        money(value.unitPrice)
        integer(value.quantity)
        money(value.claimAmount)
        money(value.refundAmount)
        optional(value.approvedAmount) { $0.money($1) }
        money(value.refundedAmount)
    }

    mutating func amounts(_ value: CaseAmounts) {
        money(value.goods)
        money(value.shipping)
        money(value.computed)
        optional(value.serviceFee) { $0.money($1) }
        optional(value.approved) { $0.money($1) }
        money(value.refunded)
    }
}

extension DocumentReader {
    mutating func money() throws -> Money {
        let units = try integer()
        return Money(minorUnits: units, currency: try decoding { try CurrencyCode(try string()) })
    }

    mutating func shop() throws -> ShopInfo { ShopInfo(id: try string(), name: try string(), contact: try string()) }

    mutating func address() throws -> Address {
        Address(contactName: try string(), phone: try string(), province: try string(), city: try string(),
                district: try string(), street: try string(), postalCode: try string())
    }

    mutating func evidence() throws -> EvidenceRef {
        let location: EvidenceLocation = try bool() ? .objectKey(try string()) : .url(try string())
        return EvidenceRef(location: location, contentType: try string(), sizeBytes: try integer())
    }

    mutating func shipment() throws -> Shipment {
        let direction = try name(ShipmentDirection.self)
        let method = try optional { try $0.name(ReturnMethod.self) }
        let carrier = try string()
        let trackingNumber = try string()
        let shippedAt = try timestamp()
        let pickupAddress = try optional { try $0.address() }
        let window = try optional { reader -> ClosedRange<Timestamp> in
            let from = try reader.timestamp()
            let to = try reader.timestamp()
            guard from <= to else { throw CorruptDocument(message: "pickup window ends before it starts") }
            return from...to
        }
        let events = try list { reader in
            TrackingEvent(status: try reader.name(TrackingStatus.self), occurredAt: try reader.timestamp(),
                          location: try reader.string(), detail: try reader.string())
        }
        return Shipment(direction: direction, method: method, carrier: carrier, trackingNumber: trackingNumber,
                        shippedAt: shippedAt, pickupAddress: pickupAddress, pickupWindow: window, events: events)
    }

    mutating func receipt() throws -> ReturnReceipt {
        ReturnReceipt(condition: try optional { try $0.name(GoodsCondition.self) }, note: try string(),
                      evidence: try list { try $0.evidence() }, receivedAt: try timestamp())
    }

    mutating func caseLine() throws -> CaseLine {
        CaseLine(orderLineID: try string(), sku: try string(), title: try string(), spec: try string(),
                 imageURL: try string(), category: try string(), unitPrice: try money(), quantity: try int(),
                 claimAmount: try money(), refundAmount: try money(), approvedAmount: try optional { try $0.money() },
                 refundedAmount: try money())
    }

    mutating func amounts() throws -> CaseAmounts {
        CaseAmounts(goods: try money(), shipping: try money(), computed: try money(),
                    serviceFee: try optional { try $0.money() }, approved: try optional { try $0.money() },
                    refunded: try money())
    }
}

/// The stored form of a case: every field but the timeline, which lives row by row in
/// `timeline_entries` so a transition appends its entries instead of rewriting the history.
public enum CaseDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ value: AfterSaleCase) -> [UInt8] {
        var writer = DocumentWriter(format: format)
        writer.string(value.number.rawValue)
        writer.string(value.orderID)
        writer.string(value.buyerID)
        writer.shop(value.shop)
        writer.name(value.kind)
        writer.string(value.reasonCode)
        writer.string(value.reasonTitle)
        writer.string(value.buyerNote)
        writer.list(value.evidence) { $0.evidence($1) }
        writer.list(value.lines) { $0.caseLine($1) }
        writer.bool(value.coversWholeOrder)
        writer.amounts(value.amounts)
        writer.name(value.status)
        writer.optional(value.rejectionReason) { $0.string($1) }
        writer.optional(value.returnAddress) { $0.address($1) }
        writer.optional(value.returnShipment) { $0.shipment($1) }
        writer.optional(value.outboundShipment) { $0.shipment($1) }
        writer.optional(value.receipt) { $0.receipt($1) }
        writer.integer(value.version)
        writer.timestamp(value.createdAt)
        writer.timestamp(value.updatedAt)
        writer.optional(value.finishedAt) { $0.timestamp($1) }
        return writer.bytes
    }

    /// The case stored in `bytes`, with `timeline` (read from its own table).
    public static func decode(_ bytes: [UInt8], timeline: [TimelineEntry]) throws -> AfterSaleCase {
        var reader = try DocumentReader(bytes, format: format, kind: "case")
        let value = AfterSaleCase(
            number: try decoding { try CaseNumber(parsing: try reader.string()) }, orderID: try reader.string(),
            buyerID: try reader.string(), shop: try reader.shop(), kind: try reader.name(AfterSaleKind.self),
            reasonCode: try reader.string(), reasonTitle: try reader.string(), buyerNote: try reader.string(),
            evidence: try reader.list { try $0.evidence() }, lines: try reader.list { try $0.caseLine() },
            coversWholeOrder: try reader.bool(), amounts: try reader.amounts(), status: try reader.name(CaseStatus.self),
            rejectionReason: try reader.optional { try $0.string() }, returnAddress: try reader.optional { try $0.address() },
            returnShipment: try reader.optional { try $0.shipment() }, outboundShipment: try reader.optional { try $0.shipment() },
            receipt: try reader.optional { try $0.receipt() }, timeline: timeline, version: try reader.integer(),
            createdAt: try reader.timestamp(), updatedAt: try reader.timestamp(),
            finishedAt: try reader.optional { try $0.timestamp() })
        try reader.finish()
        return value
    }
}

/// The stored form of an order snapshot.
public enum OrderDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ value: OrderSnapshot) -> [UInt8] {
        var writer = DocumentWriter(format: format)
        writer.string(value.id)
        writer.integer(value.version)
        writer.shop(value.shop)
        writer.string(value.buyerID)
        writer.name(value.status)
        writer.list(value.lines) { writer, line in
            writer.string(line.id)
            writer.string(line.sku)
            writer.string(line.title)
            writer.string(line.spec)
            writer.string(line.imageURL)
            writer.string(line.category)
            writer.money(line.unitPrice)
            writer.integer(line.quantity)
            writer.money(line.allocatedDiscount)
            writer.money(line.paidAmount)
            writer.bool(line.excludedFromNoReasonReturn)
        }
        writer.money(value.shippingFee)
        writer.money(value.totalPaid)
        writer.string(value.paymentChannel)
        writer.string(value.paymentTransactionID)
        writer.optional(value.deliveryAddress) { $0.address($1) }
        let stamps = value.timestamps
        writer.timestamp(stamps.created)
        for stamp in [stamps.paid, stamps.shipped, stamps.delivered, stamps.completed, stamps.cancelled] {
            writer.optional(stamp) { $0.timestamp($1) }
        }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> OrderSnapshot {
        var reader = try DocumentReader(bytes, format: format, kind: "order")
        let value = OrderSnapshot(
            id: try reader.string(), version: try reader.integer(), shop: try reader.shop(), buyerID: try reader.string(),
            status: try reader.name(OrderStatus.self),
            lines: try reader.list { reader in
                OrderLine(id: try reader.string(), sku: try reader.string(), title: try reader.string(), spec: try reader.string(),
                          imageURL: try reader.string(), category: try reader.string(), unitPrice: try reader.money(),
                          quantity: try reader.int(), allocatedDiscount: try reader.money(), paidAmount: try reader.money(),
                          excludedFromNoReasonReturn: try reader.bool())
            },
            shippingFee: try reader.money(), totalPaid: try reader.money(), paymentChannel: try reader.string(),
            paymentTransactionID: try reader.string(), deliveryAddress: try reader.optional { try $0.address() },
            timestamps: OrderTimestamps(created: try reader.timestamp(), paid: try reader.optional { try $0.timestamp() },
                                        shipped: try reader.optional { try $0.timestamp() },
                                        delivered: try reader.optional { try $0.timestamp() },
                                        completed: try reader.optional { try $0.timestamp() },
                                        cancelled: try reader.optional { try $0.timestamp() }))
        try reader.finish()
        return value
    }
}

/// Evidence lists stored on their own (message attachments).
public enum EvidenceDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ value: [EvidenceRef]) -> [UInt8] {
        var writer = DocumentWriter(format: format)
        writer.list(value) { $0.evidence($1) }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> [EvidenceRef] {
        var reader = try DocumentReader(bytes, format: format, kind: "evidence")
        let value = try reader.list { try $0.evidence() }
        try reader.finish()
        return value
    }
}
