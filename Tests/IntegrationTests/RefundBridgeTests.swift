import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCWire
import Synchronization
import Testing

// Issue 4, sections 4.2–4.5: the refund bridge as payment workers call it. Refund orders are
// leased, paid on a fake channel that is idempotent on the refund id (like a real channel's
// out_refund_no), and reported; whatever fails (the channel, a worker, a report), every refund
// order is paid exactly once and completes its case once.

/// Upserts `count` paid one-line orders ("o-<prefix>-i", buyer "b-<prefix>-i", price 1990 + i fen)
/// and creates a refund-only case on each, `parallel` at a time; the cases in index order.
private func refundOnlyCases(_ f: IntegrationFixture, _ prefix: String, count: Int, shop: (Int) -> String = { _ in "s-1" },
                             channel: (Int) -> String = { _ in "alipay" }, parallel: Int = 1) async throws -> [AfterSaleProto.AfterSaleCase] {
    let afterSale = f.afterSale
    let bridge = f.orderBridge
    var results: [Int: AfterSaleProto.AfterSaleCase] = [:]
    var next = 0
    while next < count {
        let batch = next..<min(count, next + parallel)
        next = batch.upperBound
        let orders = try batch.map { i in
            (i, try TestOrder.single("o-\(prefix)-\(i)", buyer: "b-\(prefix)-\(i)", shop: shop(i), priceFen: 1_990 + Int64(i),
                                     channel: channel(i)).upsertRequest())
        }
        try await withThrowingTaskGroup(of: (Int, AfterSaleProto.AfterSaleCase?).self) { group in
            for (i, upsert) in orders {
                group.addTask {
                    _ = try await bridge.upsertOrder(upsert, options: Callers.orderSystem)
                    let created = try await afterSale.createAfterSale(
                        Requests.create(order: "o-\(prefix)-\(i)", kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                        options: Callers.buyer("b-\(prefix)-\(i)", key: "k-\(prefix)-\(i)"))
                    return (i, created.afterSale)
                }
            }
            for try await (i, c) in group { results[i] = try #require(c) }
        }
    }
    return (0..<count).map { results[$0]! }
}

private func refundID(_ c: AfterSaleProto.AfterSaleCase) -> String { c.refund?.refundId ?? "" }

/// Polls ClaimRefunds until it hands out something or `timeout` passes (bounded: one claim every 15 ms).
private func claimWhenDue(_ worker: PaymentWorker, max: Int32 = 16, leaseMs: Int64 = 5_000, channels: [String] = [],
                          timeout: Duration = .seconds(3)) async throws -> [RefundLease] {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: timeout)
    while clock.now < end {
        let leases = try await worker.claim(max: max, leaseMs: leaseMs, channels: channels)
        if !leases.isEmpty { return leases }
        try await Task.sleep(for: .milliseconds(15))
    }
    return []
}

private func countOf(_ events: [Event], _ type: AfterSaleProto.EventType, case number: String) -> Int {
    events.filter { $0.eventType == type && $0.caseNumber == number }.count
}

/// Checks the exactly-once invariant over `cases`: one refund order each, SUCCEEDED with the amount
/// paid equal to the amount ≤ the approved amount, paid by the channel exactly once with the
/// transaction id the refund records, the case COMPLETED, and one success and one completion event.
private func expectPaidExactlyOnce(_ f: IntegrationFixture, _ cases: [AfterSaleProto.AfterSaleCase], channel: FakeChannel,
                                   sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let paid = await channel.paid
    let payouts = await channel.payoutsByRefund
    let feed = try await f.feed(consumer: "exactly-once-audit")
    for c in cases {
        let stored = try await f.getCase(c.caseNumber)
        let refund = try #require(stored.refund, sourceLocation: sourceLocation)
        #expect(refund.refundId == expectedRefundID(c.caseNumber), sourceLocation: sourceLocation)
        #expect(stored.status == .completed, "\(c.caseNumber) is \(stored.status)", sourceLocation: sourceLocation)
        #expect(refund.status == .succeeded, "\(refund.refundId) is \(refund.status)", sourceLocation: sourceLocation)
        #expect(refund.refundedAmount == refund.amount, sourceLocation: sourceLocation)
        #expect((refund.amount?.amountMinor ?? 0) <= (stored.approvedAmount?.amountMinor ?? 0), sourceLocation: sourceLocation)
        #expect(stored.refundedAmount == refund.amount, sourceLocation: sourceLocation)
        #expect(payouts[refund.refundId] == 1, "\(refund.refundId) paid \(payouts[refund.refundId] ?? 0) times", sourceLocation: sourceLocation)
        #expect(paid[refund.refundId]?.transaction == refund.channelTransactionId, sourceLocation: sourceLocation)
        #expect(paid[refund.refundId]?.amountMinor == refund.amount?.amountMinor, sourceLocation: sourceLocation)
        #expect(countOf(feed, .refundSucceeded, case: c.caseNumber) == 1, sourceLocation: sourceLocation)
        #expect(countOf(feed, .caseCompleted, case: c.caseNumber) == 1, sourceLocation: sourceLocation)
        // One more REFUND_REQUESTED per re-queue; never none.
        #expect(countOf(feed, .refundRequested, case: c.caseNumber) >= 1, sourceLocation: sourceLocation)
    }
    let refunds = try await f.allRefunds()
    #expect(Set(refunds.map(\.refundId)).count == refunds.count, "one row per refund order", sourceLocation: sourceLocation)
    #expect(Set(refunds.map(\.caseNumber)).count == refunds.count, "at most one refund order per case", sourceLocation: sourceLocation)
    #expect(payouts.values.reduce(0, +) == paid.count, sourceLocation: sourceLocation)
    let doubled = await channel.doublePayments()
    #expect(doubled.isEmpty, "paid more than once: \(doubled)", sourceLocation: sourceLocation)
}

@Suite("The exactly-once check itself")
struct ExactlyOnceCheckTests {
    @Test("a refund the channel was asked to pay twice is reported, so the payment tests can fail")
    func catchesADoublePayment() async throws {
        let channel = FakeChannel()
        _ = try await channel.refund(refundID: "RF1", amountMinor: 100)
        _ = try await channel.refund(refundID: "RF2", amountMinor: 100)
        #expect(await channel.doublePayments().isEmpty)
        _ = try await channel.refund(refundID: "RF1", amountMinor: 100)
        #expect(await channel.doublePayments() == ["RF1 paid 2 times"])
        #expect(await channel.payoutsByRefund["RF1"] == 2)
    }
}

extension Integration {
    @Suite("RefundBridge: leases, retries, races, crashes and conflicting reports; every refund paid exactly once")
    struct RefundBridgeTests {
        @Test("payment channel down: transient failures schedule retries with doubling backoff, nothing is claimable early; then all complete once")
        func channelDownThenBack() async throws {
            let initial: Int64 = 300
            try await IntegrationFixture.run(maxAttempts: 5, initialBackoffMs: initial, maximumBackoffMs: 2_000) { f in
                let cases = try await refundOnlyCases(f, "down", count: 6, parallel: 6)
                let ids = Set(cases.map(refundID))
                #expect(ids.count == 6)
                let channel = FakeChannel()
                await channel.setDown(true)
                let worker = PaymentWorker(id: "pay-worker-1", bridge: f.refundBridge, channel: channel)

                var dueAt: Int64 = 0
                for round in 1...2 {
                    // Once every refund's next attempt is due, one claim hands them all out again.
                    if dueAt > 0 { try await Task.sleep(for: .milliseconds(Int(max(0, dueAt - nowUnixMs()) + 20))) }
                    let leases = try await worker.claim(max: 50, leaseMs: 5_000)
                    #expect(Set(leases.compactMap { $0.refund?.refundId }) == ids, "round \(round): every refund is claimable again")
                    var nextAttempt: [String: Int64] = [:]
                    for lease in leases {
                        let refund = try #require(lease.refund)
                        #expect(refund.status == .claimed)
                        #expect(refund.attempts == Int32(round))
                        let before = nowUnixMs()
                        let response = try await worker.pay(lease)
                        let after = nowUnixMs()
                        let failed = try #require(response.refund)
                        #expect(response.disposition == .applied)
                        #expect(failed.status == .retryScheduled)
                        #expect(failed.attempts == Int32(round))
                        #expect(failed.lastFailureCode == "SYSTEM_BUSY")
                        #expect(failed.lastFailureReason == "payment channel unavailable")
                        let backoff = initial << (round - 1)
                        #expect(failed.nextAttemptAtUnixMs >= before + backoff - 5 && failed.nextAttemptAtUnixMs <= after + backoff + 5,
                                "round \(round): next attempt \(failed.nextAttemptAtUnixMs - before) ms after the report, wanted \(backoff)")
                        nextAttempt[failed.refundId] = failed.nextAttemptAtUnixMs
                        dueAt = max(dueAt, failed.nextAttemptAtUnixMs)
                    }
                    // Before next_attempt_at nothing is handed out, to this worker or another one.
                    #expect(try await worker.claim(max: 50, leaseMs: 5_000).isEmpty, "round \(round): claimable right after the failure")
                    try await Task.sleep(for: .milliseconds(initial << (round - 1)) / 2)
                    let early = try await PaymentWorker(id: "pay-worker-2", bridge: f.refundBridge, channel: channel).claim(max: 50, leaseMs: 5_000)
                    let claimedAt = nowUnixMs()
                    for lease in early {
                        let id = lease.refund?.refundId ?? ""
                        #expect(claimedAt >= (nextAttempt[id] ?? 0), "\(id) handed out \((nextAttempt[id] ?? 0) - claimedAt) ms before next_attempt_at")
                    }
                    #expect(early.isEmpty, "round \(round): handed out during the backoff")
                    // The cases wait in pending refund meanwhile; the refunds are listed as retry scheduled.
                    let scheduled = try await f.refundBridge.listRefunds(Requests.listRefunds(statuses: [.retryScheduled]), options: Callers.platform())
                    #expect(Set(scheduled.refunds.map(\.refundId)) == ids)
                    #expect(try await f.getCase(cases[0].caseNumber).status == .pendingRefund)
                }

                // The channel is back: everything completes on the third attempt, nothing is paid twice.
                await channel.setDown(false)
                let clock = ContinuousClock()
                let applied = try await worker.drain(until: clock.now.advanced(by: .seconds(5)), leaseMs: 5_000) {
                    let pending = try await f.refundBridge.listRefunds(
                        Requests.listRefunds(statuses: [.pending, .claimed, .retryScheduled, .needsAttention]), options: Callers.platform())
                    return pending.refunds.isEmpty
                }
                #expect(applied.count == 6)
                #expect(applied.allSatisfy { $0.refund?.status == .succeeded && $0.refund?.attempts == 3 })
                // Attempt 1 asked for the payout, attempt 2 asked whether attempt 1 had paid (both while
                // down); attempt 3 asked again, found nothing, and asked for the one payout.
                for id in ids { #expect(await channel.requests(id) == 4, "\(id): two attempts while down, then a query and one payout") }
                try await expectPaidExactlyOnce(f, cases, channel: channel)
                let feed = try await f.feed()
                for c in cases {
                    #expect(countOf(feed, .refundFailed, case: c.caseNumber) == 2)
                    #expect(countOf(feed, .refundNeedsAttention, case: c.caseNumber) == 0)
                    let failures = feed.filter { $0.eventType == .refundFailed && $0.caseNumber == c.caseNumber }
                    #expect(failures.allSatisfy { $0.refund?.status == .retryScheduled && $0.toStatus == .pendingRefund })
                }
            }
        }

        @Test("two payment workers race for 40 refunds: no refund leased to both, each paid exactly once")
        func racingWorkers() async throws {
            try await IntegrationFixture.run { f in
                let cases = try await refundOnlyCases(f, "race", count: 40, parallel: 8)
                let ids = Set(cases.map(refundID))
                #expect(ids.count == 40)
                let channel = FakeChannel()
                let workers = [PaymentWorker(id: "worker-east", bridge: f.refundBridge, channel: channel),
                               PaymentWorker(id: "worker-west", bridge: f.refundBridge, channel: channel)]
                let claims = Collected<(refund: String, worker: String, token: String, owner: String)>()
                let reports = Collected<(refund: String, disposition: RefundReportDisposition)>()
                let failures = Collected<String>()
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(15))
                await withTaskGroup(of: Void.self) { group in
                    // Each worker runs two claim loops, so four claimers are in flight at once.
                    for worker in workers {
                        for _ in 0..<2 {
                            group.addTask {
                                for _ in 0..<500 {
                                    if clock.now >= deadline || reports.count >= 40 { return }
                                    do {
                                        let leases = try await worker.claim(max: 3, leaseMs: 10_000)
                                        if leases.isEmpty {
                                            try await Task.sleep(for: .milliseconds(5))
                                            continue
                                        }
                                        if leases.count > 3 { failures.append("\(worker.id): \(leases.count) leases for max_refunds 3") }
                                        for lease in leases {
                                            claims.append((lease.refund?.refundId ?? "", worker.id, lease.leaseToken, lease.refund?.leaseOwner ?? ""))
                                        }
                                        for lease in leases {
                                            try await Task.sleep(for: .microseconds(Int.random(in: 0...2_000)))
                                            let response = try await worker.pay(lease)
                                            reports.append((response.refund?.refundId ?? "", response.disposition))
                                        }
                                    } catch {
                                        failures.append("\(worker.id): \(error)")
                                        return
                                    }
                                }
                            }
                        }
                    }
                }
                #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
                let claimed = claims.all
                let byRefund = Dictionary(grouping: claimed, by: { $0.refund })
                #expect(Set(byRefund.keys) == ids, "every refund was claimed")
                let twice = byRefund.filter { $0.value.count > 1 }
                #expect(twice.isEmpty, "refunds handed out more than once under unexpired leases: \(twice.mapValues { $0.map { $0.worker } })")
                #expect(claimed.allSatisfy { $0.owner == $0.worker }, "the lease owner is the claiming worker")
                #expect(Set(claimed.map { $0.token }).count == claimed.count, "every claim has its own lease token")
                #expect(reports.count == 40)
                #expect(reports.all.allSatisfy { $0.disposition == .applied })
                for id in ids {
                    let asked = await channel.requests(id)
                    #expect(asked == 1, "\(id) asked of the channel \(asked) times")
                }
                print("refund race: \(Dictionary(grouping: claimed, by: { $0.worker }).mapValues { $0.count }) claims per worker")
                try await expectPaidExactlyOnce(f, cases, channel: channel)

                let succeeded = try await f.refundBridge.listRefunds(Requests.listRefunds(statuses: [.succeeded], pageSize: 10), options: Callers.platform())
                let total = try #require(succeeded.totals.first { $0.status == .succeeded })
                let expected = cases.reduce(Int64(0)) { $0 + ($1.approvedAmount?.amountMinor ?? 0) }
                #expect(succeeded.totals.count == 1)
                #expect(total.count == 40)
                #expect(total.amount?.amountMinor == expected)
                #expect(total.refundedAmount?.amountMinor == expected)
                #expect(succeeded.refunds.count == 10, "a page, while the totals cover every row")
            }
        }

        @Test("lease expiry after a worker crash: another worker takes over, the crashed worker's late reports are refused and recorded")
        func leaseExpiry() async throws {
            try await IntegrationFixture.run { f in
                let cases = try await refundOnlyCases(f, "lease", count: 2)
                let (r, s) = (cases[0], cases[1])
                let channel = FakeChannel()
                let a = PaymentWorker(id: "worker-a", bridge: f.refundBridge, channel: channel)
                let b = PaymentWorker(id: "worker-b", bridge: f.refundBridge, channel: channel)

                // A claims the oldest refund with a 400 ms lease, pays it on the channel, and crashes before reporting.
                let claimStart = nowUnixMs()
                let leaseA = try #require(try await a.claim(max: 1, leaseMs: 400).first)
                #expect(leaseA.refund?.refundId == refundID(r), "oldest first")
                #expect(leaseA.refund?.leaseOwner == "worker-a")
                #expect(leaseA.refund?.attempts == 1)
                #expect(leaseA.leaseExpiresAtUnixMs >= claimStart + 400 && leaseA.leaseExpiresAtUnixMs <= nowUnixMs() + 400 + 5)
                let transactionA = try await channel.refund(refundID: refundID(r), amountMinor: leaseA.refund?.amount?.amountMinor ?? 0)

                // While A's lease runs, B gets everything but that refund.
                let leasesB = try await b.claim(max: 10, leaseMs: 5_000)
                #expect(leasesB.map { $0.refund?.refundId ?? "" } == [refundID(s)])
                for lease in leasesB { _ = try await b.pay(lease) }

                // After expiry, B takes it over: a new lease, a new token, the second attempt.
                try await Task.sleep(for: .milliseconds(Int(max(0, leaseA.leaseExpiresAtUnixMs - nowUnixMs()) + 30)))
                let leaseB = try #require(try await claimWhenDue(b, max: 10, timeout: .seconds(2)).first)
                #expect(leaseB.refund?.refundId == refundID(r))
                #expect(leaseB.refund?.leaseOwner == "worker-b")
                #expect(leaseB.refund?.attempts == 2)
                #expect(leaseB.leaseToken != leaseA.leaseToken)

                // A comes back and reports with its expired, superseded lease: refused.
                let lateSuccess = await rpcError { try await a.report(a.successReport(leaseA, transaction: transactionA)) }
                #expect(lateSuccess?.code == .failedPrecondition, "\(String(describing: lateSuccess))")
                // B's is the second attempt: it asks the channel about the refund id, finds A's payout
                // and reports it instead of paying again.
                let paid = try await b.pay(leaseB)
                #expect(paid.disposition == .applied)
                #expect(paid.refund?.status == .succeeded)
                #expect(paid.refund?.channelTransactionId == transactionA)
                // A's failure report after that is a conflict too; its success report with the same payout is a duplicate.
                let lateFailure = await rpcError { try await a.report(a.failureReport(leaseA)) }
                #expect(lateFailure?.code == .failedPrecondition, "\(String(describing: lateFailure))")
                let sameAgain = try await a.report(a.successReport(leaseA, transaction: transactionA))
                #expect(sameAgain.disposition == .duplicate)
                #expect(sameAgain.refund == paid.refund)

                // The refusals are on the case's trace, attributed to worker A.
                let refused = try await f.trace(r.caseNumber).filter { $0.outcome == .rejected }
                #expect(refused.count == 2, "\(refused.map(\.details))")
                #expect(refused.allSatisfy { $0.actorId == "worker-a" && $0.actorRole == .system })
                #expect(refused.allSatisfy { $0.details.contains(refundID(r)) }, "\(refused.map(\.details))")
                #expect(refused.allSatisfy { $0.refundId == refundID(r) }, "\(refused.map(\.refundId))")

                // An expired lease is still honoured when nobody claimed the refund since.
                let t = try await refundOnlyCases(f, "lease-late", count: 1)[0]
                let short = try #require(try await a.claim(max: 5, leaseMs: 100).first)
                #expect(short.refund?.refundId == refundID(t))
                try await Task.sleep(for: .milliseconds(250))
                let honoured = try await a.pay(short)
                #expect(honoured.disposition == .applied)
                #expect(honoured.refund?.status == .succeeded)

                try await expectPaidExactlyOnce(f, [r, s, t], channel: channel)
            }
        }

        @Test("lease lengths: 0 takes the default, too short and too long are clamped")
        func leaseLengths() async throws {
            try await IntegrationFixture.run(defaultLeaseMs: 2_000) { f in
                _ = try await refundOnlyCases(f, "len", count: 3)
                let worker = PaymentWorker(id: "worker-len", bridge: f.refundBridge, channel: FakeChannel())
                for (asked, granted) in [(Int64(0), Int64(2_000)), (Int64(1), Int64(50)), (Int64(10_000_000), Int64(60_000))] {
                    let before = nowUnixMs()
                    let lease = try #require(try await worker.claim(max: 1, leaseMs: asked).first)
                    let after = nowUnixMs()
                    #expect(lease.leaseExpiresAtUnixMs >= before + granted && lease.leaseExpiresAtUnixMs <= after + granted + 5,
                            "asked \(asked) ms, got \(lease.leaseExpiresAtUnixMs - before) ms, wanted \(granted)")
                    #expect(lease.refund?.leaseExpiresAtUnixMs == lease.leaseExpiresAtUnixMs)
                }
            }
        }

        @Test("attempts exhausted or a permanent failure: NEEDS_ATTENTION, listed for agents, re-queued, then paid once")
        func needsAttentionAndRequeue() async throws {
            try await IntegrationFixture.run(maxAttempts: 3, initialBackoffMs: 50, maximumBackoffMs: 400) { f in
                // One refund per payment channel, so that each can be claimed on its own.
                let channels = ["alipay", "wechat_pay", "unionpay"]
                let cases = try await refundOnlyCases(f, "att", count: 3, channel: { channels[$0] })
                let (x, y, z) = (cases[0], cases[1], cases[2])
                let channel = FakeChannel()
                await channel.setDown(true)
                let worker = PaymentWorker(id: "worker-att", bridge: f.refundBridge, channel: channel)

                // X fails three times: retry, retry, needs attention.
                var last: AfterSaleProto.RefundOrder?
                for attempt in 1...3 {
                    let lease = try #require(try await claimWhenDue(worker, max: 5, channels: ["alipay"]).first, "attempt \(attempt) claimable")
                    #expect(lease.refund?.refundId == refundID(x))
                    #expect(lease.refund?.attempts == Int32(attempt))
                    last = try await worker.pay(lease).refund
                    #expect(last?.status == (attempt < 3 ? .retryScheduled : .needsAttention), "after attempt \(attempt)")
                }
                #expect(last?.attempts == 3)
                #expect(last?.maxAttempts == 3)
                // It is never handed out again by itself (longer than the longest backoff).
                try await Task.sleep(for: .milliseconds(450))
                #expect(try await worker.claim(max: 5, channels: ["alipay"]).isEmpty)

                // Y fails permanently on its first attempt.
                let leaseY = try #require(try await worker.claim(max: 5, channels: ["wechat_pay"]).first)
                let permanent = try await worker.report(worker.failureReport(leaseY, permanent: true))
                #expect(permanent.refund?.status == .needsAttention)
                #expect(permanent.refund?.attempts == 1)
                #expect(permanent.refund?.lastFailureCode == "ACCOUNT_CLOSED")
                #expect(try await f.getCase(y.caseNumber).status == .pendingRefund)

                // Agents list them (those of their tickets' cases), with totals over the filter.
                try await f.assign([x.caseNumber, y.caseNumber], to: "agent-1")
                let attention = try await f.refundBridge.listRefunds(Requests.listRefunds(statuses: [.needsAttention]), options: Callers.agent())
                #expect(Set(attention.refunds.map(\.refundId)) == [refundID(x), refundID(y)])
                #expect(attention.totals.count == 1)
                #expect(attention.totals.first?.status == .needsAttention)
                #expect(attention.totals.first?.count == 2)
                #expect(attention.totals.first?.amount?.amountMinor == (x.approvedAmount?.amountMinor ?? 0) + (y.approvedAmount?.amountMinor ?? 0))
                let feed = try await f.feed()
                #expect(countOf(feed, .refundFailed, case: x.caseNumber) == 3)
                #expect(countOf(feed, .refundNeedsAttention, case: x.caseNumber) == 1)
                #expect(countOf(feed, .refundNeedsAttention, case: y.caseNumber) == 1)

                // Re-queueing: agents and platform only, only NEEDS_ATTENTION, only at the current version.
                let stuck = try #require(attention.refunds.first { $0.refundId == refundID(x) })
                func requeue(_ id: String, version: Int64, as options: CallOptions) async throws -> RequeueRefundResponse {
                    var r = RequeueRefundRequest()
                    r.refundId = id
                    r.expectedVersion = version
                    r.note = "channel fixed"
                    return try await f.refundBridge.requeueRefund(r, options: options)
                }
                for options in [Callers.buyer(x.buyerId), Callers.merchant("s-1"), Callers.system("worker-att")] {
                    let refused = await rpcError { try await requeue(stuck.refundId, version: stuck.version, as: options) }
                    #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
                }
                // The agent works these cases through tickets: an agent sees only the cases of their tickets.
                try await f.assign([x.caseNumber, z.caseNumber], to: "agent-1")
                let pendingZ = try #require(try await f.getCase(z.caseNumber).refund)
                let notStuck = await rpcError { try await requeue(pendingZ.refundId, version: pendingZ.version, as: Callers.agent()) }
                #expect(notStuck?.code == .failedPrecondition)
                let stale = await rpcError { try await requeue(stuck.refundId, version: stuck.version - 1, as: Callers.agent()) }
                #expect(stale?.code == .aborted)
                let unknown = await rpcError { try await requeue("RF20000101999999", version: 1, as: Callers.agent()) }
                #expect(unknown?.code == .notFound)
                let requeued = try #require(try await requeue(stuck.refundId, version: stuck.version, as: Callers.agent()).refund)
                #expect(requeued.status == .pending)
                #expect(requeued.attempts == 0)
                #expect(requeued.version > stuck.version)
                let stuckY = try #require(attention.refunds.first { $0.refundId == refundID(y) })
                #expect(try await requeue(stuckY.refundId, version: stuckY.version, as: Callers.platform()).refund?.status == .pending)
                let traceX = try await f.trace(x.caseNumber)
                #expect(traceX.contains { $0.action == .refundRequeued && $0.actorId == "agent-1" && $0.outcome == .applied },
                        "\(traceX.map { "\($0.action) \($0.actorId)" })")
                let requeueEvents = try await f.feed().filter { $0.caseNumber == x.caseNumber && $0.eventType == .refundRequested }
                #expect(requeueEvents.count == 2, "created, then re-queued")
                #expect(requeueEvents.last?.refund?.status == .pending)
                #expect(requeueEvents.last?.actorRole == .agent)

                // The channel is fixed: both are paid once, Z too.
                await channel.setDown(false)
                let clock = ContinuousClock()
                let applied = try await worker.drain(until: clock.now.advanced(by: .seconds(5)), leaseMs: 5_000) {
                    try await f.refundBridge.listRefunds(Requests.listRefunds(statuses: [.pending, .claimed, .retryScheduled, .needsAttention]),
                                                         options: Callers.platform()).refunds.isEmpty
                }
                #expect(applied.count == 3)
                #expect(applied.first { $0.refund?.refundId == refundID(x) }?.refund?.attempts == 1, "a fresh set of attempts")
                try await expectPaidExactlyOnce(f, cases, channel: channel)
            }
        }

        @Test("duplicate and conflicting reports: identical → DUPLICATE, other transaction → FAILED_PRECONDITION (recorded), bad reports refused")
        func duplicateAndConflictingReports() async throws {
            try await IntegrationFixture.run { f in
                let cases = try await refundOnlyCases(f, "dup", count: 2)
                let (p, q) = (cases[0], cases[1])
                let channel = FakeChannel()
                let worker = PaymentWorker(id: "worker-dup", bridge: f.refundBridge, channel: channel)

                // Permissions first: only the system claims and reports; agents, platform and system list.
                #expect(await rpcError { try await f.refundBridge.claimRefunds(ClaimRefundsRequest(), options: Callers.buyer(p.buyerId)) }?.code == .permissionDenied)
                #expect(await rpcError { try await f.refundBridge.claimRefunds(ClaimRefundsRequest(), options: Callers.agent()) }?.code == .permissionDenied)
                #expect(await rpcError { try await f.refundBridge.claimRefunds(ClaimRefundsRequest(), options: Callers.anonymous) }?.code == .unauthenticated)
                #expect(await rpcError { try await f.refundBridge.listRefunds(Requests.listRefunds(), options: Callers.merchant("s-1")) }?.code == .permissionDenied)
                #expect(await rpcError { try await f.refundBridge.listRefunds(Requests.listRefunds(), options: Callers.buyer(p.buyerId)) }?.code == .permissionDenied)
                #expect(try await f.refundBridge.listRefunds(Requests.listRefunds(), options: Callers.system("recon")).refunds.count == 2)
                #expect(try await f.refundBridge.listRefunds(Requests.listRefunds(), options: Callers.platform()).refunds.count == 2)

                let lease = try #require(try await worker.claim(max: 1, leaseMs: 10_000).first)
                #expect(lease.refund?.refundId == refundID(p))
                let amount = lease.refund?.amount?.amountMinor ?? 0
                #expect(await rpcError { try await worker.bridge.reportRefundResult(worker.successReport(lease, transaction: "T"),
                                                                                   options: Callers.buyer(p.buyerId)) }?.code == .permissionDenied)

                // Malformed reports: INVALID_ARGUMENT naming the field.
                var unspecified = worker.successReport(lease, transaction: "T")
                unspecified.outcome = .unspecified
                #expect(await rpcError { try await worker.report(unspecified) }?.code == .invalidArgument)
                let noTransaction = await rpcError { try await worker.report(worker.successReport(lease, transaction: "")) }
                #expect(noTransaction?.code == .invalidArgument)
                #expect(noTransaction?.message.contains("channel_transaction_id") == true, "\(noTransaction?.message ?? "-")")
                let wrongAmount = await rpcError { try await worker.report(worker.successReport(lease, transaction: "T", amountMinor: amount + 1)) }
                #expect(wrongAmount?.code == .invalidArgument)
                #expect(wrongAmount?.message.contains("refunded_amount") == true, "\(wrongAmount?.message ?? "-")")
                var unknown = worker.successReport(lease, transaction: "T")
                unknown.refundId = "RF20000101999999"
                #expect(await rpcError { try await worker.report(unknown) }?.code == .notFound)

                // Conflicts before success: a token that is not the lease; a refund nobody claimed.
                var rejectedOnP = 0
                let wrongToken = await rpcError { try await worker.report(worker.successReport(lease, transaction: "T", token: "not-the-lease")) }
                #expect(wrongToken?.code == .failedPrecondition, "\(String(describing: wrongToken))")
                rejectedOnP += 1
                var unclaimed = worker.successReport(lease, transaction: "T")
                unclaimed.refundId = refundID(q)
                unclaimed.refundedAmount = q.approvedAmount
                let notClaimed = await rpcError { try await worker.report(unclaimed) }
                #expect(notClaimed?.code == .failedPrecondition, "\(String(describing: notClaimed))")
                let stillClaimed = try #require(try await f.getCase(p.caseNumber).refund)
                #expect(stillClaimed.status == .claimed)
                #expect(stillClaimed.leaseOwner == "worker-dup")
                #expect(try await f.getCase(q.caseNumber).refund?.status == .pending)

                // Success, then an identical repeat: DUPLICATE, nothing changes.
                let transaction = try await channel.refund(refundID: refundID(p), amountMinor: amount)
                let success = worker.successReport(lease, transaction: transaction)
                let applied = try await worker.report(success)
                #expect(applied.disposition == .applied)
                let paid = try #require(applied.refund)
                #expect(paid.status == .succeeded)
                #expect(paid.channelTransactionId == transaction)
                #expect(paid.refundedAmount?.amountMinor == amount)
                #expect(paid.succeededAtUnixMs > 0)
                let repeated = try await worker.report(success)
                #expect(repeated.disposition == .duplicate)
                #expect(repeated.refund == paid)
                // The same payout reported under another token (a retry after a lost answer) is a duplicate too.
                let otherToken = try await worker.report(worker.successReport(lease, transaction: transaction, token: "lost-answer-retry"))
                #expect(otherToken.disposition == .duplicate)
                #expect(otherToken.refund?.version == paid.version)

                // Conflicts after success: another transaction id, another amount, a failure.
                let otherTransaction = await rpcError { try await worker.report(worker.successReport(lease, transaction: "CH-SOMETHING-ELSE")) }
                #expect(otherTransaction?.code == .failedPrecondition, "\(String(describing: otherTransaction))")
                rejectedOnP += 1
                let otherAmount = await rpcError { try await worker.report(worker.successReport(lease, transaction: transaction, amountMinor: amount - 1)) }
                #expect(otherAmount?.code == .failedPrecondition || otherAmount?.code == .invalidArgument, "\(String(describing: otherAmount))")
                if otherAmount?.code == .failedPrecondition { rejectedOnP += 1 }
                let failureAfter = await rpcError { try await worker.report(worker.failureReport(lease)) }
                #expect(failureAfter?.code == .failedPrecondition, "\(String(describing: failureAfter))")
                rejectedOnP += 1

                // Nothing changed, and every refusal is on the trace.
                let after = try await f.getCase(p.caseNumber)
                #expect(after.refund == paid)
                #expect(after.status == .completed)
                let traceP = try await f.trace(p.caseNumber)
                #expect(traceP.filter { $0.outcome == .rejected }.count == rejectedOnP, "\(traceP.map { "\($0.action) \($0.outcome)" })")
                #expect(traceP.filter { $0.outcome == .rejected }.allSatisfy { $0.actorId == "worker-dup" && $0.actorRole == .system })
                #expect(traceP.filter { $0.outcome == .rejected }.allSatisfy { $0.refundId == refundID(p) })
                #expect(traceP.filter { $0.action == .refundSucceeded && $0.outcome == .applied }.count == 1)
                #expect(try await f.trace(q.caseNumber).filter { $0.outcome == .rejected }.count == 1)
                try await expectPaidExactlyOnce(f, [p], channel: channel)
            }
        }

        @Test("ListRefunds: newest first, pages, filters by status, shop, case and time, totals over the whole filter")
        func listRefunds() async throws {
            try await IntegrationFixture.run { f in
                var cases: [AfterSaleProto.AfterSaleCase] = []
                for i in 0..<5 {
                    cases += try await refundOnlyCases(f, "ls\(i)", count: 1, shop: { _ in i < 3 ? "s-a" : "s-b" })
                    try await Task.sleep(for: .milliseconds(3))
                }
                let amounts = cases.map { $0.approvedAmount?.amountMinor ?? 0 }
                let createdBy = nowUnixMs() + 1
                try await Task.sleep(for: .milliseconds(5))
                // Pay the two oldest.
                let channel = FakeChannel()
                let worker = PaymentWorker(id: "worker-ls", bridge: f.refundBridge, channel: channel)
                let paidFrom = nowUnixMs()
                let leases = try await worker.claim(max: 2, leaseMs: 5_000)
                #expect(leases.map { $0.refund?.refundId ?? "" } == cases.prefix(2).map(refundID), "oldest first")
                for lease in leases { #expect(try await worker.pay(lease).disposition == .applied) }

                // Every row, a page of two at a time; the totals are the same on every page.
                var pages: [ListRefundsResponse] = []
                var request = Requests.listRefunds(pageSize: 2)
                for _ in 0..<10 {
                    let page = try await f.refundBridge.listRefunds(request, options: Callers.platform())
                    pages.append(page)
                    if page.nextPageToken.isEmpty { break }
                    request.pageToken = page.nextPageToken
                }
                #expect(pages.map(\.refunds.count) == [2, 2, 1])
                #expect(pages.flatMap(\.refunds).map(\.refundId) == cases.reversed().map(refundID), "newest first")
                #expect(pages.allSatisfy { $0.totals == pages[0].totals })
                let totals = Dictionary(uniqueKeysWithValues: pages[0].totals.map { ($0.status, $0) })
                #expect(totals.count == 2)
                #expect(totals[.succeeded]?.count == 2)
                #expect(totals[.succeeded]?.amount?.amountMinor == amounts[0] + amounts[1])
                #expect(totals[.succeeded]?.refundedAmount?.amountMinor == amounts[0] + amounts[1])
                #expect(totals[.pending]?.count == 3)
                #expect(totals[.pending]?.amount?.amountMinor == amounts[2] + amounts[3] + amounts[4])
                #expect((totals[.pending]?.refundedAmount?.amountMinor ?? 0) == 0)
                #expect(totals[.pending]?.amount?.currency == "CNY")

                // Filters.
                let succeeded = try await f.refundBridge.listRefunds(Requests.listRefunds(statuses: [.succeeded]), options: Callers.platform())
                #expect(succeeded.refunds.map(\.refundId) == [refundID(cases[1]), refundID(cases[0])])
                #expect(succeeded.totals.map(\.status) == [.succeeded])
                let shopB = try await f.refundBridge.listRefunds(Requests.listRefunds(shop: "s-b"), options: Callers.platform())
                #expect(shopB.refunds.map(\.refundId) == [refundID(cases[4]), refundID(cases[3])])
                #expect(shopB.totals.map(\.count) == [2])
                let one = try await f.refundBridge.listRefunds(Requests.listRefunds(caseNumber: cases[2].caseNumber), options: Callers.platform())
                #expect(one.refunds.map(\.refundId) == [refundID(cases[2])])
                #expect(one.refunds.first?.caseNumber == cases[2].caseNumber)
                #expect(one.refunds.first?.shopId == "s-a")
                let paidSince = try await f.refundBridge.listRefunds(Requests.listRefunds(basis: .succeeded, from: paidFrom), options: Callers.platform())
                #expect(Set(paidSince.refunds.map(\.refundId)) == Set(cases.prefix(2).map(refundID)))
                let paidBefore = try await f.refundBridge.listRefunds(Requests.listRefunds(basis: .succeeded, to: paidFrom), options: Callers.platform())
                #expect(paidBefore.refunds.isEmpty)
                #expect(paidBefore.totals.allSatisfy { $0.count == 0 })
                let createdLater = try await f.refundBridge.listRefunds(Requests.listRefunds(basis: .created, from: createdBy), options: Callers.platform())
                #expect(createdLater.refunds.isEmpty)
                let createdEarlier = try await f.refundBridge.listRefunds(Requests.listRefunds(basis: .created, to: createdBy), options: Callers.platform())
                #expect(createdEarlier.refunds.count == 5)
                let updatedSince = try await f.refundBridge.listRefunds(Requests.listRefunds(basis: .updated, from: paidFrom), options: Callers.platform())
                #expect(Set(updatedSince.refunds.map(\.refundId)) == Set(cases.prefix(2).map(refundID)))
                let bad = await rpcError { try await f.refundBridge.listRefunds(Requests.listRefunds(token: "not-a-token"), options: Callers.platform()) }
                #expect(bad?.code == .invalidArgument)
            }
        }
    }
}
