import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

// The audited way past the masks (个人信息保护法 Art. 51: least-privilege access).
extension AfterSaleServiceProvider {
    /// Longest reason accepted for a reveal, in bytes.
    static let maximumRevealReasonBytes = 500

    /// Shows the buyer's personal data on a case unmasked to an agent or the platform. The trace
    /// record naming the caller, what was shown and why is written first: when it cannot be
    /// written, nothing is revealed.
    public func revealPersonalData(_ request: RevealPersonalDataRequest, context: ServerContext) async throws -> RevealPersonalDataResponse {
        let caller = try context.caller
        let principal = caller.principal
        return try await mapped {
            try Permissions.require(principal, .revealPersonalData)
            try TextRules.required(request.reason, field: "reason", maximumBytes: Self.maximumRevealReasonBytes)
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            let pickup = afterSale.returnShipment?.pickupAddress
            let delivery = try await orders.order(afterSale.orderID)?.deliveryAddress
            let shown = [pickup.map { _ in "pickup_address" }, delivery.map { _ in "delivery_address" }].compactMap { $0 }
            let details = "revealed \(shown.isEmpty ? "nothing (none stored)" : shown.joined(separator: ", ")) of buyer \(afterSale.buyerID): \(request.reason)"
            try await cases.recordTrace(TraceRecord(caseNumber: afterSale.number, actor: principal, step: .revealPersonalData,
                                                    from: afterSale.status, to: afterSale.status, at: clock.now(),
                                                    outcome: .applied, details: details, traceID: caller.traceID))
            var response = RevealPersonalDataResponse()
            response.buyerId = afterSale.buyerID
            response.pickupAddress = pickup.map(ProtoMapping.address)
            response.deliveryAddress = delivery.map(ProtoMapping.address)
            return response
        }
    }
}
