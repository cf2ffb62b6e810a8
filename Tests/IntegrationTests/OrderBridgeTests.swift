import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCWire
import Testing

// Issue 4, section 4.8: the order bridge as the order system calls it. Snapshots carry the order
// system's version: newer ones apply, equal ones change nothing, older ones arriving late are
// acknowledged and ignored; malformed snapshots are refused naming the field and change nothing.

/// Applies `mutate` to a valid snapshot of `order` and wraps it in a request.
private func malformed(_ order: TestOrder, _ mutate: (inout AfterSaleProto.OrderSnapshot) -> Void) throws -> UpsertOrderRequest {
    var snapshot = try order.snapshot()
    mutate(&snapshot)
    var r = UpsertOrderRequest()
    r.order = snapshot
    return r
}

extension Integration {
    @Suite("OrderBridge: versions, validation, permissions and the order's after-sale view")
    struct OrderBridgeTests {
        @Test("versions: first and newer APPLIED, same UNCHANGED, older STALE_IGNORED without touching the stored snapshot")
        func versions() async throws {
            try await IntegrationFixture.run { f in
                var order = TestOrder(id: "o-ver", status: .paid, version: 1)
                let first = try await f.upsert(order)
                #expect(first.outcome == .applied)
                #expect(first.storedOrderVersion == 1)
                let same = try await f.upsert(order)
                #expect(same.outcome == .unchanged)
                #expect(same.storedOrderVersion == 1)

                // Version 3: the order shipped.
                order.version = 3
                order.status = .shipped
                let newer = try await f.upsert(order)
                #expect(newer.outcome == .applied)
                #expect(newer.storedOrderVersion == 3)

                // Version 2 (still "paid") arrives late: acknowledged, ignored.
                order.version = 2
                order.status = .paid
                let stale = try await f.upsert(order)
                #expect(stale.outcome == .staleIgnored)
                #expect(stale.storedOrderVersion == 3)
                let view = try await f.orderState("o-ver")
                #expect(view.orderVersion == 3)
                #expect(view.orderId == "o-ver")

                // The stored snapshot is still the shipped one: refund only (paid, not shipped) is refused,
                // return and refund (shipped) is accepted.
                let refundOnly = await rpcError {
                    try await f.afterSale.createAfterSale(Requests.create(order: "o-ver", kind: .refundOnly, reason: "no_longer_wanted",
                                                                          lines: [("l-1", 1)]),
                                                          options: Callers.buyer("b-1", key: "k-ver-ro"))
                }
                #expect(refundOnly?.code == .failedPrecondition, "\(String(describing: refundOnly))")
                let c = try await f.create(Requests.create(order: "o-ver", kind: .returnAndRefund, reason: "not_as_described",
                                                           lines: [("l-3", 1)]), key: "k-ver-rr")
                #expect(c.status == .pendingReview)

                // A newer snapshot while a case is open still applies, and the view follows it.
                order.version = 4
                order.status = .delivered
                let delivered = try await f.upsert(order)
                #expect(delivered.outcome == .applied)
                #expect(delivered.storedOrderVersion == 4)
                let after = try await f.orderState("o-ver")
                #expect(after.orderVersion == 4)
                #expect(after.state == .inProgress)
                #expect(after.openCaseNumbers == [c.caseNumber])
                // A stale one after that is ignored again.
                order.version = 1
                order.status = .paid
                #expect(try await f.upsert(order).outcome == .staleIgnored)
                #expect(try await f.orderState("o-ver").orderVersion == 4)
            }
        }

