import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCWire
import Synchronization
import Testing

// Callers

/// Call options carrying a caller's identity as the other services send it: a bearer token signed
/// by the tests' key (``TestTokens``), which every server the tests start trusts.
enum Callers {
    static func make(_ role: String, _ id: String, key: String? = nil, shop: String? = nil, team: String? = nil,
                     timeout: Duration = .seconds(5)) -> CallOptions {
        var metadata: Metadata = [CallerMetadata.authorization: TestTokens.bearer(CallerIdentity(role: role, id: id, shop: shop, team: team))]
        if let key { metadata.add(CallerMetadata.idempotencyKey, key) }
        return CallOptions(timeout: timeout, metadata: metadata)
    }

    static func buyer(_ id: String = "b-1", key: String? = nil) -> CallOptions { make("buyer", id, key: key) }
    /// A merchant acting for its own shop `id`.
    static func merchant(_ id: String = "s-1") -> CallOptions { make("merchant", id) }
    static func agent(_ id: String = "agent-1", team: String = "team-a") -> CallOptions { make("agent", id, team: team) }
    static func platform(_ id: String = "platform-1") -> CallOptions { make("platform", id) }
    static func system(_ id: String = "system-1", timeout: Duration = .seconds(5)) -> CallOptions { make("system", id, timeout: timeout) }
    /// No identity at all.
    static var anonymous: CallOptions { CallOptions(timeout: .seconds(5)) }
    /// The order system's identity.
    static var orderSystem: CallOptions { system("order-system") }
    /// The logistics system's identity.
    static var logistics: CallOptions { system("logistics") }

    /// The identity stated in `x-caller-role` / `x-caller-id`, unsigned: accepted only by a server
    /// started with `--insecure-dev-principals`.
    static func stated(_ role: String, _ id: String, key: String? = nil) -> CallOptions {
        var metadata: Metadata = [CallerMetadata.role: role, CallerMetadata.id: id]
        if let key { metadata.add(CallerMetadata.idempotencyKey, key) }
        return CallOptions(timeout: .seconds(5), metadata: metadata)
    }
}

// MARK: - Request builders

/// Requests of the case lifecycle, built the way a client application builds them.
enum Requests {
    static func money(_ fen: Int64, _ currency: String = "CNY") -> AfterSaleProto.Money {
        var m = AfterSaleProto.Money()
        m.amountMinor = fen
        m.currency = currency
        return m
    }

    static func evidence() -> AfterSaleProto.EvidenceRef {
        var e = AfterSaleProto.EvidenceRef()
        e.url = "https://img.example.com/evidence/issue4.jpg"
        e.contentType = "image/jpeg"
        e.sizeBytes = 90_000
        return e
    }

    static func returnAddress() -> AfterSaleProto.Address {
        var a = AfterSaleProto.Address()
        a.contactName = "Returns desk"
        a.phone = "400-000-0000"
        a.province = "Zhejiang"
        a.city = "Hangzhou"
        a.street = "1 Warehouse Road"
        return a
    }

    static func buyerAddress() -> AfterSaleProto.Address {
        var a = AfterSaleProto.Address()
        a.contactName = "Li Lei"
        a.phone = "138****0000"
        a.province = "Shanghai"
        a.city = "Shanghai"
        a.street = "88 Garden Lane"
        return a
    }

    static func create(order: String, kind: AfterSaleProto.AfterSaleKind, reason: String,
                       lines: [(String, Int32)]) -> CreateAfterSaleRequest {
        var r = CreateAfterSaleRequest()
        r.orderId = order
        r.kind = kind
        r.reasonCode = reason
        r.buyerNote = "issue 4"
        r.lines = lines.map { id, quantity in
            var l = AfterSaleProto.RequestedLine()
            l.orderLineId = id
            l.quantity = quantity
            return l
        }
        if kind != .refundOnly { r.evidence = [evidence()] }
        return r
    }

