import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// Issue 14 §4: buyers' personal data is stored sealed under their own key, shown opened, and
/// erased by destroying the key once retention allows.
@Suite("Personal data at rest: sealed per buyer, opened in answers, erased with the key")
struct PersonalDataAtRestTests {
    static let merchant = PersonalDataServiceTests.merchant
    static let phone = "13912345678"

    static func ctx(_ method: RPCMethodInfo, _ principal: Principal, key: String? = nil) -> ServerContext {
        ServiceFixture.context(method, as: principal, metadata: key.map { ["idempotency-key": $0] } ?? [:])
    }

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do { try await body(); return nil } catch { return (error as? RPCError)?.code }
    }

    /// A delivered one-line order of buyer b-1 as the order system sends it, delivered to `address`.
    static func order(_ id: String, address: AfterSaleProto.Address) throws -> AfterSaleProto.OrderSnapshot {
        let priced = try AfterSaleDomain.OrderSnapshot.price([
            .init(id: "l-1", sku: "SKU-1", title: "Kettle", category: "appliances", unitPrice: .cny(19_900), quantity: 1),
        ], discount: .cny(0), shippingFee: .cny(0))
        var s = AfterSaleProto.OrderSnapshot()
        s.orderId = id
        s.orderVersion = 1
        var shop = AfterSaleProto.ShopInfo()
        shop.shopId = "s-1"
        s.shop = shop
        s.buyerId = StorageFixture.buyer.id
        s.status = .delivered
        s.lines = priced.lines.map { line in
            var l = AfterSaleProto.OrderLine()
            l.lineId = line.id
            l.sku = line.sku
            l.title = line.title
            l.category = line.category
            l.unitPrice = money(line.unitPrice.minorUnits)
            l.quantity = Int32(line.quantity)
            l.allocatedDiscount = money(line.allocatedDiscount.minorUnits)
            l.paidAmount = money(line.paidAmount.minorUnits)
            return l
        }
        s.shippingFee = money(0)
        s.totalPaid = money(priced.totalPaid.minorUnits)
        s.paymentTransactionId = "tx-\(id)"
        s.deliveryAddress = address
        let now = StorageFixture.now.millisecondsSinceEpoch
        s.createdAtUnixMs = now - 3 * 86_400_000
        s.paidAtUnixMs = now - 3 * 86_400_000
        s.shippedAtUnixMs = now - 2 * 86_400_000
        s.deliveredAtUnixMs = now - 86_400_000
        return s
    }

    static func money(_ fen: Int64) -> AfterSaleProto.Money {
        var m = AfterSaleProto.Money()
        m.amountMinor = fen
        m.currency = "CNY"
        return m
    }

    static func erase(_ f: ServiceFixture, buyer: String = StorageFixture.buyer.id) async throws -> ErasePersonalDataResponse {
        var request = ErasePersonalDataRequest()
        request.buyerId = buyer
        request.reason = "account closed; retention over"
        return try await f.afterSale.erasePersonalData(request, context: ctx(AfterSaleService.erasePersonalData.info, .platform("p-1")))
    }

    @Test("a booked pickup is stored sealed (the case, its feed events, the order's delivery address); answers open it")
    func sealedAtRest() async throws {
        let f = ServiceFixture()
        var upsert = UpsertOrderRequest()
        upsert.order = try Self.order("o-9", address: PersonalDataServiceTests.pickupAddress())
        _ = try await f.orders.upsertOrder(upsert, context: Self.ctx(OrderBridge.upsertOrder.info, .system("orders")))
        let storedOrder = try #require(try await f.store.order("o-9")?.deliveryAddress)
        #expect(storedOrder.phone.hasPrefix("pdk1.") && storedOrder.contactName.hasPrefix("pdk1.") && storedOrder.street.hasPrefix("pdk1."))
        #expect(storedOrder.province == "广东省" && storedOrder.district == "南山区", "above the street, addresses stay as they are")

        let (number, _) = try await PersonalDataServiceTests.booked(f)
        let stored = try #require(try await f.store.afterSale(try CaseNumber(parsing: number))?.returnShipment?.pickupAddress)
        #expect(stored.phone.hasPrefix("pdk1.") && !stored.phone.contains(Self.phone))
        let keys = try await f.store.personalDataKeys(of: StorageFixture.buyer.id)
        #expect(keys.count == 1 && keys[0].generation == 1 && keys[0].wrappedKey?.count == 32 + 28, "one data key, wrapped")

        let events = try await f.store.events(after: 0, types: nil, limit: 1_000, scanLimit: 100_000).events
        let pickups = events.filter { $0.type == .returnPickupRequested }
        #expect(pickups.count == 1)
        for event in events {
            #expect(!event.payload.contains(subsequence: Array(Self.phone.utf8)), "event \(event.type) holds the phone in clear")
        }
        #expect(try await PersonalDataServiceTests.get(f, number, as: .platform("p-1")).returnShipment?.fromAddress
                == PersonalDataServiceTests.pickupAddress())
    }

    @Test("erasure waits for every case to finish and for retention; then the data reads empty, money and cases stay")
    func erasure() async throws {
        var f = ServiceFixture()
        f.personalDataRetention = .seconds(86_400)
        let (number, _) = try await PersonalDataServiceTests.booked(f)
        var booking = SubmitReturnShipmentRequest()
        booking.caseNumber = number
        booking.method = .pickup
        booking.pickupAddress = PersonalDataServiceTests.pickupAddress()
        // A retry of the booking under its key replays the stored (sealed) response.
        let keyed = Self.ctx(AfterSaleService.submitReturnShipment.info, StorageFixture.buyer, key: "k-book")
        await #expect(Self.code { _ = try await f.afterSale.submitReturnShipment(booking, context: keyed) } == .failedPrecondition,
                      "already booked: refused, nothing stored under the key")
        var refused = await Self.code { _ = try await Self.erase(f) }
        #expect(refused == .failedPrecondition, "the case is open")

        var receipt = ConfirmReturnReceivedRequest()
        receipt.caseNumber = number
        receipt.condition = .intact
        let received = try #require(try await f.afterSale.confirmReturnReceived(
            receipt, context: Self.ctx(AfterSaleService.confirmReturnReceived.info, Self.merchant, key: "k-receipt")).afterSale)
        try await f.payRefund()
        let completed = try await PersonalDataServiceTests.get(f, number, as: .platform("p-1"))
        #expect(completed.status == .completed)
        refused = await Self.code { _ = try await Self.erase(f) }
        #expect(refused == .failedPrecondition, "finished less than the retention period ago")

        f.clock.advance(milliseconds: 86_400_000)
        let erased = try await Self.erase(f)
        #expect(erased.keysDestroyed == 1 && erased.caseNumbers == [number])
        let after = try await PersonalDataServiceTests.get(f, number, as: .platform("p-1"))
        let address = try #require(after.returnShipment?.fromAddress)
        #expect(address.phone.isEmpty && address.contactName.isEmpty && address.street.isEmpty)
        #expect(address.province == "广东省" && address.city == "深圳市", "what is not personal stays")
        #expect(after.status == .completed && after.refundedAmount == completed.refundedAmount && after.version == completed.version,
                "the case and its money are as they were")
        let traces = try await f.store.traceRecords(of: try CaseNumber(parsing: number))
        #expect(traces.filter { $0.step == .erasePersonalData }.count == 1)
        #expect(try await f.store.personalDataKeys(of: StorageFixture.buyer.id).allSatisfy { $0.wrappedKey == nil })

        // The response stored under the receipt's key was sealed with the destroyed key: the retry is refused, not shown.
        let replay = await Self.code {
            _ = try await f.afterSale.confirmReturnReceived(receipt, context: Self.ctx(AfterSaleService.confirmReturnReceived.info,
                                                                                      Self.merchant, key: "k-receipt"))
        }
        #expect(replay == .failedPrecondition)
        _ = received
        #expect(try await Self.erase(f).keysDestroyed == 0, "a second erasure has nothing left to destroy")
        #expect(await Self.code {
            var request = ErasePersonalDataRequest()
            request.buyerId = StorageFixture.buyer.id
            request.reason = "x"
            _ = try await f.afterSale.erasePersonalData(request, context: Self.ctx(AfterSaleService.erasePersonalData.info, .agent("a-1")))
        } == .permissionDenied)
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the bytes.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start] == needle[0] && Array(self[start..<(start + needle.count)]) == needle {
            return true
        }
        return false
    }
}
