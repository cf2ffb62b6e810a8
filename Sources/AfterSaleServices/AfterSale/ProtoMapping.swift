import AfterSaleDomain
import AfterSaleProto

// Both modules name their types after the same business terms (AfterSaleCase, Money, CaseStatus...),
// so the service layer spells them through these two namespaces: `PB.X` is the wire message,
// `D.X` the domain value. Mapping happens here and only here.

/// The wire (protobuf) types.
enum PB {
    typealias Kind = AfterSaleProto.AfterSaleKind
    typealias Status = AfterSaleProto.CaseStatus
    typealias Role = AfterSaleProto.ActorRole
    typealias Money = AfterSaleProto.Money
    typealias Address = AfterSaleProto.Address
    typealias Shop = AfterSaleProto.ShopInfo
    typealias Evidence = AfterSaleProto.EvidenceRef
    typealias RequestedLine = AfterSaleProto.RequestedLine
    typealias Line = AfterSaleProto.CaseLine
    typealias Timeline = AfterSaleProto.TimelineEntry
    typealias Trace = AfterSaleProto.TraceRecord
    typealias Outcome = AfterSaleProto.TraceOutcome
    typealias Action = AfterSaleProto.CaseAction
    typealias TrackingStatus = AfterSaleProto.TrackingStatus
    typealias TrackingEvent = AfterSaleProto.TrackingEvent
    typealias Direction = AfterSaleProto.ShipmentDirection
    typealias Method = AfterSaleProto.ReturnMethod
    typealias Logistics = AfterSaleProto.LogisticsInfo
    typealias Condition = AfterSaleProto.GoodsCondition
    typealias RefundOrder = AfterSaleProto.RefundOrder
    typealias RefundTrigger = AfterSaleProto.RefundTrigger
    typealias Case = AfterSaleProto.AfterSaleCase
    typealias Summary = AfterSaleProto.AfterSaleSummary
    typealias Message = AfterSaleProto.CaseMessage
    typealias Reason = AfterSaleProto.Reason
    typealias Basis = AfterSaleProto.ReasonBasis
    typealias OrderStatus = AfterSaleProto.OrderStatus
    typealias OrderLine = AfterSaleProto.OrderLine
    typealias Order = AfterSaleProto.OrderSnapshot
}

/// The domain types.
enum D {
    typealias Kind = AfterSaleDomain.AfterSaleKind
    typealias Status = AfterSaleDomain.CaseStatus
    typealias Role = AfterSaleDomain.ActorRole
    typealias Money = AfterSaleDomain.Money
    typealias Address = AfterSaleDomain.Address
    typealias Shop = AfterSaleDomain.ShopInfo
    typealias Evidence = AfterSaleDomain.EvidenceRef
    typealias RequestedLine = AfterSaleDomain.RequestedLine
    typealias Line = AfterSaleDomain.CaseLine
    typealias Timeline = AfterSaleDomain.TimelineEntry
    typealias Trace = AfterSaleDomain.TraceRecord
    typealias Outcome = AfterSaleDomain.TraceOutcome
    typealias Step = AfterSaleDomain.CaseStep
    typealias TrackingStatus = AfterSaleDomain.TrackingStatus
    typealias TrackingEvent = AfterSaleDomain.TrackingEvent
    typealias Direction = AfterSaleDomain.ShipmentDirection
    typealias Method = AfterSaleDomain.ReturnMethod
    typealias Shipment = AfterSaleDomain.Shipment
    typealias Condition = AfterSaleDomain.GoodsCondition
    typealias RefundTrigger = AfterSaleDomain.RefundTrigger
    typealias Case = AfterSaleDomain.AfterSaleCase
    typealias Message = AfterSaleDomain.CaseMessage
    typealias Reason = AfterSaleDomain.Reason
    typealias Basis = AfterSaleDomain.ReasonBasis
    typealias OrderStatus = AfterSaleDomain.OrderStatus
    typealias OrderLine = AfterSaleDomain.OrderLine
    typealias Order = AfterSaleDomain.OrderSnapshot
}

