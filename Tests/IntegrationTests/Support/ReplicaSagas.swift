import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCWire
import Synchronization
import Testing

/// Refund-only sagas that several concurrent clients run against replicas while a test disrupts
/// them (a replica killed, the database restarted), and the audit that follows.
///
/// - Buyer lanes take the next order, upsert it (OrderBridge) and create a refund-only case for it
///   with the order's own idempotency key, sending both again (same key) until they are
///   acknowledged or the load stops.
/// - Payment workers claim refunds, pay them on a ``FakeChannel`` (the refund id as the channel's
///   idempotency key) and report the payout.
/// - A consumer follows the feed, acknowledges every tenth event and subscribes again (resuming
///   after its saved cursor) when its stream ends.
///
/// Every failed call is recorded: none may fail while the test says nothing is disrupted, and none
/// may ever fail with anything but UNAVAILABLE.
final class ReplicaSagas: Sendable {
    struct Failure: Sendable, CustomStringConvertible {
        let what: String
        let code: StatusCode
        let message: String
        let disrupted: Bool
        var description: String { "\(what): \(code) \(message)\(disrupted ? "" : " (nothing was disrupted)")" }
    }

    let label: String
    /// Orders the buyers take at most.
    let maxOrders: Int
    let channel = FakeChannel()
    let consumerName: String

    private let nextOrder = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let disruption = Atomic<Bool>(false)
    private let buyerTasks = Mutex<[Task<Void, Never>]>([])
    private let backgroundTasks = Mutex<[Task<Void, Never>]>([])

    /// Every order a saga was started for.
    let attempted = Collected<Int>()
    /// Every create answered OK: the order, its case, and whether the test had a disruption going.
    let acknowledged = Collected<(order: Int, caseNumber: String, disrupted: Bool)>()
    /// Every payment report answered APPLIED: the refund id and the channel's transaction.
    let payments = Collected<(refundID: String, transaction: String)>()
    /// What the consumer received, redeliveries included.
    let consumed = Collected<Event>()
    /// The cursors the consumer's acknowledgements stored (answered OK), and every cursor it sent.
    let consumerAcks = Collected<Int64>()
    let consumerAckAttempts = Collected<Int64>()
    let failures = Collected<Failure>()

    init(_ label: String, maxOrders: Int) {
        self.label = label
        self.maxOrders = maxOrders
        consumerName = "\(label)-ledger"
    }

    func order(_ i: Int) -> String { "o-\(label)-\(i)" }
    func buyer(_ i: Int) -> String { "b-\(label)-\(i)" }
    func key(_ i: Int) -> String { "k-\(label)-\(i)" }
    func price(_ i: Int) -> Int64 { 1_000 + Int64(i) }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    var isDisrupted: Bool { disruption.load(ordering: .acquiring) }
    /// Orders taken so far.
    var started: Int { attempted.count }

    /// From now on calls may fail (UNAVAILABLE only); call it before disrupting anything.
    func disrupt() { disruption.store(true, ordering: .releasing) }
    /// From now on no call may fail again.
    func recovered() { disruption.store(false, ordering: .releasing) }

    /// The failures that break the rules: any while nothing was disrupted, and any but UNAVAILABLE.
    var unexpectedFailures: [Failure] { failures.all.filter { !$0.disrupted || $0.code != .unavailable } }

    private func record(_ what: String, _ error: any Error) {
        let e = RPCError(wrapping: error)
        failures.append(Failure(what: what, code: e.code, message: e.message, disrupted: isDisrupted))
    }

    // MARK: One saga's calls

    /// The order system sends order `i`.
    func upsert(_ i: Int, _ bridge: OrderBridgeClient, timeout: Duration = .seconds(5)) async throws -> UpsertOrderResponse {
        try await bridge.upsertOrder(try TestOrder.single(order(i), buyer: buyer(i), shop: "s-\(label)", priceFen: price(i)).upsertRequest(),
                                     options: Callers.system("order-system", timeout: timeout))
    }

