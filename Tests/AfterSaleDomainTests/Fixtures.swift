import AfterSaleDomain

/// Shared orders, people and shortcuts for the domain tests.
enum Fixture {
    static let day: Int64 = Timestamp.millisecondsPerDay
    /// 2026-11-21T00:00:00Z.
    static let epochOfStory = Timestamp(millisecondsSinceEpoch: 1_795_219_200_000)
    static let paidAt = epochOfStory
    static let shippedAt = epochOfStory.adding(days: 1)
    static let deliveredAt = epochOfStory.adding(days: 3)
    /// A moment two days after delivery: inside every window.
    static let now = deliveredAt.adding(days: 2)

    static let buyer = Principal.buyer("b-1")
    static let otherBuyer = Principal.buyer("b-2")
    static let merchant = Principal.merchant("m-1", shop: "s-1")
    static let otherMerchant = Principal.merchant("m-2", shop: "s-2")
    static let agent = Principal.agent("a-1")
    static let platform = Principal.platform("p-1")
    static let payments = Principal.system("payments")

    static let photo = EvidenceRef(location: .objectKey("evidence/b-1/1.jpg"), contentType: "image/jpeg", sizeBytes: 200_000)
    static let returnAddress = Address(contactName: "Shop s-1 returns", phone: "138****0000", city: "Hangzhou", street: "1 Warehouse Road")

    /// An order of three lines: a phone (1 × 2999.00), a case (2 × 49.90, category "accessories"),
    /// and socks (3 × 10.00, category "apparel"); a 30.00 coupon; shipping 10.00.
    static func order(status: OrderStatus = .delivered, id: String = "o-1", deliveredAt: Timestamp = deliveredAt) -> OrderSnapshot {
        let drafts = [
            OrderSnapshot.LineDraft(id: "l-1", sku: "PHONE-1", title: "Phone", category: "phones", unitPrice: .cny(299_900), quantity: 1),
            OrderSnapshot.LineDraft(id: "l-2", sku: "CASE-1", title: "Phone case", category: "accessories", unitPrice: .cny(4_990), quantity: 2),
            OrderSnapshot.LineDraft(id: "l-3", sku: "SOCK-1", title: "Socks", category: "apparel", unitPrice: .cny(1_000), quantity: 3),
        ]
        let priced = try! OrderSnapshot.price(drafts, discount: .cny(3_000), shippingFee: .cny(1_000))
        var timestamps = OrderTimestamps(created: paidAt.adding(milliseconds: -60_000))
        if status != .created && status != .cancelled { timestamps.paid = paidAt }
        if [.shipped, .delivered, .completed].contains(status) { timestamps.shipped = shippedAt }
        if [.delivered, .completed].contains(status) { timestamps.delivered = deliveredAt }
        if status == .completed { timestamps.completed = deliveredAt.adding(days: 10) }
        if status == .cancelled { timestamps.cancelled = paidAt }
        return OrderSnapshot(id: id, shop: ShopInfo(id: "s-1", name: "Shop One", contact: "400-000-0000"), buyerID: "b-1",
                             status: status, lines: priced.lines, shippingFee: .cny(1_000), totalPaid: priced.totalPaid,
                             paymentChannel: "alipay", paymentTransactionID: "tx-1", timestamps: timestamps)
    }

    static func number(_ sequence: Int) -> CaseNumber { try! CaseNumber(at: epochOfStory, sequence: sequence) }

    static func reason(for kind: AfterSaleKind) -> String {
        switch kind {
        case .refundOnly: "no_longer_wanted"
        case .returnAndRefund: "no_reason_7_days"
        case .exchange: "size_does_not_fit"
        case .repair: "quality_fault"
        }
    }

    static func application(_ kind: AfterSaleKind, _ lines: [(String, Int)], reason: String? = nil,
                            evidence: [EvidenceRef] = [photo], orderID: String = "o-1") -> Application {
        Application(orderID: orderID, kind: kind, lines: lines.map { RequestedLine(orderLineID: $0.0, quantity: $0.1) },
                    reasonCode: reason ?? Fixture.reason(for: kind), buyerNote: "please", evidence: evidence)
    }