/// Proto ↔ domain conversions. Wire → domain conversions validate and throw
/// ``DomainError/invalidArgument(field:message:)`` naming the wire field.
enum ProtoMapping {
    // MARK: Enums

    static func kind(_ kind: D.Kind) -> PB.Kind {
        switch kind {
        case .refundOnly: .refundOnly
        case .returnAndRefund: .returnAndRefund
        case .exchange: .exchange
        case .repair: .repair
        }
    }

    /// nil for UNSPECIFIED; unknown values are refused.
    static func kind(_ kind: PB.Kind, field: String) throws(DomainError) -> D.Kind? {
        switch kind {
        case .unspecified: nil
        case .refundOnly: .refundOnly
        case .returnAndRefund: .returnAndRefund
        case .exchange: .exchange
        case .repair: .repair
        default: throw .invalidArgument(field: field, message: "is not a known kind (\(kind.rawValue))")
        }
    }

    static func status(_ status: D.Status) -> PB.Status {
        switch status {
        case .pendingReview: .pendingReview
        case .rejected: .rejected
        case .awaitingReturn: .awaitingReturn
        case .returnShipped: .returnShipped
        case .awaitingReceipt: .awaitingReceipt
        case .pendingRefund: .pendingRefund
        case .awaitingExchange: .awaitingExchange
        case .exchanging: .exchanging
        case .repairing: .repairing
        case .repairedShipped: .repairedShipped
        case .completed: .completed
        case .withdrawn: .withdrawn
        case .closed: .closed
        }
    }

    static func status(_ status: D.Status?) -> PB.Status { status.map { self.status($0) } ?? .unspecified }

    static func status(_ status: PB.Status, field: String) throws(DomainError) -> D.Status? {
        if status == .unspecified { return nil }
        for candidate in D.Status.allCases where self.status(candidate) == status { return candidate }
        throw .invalidArgument(field: field, message: "is not a known status (\(status.rawValue))")
    }

    static func role(_ role: D.Role) -> PB.Role {
        switch role {
        case .buyer: .buyer
        case .merchant: .merchant
        case .agent: .agent
        case .platform: .platform
        case .system: .system
        }
    }

    static func role(_ role: PB.Role) -> D.Role? {
        D.Role.allCases.first { self.role($0) == role }
    }

    static func step(_ step: D.Step) -> PB.Action {
        switch step {
        case .create: .create
        case .autoApprove: .autoApprove
        case .approve: .approve
        case .reject: .reject
        case .withdraw: .withdraw
        case .submitReturnShipment: .submitReturnShipment
        case .bookPickup: .bookPickup
        case .trackingUpdate: .trackingUpdate
        case .confirmReturnReceived: .confirmReturnReceived
        case .refundSucceeded: .refundSucceeded
        case .refundFailed: .refundFailed
        case .shipReplacement: .shipReplacement
        case .confirmReplacementReceived: .confirmReplacementReceived
        case .forceRefund: .forceRefund
        case .refundRequeued: .refundRequeued
        case .close: .close
        }
    }

    static func step(_ action: PB.Action) -> D.Step? {
        D.Step.allCases.first { step($0) == action }
    }

    static func outcome(_ outcome: D.Outcome) -> PB.Outcome {
        switch outcome {
        case .applied: .applied
        case .duplicate: .duplicate
        case .rejected: .rejected
        }
    }

    static func outcome(_ outcome: PB.Outcome) -> D.Outcome? {
        D.Outcome.allCases.first { self.outcome($0) == outcome }
    }

    static func condition(_ condition: D.Condition?) -> PB.Condition {
        switch condition {
        case nil: .unspecified
        case .intact: .intact
        case .opened: .opened
        case .damaged: .damaged
        case .incomplete: .incomplete
        case .wrongItem: .wrongItem
        }
    }

    static func condition(_ condition: PB.Condition, field: String) throws(DomainError) -> D.Condition? {
        if condition == .unspecified { return nil }
        for candidate in D.Condition.allCases where self.condition(candidate) == condition { return candidate }
        throw .invalidArgument(field: field, message: "is not a known condition (\(condition.rawValue))")
    }

