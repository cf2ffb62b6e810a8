import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCWire
import Synchronization
import Testing

// Payments

struct ChannelUnavailable: Error, CustomStringConvertible {
    var description: String { "payment channel unavailable" }
}

struct ChannelAmountMismatch: Error, CustomStringConvertible {
    let refundID: String
    var description: String { "refund \(refundID) was asked for with another amount" }
}

/// One payout the channel made.
struct Payout: Sendable, Equatable {
    let transaction: String
    let amountMinor: Int64
}

/// A payment channel (like Alipay's refund API): it answers a repeat of a refund id with the same
/// transaction id, can be switched down (every call throws), and counts everything.
///
/// Every accepted request counts as a payout, repeats included: a real channel might not dedupe
/// (or might dedupe only within a window), so a system that asks twice for one refund has paid
/// twice as far as these tests are concerned, and "paid exactly once" checks can fail.
actor FakeChannel {
    private var down = false
    private var payouts: [String: Payout] = [:]
    private var payoutCounts: [String: Int] = [:]
    private var requestCounts: [String: Int] = [:]
    private var sequence = 0

    func setDown(_ value: Bool) { down = value }

    func refund(refundID: String, amountMinor: Int64) throws -> String {
        requestCounts[refundID, default: 0] += 1
        if down { throw ChannelUnavailable() }
        payoutCounts[refundID, default: 0] += 1
        if let existing = payouts[refundID] {
            guard existing.amountMinor == amountMinor else { throw ChannelAmountMismatch(refundID: refundID) }
            return existing.transaction
        }
        sequence += 1
        let transaction = "CH\(String(format: "%06d", sequence))-\(refundID)"
        payouts[refundID] = Payout(transaction: transaction, amountMinor: amountMinor)
        return transaction
    }

    /// The payout already made for `refundID`, if any, without paying (a channel's refund query,
    /// like Alipay's `alipay.trade.fastpay.refund.query`); counts as a request, not a payout.
    func query(refundID: String) throws -> Payout? {
        requestCounts[refundID, default: 0] += 1
        if down { throw ChannelUnavailable() }
        return payouts[refundID]
    }

    /// Every refund id paid, with its payout.
    var paid: [String: Payout] { payouts }
    /// How many payout requests the channel accepted for each refund id (each one counts as money leaving).
    var payoutsByRefund: [String: Int] { payoutCounts }
    /// Every refund id paid other than exactly once, as sentences; empty when each was paid once.
    func doublePayments() -> [String] {
        payoutCounts.filter { $0.value != 1 }.map { "\($0.key) paid \($0.value) times" }.sorted()
    }
    /// How many times each refund id was asked for (including while down and repeats).
    func requests(_ refundID: String) -> Int { requestCounts[refundID] ?? 0 }
    var allRequests: [String: Int] { requestCounts }
}

/// A payment worker of the payment system: claims refund orders under a lease, pays them on the
/// channel with the refund id as the idempotency key and reports the result.
struct PaymentWorker: Sendable {
    let id: String
    let bridge: RefundBridgeClient
    let channel: FakeChannel

    var options: CallOptions { Callers.system(id) }

    func claim(max: Int32 = 16, leaseMs: Int64 = 0, channels: [String] = []) async throws -> [AfterSaleProto.RefundLease] {
        var r = ClaimRefundsRequest()
        r.maxRefunds = max
        r.leaseMs = leaseMs
        r.paymentChannels = channels
        return try await bridge.claimRefunds(r, options: options).leases
    }

    func successReport(_ lease: AfterSaleProto.RefundLease, transaction: String, amountMinor: Int64? = nil, token: String? = nil) -> ReportRefundResultRequest {
        var r = ReportRefundResultRequest()
        r.refundId = lease.refund?.refundId ?? ""
        r.leaseToken = token ?? lease.leaseToken
        r.outcome = .succeeded
        r.channelTransactionId = transaction
        r.refundedAmount = Requests.money(amountMinor ?? lease.refund?.amount?.amountMinor ?? 0, lease.refund?.amount?.currency ?? "CNY")
        r.refundedAtUnixMs = nowUnixMs()
        return r
    }

    func failureReport(_ lease: AfterSaleProto.RefundLease, permanent: Bool = false, token: String? = nil) -> ReportRefundResultRequest {
        var r = ReportRefundResultRequest()
        r.refundId = lease.refund?.refundId ?? ""
        r.leaseToken = token ?? lease.leaseToken
        r.outcome = .failed
        r.failureCode = permanent ? "ACCOUNT_CLOSED" : "SYSTEM_BUSY"
        r.failureReason = permanent ? "the buyer's account is closed" : "payment channel unavailable"
        r.permanentFailure = permanent
        return r
    }

    func report(_ request: ReportRefundResultRequest) async throws -> ReportRefundResultResponse {
        try await bridge.reportRefundResult(request, options: options)
    }

    /// Pays one leased refund on the channel and reports the outcome: success with the channel's
    /// transaction id, or a transient failure when the channel is down. On a later attempt (a lease
    /// that expired, a server that restarted before the report committed) it first asks the channel
    /// whether the refund id was paid already, and reports that payout instead of paying again.
    func pay(_ lease: AfterSaleProto.RefundLease) async throws -> ReportRefundResultResponse {
        let refund = try #require(lease.refund)
        let amount = refund.amount?.amountMinor ?? 0
        do {
            if refund.attempts > 1, let earlier = try await channel.query(refundID: refund.refundId) {
                return try await report(successReport(lease, transaction: earlier.transaction))
            }
            let transaction = try await channel.refund(refundID: refund.refundId, amountMinor: amount)
            return try await report(successReport(lease, transaction: transaction))
        } catch is ChannelUnavailable {
            return try await report(failureReport(lease))
        }
    }

    /// Claims and pays until `finished()` says so, nothing is left to claim and `finished()` holds,
    /// or `deadline` passes; the reports that were applied. Bounded by `maxRounds` claims.
    func drain(until deadline: ContinuousClock.Instant, leaseMs: Int64 = 0, batch: Int32 = 8, maxRounds: Int = 2_000,
               finished: @Sendable () async throws -> Bool) async throws -> [ReportRefundResultResponse] {
        var applied: [ReportRefundResultResponse] = []
        let clock = ContinuousClock()
        for _ in 0..<maxRounds {
            if clock.now >= deadline { break }
            let leases = try await claim(max: batch, leaseMs: leaseMs)
            if leases.isEmpty {
                if try await finished() { break }
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            for lease in leases {
                let response = try await pay(lease)
                if response.disposition == .applied { applied.append(response) }
            }
        }
        return applied
    }
}
