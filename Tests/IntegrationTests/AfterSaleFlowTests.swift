import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCServer
import ServiceKit
import RPCWire
import StoreBackends
import Testing

// The after-sale service end to end: the generated client stub against the real server, over a
// fresh store of the run's backend (TestBackend). Orders are seeded straight into the repository (the
// order bridge that fills it in production arrives with issue 4).

/// A server hosting AfterSaleService over a fresh store, and a client to it.
private final class AfterSaleFixture: @unchecked Sendable {
    let store: TestStore
    private var opened: OpenedStore
    private(set) var server: TestServer
    private(set) var client: RPCClient
    var repository: any AfterSaleRepository { opened.repository }

    init() async throws {
        store = try await TestStore.create("flow")
        do {
            opened = try await store.open()
        } catch {
            await store.destroy()
            throw error
        }
        server = try await TestServer.start(router: ServiceHost(store: opened.repository, authenticators: try TestTokens.authenticators(),
                                                                personalData: try store.personalData(opened.repository)).router)
        client = try server.client()
    }

    /// Stops the server and closes the store, then opens both again on the same store.
    func restart() async throws {
        client.close()
        await server.shutdown()
        opened.close()
        opened = try await store.open()
        server = try await TestServer.start(router: ServiceHost(store: opened.repository, authenticators: try TestTokens.authenticators(),
                                                                personalData: try store.personalData(opened.repository)).router)
        client = try server.client()
    }

    func stop() async {
        client.close()
        await server.shutdown()
        opened.close()
        await store.destroy()
    }

    var afterSale: AfterSaleServiceClient { client.afterSale }

    /// Seeds an order of three lines (a phone 1 × 2999.00, cases 2 × 49.90, socks 3 × 10.00; a 30.00
    /// coupon; shipping 10.00) placed by `buyer` at shop `shop`, delivered yesterday unless `status` says otherwise.
    func seedOrder(_ id: String, buyer: String = "b-1", shop: String = "s-1",
                   status: AfterSaleDomain.OrderStatus = .delivered) async throws {
        let drafts = [
            OrderSnapshot.LineDraft(id: "l-1", sku: "PHONE-1", title: "Phone", category: "phones", unitPrice: .cny(299_900), quantity: 1),
            OrderSnapshot.LineDraft(id: "l-2", sku: "CASE-1", title: "Phone case", category: "accessories", unitPrice: .cny(4_990), quantity: 2),
            OrderSnapshot.LineDraft(id: "l-3", sku: "SOCK-1", title: "Socks", category: "apparel", unitPrice: .cny(1_000), quantity: 3),
        ]
        let priced = try OrderSnapshot.price(drafts, discount: .cny(3_000), shippingFee: .cny(1_000))
        let now = SystemClock().now()
        var timestamps = OrderTimestamps(created: now.adding(days: -3), paid: now.adding(days: -3))
        if status == .shipped || status == .delivered { timestamps.shipped = now.adding(days: -2) }
        if status == .delivered { timestamps.delivered = now.adding(days: -1) }
        let order = OrderSnapshot(id: id, shop: AfterSaleDomain.ShopInfo(id: shop, name: "Shop \(shop)", contact: "400-000-0000"),
                                  buyerID: buyer, status: status, lines: priced.lines, shippingFee: .cny(1_000),
                                  totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-\(id)",
                                  timestamps: timestamps)
        try await repository.saveOrder(order)
    }
}

/// Call options carrying a caller's token (and an idempotency key when given).
private func caller(_ role: String, _ id: String, key: String? = nil) -> CallOptions { Callers.make(role, id, key: key) }

private let buyer = caller("buyer", "b-1")
private let merchant = caller("merchant", "s-1")

private func photo() -> AfterSaleProto.EvidenceRef {
    var e = AfterSaleProto.EvidenceRef()
    e.url = "https://img.example.com/evidence/1.jpg"
    e.contentType = "image/jpeg"
    e.sizeBytes = 120_000
    return e
}

private func createRequest(order: String, kind: AfterSaleProto.AfterSaleKind, reason: String,
                           lines: [(String, Int32)]) -> CreateAfterSaleRequest {
    var r = CreateAfterSaleRequest()
    r.orderId = order
    r.kind = kind
    r.reasonCode = reason
    r.buyerNote = "please"
    r.lines = lines.map { id, quantity in
        var l = AfterSaleProto.RequestedLine()
        l.orderLineId = id
        l.quantity = quantity
        return l
    }
    r.evidence = [photo()]
    return r
}

