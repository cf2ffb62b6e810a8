import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import ServiceKit
import StorageConformance
import Testing

/// The three business services over one in-memory store, called the way the server calls them
/// (a context per call, the principal put there by the identity interceptor): no files, no sockets.
struct ServiceFixture {
    let store = InMemoryRepository()
    let clock = ManualClock(millisecondsSinceEpoch: StorageFixture.now.millisecondsSinceEpoch)

    init() {
        personalData = PersonalDataVault(masterKey: .ephemeral(), keys: store, clock: clock)
        suggestions = ArticleSuggestions(store: store, clock: clock)
    }
    /// The articles CreateAfterSale suggests, shared with the Knowledge service that keeps them fresh.
    let suggestions: ArticleSuggestions
    /// Seals buyers' personal data under a key of this test's own.
    let personalData: PersonalDataVault
    /// The rules the services decide by (the timers' defaults among them).
    var policy = PolicyConfig.standard
    /// Timer settings read afresh on every use (the in-memory store is cheap to ask).
    var timers: TimerPolicySource { TimerPolicySource(store: store, platform: policy.timers, clock: clock, maximumAge: .zero) }
    /// How long personal data is kept after a buyer's last case.
    var personalDataRetention = PersonalDataVault.defaultRetention
    var afterSale: AfterSaleServiceProvider {
        var provider = AfterSaleServiceProvider(store: store, timers: timers, personalData: personalData,
                                                personalDataRetention: personalDataRetention, clock: clock, policy: policy)
        provider.suggestions = suggestions
        return provider
    }
    var orders: OrderBridgeProvider { OrderBridgeProvider(orders: store, cases: store, desk: store, personalData: personalData) }
    var refunds: RefundBridgeProvider {
        RefundBridgeProvider(refunds: store, cases: store, orders: store, idempotency: store, timers: timers, desk: store,
                             personalData: personalData, clock: clock, policy: policy)
    }
    /// How the service desk runs.
    var deskSettings = DeskSettings()
    var desk: Desk { Desk(store: store, settings: deskSettings, clock: clock) }
    var serviceDesk: ServiceDeskProvider { ServiceDeskProvider(desk: desk, timers: timers) }
    /// The desk worker, stepped by the test with ``DeskWorker/sweep()``.
    var deskWorker: DeskWorker { DeskWorker(desk: desk) }
    var feedback: FeedbackProvider { FeedbackProvider(store: store, clock: clock, windowMs: 86_400_000) }
    var knowledge: KnowledgeProvider { KnowledgeProvider(store: store, clock: clock, suggestions: suggestions) }
    /// The windows of disputes.
    var disputePolicy = DisputePolicy()
    var disputes: DisputesProvider {
        DisputesProvider(store: store, desk: desk, timers: timers, personalData: personalData, clock: clock, policy: policy, disputes: disputePolicy)
    }
    /// The dispute worker, stepped by the test with ``DisputeWorker/sweep()``.
    var disputeWorker: DisputeWorker { DisputeWorker(store: store, desk: desk, personalData: personalData, clock: clock, policy: disputePolicy) }
    var timerControls: TimersProvider { TimersProvider(store: store, timers: timers, personalData: personalData, clock: clock, policy: policy) }
    /// The timer worker, stepped by the test with ``TimerWorker/sweep()`` (no pacing).
    var timerWorker: TimerWorker {
        TimerWorker(store: store, timers: timers, clock: clock, policy: policy, settings: TimerWorkerSettings(maximumPerSecond: 0),
                    personalData: personalData)
    }

    /// A context for a call of `method` by `principal`, with extra metadata.
    static func context(_ method: RPCMethodInfo, as principal: Principal?, metadata: Metadata = Metadata()) -> ServerContext {
        var context = ServerContext(method: method, callID: 1, metadata: metadata, deadlineNanos: nil, peer: "test")
        context[PrincipalKey.self] = principal
        return context
    }

    /// A context for CreateAfterSale by `buyer` with an idempotency key.
    static func creating(as buyer: Principal = StorageFixture.buyer, key: String = "k-1") -> ServerContext {
        context(AfterSaleService.createAfterSale.info, as: buyer, metadata: ["idempotency-key": key])
    }

    /// A refund-only request for `quantity` of line l-3 of order o-1.
    static func refundOnly(quantity: Int32 = 1) -> CreateAfterSaleRequest {
        var request = CreateAfterSaleRequest()
        request.orderId = "o-1"
        request.kind = .refundOnly
        request.reasonCode = "no_longer_wanted"
        var line = RequestedLine()
        line.orderLineId = "l-3"
        line.quantity = quantity
        request.lines = [line]
        return request
    }
}

extension ServiceFixture {
    /// Pays the refund waiting longest, as a payment worker would: claims one, reports it paid in full.
    func payRefund() async throws {
        let worker = Principal.system("pay-1")
        var claim = ClaimRefundsRequest()
        claim.maxRefunds = 1
        let lease = try #require(try await refunds.claimRefunds(claim, context: Self.context(RefundBridge.claimRefunds.info, as: worker)).leases.first)
        var report = ReportRefundResultRequest()
        report.refundId = try #require(lease.refund).refundId
        report.leaseToken = lease.leaseToken
        report.outcome = .succeeded
        report.channelTransactionId = "ch-\(report.refundId)"
        report.refundedAmount = try #require(lease.refund).amount
        _ = try await refunds.reportRefundResult(report, context: Self.context(RefundBridge.reportRefundResult.info, as: worker))
    }
}