    /// The buyer asks for order `i`'s money back, with the order's idempotency key.
    func create(_ i: Int, _ afterSale: AfterSaleServiceClient, timeout: Duration = .seconds(5)) async throws -> CreateAfterSaleResponse {
        try await afterSale.createAfterSale(Requests.create(order: order(i), kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                                            options: Callers.make("buyer", buyer(i), key: key(i), timeout: timeout))
    }

    /// Takes the next order for a saga (nil when every order was taken, or after ``stopTaking()``).
    func takeOrder() -> Int? {
        guard !closed.load(ordering: .acquiring) else { return nil }
        let i = nextOrder.wrappingAdd(1, ordering: .relaxed).oldValue
        guard i < maxOrders else { return nil }
        attempted.append(i)
        return i
    }

    /// Records an acknowledged create of order `i`.
    func noteAcknowledged(_ i: Int, _ response: CreateAfterSaleResponse) {
        acknowledged.append((i, response.afterSale?.caseNumber ?? "", isDisrupted))
    }

    // MARK: The load

    /// Starts `buyers` buyer lanes (pausing `pace` between sagas), `workers` payment workers and
    /// the consumer, spread over `clients` (each as another process would hold one).
    func start(_ clients: [RPCClient], buyers: Int, workers: Int, pace: Duration = .milliseconds(10)) {
        let lanes = (0..<buyers).map { b in Task { await self.buy(clients[b % clients.count], pace: pace) } }
        var background = (0..<workers).map { w in
            Task {
                let bridge = clients[(buyers + w) % clients.count].refundBridge
                await self.work(PaymentWorker(id: "\(self.label)-worker-\(w)", bridge: bridge, channel: self.channel))
            }
        }
        background.append(Task { await self.consume(clients[(buyers + workers) % clients.count].afterSale) })
        buyerTasks.withLock { $0 += lanes }
        backgroundTasks.withLock { $0 += background }
    }

    /// Waits until `condition` holds, polling every 10 ms; whether it did within `timeout`.
    func wait(timeout: Duration, until condition: @Sendable (ReplicaSagas) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition(self) }
    }

    /// From now on buyers start no new saga (they finish the one they are in).
    func stopTaking() { closed.store(true, ordering: .releasing) }

    /// Waits (bounded) for the buyer lanes to end (every order taken, or ``stopTaking()``), then
    /// stops everything and waits for the tasks to end.
    func finish(timeout: Duration = .seconds(10)) async {
        let lanes = buyerTasks.withLock { $0 }
        _ = try? await withTimeout(timeout, "\(label) buyers") { for lane in lanes { await lane.value } }
        stopping.store(true, ordering: .releasing)
        let all = buyerTasks.withLock { $0 } + backgroundTasks.withLock { $0 }
        for task in all { task.cancel() }
        _ = try? await withTimeout(.seconds(5), "\(label) load stop") { for task in all { await task.value } }
    }