private func returnAddress() -> AfterSaleProto.Address {
    var a = AfterSaleProto.Address()
    a.contactName = "Returns desk"
    a.phone = "400-000-0000"
    a.street = "1 Warehouse Road"
    return a
}

private func approval(_ c: AfterSaleProto.AfterSaleCase, fee: Int64? = nil) -> ReviewAfterSaleRequest {
    var r = ReviewAfterSaleRequest()
    r.caseNumber = c.caseNumber
    r.expectedVersion = c.version
    r.decision = .approve
    if let fee {
        var money = AfterSaleProto.Money()
        money.amountMinor = fee
        money.currency = "CNY"
        r.serviceFee = money
    }
    r.returnAddress = returnAddress()
    return r
}

private func shipment(_ c: AfterSaleProto.AfterSaleCase) -> SubmitReturnShipmentRequest {
    var r = SubmitReturnShipmentRequest()
    r.caseNumber = c.caseNumber
    r.expectedVersion = c.version
    r.method = .selfShip
    r.carrier = "SF"
    r.trackingNumber = "SF1234567890"
    return r
}

private func receipt(_ c: AfterSaleProto.AfterSaleCase) -> ConfirmReturnReceivedRequest {
    var r = ConfirmReturnReceivedRequest()
    r.caseNumber = c.caseNumber
    r.expectedVersion = c.version
    r.condition = .intact
    r.note = "arrived fine"
    return r
}

private func replacement(_ c: AfterSaleProto.AfterSaleCase) -> ShipReplacementRequest {
    var r = ShipReplacementRequest()
    r.caseNumber = c.caseNumber
    r.expectedVersion = c.version
    r.carrier = "YTO"
    r.trackingNumber = "YT9876543210"
    return r
}

private func confirmation(_ c: AfterSaleProto.AfterSaleCase) -> ConfirmReplacementReceivedRequest {
    var r = ConfirmReplacementReceivedRequest()
    r.caseNumber = c.caseNumber
    r.expectedVersion = c.version
    return r
}

private func getRequest(_ number: String) -> GetAfterSaleRequest {
    var r = GetAfterSaleRequest()
    r.caseNumber = number
    return r
}

