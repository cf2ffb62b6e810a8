import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCWire
import StoreBackends
import Synchronization
import Testing

// The server

/// A server hosting every service of aftersaled (OrderBridge and RefundBridge included) over a
/// fresh store of the run's backend (``TestBackend``), a client to it, and the consumers it started.
final class IntegrationFixture: @unchecked Sendable {
    let store: TestStore
    let policy: PolicyConfig
    private var opened: OpenedStore
    var repository: any AfterSaleRepository { opened.repository }
    private(set) var server: TestServer
    private(set) var client: RPCClient
    private let collectors = Mutex<[EventCollector]>([])
    private let extraClients = Mutex<[RPCClient]>([])

    /// Refund retries are fast in tests: 3 attempts, 50 ms doubling up to 400 ms, 2 s leases by default.
    init(maxAttempts: Int = 3, initialBackoffMs: Int64 = 50, maximumBackoffMs: Int64 = 400, defaultLeaseMs: Int64 = 2_000,
         advanceReturnOnDelivery: Bool = true) async throws {
        var policy = PolicyConfig.standard
        policy.refunds = RefundPolicy(maxAttempts: maxAttempts, initialBackoffMs: initialBackoffMs, maximumBackoffMs: maximumBackoffMs,
                                      defaultLeaseMs: defaultLeaseMs, maximumLeaseMs: 60_000)
        policy.tracking.advanceReturnOnDelivery = advanceReturnOnDelivery
        self.policy = policy
        store = try await TestStore.create("fixture")
        do {
            opened = try await store.open()
        } catch {
            await store.destroy()
            throw error
        }
        server = try await TestServer.start(router: ServiceHost(store: opened.repository, policy: policy,
                                                                authenticators: try TestTokens.authenticators(),
                                                                personalData: try store.personalData(opened.repository)).router)
        client = try server.client()
    }

    /// Runs `body` on a fresh fixture and always stops it (also when `body` throws).
    static func run(maxAttempts: Int = 3, initialBackoffMs: Int64 = 50, maximumBackoffMs: Int64 = 400, defaultLeaseMs: Int64 = 2_000,
                    advanceReturnOnDelivery: Bool = true, _ body: (IntegrationFixture) async throws -> Void) async throws {
        let f = try await IntegrationFixture(maxAttempts: maxAttempts, initialBackoffMs: initialBackoffMs, maximumBackoffMs: maximumBackoffMs,
                                       defaultLeaseMs: defaultLeaseMs, advanceReturnOnDelivery: advanceReturnOnDelivery)
        do {
            try await body(f)
        } catch {
            await f.stop()
            throw error
        }
        await f.stop()
    }

    /// Stops the server and closes the store, then opens both again on the same store.
    func restart() async throws {
        await stopCollectors()
        client.close()
        await server.shutdown()
        opened.close()
        opened = try await store.open()
        server = try await TestServer.start(router: ServiceHost(store: opened.repository, policy: policy,
                                                                authenticators: try TestTokens.authenticators(),
                                                                personalData: try store.personalData(opened.repository)).router)
        client = try server.client()
    }

    func stop() async {
        await stopCollectors()
        for c in extraClients.withLock({ $0 }) { c.close() }
        client.close()
        await server.shutdown()
        opened.close()
        await store.destroy()
    }

    private func stopCollectors() async {
        let all = collectors.withLock { c -> [EventCollector] in
            defer { c.removeAll() }
            return c
        }
        for c in all { await c.stop() }
    }

    /// Another connection, as another process would open one; closed by `stop()`.
    func newClient() throws -> RPCClient {
        let c = try server.client()
        extraClients.withLock { $0.append(c) }
        return c
    }

    var afterSale: AfterSaleServiceClient { client.afterSale }
    var orderBridge: OrderBridgeClient { client.orderBridge }
    var refundBridge: RefundBridgeClient { client.refundBridge }

