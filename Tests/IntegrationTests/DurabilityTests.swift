import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import Glibc
import RPCWire
import ServiceKit
import Synchronization
import Testing

// Issue 3, section 4: the real `aftersaled` process is killed with SIGKILL in the middle of a stream
// of CreateAfterSale calls; restarted on the same data directory, it still has every case whose
// call returned OK, and idempotent retries neither lose nor duplicate any of them.

/// Call options for buyer `buyer`, with an idempotency key when given.
private func asBuyer(_ buyer: String, key: String? = nil, timeout: Duration = .seconds(3)) -> CallOptions {
    Callers.make("buyer", buyer, key: key, timeout: timeout)
}

/// A refund-only request for the single line of order `order`.
private func refundOnlyRequest(order: String) -> CreateAfterSaleRequest {
    var r = CreateAfterSaleRequest()
    r.orderId = order
    r.kind = .refundOnly
    r.reasonCode = "no_longer_wanted"
    r.buyerNote = "durability"
    var line = AfterSaleProto.RequestedLine()
    line.orderLineId = "l-1"
    line.quantity = 1
    r.lines = [line]
    return r
}

/// Order `i` ("o-dur-i") belongs to its own buyer ("b-dur-i"), so that listing a buyer's cases shows
/// exactly the cases of that order, i.e. of that order's one idempotency key ("k-dur-i").
private func orderID(_ i: Int) -> String { "o-dur-\(i)" }
private func buyerID(_ i: Int) -> String { "b-dur-\(i)" }
private func keyOf(_ i: Int) -> String { "k-dur-\(i)" }

/// Seeds `count` paid, not shipped orders (eligible for refund only) straight into the store, then closes it.
private func seedOrders(_ store: TestStore, count: Int) async throws {
    let opened = try await store.open()
    defer { opened.close() }
    let repository = opened.repository
    let now = SystemClock().now()
    for i in 0..<count {
        let drafts = [OrderSnapshot.LineDraft(id: "l-1", sku: "SKU-\(i)", title: "Thing \(i)", category: "accessories",
                                              unitPrice: .cny(1_990), quantity: 1)]
        let priced = try OrderSnapshot.price(drafts, discount: .cny(0), shippingFee: .cny(0))
        let order = OrderSnapshot(id: orderID(i), shop: AfterSaleDomain.ShopInfo(id: "s-dur", name: "Shop dur", contact: "400-000-0000"),
                                  buyerID: buyerID(i), status: .paid, lines: priced.lines, shippingFee: .cny(0),
                                  totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-dur-\(i)",
                                  timestamps: OrderTimestamps(created: now.adding(days: -1), paid: now.adding(days: -1)))
        _ = try await repository.saveOrder(order)
    }
}