extension Integration {
    @Suite("AfterSaleService: the four flows, idempotency, concurrency, permissions and restarts")
    struct AfterSaleFlows {
        @Test("refund only: created straight into pending refund with its refund order")
        func refundOnly() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-ro", status: .paid)
                let created = try await f.afterSale.createAfterSale(
                    createRequest(order: "o-ro", kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                    options: caller("buyer", "b-1", key: "k-ro"))
                let c = try #require(created.afterSale)
                #expect(!created.replayed)
                #expect(c.caseNumber.hasPrefix("AS"))
                #expect(c.status == .pendingRefund)
                #expect(c.kind == .refundOnly)
                #expect(c.shop?.shopId == "s-1")
                #expect((c.computedAmount?.amountMinor ?? 0) > 0)
                #expect(c.approvedAmount == c.computedAmount)
                #expect(c.refund?.amount == c.computedAmount)
                #expect(c.refund?.trigger == .refundOnlyCreated)
                #expect(c.timeline.map(\.action) == [.create, .autoApprove])
                #expect(c.lines.first?.title == "Phone")
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("return and refund: approve with a fee, ship back, confirm receipt, pending refund")
        func returnAndRefund() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-rr")
                var c = try #require(try await f.afterSale.createAfterSale(
                    createRequest(order: "o-rr", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 2)]),
                    options: caller("buyer", "b-1", key: "k-rr")).afterSale)
                #expect(c.status == .pendingReview)
                #expect(c.version == 1)
                let computed = try #require(c.computedAmount).amountMinor

                c = try #require(try await f.afterSale.reviewAfterSale(approval(c, fee: 100), options: merchant).afterSale)
                #expect(c.status == .awaitingReturn)
                #expect(c.serviceFee?.amountMinor == 100)
                #expect(c.approvedAmount?.amountMinor == computed - 100)
                #expect(c.returnAddress?.street == "1 Warehouse Road")

                c = try #require(try await f.afterSale.submitReturnShipment(shipment(c), options: buyer).afterSale)
                #expect(c.status == .returnShipped)
                #expect(c.returnShipment?.trackingNumber == "SF1234567890")

                c = try #require(try await f.afterSale.confirmReturnReceived(receipt(c), options: merchant).afterSale)
                #expect(c.status == .pendingRefund)
                #expect(c.receivedCondition == .intact)
                #expect(c.refund?.amount?.amountMinor == computed - 100)
                #expect(c.refund?.trigger == .returnReceived)
                #expect(c.version == 4)
                #expect(c.timeline.map(\.action) == [.create, .approve, .submitReturnShipment, .confirmReturnReceived])
                #expect(c.timeline.map(\.actorRole) == [.buyer, .merchant, .buyer, .merchant])

                // A completed step cannot be taken again: FAILED_PRECONDITION naming action, case and status.
                let again = await rpcError { try await f.afterSale.submitReturnShipment(shipment(c), options: buyer) }
                #expect(again?.code == .failedPrecondition)
                #expect(again?.message.contains("cannot ship return: case \(c.caseNumber) is pending_refund") == true)
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("exchange: approve, ship back, receipt, replacement shipped, buyer confirms, completed")
        func exchange() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-ex")
                var c = try #require(try await f.afterSale.createAfterSale(
                    createRequest(order: "o-ex", kind: .exchange, reason: "size_does_not_fit", lines: [("l-3", 1)]),
                    options: caller("buyer", "b-1", key: "k-ex")).afterSale)
                #expect(c.status == .pendingReview)
                c = try #require(try await f.afterSale.reviewAfterSale(approval(c), options: merchant).afterSale)
                #expect(c.status == .awaitingReturn)
                c = try #require(try await f.afterSale.submitReturnShipment(shipment(c), options: buyer).afterSale)
                c = try #require(try await f.afterSale.confirmReturnReceived(receipt(c), options: merchant).afterSale)
                #expect(c.status == .awaitingExchange)
                #expect(c.refund == nil)
                c = try #require(try await f.afterSale.shipReplacement(replacement(c), options: merchant).afterSale)
                #expect(c.status == .exchanging)
                #expect(c.outboundShipment?.trackingNumber == "YT9876543210")
                c = try #require(try await f.afterSale.confirmReplacementReceived(confirmation(c), options: buyer).afterSale)
                #expect(c.status == .completed)
                #expect(c.finishedAtUnixMs > 0)
                #expect(c.version == 6)
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("repair: approve, ship back, receipt, repaired goods shipped, buyer confirms, completed")
        func repair() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-rp")
                var c = try #require(try await f.afterSale.createAfterSale(
                    createRequest(order: "o-rp", kind: .repair, reason: "quality_fault", lines: [("l-1", 1)]),
                    options: caller("buyer", "b-1", key: "k-rp")).afterSale)
                c = try #require(try await f.afterSale.reviewAfterSale(approval(c), options: merchant).afterSale)
                c = try #require(try await f.afterSale.submitReturnShipment(shipment(c), options: buyer).afterSale)
                c = try #require(try await f.afterSale.confirmReturnReceived(receipt(c), options: merchant).afterSale)
                #expect(c.status == .repairing)
                c = try #require(try await f.afterSale.shipReplacement(replacement(c), options: merchant).afterSale)
                #expect(c.status == .repairedShipped)
                c = try #require(try await f.afterSale.confirmReplacementReceived(confirmation(c), options: buyer).afterSale)
                #expect(c.status == .completed)
                #expect(c.computedAmount?.amountMinor == 0, "a repair refunds no money")
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("create is idempotent: a retry replays, 8 concurrent retries make one case, another request with the key is refused")
        func idempotentCreate() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-id")
                let request = createRequest(order: "o-id", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)])
                let first = try await f.afterSale.createAfterSale(request, options: caller("buyer", "b-1", key: "k-1"))
                let retry = try await f.afterSale.createAfterSale(request, options: caller("buyer", "b-1", key: "k-1"))
                #expect(!first.replayed)
                #expect(retry.replayed)
                #expect(retry.afterSale?.caseNumber == first.afterSale?.caseNumber)

                // Eight callers racing with one key: one case, everyone gets its number.
                let concurrent = createRequest(order: "o-id", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-2", 1)])
                let client = f.afterSale
                let numbers = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            try await client.createAfterSale(concurrent, options: caller("buyer", "b-1", key: "k-race")).afterSale?.caseNumber ?? ""
                        }
                    }
                    var all: [String] = []
                    for try await number in group { all.append(number) }
                    return all
                }
                #expect(numbers.count == 8)
                #expect(Set(numbers).count == 1)
                #expect(!numbers[0].isEmpty)
                #expect(try await f.repository.cases(ofOrder: "o-id").count == 2, "one case per key")

                // The same key with a different request.
                let other = createRequest(order: "o-id", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 2)])
                let reused = await rpcError { try await f.afterSale.createAfterSale(other, options: caller("buyer", "b-1", key: "k-1")) }
                #expect(reused?.code == .invalidArgument)
                #expect(reused?.message.contains("idempotency") == true)

                // No key at all.
                let keyless = await rpcError { try await f.afterSale.createAfterSale(request, options: buyer) }
                #expect(keyless?.code == .invalidArgument)
                #expect(keyless?.message == "idempotency-key metadata is required")
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("two merchants review one case with the same expected version: exactly one wins, the other is ABORTED")
        func conflictingReviews() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-cr")
                for round in 0..<3 {
                    let c = try #require(try await f.afterSale.createAfterSale(
                        createRequest(order: "o-cr", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                        options: caller("buyer", "b-1", key: "k-cr-\(round)")).afterSale)
                    var reject = ReviewAfterSaleRequest()
                    reject.caseNumber = c.caseNumber
                    reject.expectedVersion = c.version
                    reject.decision = .reject
                    reject.rejectionReason = "the goods were used"
                    let client = f.afterSale
                    async let approved = rpcError { try await client.reviewAfterSale(approval(c), options: caller("merchant", "s-1")) }
                    async let rejected = rpcError { try await client.reviewAfterSale(reject, options: caller("merchant", "s-1")) }
                    let outcomes = [await approved, await rejected]
                    #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
                    #expect(outcomes.compactMap { $0?.code } == [.aborted], "\(outcomes)")
                    let stored = try #require(try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: buyer).afterSale)
                    #expect(stored.version == 2)
                    #expect(stored.timeline.count == 2)
                    // A stale version afterwards is ABORTED too, and changes nothing.
                    let stale = await rpcError { try await client.reviewAfterSale(approval(c), options: merchant) }
                    #expect(stale?.code == .aborted)
                }
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("permissions: another buyer's case is PERMISSION_DENIED to act on and NOT_FOUND to read; missing identity is UNAUTHENTICATED")
        func permissionsAndIdentity() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-pm")
                let c = try #require(try await f.afterSale.createAfterSale(
                    createRequest(order: "o-pm", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: caller("buyer", "b-1", key: "k-pm")).afterSale)

                var withdraw = WithdrawAfterSaleRequest()
                withdraw.caseNumber = c.caseNumber
                let stranger = await rpcError { try await f.afterSale.withdrawAfterSale(withdraw, options: caller("buyer", "b-2")) }
                #expect(stranger?.code == .permissionDenied)
                #expect(stranger?.message.contains("b-2") == true)
                let otherShop = await rpcError { try await f.afterSale.reviewAfterSale(approval(c), options: caller("merchant", "s-2")) }
                #expect(otherShop?.code == .permissionDenied)
                let buyerReviews = await rpcError { try await f.afterSale.reviewAfterSale(approval(c), options: buyer) }
                #expect(buyerReviews?.code == .permissionDenied)
                let peek = await rpcError { try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: caller("buyer", "b-2")) }
                #expect(peek?.code == .notFound)

                // Identity: no token, a stated identity (not accepted without --insecure-dev-principals),
                // a token with an unknown role, a token with an empty subject.
                let none = await rpcError { try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: CallOptions(timeout: .seconds(5))) }
                #expect(none?.code == .unauthenticated)
                #expect(none?.message.contains("authorization") == true)
                let stated = await rpcError { try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: Callers.stated("agent", "a-1")) }
                #expect(stated?.code == .unauthenticated)
                #expect(stated?.message.contains("--insecure-dev-principals") == true, "\(stated?.message ?? "")")
                let badRole = await rpcError { try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: caller("emperor", "e-1")) }
                #expect(badRole?.code == .unauthenticated)
                let badID = await rpcError { try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: caller("buyer", "")) }
                #expect(badID?.code == .unauthenticated)

                // Validation names the field; unknown cases are NOT_FOUND.
                var bad = createRequest(order: "o-pm", kind: .unspecified, reason: "no_reason_7_days", lines: [("l-3", 1)])
                let noKind = await rpcError { try await f.afterSale.createAfterSale(bad, options: caller("buyer", "b-1", key: "k-bad")) }
                #expect(noKind?.code == .invalidArgument)
                #expect(noKind?.message.hasPrefix("kind") == true)
                bad = createRequest(order: "o-unknown", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)])
                let unknownOrder = await rpcError { try await f.afterSale.createAfterSale(bad, options: caller("buyer", "b-1", key: "k-unknown")) }
                #expect(unknownOrder?.code == .failedPrecondition)
                let missing = await rpcError { try await f.afterSale.getAfterSale(getRequest("AS20200101000001"), options: buyer) }
                #expect(missing?.code == .notFound)
                let garbage = await rpcError { try await f.afterSale.getAfterSale(getRequest("nope"), options: buyer) }
                #expect(garbage?.code == .invalidArgument)
                #expect(garbage?.message.hasPrefix("case_number") == true)

                // The buyer may withdraw their own case; a buyer may not force a refund, and once the
                // case is withdrawn (terminal) not even the platform may.
                var force = ForceRefundRequest()
                force.caseNumber = c.caseNumber
                force.ruling = "the goods never arrived"
                let buyerForcing = await rpcError { try await f.afterSale.forceRefund(force, options: buyer) }
                #expect(buyerForcing?.code == .permissionDenied)
                let withdrawn = try await f.afterSale.withdrawAfterSale(withdraw, options: buyer)
                #expect(withdrawn.afterSale?.status == .withdrawn)
                let tooLate = await rpcError { try await f.afterSale.forceRefund(force, options: caller("platform", "p-1")) }
                #expect(tooLate?.code == .failedPrecondition)
                #expect(tooLate?.message.contains("withdrawn") == true)
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("list, messages and the reason catalog: filters, pagination, back-office only edits")
        func listMessagesAndCatalog() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-ls")
                try await f.seedOrder("o-ls2", buyer: "b-2", shop: "s-2")
                var numbers: [String] = []
                for index in 0..<3 {
                    let c = try await f.afterSale.createAfterSale(
                        createRequest(order: "o-ls", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                        options: caller("buyer", "b-1", key: "k-ls-\(index)"))
                    numbers.append(c.afterSale?.caseNumber ?? "")
                }
                _ = try await f.afterSale.createAfterSale(
                    createRequest(order: "o-ls2", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: caller("buyer", "b-2", key: "k-ls-other"))

                // A buyer sees only their cases, newest first, a page at a time.
                var list = ListAfterSalesRequest()
                list.pageSize = 2
                let first = try await f.afterSale.listAfterSales(list, options: buyer)
                #expect(first.items.count == 2)
                #expect(!first.nextPageToken.isEmpty)
                list.pageToken = first.nextPageToken
                let second = try await f.afterSale.listAfterSales(list, options: buyer)
                #expect(second.items.count == 1)
                #expect(second.nextPageToken.isEmpty)
                #expect((first.items + second.items).map(\.caseNumber) == numbers.reversed())
                #expect(first.items.allSatisfy { $0.buyerId == "b-1" && $0.title == "Socks" && $0.quantity == 1 })

                // The back office sees everything; filters and search apply.
                var all = ListAfterSalesRequest()
                #expect(try await f.afterSale.listAfterSales(all, options: caller("platform", "p-1")).items.count == 4)
                all.shopId = "s-2"
                #expect(try await f.afterSale.listAfterSales(all, options: caller("platform", "p-1")).items.count == 1)
                all = ListAfterSalesRequest()
                all.search = numbers[1]
                #expect(try await f.afterSale.listAfterSales(all, options: caller("platform", "p-1")).items.map(\.caseNumber) == [numbers[1]])
                all = ListAfterSalesRequest()
                all.statuses = [.completed]
                #expect(try await f.afterSale.listAfterSales(all, options: caller("platform", "p-1")).items.isEmpty)
                #expect(try await f.afterSale.listAfterSales(ListAfterSalesRequest(), options: caller("merchant", "s-2")).items.count == 1)
                var badToken = ListAfterSalesRequest()
                badToken.pageToken = "not-a-token"
                let bad = await rpcError { try await f.afterSale.listAfterSales(badToken, options: buyer) }
                #expect(bad?.code == .invalidArgument)
                #expect(bad?.message.hasPrefix("page_token") == true)

                // The conversation.
                var message = AddMessageRequest()
                message.caseNumber = numbers[0]
                message.text = "when will you ship?"
                _ = try await f.afterSale.addMessage(message, options: buyer)
                message.text = "tomorrow"
                _ = try await f.afterSale.addMessage(message, options: merchant)
                var listMessages = ListMessagesRequest()
                listMessages.caseNumber = numbers[0]
                let conversation = try await f.afterSale.listMessages(listMessages, options: buyer)
                #expect(conversation.messages.map(\.text) == ["when will you ship?", "tomorrow"])
                #expect(conversation.messages.map(\.senderRole) == [.buyer, .merchant])
                let intruder = await rpcError { try await f.afterSale.addMessage(message, options: caller("buyer", "b-2")) }
                #expect(intruder?.code == .notFound)

                // The catalog: anyone reads it, only the back office edits it.
                var catalogRequest = GetReasonCatalogRequest()
                catalogRequest.kind = .exchange
                let catalog = try await f.afterSale.getReasonCatalog(catalogRequest, options: buyer)
                #expect(catalog.reasons.contains { $0.code == "size_does_not_fit" })
                #expect(catalog.reasons.allSatisfy { $0.kinds.contains(.exchange) && $0.active })
                var upsert = UpsertReasonRequest()
                var reason = AfterSaleProto.Reason()
                reason.code = "changed_mind_gift"
                reason.label = "Gift not wanted"
                reason.kinds = [.returnAndRefund]
                reason.basis = .other
                reason.active = true
                reason.sortOrder = 95
                upsert.reason = reason
                upsert.expectedVersion = 0
                let refused = await rpcError { try await f.afterSale.upsertReason(upsert, options: buyer) }
                #expect(refused?.code == .permissionDenied)
                let stored = try await f.afterSale.upsertReason(upsert, options: caller("agent", "a-1"))
                #expect(stored.reason?.version == 1)
                let duplicate = await rpcError { try await f.afterSale.upsertReason(upsert, options: caller("agent", "a-1")) }
                #expect(duplicate?.code == .aborted)
            } catch { await f.stop(); throw error }
            await f.stop()
        }

        @Test("restart on the same data directory: every case, version and timeline step is still there")
        func restartKeepsEverything() async throws {
            let f = try await AfterSaleFixture()
            do {
                try await f.seedOrder("o-rs")
                try await f.seedOrder("o-rs-paid", status: .paid)
                var c = try #require(try await f.afterSale.createAfterSale(
                    createRequest(order: "o-rs", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: caller("buyer", "b-1", key: "k-rs")).afterSale)
                c = try #require(try await f.afterSale.reviewAfterSale(approval(c, fee: 50), options: merchant).afterSale)
                let refundOnly = try #require(try await f.afterSale.createAfterSale(
                    createRequest(order: "o-rs-paid", kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                    options: caller("buyer", "b-1", key: "k-rs-2")).afterSale)

                try await f.restart()

                let found = try #require(try await f.afterSale.getAfterSale(getRequest(c.caseNumber), options: buyer).afterSale)
                #expect(found == c)
                let foundRefund = try #require(try await f.afterSale.getAfterSale(getRequest(refundOnly.caseNumber), options: merchant).afterSale)
                #expect(foundRefund == refundOnly)
                // The idempotency record survived too, and new numbers do not collide with old ones.
                let replay = try await f.afterSale.createAfterSale(
                    createRequest(order: "o-rs", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: caller("buyer", "b-1", key: "k-rs"))
                #expect(replay.replayed)
                #expect(replay.afterSale?.caseNumber == c.caseNumber)
                let fresh = try await f.afterSale.createAfterSale(
                    createRequest(order: "o-rs", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                    options: caller("buyer", "b-1", key: "k-rs-3"))
                #expect(fresh.afterSale?.caseNumber != c.caseNumber)
                #expect(fresh.afterSale?.caseNumber != refundOnly.caseNumber)
                // And it moves on from where it was.
                let shipped = try await f.afterSale.submitReturnShipment(shipment(found), options: buyer)
                #expect(shipped.afterSale?.status == .returnShipped)
                var trace = getRequest(c.caseNumber)
                trace.includeTrace = true
                let traced = try await f.afterSale.getAfterSale(trace, options: caller("platform", "p-1"))
                #expect(traced.traceRecords.map(\.action) == [.create, .approve, .submitReturnShipment])
            } catch { await f.stop(); throw error }
            await f.stop()
        }
    }
}