    static func basis(_ basis: D.Basis) -> PB.Basis {
        switch basis {
        case .noReason: .noReason
        case .performanceFault: .performanceFault
        case .sellerFault: .sellerFault
        case .logistics: .logistics
        case .other: .other
        }
    }

    static func basis(_ basis: PB.Basis, field: String) throws(DomainError) -> D.Basis {
        for candidate in D.Basis.allCases where self.basis(candidate) == basis { return candidate }
        throw .invalidArgument(field: field, message: "must be a known basis, got \(basis.rawValue)")
    }

    static func trackingStatus(_ status: D.TrackingStatus?) -> PB.TrackingStatus {
        switch status {
        case nil: .unspecified
        case .collected: .collected
        case .inTransit: .inTransit
        case .outForDelivery: .outForDelivery
        case .delivered: .delivered
        case .exception: .exception
        case .returnedToSender: .returnedToSender
        }
    }

    static func trackingStatus(_ status: PB.TrackingStatus, field: String) throws(DomainError) -> D.TrackingStatus {
        for candidate in D.TrackingStatus.allCases where trackingStatus(candidate) == status { return candidate }
        throw .invalidArgument(field: field, message: "must be a known tracking status, got \(status.rawValue)")
    }

    static func direction(_ direction: D.Direction) -> PB.Direction {
        switch direction {
        case .return: .return
        case .outbound: .outbound
        }
    }

    static func method(_ method: D.Method?) -> PB.Method {
        switch method {
        case nil: .unspecified
        case .selfShip: .selfShip
        case .pickup: .pickup
        }
    }

    static func refundTrigger(_ trigger: D.RefundTrigger) -> PB.RefundTrigger {
        switch trigger {
        case .refundOnlyCreated: .refundOnlyCreated
        case .returnReceived: .returnReceived
        case .forced: .forced
        }
    }

    static func orderStatus(_ status: D.OrderStatus) -> PB.OrderStatus {
        switch status {
        case .created: .created
        case .paid: .paid
        case .shipped: .shipped
        case .delivered: .delivered
        case .completed: .completed
        case .cancelled: .cancelled
        }
    }

    static func orderStatus(_ status: PB.OrderStatus, field: String) throws(DomainError) -> D.OrderStatus {
        for candidate in D.OrderStatus.allCases where orderStatus(candidate) == status { return candidate }
        throw .invalidArgument(field: field, message: "must be a known order status, got \(status.rawValue)")
    }

    // MARK: Values

    static func money(_ money: D.Money) -> PB.Money {
        var m = PB.Money()
        m.amountMinor = money.minorUnits
        m.currency = money.currency.code
        return m
    }

    /// A wire amount; an empty currency means `defaultCurrency`.
    static func money(_ money: PB.Money, field: String, defaultCurrency: CurrencyCode = .cny) throws(DomainError) -> D.Money {
        let currency: CurrencyCode
        if money.currency.isEmpty {
            currency = defaultCurrency
        } else {
            do { currency = try CurrencyCode(money.currency) } catch {
                throw .invalidArgument(field: "\(field).currency", message: "must be an ISO 4217 code, got \"\(money.currency)\"")
            }
        }
        return D.Money(minorUnits: money.amountMinor, currency: currency)
    }

    static func address(_ address: D.Address) -> PB.Address {
        var a = PB.Address()
        a.contactName = address.contactName
        a.phone = address.phone
        a.province = address.province
        a.city = address.city
        a.district = address.district
        a.street = address.street
        a.postalCode = address.postalCode
        return a
    }

    static func address(_ address: PB.Address) -> D.Address {
        D.Address(contactName: address.contactName, phone: address.phone, province: address.province, city: address.city,
                  district: address.district, street: address.street, postalCode: address.postalCode)
    }

    static func shop(_ shop: D.Shop) -> PB.Shop {
        var s = PB.Shop()
        s.shopId = shop.id
        s.name = shop.name
        s.contact = shop.contact
        return s
    }

    static func shop(_ shop: PB.Shop) -> D.Shop { D.Shop(id: shop.shopId, name: shop.name, contact: shop.contact) }