    /// Opens a case as the buyer; the order's status defaults to what the kind needs.
    static func open(_ kind: AfterSaleKind, _ lines: [(String, Int)], order: OrderSnapshot? = nil,
                     existing: [AfterSaleCase] = [], sequence: Int = 1, at: Timestamp = now,
                     policy: PolicyConfig = .standard) throws(DomainError) -> Transition {
        let order = order ?? Fixture.order(status: kind == .refundOnly ? .paid : .delivered)
        return try AfterSaleCase.open(application(kind, lines, orderID: order.id), number: number(sequence), order: order,
                                      existingCases: existing, catalog: .standard, policy: policy, by: buyer, at: at)
    }

    static func approve(fee: Money? = nil) -> Action { .approve(serviceFee: fee, returnAddress: returnAddress, note: "ok") }

    /// A copy of `afterSale` put straight into `status` (for table-driven transition tests).
    static func forcing(_ afterSale: AfterSaleCase, into status: CaseStatus) -> AfterSaleCase {
        var amounts = afterSale.amounts
        if status == .pendingRefund || status == .completed, afterSale.kind.refundsMoney, amounts.approved == nil {
            amounts.approved = amounts.computed
        }
        return AfterSaleCase(
            number: afterSale.number, orderID: afterSale.orderID, buyerID: afterSale.buyerID, shop: afterSale.shop,
            kind: afterSale.kind, reasonCode: afterSale.reasonCode, reasonTitle: afterSale.reasonTitle,
            buyerNote: afterSale.buyerNote, evidence: afterSale.evidence, lines: afterSale.lines,
            coversWholeOrder: afterSale.coversWholeOrder, amounts: amounts, status: status,
            returnAddress: returnAddress,
            returnShipment: Shipment(direction: .return, method: .selfShip, carrier: "SF", trackingNumber: "SF100", shippedAt: now),
            outboundShipment: Shipment(direction: .outbound, carrier: "SF", trackingNumber: "SF200", shippedAt: now),
            timeline: afterSale.timeline, version: afterSale.version, createdAt: afterSale.createdAt,
            updatedAt: afterSale.updatedAt)
    }

    /// A valid example of every action, and who may take it on the fixture cases.
    static func sample(_ kind: ActionKind) -> (action: Action, principal: Principal) {
        switch kind {
        case .autoApprove: (.autoApprove(returnAddress: nil), .system("timer"))
        case .approve: (approve(), merchant)
        case .reject: (.reject(reason: "photos show wear"), merchant)
        case .withdraw: (.withdraw(note: "changed my mind"), buyer)
        case .shipReturn: (.shipReturn(carrier: "SF", trackingNumber: "SF123"), buyer)
        case .bookPickup: (.bookPickup(carrier: "", address: returnAddress, window: nil), buyer)
        case .recordTracking: (.recordTracking(TrackingEvent(status: .inTransit, occurredAt: now), trackingNumber: nil), .system("logistics"))
        case .confirmReturnReceived: (.confirmReturnReceived(condition: .intact, note: "", evidence: []), merchant)
        case .shipReplacement: (.shipReplacement(carrier: "SF", trackingNumber: "SF999", note: ""), merchant)
        case .confirmReplacementReceived: (.confirmReplacementReceived(note: ""), buyer)
        case .forceRefund: (.forceRefund(amount: nil, ruling: "ruled for the buyer"), platform)
        case .arbitrationRefund: (.arbitrationRefund(amount: .cny(100), disputeID: "DP1", ruling: "ruled for the buyer"), platform)
        case .refundSucceeded: (.refundSucceeded, payments)
        case .refundFailed: (.refundFailed(reason: "channel timeout"), payments)
        case .close: (.close(reason: "stalled"), .system("timer"))
        }
    }
}

extension Transition {
    /// Applies another action to this transition's case, as `principal`.
    func then(_ action: Action, by principal: Principal, at: Timestamp = Fixture.now) throws(DomainError) -> Transition {
        try decide(afterSale, action, by: principal, at: at, expectedVersion: afterSale.version)
    }
}
