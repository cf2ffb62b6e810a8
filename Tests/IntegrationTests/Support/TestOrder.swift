import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCWire
import Synchronization
import Testing

// Orders

/// An order as the order system would send it: priced with the domain's own largest-remainder
/// allocation, so that the snapshot is consistent (paid = unit price × quantity − allocated
/// discount; total paid = Σ paid + shipping).
struct TestOrder: Sendable {
    struct Line: Sendable {
        var id: String
        var sku: String
        var title: String
        var category: String
        var unitPriceFen: Int64
        var quantity: Int
    }

    var id: String
    var buyer = "b-1"
    var shop = "s-1"
    var status: AfterSaleProto.OrderStatus = .delivered
    var version: Int64 = 1
    var lines: [Line] = TestOrder.standardLines
    var discountFen: Int64 = 3_000
    var shippingFen: Int64 = 1_000
    var paymentChannel = "alipay"

    /// A phone 1 × 2999.00, cases 2 × 49.90, socks 3 × 10.00 (with a 30.00 coupon and 10.00 shipping).
    static let standardLines = [
        Line(id: "l-1", sku: "PHONE-1", title: "Phone", category: "phones", unitPriceFen: 299_900, quantity: 1),
        Line(id: "l-2", sku: "CASE-1", title: "Phone case", category: "accessories", unitPriceFen: 4_990, quantity: 2),
        Line(id: "l-3", sku: "SOCK-1", title: "Socks", category: "apparel", unitPriceFen: 1_000, quantity: 3),
    ]

    init(id: String, buyer: String = "b-1", shop: String = "s-1", status: AfterSaleProto.OrderStatus = .delivered, version: Int64 = 1) {
        self.id = id
        self.buyer = buyer
        self.shop = shop
        self.status = status
        self.version = version
    }

    /// A one-line order without discount or shipping: its whole-order refund is `priceFen`.
    static func single(_ id: String, buyer: String, shop: String = "s-1", priceFen: Int64 = 1_990,
                       status: AfterSaleProto.OrderStatus = .paid, channel: String = "alipay") -> TestOrder {
        var order = TestOrder(id: id, buyer: buyer, shop: shop, status: status)
        order.lines = [Line(id: "l-1", sku: "SKU-\(id)", title: "Thing \(id)", category: "accessories", unitPriceFen: priceFen, quantity: 1)]
        order.discountFen = 0
        order.shippingFen = 0
        order.paymentChannel = channel
        return order
    }

    /// The snapshot, as sent in UpsertOrder.
    func snapshot() throws -> AfterSaleProto.OrderSnapshot {
        let drafts = lines.map {
            AfterSaleDomain.OrderSnapshot.LineDraft(id: $0.id, sku: $0.sku, title: $0.title, category: $0.category,
                                                    unitPrice: .cny($0.unitPriceFen), quantity: $0.quantity)
        }
        let priced = try AfterSaleDomain.OrderSnapshot.price(drafts, discount: .cny(discountFen), shippingFee: .cny(shippingFen))
        var s = AfterSaleProto.OrderSnapshot()
        s.orderId = id
        s.orderVersion = version
        var shopInfo = AfterSaleProto.ShopInfo()
        shopInfo.shopId = shop
        shopInfo.name = "Shop \(shop)"
        shopInfo.contact = "400-000-0000"
        s.shop = shopInfo
        s.buyerId = buyer
        s.status = status
        s.lines = priced.lines.map { line in
            var l = AfterSaleProto.OrderLine()
            l.lineId = line.id
            l.sku = line.sku
            l.title = line.title
            l.spec = "standard"
            l.category = line.category
            l.unitPrice = Requests.money(line.unitPrice.minorUnits)
            l.quantity = Int32(line.quantity)
            l.allocatedDiscount = Requests.money(line.allocatedDiscount.minorUnits)
            l.paidAmount = Requests.money(line.paidAmount.minorUnits)
            return l
        }
        s.shippingFee = Requests.money(shippingFen)
        s.totalPaid = Requests.money(priced.totalPaid.minorUnits)
        s.paymentChannel = paymentChannel
        s.paymentTransactionId = "tx-\(id)"
        s.deliveryAddress = Requests.buyerAddress()
        let now = nowUnixMs()
        let day: Int64 = 86_400_000
        s.createdAtUnixMs = now - 3 * day
        if status != .created && status != .cancelled { s.paidAtUnixMs = now - 3 * day }
        if status == .shipped || status == .delivered || status == .completed { s.shippedAtUnixMs = now - 2 * day }
        if status == .delivered || status == .completed { s.deliveredAtUnixMs = now - day }
        if status == .completed { s.completedAtUnixMs = now - day / 2 }
        if status == .cancelled { s.cancelledAtUnixMs = now - 2 * day }
        return s
    }

    func upsertRequest() throws -> UpsertOrderRequest {
        var r = UpsertOrderRequest()
        r.order = try snapshot()
        return r
    }
}
