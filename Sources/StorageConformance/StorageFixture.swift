import AfterSaleDomain
import Foundation
import AfterSaleStorage

/// Orders, applications and cases for the storage checks and the backends' own tests.
public enum StorageFixture {
    /// 2026-11-21T00:00:00Z.
    public static let story = Timestamp(millisecondsSinceEpoch: 1_795_219_200_000)
    public static let paidAt = story
    public static let shippedAt = story.adding(days: 1)
    public static let deliveredAt = story.adding(days: 3)
    /// Two days after delivery: inside every policy window.
    public static let now = deliveredAt.adding(days: 2)

    public static let buyer = Principal.buyer("b-1")
    public static let merchant = Principal.merchant("m-1", shop: "s-1")
    public static let photo = EvidenceRef(location: .objectKey("evidence/b-1/1.jpg"), contentType: "image/jpeg", sizeBytes: 200_000)
    public static let returnAddress = Address(contactName: "Shop s-1 returns", phone: "138****0000", city: "Hangzhou", street: "1 Warehouse Road")

    /// An order of three lines: a phone (1 × 2999.00), two cases (2 × 49.90) and socks (3 × 10.00);
    /// a 30.00 coupon; shipping 10.00.
    public static func order(id: String = "o-1", buyerID: String = "b-1", shopID: String = "s-1",
                      status: OrderStatus = .delivered, version: Int64 = 1) -> OrderSnapshot {
        let drafts = [
            OrderSnapshot.LineDraft(id: "l-1", sku: "PHONE-1", title: "Phone", category: "phones", unitPrice: .cny(299_900), quantity: 1),
            OrderSnapshot.LineDraft(id: "l-2", sku: "CASE-1", title: "Phone case", category: "accessories", unitPrice: .cny(4_990), quantity: 2),
            OrderSnapshot.LineDraft(id: "l-3", sku: "SOCK-1", title: "Socks", category: "apparel", unitPrice: .cny(1_000), quantity: 3),
        ]
        let priced = try! OrderSnapshot.price(drafts, discount: .cny(3_000), shippingFee: .cny(1_000))
        var timestamps = OrderTimestamps(created: paidAt.adding(milliseconds: -60_000), paid: paidAt)
        if status == .shipped || status == .delivered { timestamps.shipped = shippedAt }
        if status == .delivered { timestamps.delivered = deliveredAt }
        return OrderSnapshot(id: id, version: version, shop: ShopInfo(id: shopID, name: "Shop \(shopID)", contact: "400-000-0000"),
                             buyerID: buyerID, status: status, lines: priced.lines, shippingFee: .cny(1_000),
                             totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-\(id)",
                             deliveryAddress: Address(contactName: "B. Buyer", phone: "139****1111", street: "2 Home Street"),
                             timestamps: timestamps)
    }

    public static func reason(for kind: AfterSaleKind) -> String {
        switch kind {
        case .refundOnly: "no_longer_wanted"
        case .returnAndRefund: "no_reason_7_days"
        case .exchange: "size_does_not_fit"
        case .repair: "quality_fault"
        }
    }

    public static func application(_ kind: AfterSaleKind, _ lines: [(String, Int)], orderID: String = "o-1") -> Application {
        Application(orderID: orderID, kind: kind, lines: lines.map { RequestedLine(orderLineID: $0.0, quantity: $0.1) },
                    reasonCode: reason(for: kind), buyerNote: "please", evidence: [photo])
    }

    /// What the service does for CreateAfterSale: read the order and its cases, reserve a number,
    /// decide, store with the idempotency record, the eligibility basis and the refund order the
    /// decision asks for.
    @discardableResult
    public static func apply(_ repository: any AfterSaleRepository, _ kind: AfterSaleKind, _ lines: [(String, Int)],
                      orderID: String = "o-1", by principal: Principal = buyer, key: String = UUID().uuidString,
                      fingerprint: String? = nil, at instant: Timestamp = now) async throws -> CreatedCase {
        let fingerprint = fingerprint ?? "\(kind.rawValue)|\(orderID)|\(lines.map { "\($0.0)x\($0.1)" }.joined(separator: ","))"
        let idempotency = IdempotencyRecord(key: key, principal: principal, fingerprint: fingerprint)
        let context = try await repository.creationContext(orderID: orderID, idempotency: idempotency)
        if let replay = context.replay { return replay }
        let number = try await repository.nextCaseNumber(at: instant)
        let transition = try AfterSaleCase.open(application(kind, lines, orderID: orderID), number: number, order: context.order,
                                                existingCases: context.existingCases, catalog: .standard, by: principal, at: instant)
        let refund = transition.refundRequest.map {
            RefundOrder.requested($0, order: context.order, policy: RefundPolicy(), at: instant)
        }
        return try await repository.createCase(CaseCreation(transition: transition, idempotency: idempotency, basis: context.basis,
                                                            refund: refund))
    }

