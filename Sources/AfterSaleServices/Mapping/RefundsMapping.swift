import AfterSaleDomain
import AfterSaleProto

// Refund orders between the wire and the domain.
extension ProtoMapping {
    static func refundTrigger(_ trigger: AfterSaleDomain.RefundTrigger) -> AfterSaleProto.RefundTrigger {
        switch trigger {
        case .refundOnlyCreated: .refundOnlyCreated
        case .returnReceived: .returnReceived
        case .forced: .forced
        }
    }

    static func refundStatus(_ status: AfterSaleDomain.RefundStatus) -> AfterSaleProto.RefundStatus {
        switch status {
        case .pending: .pending
        case .claimed: .claimed
        case .retryScheduled: .retryScheduled
        case .succeeded: .succeeded
        case .needsAttention: .needsAttention
        }
    }

    static func refundStatus(_ status: AfterSaleProto.RefundStatus, field: String) throws(DomainError) -> AfterSaleDomain.RefundStatus {
        guard let mapped = AfterSaleDomain.RefundStatus.allCases.first(where: { refundStatus($0) == status }) else {
            throw .invalidArgument(field: field, message: "is not a refund status (\(status.rawValue))")
        }
        return mapped
    }

    static func refundOrder(_ r: AfterSaleDomain.RefundOrder) -> AfterSaleProto.RefundOrder {
        var p = AfterSaleProto.RefundOrder()
        p.refundId = r.id
        p.caseNumber = r.caseNumber.rawValue
        p.orderId = r.orderID
        p.shopId = r.shopID
        p.buyerId = r.buyerID
        p.amount = money(r.amount)
        p.trigger = refundTrigger(r.trigger)
        p.status = refundStatus(r.status)
        p.paymentChannel = r.paymentChannel
        p.paymentTransactionId = r.paymentTransactionID
        p.attempts = Int32(clamping: r.attempts)
        p.maxAttempts = Int32(clamping: r.maxAttempts)
        p.nextAttemptAtUnixMs = r.nextAttemptAt?.millisecondsSinceEpoch ?? 0
        p.leaseOwner = r.lease?.owner ?? ""
        p.leaseExpiresAtUnixMs = r.lease?.expiresAt.millisecondsSinceEpoch ?? 0
        p.lastFailureCode = r.lastFailureCode
        p.lastFailureReason = r.lastFailureReason
        p.channelTransactionId = r.channelTransactionID ?? ""
        p.refundedAmount = money(r.refundedAmount)
        p.succeededAtUnixMs = r.succeededAt?.millisecondsSinceEpoch ?? 0
        p.createdAtUnixMs = r.createdAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = r.updatedAt.millisecondsSinceEpoch
        p.version = r.version
        return p
    }
}