    private func buy(_ client: RPCClient, pace: Duration) async {
        while !isStopping, let i = takeOrder() {
            var upserted = false
            while !isStopping {
                do {
                    if !upserted {
                        _ = try await upsert(i, client.orderBridge)
                        upserted = true
                    }
                    noteAcknowledged(i, try await create(i, client.afterSale))
                    break
                } catch {
                    if isStopping { return }
                    record(upserted ? "create \(key(i))" : "upsert \(order(i))", error)
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            try? await Task.sleep(for: pace)
        }
    }

    private func work(_ worker: PaymentWorker) async {
        while !isStopping {
            let leases: [AfterSaleProto.RefundLease]
            do {
                leases = try await worker.claim(max: 4, leaseMs: 1_000)
            } catch {
                if isStopping { return }
                record("\(worker.id) claim", error)
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            if leases.isEmpty { try? await Task.sleep(for: .milliseconds(10)) }
            for lease in leases {
                do {
                    let response = try await worker.pay(lease)
                    if response.disposition == .applied {
                        payments.append((response.refund?.refundId ?? "", response.refund?.channelTransactionId ?? ""))
                    }
                } catch {
                    if isStopping { return }
                    record("\(worker.id) report \(lease.refund?.refundId ?? "")", error)
                }
            }
        }
    }

    private func consume(_ afterSale: AfterSaleServiceClient) async {
        while !isStopping {
            let request = subscribeRequest(consumer: consumerName, from: nil, stopAtHead: false)
            do {
                for try await event in afterSale.subscribe(request, options: Callers.system(consumerName, timeout: .seconds(50))) {
                    consumed.append(event)
                    if consumed.count % 10 == 0 {
                        consumerAckAttempts.append(event.cursor)
                        consumerAcks.append(try await acknowledge(afterSale, consumer: consumerName, cursor: event.cursor,
                                                                  options: Callers.system(consumerName)))
                    }
                }
            } catch {
                if isStopping || Task.isCancelled { return }
                record("consumer", error)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: The audit

    /// After the disruption, through `client` (every replica that is up): each order a saga was
    /// started for is sent again (upsert, then the create with the same key: an acknowledged one
    /// must replay its case), the refunds left are paid, and then it checks that
    /// - every order has exactly one case, completed, whose one refund order was paid exactly once
    ///   (the channel counted one payout per refund id, and every APPLIED report kept its transaction);
    /// - each buyer lists exactly their case, each order shows REFUNDED;
    /// - the feed read from cursor 0 is gap-free (cursors 1…head) and holds each case's creation,
    ///   refund and completion events exactly once, and no event of another case;
    /// - the consumer received only events of that feed, and resumes exactly after its saved cursor.
    func audit(_ client: RPCClient, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let clock = ContinuousClock()
        let afterSale = client.afterSale
        let refundBridge = client.refundBridge
        let agent = Callers.platform()
        let orders = Set(attempted.all).sorted()
        let acked = acknowledged.all
        let ackedCase = Dictionary(acked.map { ($0.order, $0.caseNumber) }, uniquingKeysWith: { first, _ in first })
        #expect(acked.count == ackedCase.count, "one acknowledgement per order", sourceLocation: sourceLocation)
        #expect(!orders.isEmpty, sourceLocation: sourceLocation)

        // Every saga is sent again with its key: acknowledged creates replay, the others replay or create now.
        let problems = Collected<String>()
        let retried = Collected<(order: Int, caseNumber: String)>()
        try await inLanes(orders) { i in
            _ = try await self.upsert(i, client.orderBridge)
            let retry = try await self.create(i, afterSale)
            let number = retry.afterSale?.caseNumber ?? ""
            if let ackedNumber = ackedCase[i], !(retry.replayed && number == ackedNumber) {
                problems.append("\(self.key(i)): \(number) replayed=\(retry.replayed), acknowledged as \(ackedNumber)")
            }
            retried.append((i, number))
        }
        let cases = Dictionary(retried.all.map { ($0.order, $0.caseNumber) }, uniquingKeysWith: { first, _ in first })
        let numbers = Set(cases.values)
        #expect(numbers.count == orders.count && numbers.allSatisfy { $0.hasPrefix("AS") }, "one case per order, distinct",
                sourceLocation: sourceLocation)

        // The refunds left (leases of killed claims expire after a second) are paid.
        let worker = PaymentWorker(id: "\(label)-audit-worker", bridge: refundBridge, channel: channel)
        let unpaid = Requests.listRefunds(statuses: [.pending, .claimed, .retryScheduled, .needsAttention], pageSize: 1)
        _ = try await worker.drain(until: clock.now.advanced(by: .seconds(15)), leaseMs: 5_000, batch: 16) {
            try await refundBridge.listRefunds(unpaid, options: agent).refunds.isEmpty
        }

        // Each case: its order, completed, one refund order paid once; each buyer sees it alone; the order shows it.
        let paid = await channel.paid
        let payouts = await channel.payoutsByRefund
        try await inLanes(orders) { i in
            let number = cases[i] ?? ""
            var get = GetAfterSaleRequest()
            get.caseNumber = number
            guard let c = try await afterSale.getAfterSale(get, options: agent).afterSale else {
                problems.append("\(number): no case")
                return
            }
            if c.orderId != self.order(i) || c.status != .completed { problems.append("\(number): \(c.orderId) \(c.status)") }
            if let refund = c.refund {
                if refund.refundId != expectedRefundID(number) || refund.status != .succeeded || refund.amount?.amountMinor != self.price(i)
                    || refund.refundedAmount != refund.amount {
                    problems.append("\(number): refund \(refund.refundId) \(refund.status) \(refund.amount?.amountMinor ?? -1)")
                }
                if payouts[refund.refundId] != 1 || paid[refund.refundId]?.transaction != refund.channelTransactionId {
                    problems.append("\(refund.refundId): \(payouts[refund.refundId] ?? 0) payouts, channel "
                                    + "\(paid[refund.refundId]?.transaction ?? "-") vs \(refund.channelTransactionId)")
                }
            } else {
                problems.append("\(number): no refund order")
            }
            var list = ListAfterSalesRequest()
            list.pageSize = 10
            let mine = try await afterSale.listAfterSales(list, options: Callers.buyer(self.buyer(i))).items.map(\.caseNumber)
            if mine != [number] { problems.append("\(self.buyer(i)) lists \(mine), wanted [\(number)]") }
            var state = GetOrderAfterSaleStateRequest()
            state.orderId = self.order(i)
            let view = try await client.orderBridge.getOrderAfterSaleState(state, options: Callers.orderSystem).state
            if view?.state != .refunded || view?.openCaseNumbers.isEmpty != true {
                problems.append("\(self.order(i)): \(String(describing: view?.state)) open \(view?.openCaseNumbers ?? [])")
            }
        }
        #expect(problems.all.isEmpty, "\(problems.count) problems: \(problems.all.prefix(10))", sourceLocation: sourceLocation)

        // Refund orders: one per case, all paid, each exactly once; every APPLIED report kept its transaction.
        let refunds = try await allRefunds(refundBridge, Requests.listRefunds(pageSize: 200))
        let refundByID = Dictionary(refunds.map { ($0.refundId, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(refunds.count == orders.count && refundByID.count == refunds.count, "\(refunds.count) refund orders for \(orders.count) cases",
                sourceLocation: sourceLocation)
        #expect(Set(refunds.map(\.caseNumber)) == numbers, sourceLocation: sourceLocation)
        #expect(refunds.allSatisfy { $0.status == .succeeded }, sourceLocation: sourceLocation)
        #expect(Set(paid.keys) == Set(refundByID.keys), "the channel paid exactly the refund orders", sourceLocation: sourceLocation)
        let doubled = await channel.doublePayments()
        #expect(doubled.isEmpty, "\(doubled.prefix(10))", sourceLocation: sourceLocation)
        let lostPayments = payments.all.filter { refundByID[$0.refundID]?.channelTransactionId != $0.transaction }
        #expect(lostPayments.isEmpty, "acknowledged payment reports lost: \(lostPayments.prefix(5))", sourceLocation: sourceLocation)

        // The feed: gap-free from cursor 1, each case's events exactly once.
        let feed = try await readFeed(afterSale, consumer: "\(label)-audit")
        #expect(!feed.isEmpty && feed.map(\.cursor) == Array(stride(from: Int64(1), through: Int64(feed.count), by: 1)),
                "cursors 1...\(feed.count) without gaps; got \(feed.first?.cursor ?? -1)...\(feed.last?.cursor ?? -1)",
                sourceLocation: sourceLocation)
        #expect(Set(feed.map(\.eventId)).count == feed.count, "event ids are unique", sourceLocation: sourceLocation)
        let byCase = Dictionary(grouping: feed.filter { !$0.caseNumber.isEmpty }, by: \.caseNumber)
        #expect(Set(byCase.keys).isSubset(of: numbers), "no event of a case that does not exist", sourceLocation: sourceLocation)
        let feedProblems = eventsNotOnce(feed, cases: numbers.sorted(), types: [.caseCreated, .refundRequested, .refundSucceeded, .caseCompleted])
        #expect(feedProblems.isEmpty, "\(feedProblems.count) problems: \(feedProblems.prefix(10))", sourceLocation: sourceLocation)

        // The consumer: only committed events, unchanged; it resumes right after its saved cursor.
        let feedByID = Dictionary(feed.map { ($0.eventId, $0) }, uniquingKeysWith: { first, _ in first })
        let received = consumed.all
        #expect(received.allSatisfy { feedByID[$0.eventId] == $0 }, "the consumer received only events of the feed, as they are there",
                sourceLocation: sourceLocation)
        let stored = try await acknowledge(afterSale, consumer: consumerName, cursor: 0, options: Callers.system(consumerName))
        let ackedOK = consumerAcks.all.max() ?? 0
        let ackSent = consumerAckAttempts.all.max() ?? 0
        #expect(stored >= ackedOK && stored <= ackSent, "stored \(stored), acknowledged \(ackedOK), sent up to \(ackSent)",
                sourceLocation: sourceLocation)
        let resumed = try await readFeed(afterSale, consumer: consumerName, from: nil, options: Callers.system(consumerName, timeout: .seconds(10)))
        #expect(resumed.map(\.eventId) == feed.filter { $0.cursor > stored }.map(\.eventId), "resumed after \(stored)",
                sourceLocation: sourceLocation)
        #expect(Set(received.map(\.eventId)).union(resumed.map(\.eventId)) == Set(feedByID.keys), "every event reached the consumer",
                sourceLocation: sourceLocation)

        print("\(label): \(orders.count) sagas (\(acked.count) acknowledged during the load, \(acked.filter { $0.disrupted }.count) of them "
              + "while disrupted), \(payments.count) payments reported during the load, \(failures.count) failed calls "
              + "(\(Set(failures.all.map { "\($0.code)" }).sorted())), feed head \(feed.last?.cursor ?? 0), consumer received \(received.count)")
    }

    /// Runs `body` for every element of `items` on four concurrent lanes.
    private func inLanes(_ items: [Int], _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let cursor = LaneCursor()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while true {
                        let n = cursor.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if n >= items.count { return }
                        try await body(items[n])
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// The next item of ``ReplicaSagas``' lanes.
private final class LaneCursor: Sendable {
    let next = Atomic<Int>(0)
}