    static func evidence(_ evidence: D.Evidence) -> PB.Evidence {
        var e = PB.Evidence()
        switch evidence.location {
        case .url(let url): e.url = url
        case .objectKey(let key): e.objectKey = key
        }
        e.contentType = evidence.contentType
        e.sizeBytes = evidence.sizeBytes
        return e
    }

    static func evidence(_ evidence: PB.Evidence, field: String) throws(DomainError) -> D.Evidence {
        let location: EvidenceLocation
        switch (evidence.url.isEmpty, evidence.objectKey.isEmpty) {
        case (false, true): location = .url(evidence.url)
        case (true, false): location = .objectKey(evidence.objectKey)
        case (true, true): throw .invalidArgument(field: field, message: "must set url or object_key")
        case (false, false): throw .invalidArgument(field: field, message: "must set url or object_key, not both")
        }
        return D.Evidence(location: location, contentType: evidence.contentType, sizeBytes: evidence.sizeBytes)
    }

    static func evidence(_ list: [PB.Evidence], field: String) throws(DomainError) -> [D.Evidence] {
        var result: [D.Evidence] = []
        for (index, item) in list.enumerated() { result.append(try evidence(item, field: "\(field)[\(index)]")) }
        return result
    }

    static func requestedLine(_ line: D.RequestedLine) -> PB.RequestedLine {
        var l = PB.RequestedLine()
        l.orderLineId = line.orderLineID
        l.quantity = Int32(clamping: line.quantity)
        return l
    }

    static func requestedLine(_ line: PB.RequestedLine) -> D.RequestedLine {
        D.RequestedLine(orderLineID: line.orderLineId, quantity: Int(line.quantity))
    }

    static func trackingEvent(_ event: D.TrackingEvent) -> PB.TrackingEvent {
        var e = PB.TrackingEvent()
        e.status = trackingStatus(event.status)
        e.occurredAtUnixMs = event.occurredAt.millisecondsSinceEpoch
        e.location = event.location
        e.detail = event.detail
        return e
    }

    static func trackingEvent(_ event: PB.TrackingEvent, field: String) throws(DomainError) -> D.TrackingEvent {
        D.TrackingEvent(status: try trackingStatus(event.status, field: "\(field).status"),
                        occurredAt: Timestamp(millisecondsSinceEpoch: event.occurredAtUnixMs),
                        location: event.location, detail: event.detail)
    }

    static func timeline(_ entry: D.Timeline) -> PB.Timeline {
        var t = PB.Timeline()
        t.atUnixMs = entry.at.millisecondsSinceEpoch
        t.action = step(entry.step)
        t.actorRole = role(entry.actor.role)
        t.actorId = entry.actor.id
        t.fromStatus = status(entry.from)
        t.toStatus = status(entry.to)
        t.note = entry.note
        return t
    }

    static func trace(_ record: D.Trace, id: String, traceID: String = "") -> PB.Trace {
        var t = PB.Trace()
        t.recordId = id
        t.caseNumber = record.caseNumber.rawValue
        t.actorRole = role(record.actor.role)
        t.actorId = record.actor.id
        t.action = step(record.step)
        t.fromStatus = status(record.from)
        t.toStatus = status(record.to)
        t.atUnixMs = record.at.millisecondsSinceEpoch
        t.outcome = outcome(record.outcome)
        t.details = record.details
        t.traceId = traceID
        t.refundId = record.refundID ?? ""
        return t
    }

    static func logistics(_ shipment: D.Shipment, to destination: D.Address?) -> PB.Logistics {
        var l = PB.Logistics()
        l.direction = direction(shipment.direction)
        l.method = method(shipment.method)
        l.carrier = shipment.carrier
        l.trackingNumber = shipment.trackingNumber
        l.shippedAtUnixMs = shipment.shippedAt.millisecondsSinceEpoch
        l.fromAddress = shipment.pickupAddress.map(address)
        l.toAddress = destination.map(address)
        if let window = shipment.pickupWindow {
            l.pickupWindowStartUnixMs = window.lowerBound.millisecondsSinceEpoch
            l.pickupWindowEndUnixMs = window.upperBound.millisecondsSinceEpoch
        }
        l.latestStatus = trackingStatus(shipment.latestStatus)
        l.events = shipment.events.map(trackingEvent)
        return l
    }

