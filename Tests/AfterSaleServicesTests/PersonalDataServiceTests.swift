import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import RPCServer
import RPCWire
import StorageConformance
import Testing

@Suite("Personal data in the services' answers")
struct PersonalDataServiceTests {
    static let merchant = Principal.merchant("m-1", shop: "s-1")

    static func pickupAddress() -> AfterSaleProto.Address {
        var a = AfterSaleProto.Address()
        a.contactName = "李小龙"
        a.phone = "13912345678"
        a.province = "广东省"
        a.city = "深圳市"
        a.district = "南山区"
        a.street = "科技园 8 栋 1201"
        a.postalCode = "518057"
        return a
    }

    /// A return case with a booked pickup, as the merchant's answers showed it along the way.
    static func booked(_ f: ServiceFixture) async throws -> (number: String, merchantApproval: AfterSaleProto.AfterSaleCase) {
        try await f.store.saveOrder(StorageFixture.order(status: .delivered))
        let opened = try #require(try await f.afterSale.createAfterSale(TimerServiceTests.returnRequest(),
                                                                        context: ServiceFixture.creating()).afterSale)
        var review = ReviewAfterSaleRequest()
        review.caseNumber = opened.caseNumber
        review.decision = .approve
        var returns = AfterSaleProto.Address()
        returns.contactName = "Returns desk"
        returns.phone = "400-000-0000"
        returns.street = "1 Warehouse Road"
        review.returnAddress = returns
        let approved = try #require(try await f.afterSale.reviewAfterSale(
            review, context: ServiceFixture.context(AfterSaleService.reviewAfterSale.info, as: merchant)).afterSale)
        var booking = SubmitReturnShipmentRequest()
        booking.caseNumber = opened.caseNumber
        booking.method = .pickup
        booking.carrier = "SF"
        booking.pickupAddress = pickupAddress()
        let booked = try #require(try await f.afterSale.submitReturnShipment(
            booking, context: ServiceFixture.context(AfterSaleService.submitReturnShipment.info, as: StorageFixture.buyer)).afterSale)
        #expect(booked.returnShipment?.fromAddress == pickupAddress(), "the buyer's own answer is in full")
        return (opened.caseNumber, approved)
    }

    static func get(_ f: ServiceFixture, _ number: String, as viewer: Principal) async throws -> AfterSaleProto.AfterSaleCase {
        var request = GetAfterSaleRequest()
        request.caseNumber = number
        return try #require(try await f.afterSale.getAfterSale(
            request, context: ServiceFixture.context(AfterSaleService.getAfterSale.info, as: viewer)).afterSale)
    }

    @Test("once the goods are received the merchant sees the pickup address at district level, also in its own answer")
    func merchantAfterReceipt() async throws {
        let f = ServiceFixture()
        let (number, approval) = try await Self.booked(f)
        #expect(approval.returnAddress?.phone == "400-000-0000", "the shop's own return address is shown as stored")
        let open = try #require(try await Self.get(f, number, as: Self.merchant).returnShipment?.fromAddress)
        #expect(open.street == "科技园 8 栋 1201" && open.phone == "139****5678" && open.contactName == "李*")

        var receipt = ConfirmReturnReceivedRequest()
        receipt.caseNumber = number
        receipt.condition = .intact
        let received = try #require(try await f.afterSale.confirmReturnReceived(
            receipt, context: ServiceFixture.context(AfterSaleService.confirmReturnReceived.info, as: Self.merchant)).afterSale)
        let shown = try #require(received.returnShipment?.fromAddress)
        #expect(shown.street.isEmpty && shown.postalCode.isEmpty)
        #expect(shown.district == "南山区" && shown.phone == "139****5678" && shown.contactName == "李*")
        #expect(try await Self.get(f, number, as: Self.merchant).returnShipment?.fromAddress == shown)
        #expect(try await Self.get(f, number, as: StorageFixture.buyer).returnShipment?.fromAddress == Self.pickupAddress())
        // Agents see the cases of the tickets they may see: the buyer asks the desk about this one.
        var ticket = OpenTicketRequest()
        ticket.subject = "where is my refund?"
        ticket.caseNumber = number
        _ = try await f.serviceDesk.openTicket(ticket, context: ServiceFixture.context(ServiceDesk.openTicket.info, as: StorageFixture.buyer))
        #expect(try await Self.get(f, number, as: .agent("a-1")).returnShipment?.fromAddress == shown)
    }

    @Test("a reveal needs a reason, answers in full and leaves a trace record naming the caller")
    func reveal() async throws {
        let f = ServiceFixture()
        let (number, _) = try await Self.booked(f)
        var request = RevealPersonalDataRequest()
        request.caseNumber = number
        let context = ServiceFixture.context(AfterSaleService.revealPersonalData.info, as: .platform("p-9"))
        await #expect(throws: RPCError.self) { _ = try await f.afterSale.revealPersonalData(request, context: context) }
        request.reason = "buyer disputes the pickup"
        let revealed = try await f.afterSale.revealPersonalData(request, context: context)
        #expect(revealed.pickupAddress == Self.pickupAddress())
        let traces = try await f.store.traceRecords(of: try CaseNumber(parsing: number))
        let audit = try #require(traces.first { $0.step == .revealPersonalData })
        #expect(audit.actor == .platform("p-9") && audit.details.contains("buyer disputes the pickup"))
        #expect(traces.filter { $0.step == .revealPersonalData }.count == 1)
    }
}
