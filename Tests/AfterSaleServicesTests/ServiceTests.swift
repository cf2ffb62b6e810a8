import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

@Suite("The business services over the in-memory store")
struct ServiceTests {
    @Test("a refund-only application is created, claimed, paid, and the order shows it refunded")
    func refundOnlyStory() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating())
        let afterSale = try #require(created.afterSale)
        #expect(afterSale.status == .pendingRefund)

        let worker = Principal.system("pay-1")
        var claim = ClaimRefundsRequest()
        claim.maxRefunds = 4
        let leases = try await f.refunds.claimRefunds(claim, context: ServiceFixture.context(RefundBridge.claimRefunds.info, as: worker)).leases
        let lease = try #require(leases.first)
        #expect(leases.count == 1)

        var report = ReportRefundResultRequest()
        report.refundId = try #require(lease.refund).refundId
        report.leaseToken = lease.leaseToken
        report.outcome = .succeeded
        report.channelTransactionId = "ch-1"
        report.refundedAmount = try #require(lease.refund).amount
        let reported = try await f.refunds.reportRefundResult(report, context: ServiceFixture.context(RefundBridge.reportRefundResult.info, as: worker))
        #expect(reported.disposition == .applied)

        var state = GetOrderAfterSaleStateRequest()
        state.orderId = "o-1"
        let view = try await f.orders.getOrderAfterSaleState(state, context: ServiceFixture.context(OrderBridge.getOrderAfterSaleState.info,
                                                                                                   as: .system("orders")))
        #expect(view.state?.state == .refunded)
        #expect(view.state?.scope == .partial)
    }

    @Test("the same idempotency key replays the first case instead of making a second")
    func replay() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let first = try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "same"))
        let again = try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating(key: "same"))
        #expect(again.replayed)
        #expect(again.afterSale?.caseNumber == first.afterSale?.caseNumber)
        #expect(try await f.store.cases(ofOrder: "o-1").count == 1)
    }

    @Test("a call without an authenticated caller is UNAUTHENTICATED, whatever the handler")
    func noPrincipal() async throws {
        let f = ServiceFixture()
        do {
            _ = try await f.afterSale.getAfterSale(GetAfterSaleRequest(), context: ServiceFixture.context(AfterSaleService.getAfterSale.info, as: nil))
            Issue.record("answered without a caller")
        } catch {
            #expect((error as? RPCError)?.code == .unauthenticated)
        }
    }

    @Test("role gates come from the domain's operation table: a refused role is PERMISSION_DENIED naming the operation")
    func gates() async throws {
        let f = ServiceFixture()
        let buyer = StorageFixture.buyer
        let cases: [(String, () async throws -> Void)] = [
            ("claim refunds", { _ = try await f.refunds.claimRefunds(ClaimRefundsRequest(), context: ServiceFixture.context(RefundBridge.claimRefunds.info, as: buyer)) }),
            ("list refunds", { _ = try await f.refunds.listRefunds(ListRefundsRequest(), context: ServiceFixture.context(RefundBridge.listRefunds.info, as: buyer)) }),
            ("upsert orders", { _ = try await f.orders.upsertOrder(UpsertOrderRequest(), context: ServiceFixture.context(OrderBridge.upsertOrder.info, as: buyer)) }),
            ("read the event feed", { _ = try await f.afterSale.acknowledgeEvents(AcknowledgeEventsRequest(), context: ServiceFixture.context(AfterSaleService.acknowledgeEvents.info, as: buyer)) }),
        ]
        for (verb, call) in cases {
            do {
                try await call()
                Issue.record("\(verb) was allowed to a buyer")
            } catch {
                let rpc = error as? RPCError
                #expect(rpc?.code == .permissionDenied, "\(verb): \(error)")
                #expect(rpc?.message.contains("may not \(verb)") == true, "\(verb): \(rpc?.message ?? "")")
            }
        }
    }
}

@Suite("The identity interceptor")
struct IdentityInterceptorTests {
    static let interceptor = IdentityInterceptor(authenticators: [MetadataAuthenticator()], publicServices: ServiceHost.publicServices)

    static func intercepted(_ method: RPCMethodInfo, _ metadata: Metadata) throws(RPCError) -> ServerContext {
        var context = ServerContext(method: method, callID: 1, metadata: metadata, deadlineNanos: nil, peer: "test")
        try interceptor.intercept(&context)
        return context
    }

    @Test("a well-formed stated identity becomes the context's principal")
    func stated() throws {
        let context = try Self.intercepted(AfterSaleService.getAfterSale.info, ["x-caller-role": "merchant", "x-caller-id": "s-1"])
        #expect(try context.principal == Principal(role: .merchant, id: "s-1"))
    }

    @Test("missing, unknown or malformed identities are UNAUTHENTICATED with a message naming the key", arguments: [
        ([String: String](), "x-caller-role metadata is required"),
        (["x-caller-role": "buyer"], "x-caller-id metadata is required"),
        (["x-caller-role": "emperor", "x-caller-id": "x"], "x-caller-role metadata must be one of"),
        (["x-caller-role": "buyer", "x-caller-id": ""], "x-caller-id metadata is malformed"),
    ])
    func refused(_ pairs: [String: String], _ message: String) {
        var metadata = Metadata()
        for (key, value) in pairs { metadata[key] = value }
        do {
            _ = try Self.intercepted(AfterSaleService.getAfterSale.info, metadata)
            Issue.record("accepted \(pairs)")
        } catch {
            #expect(error.code == .unauthenticated)
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test("health and reflection need no identity")
    func publicServices() throws {
        let context = try Self.intercepted(Health.check.info, Metadata())
        #expect(context[PrincipalKey.self] == nil)
    }
}

@Suite("Errors the services map")
struct ErrorMappingTests {
    @Test("a storage failure is INTERNAL without the storage's own text")
    func storageFailureHidesDetail() {
        let error = RPCError(wrapping: RepositoryError.storageFailure("SQLITE_IOERR: disk I/O error at /secret/path"))
        #expect(error.code == .internal)
        #expect(!error.message.contains("SQLITE"))
        #expect(!error.message.contains("/secret/path"))
    }
}
