import AfterSaleClient
import AfterSaleProto
import Foundation
import Glibc
import RPCWire
import Synchronization
import Testing

// Issue 4, section 4.9: the real aftersaled process is killed with SIGKILL while buyers create
// refund-only cases, payment workers pay them and a consumer follows the feed. Restarted on the
// same data directory, nothing acknowledged is lost and nothing is doubled: every acknowledged case
// exists once with its one refund order and its events once; the workers finish against the
// restarted server and every refund is paid exactly once.

private func sdOrder(_ i: Int) -> String { "o-sd-\(i)" }
private func sdBuyer(_ i: Int) -> String { "b-sd-\(i)" }
private func sdKey(_ i: Int) -> String { "k-sd-\(i)" }
private func sdPrice(_ i: Int) -> Int64 { 1_000 + Int64(i) }

/// A counter and a flag shared by the tasks of the test.
private final class SagaRun: Sendable {
    let next = Atomic<Int>(0)
    let killed = Atomic<Bool>(false)
    func claim() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
    var claimed: Int { next.load(ordering: .relaxed) }
    var isKilled: Bool { killed.load(ordering: .acquiring) }
    func kill() { killed.store(true, ordering: .releasing) }
}

extension Integration {
    @Suite("Saga durability: aftersaled SIGKILLed while cases are created, refunds paid and events consumed")
    struct SagaDurabilityTests {
        /// Fast refund retries, so the test's workers finish within seconds.
        static let fastRefunds = ["--refund-max-attempts", "5", "--refund-initial-backoff-ms", "50", "--refund-max-backoff-ms", "200"]

