/// Which way a parcel goes.
public enum ShipmentDirection: String, Sendable, Hashable, CaseIterable {
    /// From the buyer back to the merchant (a return).
    case `return`
    /// From the merchant to the buyer (a replacement or repaired goods).
    case outbound
}

/// How the buyer gets returned goods to the carrier.
public enum ReturnMethod: String, Sendable, Hashable, CaseIterable {
    /// The buyer hands the parcel to a carrier and gives the tracking number.
    case selfShip = "self_ship"
    /// The buyer books a courier pickup (上门取件); the tracking number comes later.
    case pickup
}

/// The status a carrier reports for a parcel.
public enum TrackingStatus: String, Sendable, Hashable, CaseIterable {
    /// Collected by the carrier.
    case collected
    /// Moving through the carrier's network.
    case inTransit = "in_transit"
    /// Out for delivery.
    case outForDelivery = "out_for_delivery"
    /// Delivered to the addressee.
    case delivered
    /// A delivery problem (failed attempt, lost, held).
    case exception
    /// Going back to its sender.
    case returnedToSender = "returned_to_sender"
}

/// One carrier tracking event.
public struct TrackingEvent: Sendable, Hashable {
    /// The reported status.
    public var status: TrackingStatus
    /// When the carrier says it happened.
    public var occurredAt: Timestamp
    /// Where it happened.
    public var location: String
    /// The carrier's free-text detail.
    public var detail: String

    /// Creates a tracking event.
    public init(status: TrackingStatus, occurredAt: Timestamp, location: String = "", detail: String = "") {
        self.status = status
        self.occurredAt = occurredAt
        self.location = location
        self.detail = detail
    }
}

/// A parcel attached to a case: the buyer's return or the merchant's outbound shipment.
public struct Shipment: Sendable, Hashable {
    /// Which way it goes.
    public var direction: ShipmentDirection
    /// For returns: self-shipped or picked up.
    public var method: ReturnMethod?
    /// The carrier's code or name, e.g. `SF` (empty until logistics chooses one for a pickup).
    public var carrier: String
    /// The tracking number (empty until known for a booked pickup).
    public var trackingNumber: String
    /// When it was shipped or the pickup booked.
    public var shippedAt: Timestamp
    /// For pickups: where the courier collects the parcel.
    public var pickupAddress: Address?
    /// For pickups: the requested window, if any.
    public var pickupWindow: ClosedRange<Timestamp>?
    /// Every tracking event recorded, oldest first.
    public var events: [TrackingEvent]

    /// Creates a shipment.
    public init(direction: ShipmentDirection, method: ReturnMethod? = nil, carrier: String, trackingNumber: String,
                shippedAt: Timestamp, pickupAddress: Address? = nil, pickupWindow: ClosedRange<Timestamp>? = nil,
                events: [TrackingEvent] = []) {
        self.direction = direction
        self.method = method
        self.carrier = carrier
        self.trackingNumber = trackingNumber
        self.shippedAt = shippedAt
        self.pickupAddress = pickupAddress
        self.pickupWindow = pickupWindow
        self.events = events
    }

    /// The status of the latest event by occurrence time, if any.
    public var latestStatus: TrackingStatus? { events.max { $0.occurredAt < $1.occurredAt }?.status }
}

/// The condition of returned goods as the merchant records it on receipt.
public enum GoodsCondition: String, Sendable, Hashable, CaseIterable {
    /// Unopened and intact; restocked as new.
    case intact
    /// Opened but complete and resellable.
    case opened
    /// Damaged; not resellable as new.
    case damaged
    /// Parts or accessories missing.
    case incomplete
    /// Not the goods that were sold.
    case wrongItem = "wrong_item"

    /// True when the goods may go back into stock.
    public var isRestockable: Bool { self == .intact || self == .opened }
}

/// What the merchant recorded on receiving returned goods.
public struct ReturnReceipt: Sendable, Hashable {
    /// The condition of the goods; nil when a timer confirmed receipt and nobody looked.
    public var condition: GoodsCondition?
    /// The merchant's note.
    public var note: String
    /// The merchant's photos.
    public var evidence: [EvidenceRef]
    /// When receipt was confirmed.
    public var receivedAt: Timestamp

    /// Creates a receipt record.
    public init(condition: GoodsCondition?, note: String = "", evidence: [EvidenceRef] = [], receivedAt: Timestamp) {
        self.condition = condition
        self.note = note
        self.evidence = evidence
        self.receivedAt = receivedAt
    }
}
