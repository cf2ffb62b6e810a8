import AfterSaleDomain
import Foundation
@testable import AfterSaleStorage

/// Temporary databases, orders and cases for the storage tests.
enum StorageFixture {
    /// 2026-11-21T00:00:00Z.
    static let story = Timestamp(millisecondsSinceEpoch: 1_795_219_200_000)
    static let paidAt = story
    static let shippedAt = story.adding(days: 1)
    static let deliveredAt = story.adding(days: 3)
    /// Two days after delivery: inside every policy window.
    static let now = deliveredAt.adding(days: 2)

    static let buyer = Principal.buyer("b-1")
    static let merchant = Principal.merchant("m-1", shop: "s-1")
    static let photo = EvidenceRef(location: .objectKey("evidence/b-1/1.jpg"), contentType: "image/jpeg", sizeBytes: 200_000)
    static let returnAddress = Address(contactName: "Shop s-1 returns", phone: "138****0000", city: "Hangzhou", street: "1 Warehouse Road")

    /// A fresh, empty directory under the system's temporary directory.
    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-storage-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Opens a repository in a new temporary directory, runs `body`, closes it and deletes the directory.
    static func withRepository<T>(options: SQLiteRepository.Options = .init(),
                                  _ body: (SQLiteRepository, String) async throws -> T) async throws -> T {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = try SQLiteRepository.open(dataDirectory: directory, options: options)
        do {
            let value = try await body(repository, directory)
            repository.close()
            return value
        } catch {
            repository.close()
            throw error
        }
    }

    /// An order of three lines: a phone (1 × 2999.00), two cases (2 × 49.90) and socks (3 × 10.00);
    /// a 30.00 coupon; shipping 10.00.
    static func order(id: String = "o-1", buyerID: String = "b-1", shopID: String = "s-1",
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

    static func reason(for kind: AfterSaleKind) -> String {
        switch kind {
        case .refundOnly: "no_longer_wanted"
        case .returnAndRefund: "no_reason_7_days"
        case .exchange: "size_does_not_fit"
        case .repair: "quality_fault"
        }
    }

    static func application(_ kind: AfterSaleKind, _ lines: [(String, Int)], orderID: String = "o-1") -> Application {
        Application(orderID: orderID, kind: kind, lines: lines.map { RequestedLine(orderLineID: $0.0, quantity: $0.1) },
                    reasonCode: reason(for: kind), buyerNote: "please", evidence: [photo])
    }

    /// What the service does for CreateAfterSale: read the order and its cases, reserve a number,
    /// decide, store with the idempotency record, the eligibility basis and the refund order the
    /// decision asks for.
    @discardableResult
    static func apply(_ repository: SQLiteRepository, _ kind: AfterSaleKind, _ lines: [(String, Int)],
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
    static func syntheticCase(sequence: Int, day: Timestamp = story, buyerID: String = "b-1", shopID: String = "s-1",
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
    static func store(_ repository: SQLiteRepository, _ transition: Transition) async throws -> CreatedCase {
        try await repository.createCase(CaseCreation(
            transition: transition,
            idempotency: IdempotencyRecord(key: "seed-\(transition.afterSale.number)", principal: .buyer(transition.afterSale.buyerID),
                                           fingerprint: "seed"),
            basis: nil))
    }
}
