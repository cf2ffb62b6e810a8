import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// Agents see the refunds and orders of the cases of their tickets, and nothing else (issue 14 §2).
@Suite("Agents: refunds and order states of their tickets' cases only")
struct AgentScopeTests {
    static let agent = Principal.agent("a-1")

    static func code(_ body: () async throws -> Void) async -> StatusCode? {
        do { try await body(); return nil } catch { return (error as? RPCError)?.code }
    }

    @Test("without a ticket about the case an agent sees no refund and no order state; with one, both")
    func scoped() async throws {
        let f = ServiceFixture()
        try await f.store.saveOrder(StorageFixture.order(status: .paid))
        let created = try #require(try await f.afterSale.createAfterSale(ServiceFixture.refundOnly(), context: ServiceFixture.creating()).afterSale)

        var list = ListRefundsRequest()
        let listing = ServiceFixture.context(RefundBridge.listRefunds.info, as: Self.agent)
        #expect(try await f.refunds.listRefunds(list, context: listing).refunds.isEmpty, "no ticket, no refunds")
        list.caseNumber = created.caseNumber
        #expect(try await f.refunds.listRefunds(list, context: listing).refunds.isEmpty)
        var state = GetOrderAfterSaleStateRequest()
        state.orderId = created.orderId
        let asking = ServiceFixture.context(OrderBridge.getOrderAfterSaleState.info, as: Self.agent)
        #expect(await Self.code { _ = try await f.orders.getOrderAfterSaleState(state, context: asking) } == .notFound)
        let platform = try await f.refunds.listRefunds(list, context: ServiceFixture.context(RefundBridge.listRefunds.info, as: .platform("p-1")))
        #expect(platform.refunds.count == 1)

        // The buyer asks the desk about the case: the ticket is in the queue every agent sees.
        var ticket = OpenTicketRequest()
        ticket.subject = "where is my refund?"
        ticket.caseNumber = created.caseNumber
        _ = try await f.serviceDesk.openTicket(ticket, context: ServiceFixture.context(ServiceDesk.openTicket.info, as: StorageFixture.buyer))
        #expect(try await f.refunds.listRefunds(list, context: listing).refunds.map(\.caseNumber) == [created.caseNumber])
        #expect(try await f.refunds.listRefunds(ListRefundsRequest(), context: listing).refunds.map(\.caseNumber) == [created.caseNumber])
        #expect(try await f.orders.getOrderAfterSaleState(state, context: asking).state?.orderId == created.orderId)
    }
}
