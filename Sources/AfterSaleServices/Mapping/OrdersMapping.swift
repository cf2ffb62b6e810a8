import AfterSaleDomain
import AfterSaleProto

// Order snapshots and each order's after-sale view between the wire and the domain.
extension ProtoMapping {
    static func orderStatus(_ status: AfterSaleDomain.OrderStatus) -> AfterSaleProto.OrderStatus {
        switch status {
        case .created: .created
        case .paid: .paid
        case .shipped: .shipped
        case .delivered: .delivered
        case .completed: .completed
        case .cancelled: .cancelled
        }
    }

    static func orderStatus(_ status: AfterSaleProto.OrderStatus, field: String) throws(DomainError) -> AfterSaleDomain.OrderStatus {
        for candidate in AfterSaleDomain.OrderStatus.allCases where orderStatus(candidate) == status { return candidate }
        throw .invalidArgument(field: field, message: "must be a known order status, got \(status.rawValue)")
    }

    static func orderLine(_ line: AfterSaleDomain.OrderLine) -> AfterSaleProto.OrderLine {
        var l = AfterSaleProto.OrderLine()
        l.lineId = line.id
        l.sku = line.sku
        l.title = line.title
        l.spec = line.spec
        l.imageUrl = line.imageURL
        l.category = line.category
        l.unitPrice = money(line.unitPrice)
        l.quantity = Int32(clamping: line.quantity)
        l.allocatedDiscount = money(line.allocatedDiscount)
        l.paidAmount = money(line.paidAmount)
        l.excludedFromNoReasonReturn = line.excludedFromNoReasonReturn
        return l
    }

    static func orderLine(_ line: AfterSaleProto.OrderLine, field: String, currency: CurrencyCode) throws(DomainError) -> AfterSaleDomain.OrderLine {
        let zero = AfterSaleProto.Money()
        return AfterSaleDomain.OrderLine(id: line.lineId, sku: line.sku, title: line.title, spec: line.spec, imageURL: line.imageUrl,
                           category: line.category,
                           unitPrice: try money(line.unitPrice ?? zero, field: "\(field).unit_price", defaultCurrency: currency),
                           quantity: Int(line.quantity),
                           allocatedDiscount: try money(line.allocatedDiscount ?? zero, field: "\(field).allocated_discount", defaultCurrency: currency),
                           paidAmount: try money(line.paidAmount ?? zero, field: "\(field).paid_amount", defaultCurrency: currency),
                           excludedFromNoReasonReturn: line.excludedFromNoReasonReturn)
    }

    static func order(_ order: AfterSaleDomain.OrderSnapshot) -> AfterSaleProto.OrderSnapshot {
        var o = AfterSaleProto.OrderSnapshot()
        o.orderId = order.id
        o.orderVersion = order.version
        o.shop = shop(order.shop)
        o.buyerId = order.buyerID
        o.status = orderStatus(order.status)
        o.lines = order.lines.map(orderLine)
        o.shippingFee = money(order.shippingFee)
        o.totalPaid = money(order.totalPaid)
        o.paymentChannel = order.paymentChannel
        o.paymentTransactionId = order.paymentTransactionID
        o.deliveryAddress = order.deliveryAddress.map(address)
        o.createdAtUnixMs = order.timestamps.created.millisecondsSinceEpoch
        o.paidAtUnixMs = order.timestamps.paid?.millisecondsSinceEpoch ?? 0
        o.shippedAtUnixMs = order.timestamps.shipped?.millisecondsSinceEpoch ?? 0
        o.deliveredAtUnixMs = order.timestamps.delivered?.millisecondsSinceEpoch ?? 0
        o.completedAtUnixMs = order.timestamps.completed?.millisecondsSinceEpoch ?? 0
        o.cancelledAtUnixMs = order.timestamps.cancelled?.millisecondsSinceEpoch ?? 0
        return o
    }

    static func order(_ order: AfterSaleProto.OrderSnapshot, field: String = "order") throws(DomainError) -> AfterSaleDomain.OrderSnapshot {
        let zero = AfterSaleProto.Money()
        let currency = try money(order.totalPaid ?? zero, field: "\(field).total_paid").currency
        var lines: [AfterSaleDomain.OrderLine] = []
        for (index, line) in order.lines.enumerated() {
            lines.append(try orderLine(line, field: "\(field).lines[\(index)]", currency: currency))
        }
        func instant(_ ms: Int64) -> Timestamp? { ms == 0 ? nil : Timestamp(millisecondsSinceEpoch: ms) }
        let timestamps = OrderTimestamps(created: Timestamp(millisecondsSinceEpoch: order.createdAtUnixMs),
                                         paid: instant(order.paidAtUnixMs), shipped: instant(order.shippedAtUnixMs),
                                         delivered: instant(order.deliveredAtUnixMs), completed: instant(order.completedAtUnixMs),
                                         cancelled: instant(order.cancelledAtUnixMs))
        return AfterSaleDomain.OrderSnapshot(id: order.orderId, version: order.orderVersion, shop: shop(order.shop ?? AfterSaleProto.ShopInfo()), buyerID: order.buyerId,
                       status: try orderStatus(order.status, field: "\(field).status"), lines: lines,
                       shippingFee: try money(order.shippingFee ?? zero, field: "\(field).shipping_fee", defaultCurrency: currency),
                       totalPaid: try money(order.totalPaid ?? zero, field: "\(field).total_paid", defaultCurrency: currency),
                       paymentChannel: order.paymentChannel, paymentTransactionID: order.paymentTransactionId,
                       deliveryAddress: order.deliveryAddress.map(address), timestamps: timestamps)
    }

    static func orderView(_ view: AfterSaleDomain.OrderAfterSaleView) -> AfterSaleProto.OrderAfterSaleView {
        var p = AfterSaleProto.OrderAfterSaleView()
        p.orderId = view.orderID
        p.orderVersion = view.orderVersion
        p.state = switch view.state {
        case .none: AfterSaleProto.OrderAfterSaleState.none
        case .inProgress: .inProgress
        case .refunded: .refunded
        case .returned: .returned
        case .exchanged: .exchanged
        case .repaired: .repaired
        case .disputed: .disputed
        }
        p.scope = switch view.scope {
        case nil: AfterSaleProto.AfterSaleScope.unspecified
        case .partial?: .partial
        case .whole?: .whole
        }
        p.mayComplete = view.mayComplete
        p.openCaseNumbers = view.openCaseNumbers.map(\.rawValue)
        p.refundedTotal = money(view.refundedTotal)
        p.refundableTotal = money(view.refundableTotal)
        p.lines = view.lines.map { line in
            var l = AfterSaleProto.LineAfterSaleState()
            l.orderLineId = line.orderLineID
            l.sku = line.sku
            l.purchasedQuantity = Int32(clamping: line.purchasedQuantity)
            l.openQuantity = Int32(clamping: line.openQuantity)
            l.completedQuantity = Int32(clamping: line.completedQuantity)
            l.availableQuantity = Int32(clamping: line.availableQuantity)
            l.paidAmount = money(line.paidAmount)
            l.refundedAmount = money(line.refundedAmount)
            l.refundableAmount = money(line.refundableAmount)
            return l
        }
        return p
    }
}
