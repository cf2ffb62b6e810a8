import AfterSaleDomain
import Testing

/// One refund order, two or three payment workers, an idempotent payment channel and a simulated
/// clock; random claims, reports (current, stale, repeated), lease expiries and re-queues. After
/// every step the refund must have been paid at most once, for exactly its amount.
@Suite("Refund orders are paid exactly once under random worker histories")
struct RefundExactlyOnceTests {
    static let seeds: ClosedRange<UInt64> = 1...300
    static let steps = 60
    static let policy = RefundPolicy(maxAttempts: 3, initialBackoffMs: 200, maximumBackoffMs: 1_000,
                                     defaultLeaseMs: 500, minimumLeaseMs: 50, maximumLeaseMs: 2_000)

    /// A payment channel that refunds each refund id once and answers a repeat with the same transaction.
    struct Channel {
        private(set) var paid: [String: (transaction: String, amount: Money)] = [:]
        private(set) var moneyMovements = 0
        private var counter = 0

        mutating func pay(_ refundID: String, _ amount: Money) -> String {
            if let done = paid[refundID] { return done.transaction }
            counter += 1
            moneyMovements += 1
            let transaction = "ch-\(counter)"
            paid[refundID] = (transaction, amount)
            return transaction
        }
    }

    /// A simulated payment worker and what it believes it holds.
    struct Worker {
        var name: String
        /// The token of its last claim (possibly stale).
        var token: String?
        /// When it was told its lease expires.
        var leaseExpiresAt: Timestamp?
        /// True until a report under `token` was applied.
        var holding = false
        /// Its last report, to send again.
        var lastReport: RefundReport?
    }

    @Test("a refund succeeds at most once, for exactly its amount, whatever the workers do")
    func randomWorkerHistories() throws {
        var stats: [String: Int] = [:]
        let request = try RefundFixture.request()
        for seed in Self.seeds {
            if let failure = Self.run(seed: seed, request: request, stats: &stats) {
                Issue.record("seed \(seed): \(failure)")
            }
        }
        // The walk must reach the interesting places, or it proves nothing.
        for (what, least) in ["claim": 400, "claim refused": 1_000, "succeeded": 70, "success duplicate": 150,
                              "stale refused": 1_000, "retry scheduled": 200, "needs attention": 80, "requeue": 60,
                              "requeue refused": 500, "resend duplicate": 500, "resend refused": 50, "malformed": 15,
                              "expired lease reclaimed": 50] {
            #expect(stats[what, default: 0] >= least, "\(what): \(stats[what, default: 0]) (all: \(stats.sorted { $0.key < $1.key }))")
        }
    }

