import AfterSaleDomain
import AfterSaleProto

// Shipments, tracking and the condition of returned goods between the wire and the domain.
extension ProtoMapping {
    static func condition(_ condition: AfterSaleDomain.GoodsCondition?) -> AfterSaleProto.GoodsCondition {
        switch condition {
        case nil: .unspecified
        case .intact: .intact
        case .opened: .opened
        case .damaged: .damaged
        case .incomplete: .incomplete
        case .wrongItem: .wrongItem
        }
    }

    static func condition(_ condition: AfterSaleProto.GoodsCondition, field: String) throws(DomainError) -> AfterSaleDomain.GoodsCondition? {
        if condition == .unspecified { return nil }
        for candidate in AfterSaleDomain.GoodsCondition.allCases where self.condition(candidate) == condition { return candidate }
        throw .invalidArgument(field: field, message: "is not a known condition (\(condition.rawValue))")
    }

    static func trackingStatus(_ status: AfterSaleDomain.TrackingStatus?) -> AfterSaleProto.TrackingStatus {
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

    static func trackingStatus(_ status: AfterSaleProto.TrackingStatus, field: String) throws(DomainError) -> AfterSaleDomain.TrackingStatus {
        for candidate in AfterSaleDomain.TrackingStatus.allCases where trackingStatus(candidate) == status { return candidate }
        throw .invalidArgument(field: field, message: "must be a known tracking status, got \(status.rawValue)")
    }

    static func direction(_ direction: AfterSaleDomain.ShipmentDirection) -> AfterSaleProto.ShipmentDirection {
        switch direction {
        case .return: .return
        case .outbound: .outbound
        }
    }

    static func method(_ method: AfterSaleDomain.ReturnMethod?) -> AfterSaleProto.ReturnMethod {
        switch method {
        case nil: .unspecified
        case .selfShip: .selfShip
        case .pickup: .pickup
        }
    }

    static func trackingEvent(_ event: AfterSaleDomain.TrackingEvent) -> AfterSaleProto.TrackingEvent {
        var e = AfterSaleProto.TrackingEvent()
        e.status = trackingStatus(event.status)
        e.occurredAtUnixMs = event.occurredAt.millisecondsSinceEpoch
        e.location = event.location
        e.detail = event.detail
        return e
    }

    static func trackingEvent(_ event: AfterSaleProto.TrackingEvent, field: String) throws(DomainError) -> AfterSaleDomain.TrackingEvent {
        AfterSaleDomain.TrackingEvent(status: try trackingStatus(event.status, field: "\(field).status"),
                        occurredAt: Timestamp(millisecondsSinceEpoch: event.occurredAtUnixMs),
                        location: event.location, detail: event.detail)
    }

    /// A shipment as the wire shows it; `disclosure` masks the buyer's pickup address (the
    /// destination is the shop's return address and is shown as stored).
    static func logistics(_ shipment: AfterSaleDomain.Shipment, to destination: AfterSaleDomain.Address?,
                          disclosure: PersonalDataDisclosure) -> AfterSaleProto.LogisticsInfo {
        var l = AfterSaleProto.LogisticsInfo()
        l.direction = direction(shipment.direction)
        l.method = method(shipment.method)
        l.carrier = shipment.carrier
        l.trackingNumber = shipment.trackingNumber
        l.shippedAtUnixMs = shipment.shippedAt.millisecondsSinceEpoch
        l.fromAddress = shipment.pickupAddress.map { address(disclosure.apply($0)) }
        l.toAddress = destination.map(address)
        if let window = shipment.pickupWindow {
            l.pickupWindowStartUnixMs = window.lowerBound.millisecondsSinceEpoch
            l.pickupWindowEndUnixMs = window.upperBound.millisecondsSinceEpoch
        }
        l.latestStatus = trackingStatus(shipment.latestStatus)
        l.events = shipment.events.map(trackingEvent)
        return l
    }
}