    /// The order system sends a snapshot.
    @discardableResult
    func upsert(_ order: TestOrder) async throws -> UpsertOrderResponse {
        try await orderBridge.upsertOrder(try order.upsertRequest(), options: Callers.orderSystem)
    }

    /// The order's after-sale view, read by the order system.
    func orderState(_ orderID: String, as options: CallOptions = Callers.orderSystem) async throws -> AfterSaleProto.OrderAfterSaleView {
        var r = GetOrderAfterSaleStateRequest()
        r.orderId = orderID
        return try #require(try await orderBridge.getOrderAfterSaleState(r, options: options).state)
    }

    /// A case in full, read by the platform.
    func getCase(_ number: String) async throws -> AfterSaleProto.AfterSaleCase {
        var r = GetAfterSaleRequest()
        r.caseNumber = number
        return try #require(try await afterSale.getAfterSale(r, options: Callers.platform()).afterSale)
    }

    /// Gives agent `agent` (team `team-a`, as ``Callers/agent(_:team:)`` says) a ticket about each
    /// case, so the agent may see and act on them: an agent sees only the cases of their tickets.
    func assign(_ caseNumbers: [String], to agent: String) async throws {
        var upsert = UpsertAgentRequest()
        upsert.agentId = agent
        upsert.name = "Agent \(agent)"
        upsert.team = "team-a"
        upsert.capacity = 100
        if (try? await client.serviceDesk.getAgent({ var r = GetAgentRequest(); r.agentId = agent; return r }(), options: Callers.platform())) == nil {
            _ = try await client.serviceDesk.upsertAgent(upsert, options: Callers.platform())
        }
        for number in caseNumbers {
            var open = OpenTicketRequest()
            open.subject = "work case \(number)"
            open.caseNumber = number
            let ticket = try #require(try await client.serviceDesk.openTicket(open, options: Callers.platform()).ticket)
            var take = TakeTicketRequest()
            take.ticketId = ticket.ticketId
            _ = try await client.serviceDesk.takeTicket(take, options: Callers.agent(agent))
        }
    }

    /// A case's trace records, read by the platform.
    func trace(_ number: String) async throws -> [AfterSaleProto.TraceRecord] {
        var r = GetAfterSaleRequest()
        r.caseNumber = number
        r.includeTrace = true
        return try await afterSale.getAfterSale(r, options: Callers.platform()).traceRecords
    }

    /// The buyer applies; `key` defaults to a fresh idempotency key.
    func create(_ request: CreateAfterSaleRequest, buyer: String = "b-1", key: String? = nil) async throws -> AfterSaleProto.AfterSaleCase {
        let response = try await afterSale.createAfterSale(request, options: Callers.buyer(buyer, key: key ?? "k-\(UUID().uuidString)"))
        return try #require(response.afterSale)
    }

    /// Starts a live consumer on its own connection; stopped by `stop()`.
    func consumer(_ name: String, from: Int64? = 0, types: [AfterSaleProto.EventType] = []) throws -> EventCollector {
        let collector = EventCollector.start(try newClient().afterSale, consumer: name, from: from, types: types)
        collectors.withLock { $0.append(collector) }
        return collector
    }

    /// Everything committed so far (a subscription with stop_at_head).
    func feed(consumer: String = "auditor", from: Int64? = 0, types: [AfterSaleProto.EventType] = []) async throws -> [Event] {
        try await readFeed(afterSale, consumer: consumer, from: from, types: types)
    }

    /// The cursor of the last event committed (0 when the feed is empty).
    func head() async throws -> Int64 { try await feed(consumer: "head-probe").last?.cursor ?? 0 }

    /// Every refund order matching the filter, all pages (agent's view).
    func allRefunds(_ request: ListRefundsRequest = Requests.listRefunds(pageSize: 200)) async throws -> [AfterSaleProto.RefundOrder] {
        try await IntegrationTests.allRefunds(refundBridge, request)
    }
}