    /// A case built directly (not through the domain's rules), for list and batching tests.
    public static func syntheticCase(sequence: Int, day: Timestamp = story, buyerID: String = "b-1", shopID: String = "s-1",
                              kind: AfterSaleKind = .returnAndRefund, status: CaseStatus = .pendingReview,
                              createdAt: Timestamp, orderID: String? = nil) -> Transition {
        let number = try! CaseNumber(at: day, sequence: sequence)
        let line = CaseLine(orderLineID: "l-1", sku: "SKU-\(sequence)", title: "Item \(sequence)", spec: "blue",
                            imageURL: "https://img.example/\(sequence).jpg", category: "phones", unitPrice: .cny(1_000),
                            quantity: 1 + sequence % 3, claimAmount: .cny(1_000), refundAmount: .cny(kind.refundsMoney ? 1_000 : 0),
                            refundedAmount: .cny(0))
        let created = TimelineEntry(at: createdAt, step: .create, actor: .buyer(buyerID), from: nil, to: status)
        let afterSale = AfterSaleCase(
            number: number, orderID: orderID ?? "o-\(sequence)", buyerID: buyerID,
            shop: ShopInfo(id: shopID, name: "Shop \(shopID)"), kind: kind, reasonCode: reason(for: kind),
            reasonTitle: "reason", buyerNote: "", evidence: [], lines: [line], coversWholeOrder: false,
            amounts: CaseAmounts(goods: line.refundAmount, shipping: .cny(0), computed: line.refundAmount, refunded: .cny(0)),
            status: status, timeline: [created], version: 1, createdAt: createdAt, updatedAt: createdAt)
        let trace = TraceRecord(caseNumber: number, actor: .buyer(buyerID), step: .create, from: nil, to: status, at: createdAt,
                                outcome: .applied, details: "synthetic")
        return Transition(afterSale: afterSale, entries: [created], trace: trace)
    }

    /// Stores a synthetic case without an eligibility basis.
    @discardableResult
    public static func store(_ repository: any AfterSaleRepository, _ transition: Transition) async throws -> CreatedCase {
        try await repository.createCase(CaseCreation(
            transition: transition,
            idempotency: IdempotencyRecord(key: "seed-\(transition.afterSale.number)", principal: .buyer(transition.afterSale.buyerID),
                                           fingerprint: "seed"),
            basis: nil))
    }

    /// A case with every optional field set, every kind of value, and awkward text.
    public static func everyField(number: CaseNumber) -> AfterSaleCase {
        let at = StorageFixture.now
        let later = at.adding(milliseconds: 3_600_000)
        let pickup = Address(contactName: "张三", phone: "138****0000", province: "浙江", city: "杭州", district: "西湖",
                             street: "1 Road, \"quoted\" \\ back\u{0}slash", postalCode: "310000")
        let lines = [
            CaseLine(orderLineID: "l-1", sku: "PHONE-1", title: "Phone 📱", spec: "256 GB", imageURL: "https://img/1.jpg",
                     category: "phones", unitPrice: .cny(299_900), quantity: 1, claimAmount: .cny(298_900),
                     refundAmount: .cny(298_900), approvedAmount: .cny(298_400), refundedAmount: .cny(298_400)),
            CaseLine(orderLineID: "l-2", sku: "CASE-1", title: "Case", category: "accessories",
                     unitPrice: Money(minorUnits: Int64.max, currency: try! CurrencyCode("USD")), quantity: 2,
                     claimAmount: .cny(-1), refundAmount: .cny(0), approvedAmount: nil, refundedAmount: .cny(0)),
        ]
        return AfterSaleCase(
            number: number, orderID: "o-1", buyerID: "b-1", shop: ShopInfo(id: "s-1", name: "Shop One", contact: "400"),
            kind: .returnAndRefund, reasonCode: "quality_fault", reasonTitle: "质量问题 Performance fault",
            buyerNote: "line one\nline two\t\u{1F600}",
            evidence: [StorageFixture.photo,
                       EvidenceRef(location: .url("https://cdn.example/v.mp4?a=1&b=2"), contentType: "video/mp4", sizeBytes: 1)],
            lines: lines, coversWholeOrder: true,
            amounts: CaseAmounts(goods: .cny(298_900), shipping: .cny(1_000), computed: .cny(299_900), serviceFee: .cny(500),
                                 approved: .cny(299_400), refunded: .cny(299_400)),
            status: .completed, rejectionReason: "not rejected, but stored anyway", returnAddress: StorageFixture.returnAddress,
            returnShipment: Shipment(direction: .return, method: .pickup, carrier: "SF", trackingNumber: "SF1", shippedAt: at,
                                     pickupAddress: pickup, pickupWindow: at...later,
                                     events: [TrackingEvent(status: .collected, occurredAt: at, location: "杭州", detail: "picked up"),
                                              TrackingEvent(status: .delivered, occurredAt: later)]),
            outboundShipment: Shipment(direction: .outbound, method: nil, carrier: "JD", trackingNumber: "JD9", shippedAt: later),
            receipt: ReturnReceipt(condition: .opened, note: "box opened", evidence: [StorageFixture.photo], receivedAt: later),
            timeline: [
                TimelineEntry(at: at, step: .create, actor: .buyer("b-1"), from: nil, to: .pendingReview, note: "please\u{0}now"),
                TimelineEntry(at: later, step: .approve, actor: .merchant("m-1", shop: "s-1"), from: .pendingReview,
                              to: .awaitingReturn, note: ""),
                TimelineEntry(at: later, step: .refundSucceeded, actor: .system("payments"), from: .pendingRefund, to: .completed),
            ],
            version: 7, createdAt: at, updatedAt: later, finishedAt: later)
    }
}