    /// Runs one seeded history; returns the first broken invariant, if any.
    static func run(seed: UInt64, request: RefundRequest, stats: inout [String: Int]) -> String? {
        var rng = SplitMix64(seed: seed)
        var clock = RefundFixture.start
        var order = RefundOrder.requested(request, order: Fixture.order(status: .paid), policy: policy, at: clock)
        var channel = Channel()
        var workers = (1...rng.int(in: 2...3)).map { Worker(name: "w-\($0)") }
        var tokens = 0
        var successesApplied = 0

        for step in 1...steps {
            let before = order
            var applied = false
            let where_ = "step \(step)"
            let roll = rng.int(in: 1...100)

            if roll <= 25 {
                // A worker polls and claims when it may.
                let index = rng.int(in: 0...(workers.count - 1))
                if order.isClaimable(at: clock) {
                    if order.status == .claimed { stats["expired lease reclaimed", default: 0] += 1 }
                    tokens += 1
                    let token = "tok-\(seed)-\(tokens)"
                    let lease = policy.lease(requestedMs: rng.pick([0, 10, 100, 400, 1_500, 5_000]))
                    order = order.claimed(by: workers[index].name, token: token, leaseMs: lease, at: clock)
                    workers[index].token = token
                    workers[index].leaseExpiresAt = clock.adding(milliseconds: lease)
                    workers[index].holding = true
                    workers[index].lastReport = nil
                    applied = true
                    stats["claim", default: 0] += 1
                    if order.status != .claimed || order.lease?.token != token || order.attempts != before.attempts + 1 {
                        return "\(where_): claim gave \(order.status), lease \(String(describing: order.lease)), attempts \(order.attempts)"
                    }
                } else {
                    stats["claim refused", default: 0] += 1
                    if before.status == .pending { return "\(where_): a pending refund was not claimable" }
                }
            } else if roll <= 60 {
                // A worker that once claimed reports, with the token it holds (possibly stale).
                let holders = workers.indices.filter { workers[$0].token != nil }
                guard !holders.isEmpty else { continue }
                let index = rng.pick(holders)
                let worker = workers[index]
                let token = worker.token!
                let kind = rng.int(in: 1...100)
                let report: RefundReport
                if kind <= 20 {
                    let transaction = channel.pay(order.id, order.amount)
                    report = RefundReport(worker: worker.name, leaseToken: token,
                                          outcome: .succeeded(channelTransactionID: transaction, amount: order.amount, paidAt: clock))
                } else if kind <= 25 {
                    // Garbled: the wrong amount, or no transaction id.
                    let amount = rng.chance(50) ? Money.cny(order.amount.minorUnits + Int64(rng.pick([-1, 1, 100]))) : order.amount
                    let transaction = amount == order.amount ? "" : channel.pay(order.id, order.amount)
                    report = RefundReport(worker: worker.name, leaseToken: token,
                                          outcome: .succeeded(channelTransactionID: transaction, amount: amount, paidAt: clock))
                } else {
                    let permanent = rng.chance(15)
                    report = RefundReport(worker: worker.name, leaseToken: token,
                                          outcome: .failed(code: permanent ? "account_closed" : "timeout", reason: "step \(step)",
                                                           permanent: permanent))
                }
                let holdsCurrent = before.status == .claimed && before.lease?.token == token
                do {
                    switch try order.reporting(report, at: clock, policy: policy) {
                    case .applied(let next, let action):
                        if !holdsCurrent { return "\(where_): applied a report under token \(token) not holding the lease (\(before.status))" }
                        order = next
                        applied = true
                        workers[index].holding = false
                        workers[index].lastReport = report
                        switch order.status {
                        case .succeeded:
                            successesApplied += 1
                            stats["succeeded", default: 0] += 1
                            if action != .refundSucceeded { return "\(where_): success told the case \(action)" }
                        case .retryScheduled:
                            stats["retry scheduled", default: 0] += 1
                            let due = clock.adding(milliseconds: policy.backoff(afterAttempts: order.attempts))
                            if order.nextAttemptAt != due { return "\(where_): retry at \(String(describing: order.nextAttemptAt)), expected \(due)" }
                            if order.attempts >= order.maxAttempts { return "\(where_): retry after \(order.attempts) of \(order.maxAttempts) attempts" }
                        case .needsAttention:
                            stats["needs attention", default: 0] += 1
                            if case .failed(_, _, let permanent) = report.outcome, !permanent, before.attempts < before.maxAttempts {
                                return "\(where_): attention after a transient failure at attempt \(before.attempts) of \(before.maxAttempts)"
                            }
                        case .pending, .claimed:
                            return "\(where_): a report left the refund \(order.status)"
                        }
                        if order.status != .succeeded {
                            guard case .refundFailed = action else { return "\(where_): failure told the case \(action)" }
                        }
                    case .duplicate:
                        stats[before.status == .succeeded ? "success duplicate" : "report duplicate", default: 0] += 1
                        if before.status == .succeeded, case .succeeded(let transaction, _, _) = report.outcome,
                           transaction != before.channelTransactionID {
                            return "\(where_): another transaction \(transaction) taken as a duplicate of \(String(describing: before.channelTransactionID))"
                        }
                    }
                } catch {
                    switch error {
                    case .refundConflict:
                        stats["stale refused", default: 0] += 1
                        if holdsCurrent && before.lease?.owner == worker.name && before.status != .succeeded {
                            return "\(where_): the lease holder's report was refused: \(error)"
                        }
                    case .invalidArgument:
                        stats["malformed", default: 0] += 1
                        if case .failed = report.outcome { return "\(where_): a well-formed failure was refused: \(error)" }
                        if case .succeeded(let transaction, let amount, _) = report.outcome, !transaction.isEmpty, amount == order.amount {
                            return "\(where_): a well-formed success was refused: \(error)"
                        }
                    default:
                        return "\(where_): unexpected refusal \(error)"
                    }
                }
            } else if roll <= 70 {
                // A worker sends its last applied report again (a retried RPC).
                let senders = workers.indices.filter { workers[$0].lastReport != nil }
                guard !senders.isEmpty else { continue }
                let report = workers[rng.pick(senders)].lastReport!
                do {
                    let decision = try order.reporting(report, at: clock, policy: policy)
                    if decision != .duplicate { return "\(where_): a resent report applied again: \(decision)" }
                    stats["resend duplicate", default: 0] += 1
                } catch {
                    // Only when something else happened since: it must then be a conflict.
                    guard case .refundConflict = error else { return "\(where_): resent report refused with \(error)" }
                    stats["resend refused", default: 0] += 1
                }
            } else if roll <= 90 {
                // Time passes: a little, past the lease, or to the retry.
                let target: Timestamp = switch rng.int(in: 1...3) {
                case 1: clock.adding(milliseconds: Int64(rng.int(in: 0...300)))
                case 2: (order.lease?.expiresAt ?? clock).adding(milliseconds: Int64(rng.int(in: 0...50)))
                default: (order.nextAttemptAt ?? clock).adding(milliseconds: Int64(rng.int(in: -20...20)))
                }
                clock = max(clock, target)
            } else {
                // An agent re-queues, with the version it saw (sometimes stale).
                let stale = rng.chance(20)
                let expected = stale ? order.version - Int64(rng.int(in: 1...3)) : order.version
                do {
                    order = try order.requeued(expectedVersion: expected, at: clock)
                    applied = true
                    stats["requeue", default: 0] += 1
                    if stale || before.status != .needsAttention { return "\(where_): re-queued from \(before.status), stale \(stale)" }
                    if order.status != .pending || order.attempts != 0 { return "\(where_): re-queue gave \(order.status) attempts \(order.attempts)" }
                } catch {
                    stats["requeue refused", default: 0] += 1
                    switch error {
                    case .versionConflict: if !stale { return "\(where_): version conflict with the current version" }
                    case .refundConflict: if before.status == .needsAttention && !stale { return "\(where_): could not re-queue a refund that needs attention" }
                    default: return "\(where_): unexpected re-queue refusal \(error)"
                    }
                }
            }

            // Invariants.
            if applied {
                if order.version <= before.version { return "\(where_): version \(before.version) → \(order.version) on a change" }
                if order.version != before.version + 1 { return "\(where_): version jumped \(before.version) → \(order.version)" }
                if order.updatedAt < before.updatedAt { return "\(where_): updatedAt went back" }
            } else if order != before {
                return "\(where_): the refund changed without an applied change"
            }
            if before.status == .succeeded {
                if order != before { return "\(where_): a succeeded refund changed to \(order.status)" }
            }
            if successesApplied > 1 { return "\(where_): \(successesApplied) successes applied" }
            if channel.moneyMovements > 1 { return "\(where_): the channel moved money \(channel.moneyMovements) times" }
            if order.refundedAmount.minorUnits > order.amount.minorUnits {
                return "\(where_): refunded \(order.refundedAmount) > amount \(order.amount)"
            }
            if order.status == .succeeded {
                if order.refundedAmount != order.amount { return "\(where_): succeeded with \(order.refundedAmount) of \(order.amount)" }
                guard let paid = channel.paid[order.id], paid.transaction == order.channelTransactionID, paid.amount == order.refundedAmount else {
                    return "\(where_): succeeded with \(String(describing: order.channelTransactionID)) the channel never paid"
                }
                if order.lease != nil { return "\(where_): a succeeded refund keeps a lease" }
            } else {
                if order.refundedAmount.minorUnits != 0 { return "\(where_): \(order.status) with refunded \(order.refundedAmount)" }
                if order.channelTransactionID != nil { return "\(where_): \(order.status) with a channel transaction" }
            }
            if (order.status == .claimed) != (order.lease != nil) { return "\(where_): \(order.status) with lease \(String(describing: order.lease))" }
            if order.status == .retryScheduled && order.nextAttemptAt == nil { return "\(where_): retry without a time" }
            if order.status == .needsAttention && order.nextAttemptAt != nil { return "\(where_): attention with a retry time" }
            if let lease = order.lease, lease.expiresAt > clock, order.isClaimable(at: clock) {
                return "\(where_): claimable under a live lease"
            }
            // At most one worker holds an unexpired lease, and nobody took a lease still live for its holder.
            let live = workers.filter { worker in
                guard let token = worker.token, let lease = order.lease else { return false }
                return token == lease.token && lease.expiresAt > clock
            }
            if live.count > 1 { return "\(where_): \(live.count) workers hold a live lease" }
            for worker in workers where worker.holding {
                guard let expiry = worker.leaseExpiresAt, expiry > clock else { continue }
                if order.lease?.token != worker.token {
                    return "\(where_): \(worker.name)'s lease, live until \(expiry), was taken (\(String(describing: order.lease)))"
                }
            }
        }
        return nil
    }
}