    static func line(_ line: D.Line) -> PB.Line {
        var l = PB.Line()
        l.orderLineId = line.orderLineID
        l.sku = line.sku
        l.title = line.title
        l.spec = line.spec
        l.imageUrl = line.imageURL
        l.category = line.category
        l.quantity = Int32(clamping: line.quantity)
        l.unitPrice = money(line.unitPrice)
        l.refundAmount = money(line.refundAmount)
        return l
    }

    /// The case in full, as GetAfterSale and every state-changing call return it.
    static func afterSale(_ c: D.Case, refund: AfterSaleDomain.RefundOrder?, timers: TimerPolicy) -> PB.Case {
        var p = PB.Case()
        p.caseNumber = c.number.rawValue
        p.orderId = c.orderID
        p.buyerId = c.buyerID
        p.shop = shop(c.shop)
        p.kind = kind(c.kind)
        p.status = status(c.status)
        p.reasonCode = c.reasonCode
        p.reasonLabel = c.reasonTitle
        p.buyerNote = c.buyerNote
        p.lines = c.lines.map(line)
        p.evidence = c.evidence.map(evidence)
        p.coversWholeOrder = c.coversWholeOrder
        p.goodsAmount = money(c.amounts.goods)
        p.shippingRefund = money(c.amounts.shipping)
        p.computedAmount = money(c.amounts.computed)
        p.serviceFee = c.amounts.serviceFee.map(money)
        p.approvedAmount = c.amounts.approved.map(money)
        p.refundedAmount = money(c.amounts.refunded)
        p.rejectionReason = c.rejectionReason ?? ""
        p.returnAddress = c.returnAddress.map(address)
        p.returnShipment = c.returnShipment.map { logistics($0, to: c.returnAddress) }
        p.outboundShipment = c.outboundShipment.map { logistics($0, to: nil) }
        if let receipt = c.receipt {
            p.receivedCondition = condition(receipt.condition)
            p.receiptNote = receipt.note
            p.receiptEvidence = receipt.evidence.map(evidence)
        }
        p.refund = refund.map { refundOrder($0) }
        p.timeline = c.timeline.map(timeline)
        p.version = c.version
        p.createdAtUnixMs = c.createdAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = c.updatedAt.millisecondsSinceEpoch
        p.finishedAtUnixMs = c.finishedAt?.millisecondsSinceEpoch ?? 0
        p.dueAtUnixMs = Deadlines.next(for: c, timers: timers)?.dueAt.millisecondsSinceEpoch ?? 0
        return p
    }

    static func summary(_ row: CaseSummary) -> PB.Summary {
        var s = PB.Summary()
        s.caseNumber = row.number.rawValue
        s.orderId = row.orderID
        s.buyerId = row.buyerID
        s.shop = shop(row.shop)
        s.kind = kind(row.kind)
        s.status = status(row.status)
        s.title = row.title
        s.spec = row.spec
        s.imageUrl = row.imageURL
        s.quantity = Int32(clamping: row.quantity)
        s.lineCount = Int32(clamping: row.lineCount)
        s.refundAmount = row.refundAmount.map(money)
        s.createdAtUnixMs = row.appliedAt.millisecondsSinceEpoch
        s.updatedAtUnixMs = row.updatedAt.millisecondsSinceEpoch
        s.version = row.version
        return s
    }

    static func message(_ message: D.Message) -> PB.Message {
        var m = PB.Message()
        m.messageId = String(message.id)
        m.caseNumber = message.caseNumber.rawValue
        m.senderRole = role(message.sender.role)
        m.senderId = message.sender.id
        m.text = message.text
        m.attachments = message.attachments.map(evidence)
        m.sentAtUnixMs = message.sentAt.millisecondsSinceEpoch
        return m
    }

