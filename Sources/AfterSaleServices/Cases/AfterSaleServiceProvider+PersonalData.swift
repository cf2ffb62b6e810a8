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
            let afterSale = try await personalData.opened(try await visibleCase(request.caseNumber, to: principal))
            let pickup = afterSale.returnShipment?.pickupAddress
            let order = try await orders.order(afterSale.orderID)
            let delivery = try await order.asyncMap { try await personalData.opened($0) }?.deliveryAddress
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

    /// Longest reason accepted for an erasure, in bytes.
    static let maximumErasureReasonBytes = 500
    /// The most cases an erasure looks at (a buyer with more is refused, rather than half-checked).
    static let maximumErasureCases = 10_000

    /// Erases a buyer's personal data by destroying their data keys (crypto-shredding), once
    /// retention allows: none of their cases open, the last finished at least the retention period
    /// ago. Each of their cases gets a trace record naming the caller and the reason, written
    /// before the keys go (a failure leaves the data as it was). Calling it again destroys nothing
    /// more and records again.
    public func erasePersonalData(_ request: ErasePersonalDataRequest, context: ServerContext) async throws -> ErasePersonalDataResponse {
        let caller = try context.caller
        let principal = caller.principal
        return try await mapped {
            try Permissions.require(principal, .erasePersonalData)
            try TextRules.required(request.buyerId, field: "buyer_id", maximumBytes: 128)
            try TextRules.required(request.reason, field: "reason", maximumBytes: Self.maximumErasureReasonBytes)
            var buyerCases: [AfterSaleDomain.AfterSaleCase] = []
            var query = CaseQuery(buyerID: request.buyerId, pageSize: 100)
            while true {
                let page = try await cases.listCases(query)
                for summary in page.rows {
                    guard let afterSale = try await cases.afterSale(summary.number) else { continue }
                    buyerCases.append(afterSale)
                }
                guard buyerCases.count <= Self.maximumErasureCases else {
                    throw DomainError.stateConflict(message: "buyer \(request.buyerId) has more than \(Self.maximumErasureCases) cases: "
                                                    + "erase through operations instead")
                }
                guard let next = page.next else { break }
                query.after = next
            }
            let now = clock.now()
            try PersonalDataRetention.checkErasable(buyerCases, retention: personalDataRetention, now: now)
            let ordered = buyerCases.sorted { $0.number.rawValue < $1.number.rawValue }
            for afterSale in ordered {
                try await cases.recordTrace(TraceRecord(caseNumber: afterSale.number, actor: principal, step: .erasePersonalData,
                                                        from: afterSale.status, to: afterSale.status, at: now, outcome: .applied,
                                                        details: "erased the personal data of buyer \(request.buyerId): \(request.reason)",
                                                        traceID: caller.traceID))
            }
            let destroyed = try await personalData.erase(buyerID: request.buyerId)
            logger.log(.info, "personal data erased", ["buyer": request.buyerId, "keys": String(destroyed),
                                                         "by": "\(principal.role.rawValue):\(principal.id)"])
            var response = ErasePersonalDataResponse()
            response.buyerId = request.buyerId
            response.keysDestroyed = Int32(clamping: destroyed)
            response.caseNumbers = ordered.map(\.number.rawValue)
            return response
        }
    }
}

private extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