        @Test("SIGKILL mid-saga: no case, refund order or event lost or doubled; every refund paid exactly once after restart")
        func sigkillMidSaga() async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("sagadur") { store in
                let clock = ContinuousClock()

                // First life.
                let (first, firstPort) = try await ChildProcess.startDaemon(daemon, store: store, extraArguments: Self.fastRefunds)
                defer { if first.process.isRunning { first.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(firstPort)")
                defer { client.close() }
                let afterSale = client.afterSale
                let refundBridge = client.refundBridge

                // The order system upserts every order first (acknowledged before anything else happens).
                let orderCount = 240
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let bridge = client.orderBridge
                    for lane in 0..<8 {
                        group.addTask {
                            for i in stride(from: lane, to: orderCount, by: 8) {
                                let response = try await bridge.upsertOrder(
                                    try TestOrder.single(sdOrder(i), buyer: sdBuyer(i), shop: "s-sd", priceFen: sdPrice(i)).upsertRequest(),
                                    options: Callers.orderSystem)
                                #expect(response.outcome == .applied)
                            }
                        }
                    }
                    try await group.waitForAll()
                }

                let run = SagaRun()
                let channel = FakeChannel()
                let acknowledgedCreates = Collected<(Int, String)>()   // (order index, case number) of every OK create
                let attempted = Collected<Int>()
                let appliedReports = Collected<(String, String)>()     // (refund id, channel transaction) of every APPLIED report
                let consumed = Collected<Event>()                      // what the live consumer received
                let consumerAcks = Collected<Int64>()                  // its acknowledged cursors (answered OK)
                let ackAttempts = Collected<Int64>()                   // every cursor it sent an acknowledgement for
                let errorsBeforeKill = Collected<String>()
                let start = clock.now
                let hardStop = start.advanced(by: .seconds(6))

                await withTaskGroup(of: Void.self) { group in
                    // Buyers: six streams of refund-only creates, each with its idempotency key.
                    for _ in 0..<6 {
                        group.addTask {
                            while !run.isKilled && clock.now < hardStop {
                                let i = run.claim()
                                if i >= orderCount { break }
                                attempted.append(i)
                                do {
                                    let created = try await afterSale.createAfterSale(
                                        Requests.create(order: sdOrder(i), kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                                        options: Callers.buyer(sdBuyer(i), key: sdKey(i)))
                                    acknowledgedCreates.append((i, created.afterSale?.caseNumber ?? ""))
                                } catch {
                                    if !run.isKilled { errorsBeforeKill.append("create \(i): \(error)") }
                                }
                            }
                        }
                    }
                    // Payment: two workers claim, pay on the channel (refund id as the idempotency key) and report.
                    for w in 0..<2 {
                        group.addTask {
                            let worker = PaymentWorker(id: "sd-worker-\(w)", bridge: refundBridge, channel: channel)
                            while !run.isKilled && clock.now < hardStop {
                                do {
                                    let leases = try await worker.claim(max: 4, leaseMs: 800)
                                    if leases.isEmpty { try await Task.sleep(for: .milliseconds(5)); continue }
                                    for lease in leases {
                                        let response = try await worker.pay(lease)
                                        if response.disposition == .applied {
                                            appliedReports.append((response.refund?.refundId ?? "", response.refund?.channelTransactionId ?? ""))
                                        }
                                    }
                                } catch {
                                    if !run.isKilled { errorsBeforeKill.append("worker \(w): \(error)") }
                                    return
                                }
                            }
                        }
                    }
                    // A consumer follows the feed live and acknowledges every tenth event.
                    group.addTask {
                        let stream = afterSale.subscribe(subscribeRequest(consumer: "ledger", from: nil, stopAtHead: false),
                                                         options: Callers.system("ledger", timeout: .seconds(8)))
                        do {
                            for try await event in stream {
                                consumed.append(event)
                                if consumed.count % 10 == 0 {
                                    ackAttempts.append(event.cursor)
                                    consumerAcks.append(try await acknowledge(afterSale, consumer: "ledger", cursor: event.cursor,
                                                                              options: Callers.system("ledger")))
                                }
                                if run.isKilled || clock.now >= hardStop { break }
                            }
                        } catch {
                            if !run.isKilled { errorsBeforeKill.append("consumer: \(error)") }
                        }
                    }
                    // The killer: after 0.8 s of traffic, or once 60% of the orders are claimed.
                    group.addTask {
                        while clock.now - start < .milliseconds(800) && run.claimed < orderCount * 6 / 10 && clock.now < hardStop {
                            try? await Task.sleep(for: .milliseconds(2))
                        }
                        run.kill()
                        first.signal(SIGKILL)
                    }
                }
                let status = await first.waitForExit(timeout: .seconds(5))
                #expect(status == SIGKILL && first.exitedBySignal, "killed by SIGKILL: \(String(describing: status))")
                client.close()

                let acked = Dictionary(acknowledgedCreates.all, uniquingKeysWith: { a, _ in a })
                let attemptedOrders = Set(attempted.all).sorted()
                let paidBeforeKill = appliedReports.all
                let consumedBeforeKill = consumed.all
                let ackedCursor = consumerAcks.all.last ?? 0
                print("saga durability: \(acked.count) creates acknowledged of \(attemptedOrders.count) sent, \(paidBeforeKill.count) refunds reported paid, "
                      + "\(consumedBeforeKill.count) events consumed (acknowledged up to \(ackedCursor)) before SIGKILL")
                #expect(errorsBeforeKill.all.isEmpty, "\(errorsBeforeKill.all.prefix(5))")
                #expect(acked.count > 0 && acked.count == acknowledgedCreates.count, "one acknowledgement per order")
                #expect(acked.values.allSatisfy { $0.hasPrefix("AS") })
                #expect(paidBeforeKill.count > 0, "the workers paid something before the kill")
                #expect(consumedBeforeKill.count > 0)

                // Second life on the same store.
                let (second, secondPort) = try await ChildProcess.startDaemon(daemon, store: store, extraArguments: Self.fastRefunds)
                defer { if second.process.isRunning { second.signal(SIGKILL) } }
                let client2 = try RPCClient(target: "127.0.0.1:\(secondPort)")
                defer { client2.close() }
                let afterSale2 = client2.afterSale

                // The buyers retry every create they sent: acknowledged ones replay, the others replay or are created now.
                var caseOf: [Int: String] = [:]
                for i in attemptedOrders {
                    let retry = try await afterSale2.createAfterSale(
                        Requests.create(order: sdOrder(i), kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                        options: Callers.buyer(sdBuyer(i), key: sdKey(i)))
                    let number = retry.afterSale?.caseNumber ?? ""
                    if let ackedNumber = acked[i] {
                        #expect(retry.replayed && number == ackedNumber, "\(sdKey(i)): \(number) replayed=\(retry.replayed), wanted \(ackedNumber)")
                    }
                    caseOf[i] = number
                }
                #expect(Set(caseOf.values).count == attemptedOrders.count, "distinct orders, distinct cases")

                // The workers finish against the restarted server (leases from the first life expire after 800 ms).
                let worker = PaymentWorker(id: "sd-worker-after", bridge: client2.refundBridge, channel: channel)
                let unpaid = Requests.listRefunds(statuses: [.pending, .claimed, .retryScheduled, .needsAttention], pageSize: 1)
                let agent = Callers.platform()
                let bridge2 = client2.refundBridge
                _ = try await worker.drain(until: clock.now.advanced(by: .seconds(15)), leaseMs: 5_000, batch: 16) {
                    try await bridge2.listRefunds(unpaid, options: agent).refunds.isEmpty
                }

                // Cases: each attempted order has exactly one case, completed, with one refund order paid exactly once.
                let paid = await channel.paid
                let payouts = await channel.payoutsByRefund
                var failures: [String] = []
                for i in attemptedOrders {
                    let number = caseOf[i] ?? ""
                    var get = GetAfterSaleRequest()
                    get.caseNumber = number
                    let c = try #require(try await afterSale2.getAfterSale(get, options: agent).afterSale)
                    if c.orderId != sdOrder(i) { failures.append("\(number) is on \(c.orderId), wanted \(sdOrder(i))") }
                    if c.status != .completed { failures.append("\(number) is \(c.status)") }
                    guard let refund = c.refund else { failures.append("\(number) has no refund order"); continue }
                    if refund.refundId != expectedRefundID(number) { failures.append("\(number) has refund \(refund.refundId)") }
                    if refund.status != .succeeded || refund.amount?.amountMinor != sdPrice(i) || refund.refundedAmount != refund.amount {
                        failures.append("\(refund.refundId): \(refund.status) amount \(refund.amount?.amountMinor ?? -1) refunded \(refund.refundedAmount?.amountMinor ?? -1)")
                    }
                    if payouts[refund.refundId] != 1 || paid[refund.refundId]?.transaction != refund.channelTransactionId {
                        failures.append("\(refund.refundId): \(payouts[refund.refundId] ?? 0) payouts, channel \(paid[refund.refundId]?.transaction ?? "-") vs \(refund.channelTransactionId)")
                    }
                    var list = ListAfterSalesRequest()
                    list.pageSize = 10
                    let mine = try await afterSale2.listAfterSales(list, options: Callers.buyer(sdBuyer(i)))
                    if mine.items.map(\.caseNumber) != [number] { failures.append("\(sdBuyer(i)) has \(mine.items.map(\.caseNumber)), wanted [\(number)]") }
                }
                #expect(failures.isEmpty, "\(failures.count) failures: \(failures.prefix(10))")

                // Refund orders: one per case, nothing else; every payout belongs to one of them.
                var refunds: [AfterSaleProto.RefundOrder] = []
                var listing = Requests.listRefunds(pageSize: 500)
                for _ in 0..<20 {
                    let page = try await client2.refundBridge.listRefunds(listing, options: agent)
                    refunds += page.refunds
                    if page.nextPageToken.isEmpty { break }
                    listing.pageToken = page.nextPageToken
                }
                #expect(refunds.count == attemptedOrders.count)
                #expect(Set(refunds.map(\.refundId)).count == refunds.count)
                #expect(Set(refunds.map(\.caseNumber)) == Set(caseOf.values))
                #expect(refunds.allSatisfy { $0.status == .succeeded })
                #expect(Set(paid.keys) == Set(refunds.map(\.refundId)), "the channel paid exactly the refund orders")
                #expect(payouts.values.allSatisfy { $0 == 1 })
                // Every payment reported and acknowledged before the kill is still recorded, with its transaction.
                let byID = Dictionary(uniqueKeysWithValues: refunds.map { ($0.refundId, $0) })
                for (id, transaction) in paidBeforeKill {
                    #expect(byID[id]?.status == .succeeded && byID[id]?.channelTransactionId == transaction, "\(id) lost its acknowledged payment")
                }

                // The feed: no event lost or doubled.
                let feed = try await readFeed(afterSale2, consumer: "sd-audit", options: Callers.system("auditor", timeout: .seconds(10)))
                #expect(Set(feed.map(\.eventId)).count == feed.count, "event ids are unique")
                #expect(zip(feed, feed.dropFirst()).allSatisfy { $0.cursor < $1.cursor }, "cursors strictly increase")
                let knownCases = Set(caseOf.values)
                let caseEventsByCase = Dictionary(grouping: feed.filter { !$0.caseNumber.isEmpty }, by: \.caseNumber)
                #expect(Set(caseEventsByCase.keys).isSubset(of: knownCases), "no event of a case that does not exist")
                let feedFailures = eventsNotOnce(feed, cases: knownCases, types: [.caseCreated, .refundRequested, .refundSucceeded, .caseCompleted])
                #expect(feedFailures.isEmpty, "\(feedFailures.count) failures: \(feedFailures.prefix(10))")
                // What the consumer received before the kill had been committed: it is all still there, unchanged.
                let feedByID = Dictionary(uniqueKeysWithValues: feed.map { ($0.eventId, $0) })
                #expect(consumedBeforeKill.allSatisfy { feedByID[$0.eventId] == $0 }, "delivered events survived the kill as delivered")
                // The consumer resumes after its stored acknowledgement: at least the last one answered OK, at
                // most the last one sent (its answer may have been lost to the kill). No gap; only unacknowledged
                // events come again.
                let stored = try await acknowledge(afterSale2, consumer: "ledger", cursor: 0, options: Callers.system("ledger"))
                let lastSent = ackAttempts.all.last ?? 0
                #expect(stored >= ackedCursor && stored <= lastSent, "stored \(stored), acknowledged \(ackedCursor), last sent \(lastSent)")
                let resumed = try await readFeed(afterSale2, consumer: "ledger", from: nil, options: Callers.system("ledger", timeout: .seconds(10)))
                let expectedResume = feed.filter { $0.cursor > stored }.map(\.eventId)
                #expect(resumed.map(\.eventId) == expectedResume,
                        "resumed with \(resumed.count) events from \(resumed.first?.cursor ?? -1), wanted \(expectedResume.count) after \(stored)")
                let union = Set(consumedBeforeKill.map(\.eventId)).union(resumed.map(\.eventId))
                #expect(union == Set(feed.map(\.eventId)), "processed \(union.count) distinct events of \(feed.count)")
                let seen = Set(consumedBeforeKill.map(\.eventId))
                let redelivered = resumed.filter { seen.contains($0.eventId) }.count
                #expect(redelivered == consumedBeforeKill.filter { $0.cursor > stored }.count, "only what was not acknowledged comes again")
                #expect(redelivered < 20, "at most the events since the last acknowledgements: \(redelivered)")

                second.signal(SIGTERM)
                _ = await second.waitForExit(timeout: .seconds(5))
            }
        }
    }
}