    static func approve(_ c: AfterSaleProto.AfterSaleCase, fee: Int64? = nil) -> ReviewAfterSaleRequest {
        var r = ReviewAfterSaleRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.decision = .approve
        if let fee { r.serviceFee = money(fee) }
        if c.kind != .refundOnly { r.returnAddress = returnAddress() }
        r.note = "approved"
        return r
    }

    static func reject(_ c: AfterSaleProto.AfterSaleCase, reason: String) -> ReviewAfterSaleRequest {
        var r = ReviewAfterSaleRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.decision = .reject
        r.rejectionReason = reason
        return r
    }

    static func selfShip(_ c: AfterSaleProto.AfterSaleCase, carrier: String = "SF", tracking: String) -> SubmitReturnShipmentRequest {
        var r = SubmitReturnShipmentRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.method = .selfShip
        r.carrier = carrier
        r.trackingNumber = tracking
        return r
    }

    static func pickup(_ c: AfterSaleProto.AfterSaleCase, carrier: String = "SF", windowStart: Int64, windowEnd: Int64) -> SubmitReturnShipmentRequest {
        var r = SubmitReturnShipmentRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.method = .pickup
        r.carrier = carrier
        r.pickupAddress = buyerAddress()
        r.pickupWindowStartUnixMs = windowStart
        r.pickupWindowEndUnixMs = windowEnd
        return r
    }

    static func receive(_ c: AfterSaleProto.AfterSaleCase, condition: AfterSaleProto.GoodsCondition = .intact) -> ConfirmReturnReceivedRequest {
        var r = ConfirmReturnReceivedRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.condition = condition
        r.note = "received"
        return r
    }

    static func shipBack(_ c: AfterSaleProto.AfterSaleCase, carrier: String = "YTO", tracking: String) -> ShipReplacementRequest {
        var r = ShipReplacementRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.carrier = carrier
        r.trackingNumber = tracking
        return r
    }

    static func confirmReplacement(_ c: AfterSaleProto.AfterSaleCase) -> ConfirmReplacementReceivedRequest {
        var r = ConfirmReplacementReceivedRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        return r
    }

    static func withdraw(_ c: AfterSaleProto.AfterSaleCase, note: String) -> WithdrawAfterSaleRequest {
        var r = WithdrawAfterSaleRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.note = note
        return r
    }

    static func forceRefund(_ c: AfterSaleProto.AfterSaleCase, ruling: String, amount: Int64? = nil) -> ForceRefundRequest {
        var r = ForceRefundRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = c.version
        r.ruling = ruling
        if let amount { r.amount = money(amount) }
        return r
    }

    static func tracking(case caseNumber: String = "", carrier: String, number: String,
                         _ status: AfterSaleProto.TrackingStatus, at: Int64, location: String = "Hangzhou") -> IngestTrackingEventRequest {
        var r = IngestTrackingEventRequest()
        r.caseNumber = caseNumber
        r.carrier = carrier
        r.trackingNumber = number
        r.status = status
        r.occurredAtUnixMs = at
        r.location = location
        r.detail = "carrier says \(status)"
        return r
    }

    static func listRefunds(statuses: [AfterSaleProto.RefundStatus] = [], caseNumber: String = "", shop: String = "",
                            basis: AfterSaleProto.RefundTimeBasis = .unspecified, from: Int64 = 0, to: Int64 = 0,
                            pageSize: Int32 = 0, token: String = "") -> ListRefundsRequest {
        var r = ListRefundsRequest()
        r.statuses = statuses
        r.caseNumber = caseNumber
        r.shopId = shop
        r.timeBasis = basis
        r.fromUnixMs = from
        r.toUnixMs = to
        r.pageSize = pageSize
        r.pageToken = token
        return r
    }
}

/// The refund order id the contract derives from a case number: "RF" + the case number's digits.
func expectedRefundID(_ caseNumber: String) -> String { "RF" + caseNumber.filter(\.isNumber) }

/// Now, in Unix milliseconds.
func nowUnixMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