/// An integer and a flag shared by concurrent tasks.
private final class Shared: Sendable {
    let counter = Atomic<Int>(0)
    let flag = Atomic<Bool>(false)
    /// Claims the next index.
    func claim() -> Int { counter.wrappingAdd(1, ordering: .relaxed).oldValue }
    var claimed: Int { counter.load(ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

extension Integration {
    @Suite("Durability: SIGKILL in the middle of acknowledged writes")
    struct DurabilityTests {
        @Test("aftersaled killed with SIGKILL mid-stream keeps every acknowledged create, and retries make no duplicate")
        func sigkillKeepsAcknowledgedWrites() async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("dur") { store in

                // Orders are seeded with the store closed again before the server opens it.
                let orderCount = 1_600
                try await seedOrders(store, count: orderCount)

                // First life: a stream of creates from 8 tasks, killed with SIGKILL while calls are in flight.
                let (first, firstPort) = try await ChildProcess.startDaemon(daemon, store: store)
                defer { if first.process.isRunning { first.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(firstPort)")
                defer { client.close() }
                let afterSale = client.afterSale

                let stream = Shared()                   // counter: the next order to claim; flag: set just before SIGKILL is sent
                let acknowledged = Collected<(Int, String)>()  // (order index, case number) of every OK call
                let attempted = Collected<Int>()        // every order a create was sent for
                let errorsBeforeKill = Collected<String>()
                let errorsAfterKill = Collected<String>()
                let clock = ContinuousClock()
                let start = clock.now
                let hardStop = start.advanced(by: .seconds(5))

                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            while !stream.isSet && clock.now < hardStop {
                                let i = stream.claim()
                                if i >= orderCount { break }
                                attempted.append(i)
                                do {
                                    let response = try await afterSale.createAfterSale(refundOnlyRequest(order: orderID(i)),
                                                                                       options: asBuyer(buyerID(i), key: keyOf(i)))
                                    acknowledged.append((i, response.afterSale?.caseNumber ?? ""))
                                } catch {
                                    let code = (error as? RPCError).map { "\($0.code)" } ?? "\(error)"
                                    if stream.isSet { errorsAfterKill.append(code) } else { errorsBeforeKill.append("\(i): \(error)") }
                                }
                            }
                        }
                    }
                    // The killer: after ~1 s of stream, or once three quarters of the orders are claimed
                    // (so that calls are certainly still in flight), whichever comes first.
                    group.addTask {
                        while clock.now - start < .seconds(1) && stream.claimed < orderCount * 3 / 4 && clock.now < hardStop {
                            try? await Task.sleep(for: .milliseconds(2))
                        }
                        stream.set()
                        first.signal(SIGKILL)
                    }
                }
                let streamed = clock.now - start
                let status = await first.waitForExit(timeout: .seconds(5))
                #expect(status != nil && first.exitedBySignal, "aftersaled was killed by the signal (status \(String(describing: status)))")
                #expect(status == SIGKILL, "terminated by SIGKILL, not by anything else: \(String(describing: status))")
                client.close()

                let acked = acknowledged.all
                let ackedByOrder = Dictionary(acked.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
                let attemptedOrders = Set(attempted.all)
                print("durability: \(acked.count) creates acknowledged of \(attemptedOrders.count) sent in \(streamed) before SIGKILL; "
                      + "\(errorsAfterKill.count) failed after the kill (\(Set(errorsAfterKill.all).sorted()))")
                #expect(acked.count > 0, "some creates were acknowledged before the kill")
                #expect(errorsBeforeKill.all.isEmpty, "no call failed before the kill: \(errorsBeforeKill.all.prefix(5))")
                #expect(acked.allSatisfy { $0.1.hasPrefix("AS") }, "every acknowledged create carried its case")
                #expect(ackedByOrder.count == acked.count, "one acknowledgement per order")
                #expect(Set(ackedByOrder.values).count == ackedByOrder.count, "distinct orders got distinct case numbers")

                // Second life on the same store.
                let (second, secondPort) = try await ChildProcess.startDaemon(daemon, store: store)
                defer { if second.process.isRunning { second.signal(SIGKILL) } }
                let client2 = try RPCClient(target: "127.0.0.1:\(secondPort)")
                defer { client2.close() }
                let afterSale2 = client2.afterSale

                let failures = Collected<String>()
                let replayedUnacknowledged = Collected<Int>()   // unacknowledged creates that had been stored anyway
                let createdUnacknowledged = Collected<Int>()    // unacknowledged creates that had not, created now
                let sorted = attemptedOrders.sorted()
                let cursor = Shared()
                let verifyStop = clock.now.advanced(by: .seconds(20))
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            while clock.now < verifyStop {
                                let n = cursor.claim()
                                if n >= sorted.count { break }
                                let i = sorted[n]
                                do {
                                    var number = ackedByOrder[i]
                                    if let number {
                                        // Every acknowledged case survived the kill, on the right order.
                                        var get = GetAfterSaleRequest()
                                        get.caseNumber = number
                                        let found = try await afterSale2.getAfterSale(get, options: asBuyer(buyerID(i)))
                                        if found.afterSale?.caseNumber != number || found.afterSale?.orderId != orderID(i) {
                                            failures.append("\(number): got \(found.afterSale?.caseNumber ?? "-") on \(found.afterSale?.orderId ?? "-"), wanted \(orderID(i))")
                                        }
                                    }
                                    // A retry with the same key returns the same case (acknowledged) or
                                    // the one case for that key (unacknowledged: stored before the kill, or created now).
                                    let retry = try await afterSale2.createAfterSale(refundOnlyRequest(order: orderID(i)),
                                                                                     options: asBuyer(buyerID(i), key: keyOf(i)))
                                    let retried = retry.afterSale?.caseNumber ?? ""
                                    if let acked = number {
                                        if retried != acked || !retry.replayed {
                                            failures.append("retry of \(keyOf(i)): \(retried) replayed=\(retry.replayed), wanted \(acked) replayed")
                                        }
                                    } else {
                                        (retry.replayed ? replayedUnacknowledged : createdUnacknowledged).append(i)
                                        number = retried
                                    }
                                    // Never two cases for one key: the buyer (one order, one key) has exactly one.
                                    var list = ListAfterSalesRequest()
                                    list.pageSize = 10
                                    let listed = try await afterSale2.listAfterSales(list, options: asBuyer(buyerID(i)))
                                    if listed.items.map(\.caseNumber) != [number ?? ""] || listed.items.first?.orderId != orderID(i) {
                                        failures.append("\(buyerID(i)) lists \(listed.items.map(\.caseNumber)), wanted exactly [\(number ?? "")]")
                                    }
                                } catch {
                                    failures.append("order \(orderID(i)): \(error)")
                                }
                            }
                        }
                    }
                }
                let checked = cursor.claimed
                print("durability: after restart, checked \(acked.count) acknowledged cases (\(failures.count) failures); of \(attemptedOrders.count - acked.count) unacknowledged, "
                      + "\(replayedUnacknowledged.count) had been stored and replayed, \(createdUnacknowledged.count) were created by the retry")
                #expect(checked >= sorted.count, "every attempted order was checked in time (\(checked) of \(sorted.count))")
                #expect(failures.all.isEmpty, "\(failures.count) failures: \(failures.all.prefix(10))")

                second.signal(SIGTERM)
                _ = await second.waitForExit(timeout: .seconds(5))
            }
        }
    }
}