    static func reason(_ stored: StoredReason) -> PB.Reason {
        var r = PB.Reason()
        let reason = stored.reason
        r.code = reason.code
        r.kinds = D.Kind.allCases.filter { reason.kinds.contains($0) }.map { kind($0) }
        r.label = reason.title
        r.basis = basis(reason.basis)
        r.requiresEvidence = reason.requiresEvidence
        r.active = reason.isActive
        r.sortOrder = Int32(clamping: reason.sortOrder)
        r.version = stored.version
        r.updatedAtUnixMs = stored.updatedAt.millisecondsSinceEpoch
        return r
    }

    /// A catalog entry from the wire; its version and updated_at are ignored.
    static func reason(_ reason: PB.Reason, field: String) throws(DomainError) -> D.Reason {
        var kinds: Set<D.Kind> = []
        for (index, k) in reason.kinds.enumerated() {
            guard let mapped = try kind(k, field: "\(field).kinds[\(index)]") else {
                throw .invalidArgument(field: "\(field).kinds[\(index)]", message: "must not be UNSPECIFIED")
            }
            kinds.insert(mapped)
        }
        return D.Reason(code: reason.code, title: reason.label, kinds: kinds,
                        basis: try basis(reason.basis, field: "\(field).basis"),
                        requiresEvidence: reason.requiresEvidence, isActive: reason.active, sortOrder: Int(reason.sortOrder))
    }

    static func orderLine(_ line: D.OrderLine) -> PB.OrderLine {
        var l = PB.OrderLine()
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

    static func orderLine(_ line: PB.OrderLine, field: String, currency: CurrencyCode) throws(DomainError) -> D.OrderLine {
        let zero = PB.Money()
        return D.OrderLine(id: line.lineId, sku: line.sku, title: line.title, spec: line.spec, imageURL: line.imageUrl,
                           category: line.category,
                           unitPrice: try money(line.unitPrice ?? zero, field: "\(field).unit_price", defaultCurrency: currency),
                           quantity: Int(line.quantity),
                           allocatedDiscount: try money(line.allocatedDiscount ?? zero, field: "\(field).allocated_discount", defaultCurrency: currency),
                           paidAmount: try money(line.paidAmount ?? zero, field: "\(field).paid_amount", defaultCurrency: currency),
                           excludedFromNoReasonReturn: line.excludedFromNoReasonReturn)
    }

    static func order(_ order: D.Order) -> PB.Order {
        var o = PB.Order()
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

    static func order(_ order: PB.Order, field: String = "order") throws(DomainError) -> D.Order {
        let zero = PB.Money()
        let currency = try money(order.totalPaid ?? zero, field: "\(field).total_paid").currency
        var lines: [D.OrderLine] = []
        for (index, line) in order.lines.enumerated() {
            lines.append(try orderLine(line, field: "\(field).lines[\(index)]", currency: currency))
        }
        func instant(_ ms: Int64) -> Timestamp? { ms == 0 ? nil : Timestamp(millisecondsSinceEpoch: ms) }
        let timestamps = OrderTimestamps(created: Timestamp(millisecondsSinceEpoch: order.createdAtUnixMs),
                                         paid: instant(order.paidAtUnixMs), shipped: instant(order.shippedAtUnixMs),
                                         delivered: instant(order.deliveredAtUnixMs), completed: instant(order.completedAtUnixMs),
                                         cancelled: instant(order.cancelledAtUnixMs))
        return D.Order(id: order.orderId, version: order.orderVersion, shop: shop(order.shop ?? PB.Shop()), buyerID: order.buyerId,
                       status: try orderStatus(order.status, field: "\(field).status"), lines: lines,
                       shippingFee: try money(order.shippingFee ?? zero, field: "\(field).shipping_fee", defaultCurrency: currency),
                       totalPaid: try money(order.totalPaid ?? zero, field: "\(field).total_paid", defaultCurrency: currency),
                       paymentChannel: order.paymentChannel, paymentTransactionID: order.paymentTransactionId,
                       deliveryAddress: order.deliveryAddress.map(address), timestamps: timestamps)
    }
}
