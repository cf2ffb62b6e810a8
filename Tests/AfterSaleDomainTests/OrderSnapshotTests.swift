import AfterSaleDomain
import Testing

@Suite("Order snapshots")
struct OrderSnapshotTests {
    @Test("pricing allocates the coupon by largest remainder and adds shipping to the total")
    func pricing() throws {
        let order = Fixture.order()
        #expect(order.lines.map(\.allocatedDiscount) == [.cny(2_875), .cny(96), .cny(29)])
        #expect(order.lines.map(\.paidAmount) == [.cny(297_025), .cny(9_884), .cny(2_971)])
        #expect(order.totalPaid == .cny(310_880))
        try order.validate()
    }

    @Test("validation names the field that does not add up")
    func validation() {
        func field(_ change: (inout OrderSnapshot) -> Void) -> String? {
            var order = Fixture.order()
            change(&order)
            do {
                try order.validate()
                return nil
            } catch {
                guard case .invalidArgument(let field, _) = error else { return "\(error)" }
                return field
            }
        }
        #expect(field { _ in } == nil)
        #expect(field { $0.lines[1].paidAmount = .cny(9_885) } == "order.lines[1].paid_amount")
        #expect(field { $0.totalPaid = .cny(1) } == "order.total_paid")
        #expect(field { $0.lines[0].quantity = 0 } == "order.lines[0].quantity")
        #expect(field { $0.lines[2].id = "l-1" } == "order.lines[2].line_id")
        #expect(field { $0.lines = [] } == "order.lines")
        #expect(field { $0.buyerID = "" } == "order.buyer_id")
        #expect(field { $0.timestamps.delivered = nil } == "order.delivered_at")
        #expect(field { $0.shippingFee = Money(minorUnits: 1_000, currency: try! CurrencyCode("USD")) } == "order.shipping_fee")
    }

    @Test("a completed trade counts as delivered")
    func completedIsDelivered() {
        #expect(Fixture.order(status: .completed).isDelivered)
        #expect(!Fixture.order(status: .shipped).isDelivered)
    }
}

@Suite("Evidence references")
struct EvidenceTests {
    let policy = EvidencePolicy.standard

    func field(_ evidence: EvidenceRef) -> String? {
        do {
            try policy.validate(evidence, field: "evidence[0]")
            return nil
        } catch {
            guard case .invalidArgument(let field, _) = error else { return "\(error)" }
            return field
        }
    }

    @Test("photos and videos by URL or object key are accepted")
    func accepted() {
        #expect(field(EvidenceRef(location: .url("https://img.example/1.jpg"), contentType: "image/jpeg", sizeBytes: 1)) == nil)
        #expect(field(EvidenceRef(location: .objectKey("ev/1.mp4"), contentType: "video/mp4", sizeBytes: 100 << 20)) == nil)
    }

    @Test("empty locations, other types and bad sizes are refused, naming the field")
    func refused() {
        #expect(field(EvidenceRef(location: .url(""), contentType: "image/jpeg", sizeBytes: 1)) == "evidence[0].url")
        #expect(field(EvidenceRef(location: .url("ftp://x/y.jpg"), contentType: "image/jpeg", sizeBytes: 1)) == "evidence[0].url")
        #expect(field(EvidenceRef(location: .objectKey(""), contentType: "image/jpeg", sizeBytes: 1)) == "evidence[0].object_key")
        #expect(field(EvidenceRef(location: .objectKey("a b"), contentType: "image/jpeg", sizeBytes: 1)) == "evidence[0].object_key")
        #expect(field(EvidenceRef(location: .objectKey("k"), contentType: "application/pdf", sizeBytes: 1)) == "evidence[0].content_type")
        #expect(field(EvidenceRef(location: .objectKey("k"), contentType: "image/", sizeBytes: 1)) == "evidence[0].content_type")
        #expect(field(EvidenceRef(location: .objectKey("k"), contentType: "image/png", sizeBytes: 0)) == "evidence[0].size_bytes")
        #expect(field(EvidenceRef(location: .objectKey("k"), contentType: "image/png", sizeBytes: (20 << 20) + 1)) == "evidence[0].size_bytes")
        #expect(field(EvidenceRef(location: .objectKey("k"), contentType: "video/mp4", sizeBytes: (200 << 20) + 1)) == "evidence[0].size_bytes")
    }

    @Test("at most nine files per application")
    func count() {
        #expect(throws: DomainError.self) { try policy.validate(Array(repeating: Fixture.photo, count: 10)) }
        #expect(throws: Never.self) { try policy.validate(Array(repeating: Fixture.photo, count: 9)) }
    }
}