        @Test("malformed snapshots are INVALID_ARGUMENT naming the field, and change nothing")
        func malformedSnapshots() async throws {
            try await IntegrationFixture.run { f in
                let good = TestOrder(id: "o-bad", version: 5)
                #expect(try await f.upsert(good).outcome == .applied)
                let before = try await f.orderState("o-bad")

                var newer = good
                newer.version = 6
                let cases: [(String, UpsertOrderRequest)] = [
                    // Σ lines' paid + shipping ≠ total paid.
                    ("total_paid", try malformed(newer) { $0.totalPaid = Requests.money(($0.totalPaid?.amountMinor ?? 0) + 1) }),
                    // A line's paid amount ≠ unit price × quantity − allocated discount.
                    ("paid_amount", try malformed(newer) {
                        $0.lines[1].paidAmount = Requests.money(($0.lines[1].paidAmount?.amountMinor ?? 0) - 1)
                        $0.totalPaid = Requests.money(($0.totalPaid?.amountMinor ?? 0) - 1)
                    }),
                    ("quantity", try malformed(newer) { $0.lines[0].quantity = 0 }),
                    ("quantity", try malformed(newer) { $0.lines[2].quantity = -3 }),
                    ("currency", try malformed(newer) { $0.totalPaid?.currency = "cny" }),
                    ("unit_price", try malformed(newer) { $0.lines[0].unitPrice?.currency = "USD" }),  // mixed currencies
                    ("order_id", try malformed(newer) { $0.orderId = "" }),
                    ("status", try malformed(newer) { $0.status = .unspecified }),
                ]
                for (field, request) in cases {
                    let error = await rpcError { try await f.orderBridge.upsertOrder(request, options: Callers.orderSystem) }
                    #expect(error?.code == .invalidArgument, "\(field): \(String(describing: error))")
                    #expect(error?.message.contains(field) == true, "the message names \(field): \(error?.message ?? "-")")
                }
                // No order at all.
                let empty = await rpcError { try await f.orderBridge.upsertOrder(UpsertOrderRequest(), options: Callers.orderSystem) }
                #expect(empty?.code == .invalidArgument)
                #expect(empty?.message.contains("order") == true)

                // Nothing changed: same view, same version; a malformed first snapshot stored nothing.
                #expect(try await f.orderState("o-bad") == before)
                #expect(try await f.upsert(good).outcome == .unchanged)
                let neverStored = try malformed(TestOrder(id: "o-bad-new")) { $0.lines[0].quantity = 0 }
                let refused = await rpcError { try await f.orderBridge.upsertOrder(neverStored, options: Callers.orderSystem) }
                #expect(refused?.code == .invalidArgument)
                var get = GetOrderAfterSaleStateRequest()
                get.orderId = "o-bad-new"
                let missing = await rpcError { try await f.orderBridge.getOrderAfterSaleState(get, options: Callers.orderSystem) }
                #expect(missing?.code == .notFound)
            }
        }

        @Test("an unknown ISO 4217 currency code (\"XYZ\") is INVALID_ARGUMENT naming currency, and stores nothing")
        func unknownCurrency() async throws {
            try await IntegrationFixture.run { f in
                let request = try malformed(TestOrder(id: "o-xyz")) { s in
                    s.totalPaid?.currency = "XYZ"
                    s.shippingFee?.currency = "XYZ"
                    for i in s.lines.indices {
                        s.lines[i].unitPrice?.currency = "XYZ"
                        s.lines[i].allocatedDiscount?.currency = "XYZ"
                        s.lines[i].paidAmount?.currency = "XYZ"
                    }
                }
                let error = await rpcError { try await f.orderBridge.upsertOrder(request, options: Callers.orderSystem) }
                var get = GetOrderAfterSaleStateRequest()
                get.orderId = "o-xyz"
                let stored = await rpcError { try await f.orderBridge.getOrderAfterSaleState(get, options: Callers.orderSystem) }
                #expect(error?.code == .invalidArgument, "\(String(describing: error))")
                #expect(error?.message.contains("currency") == true, "\(error?.message ?? "-")")
                #expect(stored?.code == .notFound, "nothing stored: \(String(describing: stored))")
            }
        }

        @Test("permissions: only the system upserts; the order's buyer and shop, agents, platform and system read")
        func permissions() async throws {
            try await IntegrationFixture.run { f in
                let order = TestOrder(id: "o-perm", buyer: "b-perm", shop: "s-perm")
                let request = try order.upsertRequest()
                for options in [Callers.buyer("b-perm"), Callers.merchant("s-perm"), Callers.platform(), Callers.platform()] {
                    let refused = await rpcError { try await f.orderBridge.upsertOrder(request, options: options) }
                    #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
                }
                let anonymous = await rpcError { try await f.orderBridge.upsertOrder(request, options: Callers.anonymous) }
                #expect(anonymous?.code == .unauthenticated)
                // None of the refused calls stored anything.
                var get = GetOrderAfterSaleStateRequest()
                get.orderId = "o-perm"
                #expect(await rpcError { try await f.orderBridge.getOrderAfterSaleState(get, options: Callers.orderSystem) }?.code == .notFound)

                #expect(try await f.upsert(order).outcome == .applied)
                for options in [Callers.orderSystem, Callers.platform(), Callers.platform(), Callers.buyer("b-perm"), Callers.merchant("s-perm")] {
                    let view = try await f.orderState("o-perm", as: options)
                    #expect(view.orderId == "o-perm")
                }
                for options in [Callers.buyer("b-other"), Callers.merchant("s-other")] {
                    let refused = await rpcError { try await f.orderBridge.getOrderAfterSaleState(get, options: options) }
                    #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
                }
                #expect(await rpcError { try await f.orderBridge.getOrderAfterSaleState(get, options: Callers.anonymous) }?.code == .unauthenticated)
                get.orderId = "o-nowhere"
                #expect(await rpcError { try await f.orderBridge.getOrderAfterSaleState(get, options: Callers.orderSystem) }?.code == .notFound)

                // Cases need the order first.
                let unknown = await rpcError {
                    try await f.afterSale.createAfterSale(Requests.create(order: "o-never-upserted", kind: .returnAndRefund,
                                                                          reason: "no_reason_7_days", lines: [("l-3", 1)]),
                                                          options: Callers.buyer("b-1", key: "k-unknown-order"))
                }
                #expect(unknown?.code == .failedPrecondition)
            }
        }

        @Test("the view: NONE with every line available, then IN_PROGRESS with the open case's quantities held")
        func view() async throws {
            try await IntegrationFixture.run { f in
                let order = TestOrder(id: "o-view")
                let snapshot = try order.snapshot()
                try await f.upsert(order)
                let fresh = try await f.orderState("o-view")
                #expect(fresh.state == .none)
                #expect(fresh.mayComplete)
                #expect(fresh.openCaseNumbers.isEmpty)
                #expect((fresh.refundedTotal?.amountMinor ?? 0) == 0)
                #expect(fresh.lines.map(\.orderLineId) == ["l-1", "l-2", "l-3"])
                for (line, ordered) in zip(fresh.lines, snapshot.lines) {
                    #expect(line.sku == ordered.sku)
                    #expect(line.purchasedQuantity == ordered.quantity)
                    #expect(line.openQuantity == 0)
                    #expect(line.completedQuantity == 0)
                    #expect(line.availableQuantity == ordered.quantity)
                    #expect(line.paidAmount == ordered.paidAmount)
                    #expect((line.refundedAmount?.amountMinor ?? 0) == 0)
                    #expect(line.refundableAmount?.amountMinor == ordered.paidAmount?.amountMinor)
                }

                let c = try await f.create(Requests.create(order: "o-view", kind: .returnAndRefund, reason: "no_reason_7_days",
                                                           lines: [("l-2", 1), ("l-3", 2)]))
                let open = try await f.orderState("o-view")
                #expect(open.state == .inProgress)
                #expect(!open.mayComplete)
                #expect(open.openCaseNumbers == [c.caseNumber])
                let held = Dictionary(uniqueKeysWithValues: open.lines.map { ($0.orderLineId, $0) })
                #expect(held["l-1"]?.openQuantity == 0)
                #expect(held["l-1"]?.availableQuantity == 1)
                #expect(held["l-2"]?.openQuantity == 1)
                #expect(held["l-2"]?.availableQuantity == 1)
                #expect(held["l-3"]?.openQuantity == 2)
                #expect(held["l-3"]?.availableQuantity == 1)
                // What the open case would refund is held: the line's refundable amount drops below what was paid.
                for line in c.lines {
                    let state = try #require(held[line.orderLineId])
                    let paid = state.paidAmount?.amountMinor ?? 0
                    #expect((state.refundableAmount?.amountMinor ?? 0) <= paid - (line.refundAmount?.amountMinor ?? 0),
                            "line \(line.orderLineId): refundable \(state.refundableAmount?.amountMinor ?? -1)")
                }
                // Buyer and shop see the same view as the order system.
                #expect(try await f.orderState("o-view", as: Callers.buyer("b-1")) == open)
                #expect(try await f.orderState("o-view", as: Callers.merchant("s-1")) == open)
            }
        }
    }
}
