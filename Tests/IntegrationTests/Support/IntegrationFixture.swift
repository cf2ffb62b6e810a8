import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleSQLite
import AfterSaleStorage
import Foundation
import RPCWire
import Synchronization
import Testing

// Shared support of the integration tests of issue 4 (order bridge, refund bridge, event feed,
// sagas): a server over a SQLite store in a temporary directory, caller identities, order
// snapshots sent through the order bridge, a fake payment channel with payment workers, and event
// consumers that subscribe to the feed. Everything goes through the generated client stubs, the
// way the other services of the platform call the after-sale service.

// MARK: - Callers

/// Call options carrying a caller's identity, as the other services send it.
enum Callers {
    static func make(_ role: String, _ id: String, key: String? = nil, timeout: Duration = .seconds(5)) -> CallOptions {
        var metadata: Metadata = [CallerMetadata.role: role, CallerMetadata.id: id]
        if let key { metadata.add(CallerMetadata.idempotencyKey, key) }
        return CallOptions(timeout: timeout, metadata: metadata)
    }

    static func buyer(_ id: String = "b-1", key: String? = nil) -> CallOptions { make("buyer", id, key: key) }
    static func merchant(_ id: String = "s-1") -> CallOptions { make("merchant", id) }
    static func agent(_ id: String = "agent-1") -> CallOptions { make("agent", id) }
    static func platform(_ id: String = "platform-1") -> CallOptions { make("platform", id) }
    static func system(_ id: String = "system-1", timeout: Duration = .seconds(5)) -> CallOptions { make("system", id, timeout: timeout) }
    /// No identity at all.
    static var anonymous: CallOptions { CallOptions(timeout: .seconds(5)) }
    /// The order system's identity.
    static var orderSystem: CallOptions { system("order-system") }
    /// The logistics system's identity.
    static var logistics: CallOptions { system("logistics") }
}

// MARK: - Request builders

/// Requests of the case lifecycle, built the way a client application builds them.
enum Requests {
    static func money(_ fen: Int64, _ currency: String = "CNY") -> AfterSaleProto.Money {
        var m = AfterSaleProto.Money()
        m.amountMinor = fen
        m.currency = currency
        return m
    }

    static func expected(_ version: Int64) -> Int64Value {
        var v = Int64Value()
        v.value = version
        return v
    }

    static func evidence() -> AfterSaleProto.EvidenceRef {
        var e = AfterSaleProto.EvidenceRef()
        e.url = "https://img.example.com/evidence/issue4.jpg"
        e.contentType = "image/jpeg"
        e.sizeBytes = 90_000
        return e
    }

    static func returnAddress() -> AfterSaleProto.Address {
        var a = AfterSaleProto.Address()
        a.contactName = "Returns desk"
        a.phone = "400-000-0000"
        a.province = "Zhejiang"
        a.city = "Hangzhou"
        a.street = "1 Warehouse Road"
        return a
    }

    static func buyerAddress() -> AfterSaleProto.Address {
        var a = AfterSaleProto.Address()
        a.contactName = "Li Lei"
        a.phone = "138****0000"
        a.province = "Shanghai"
        a.city = "Shanghai"
        a.street = "88 Garden Lane"
        return a
    }

    static func create(order: String, kind: AfterSaleProto.AfterSaleKind, reason: String,
                       lines: [(String, Int32)]) -> CreateAfterSaleRequest {
        var r = CreateAfterSaleRequest()
        r.orderId = order
        r.kind = kind
        r.reasonCode = reason
        r.buyerNote = "issue 4"
        r.lines = lines.map { id, quantity in
            var l = AfterSaleProto.RequestedLine()
            l.orderLineId = id
            l.quantity = quantity
            return l
        }
        if kind != .refundOnly { r.evidence = [evidence()] }
        return r
    }

    static func approve(_ c: AfterSaleProto.AfterSaleCase, fee: Int64? = nil) -> ReviewAfterSaleRequest {
        var r = ReviewAfterSaleRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.decision = .approve
        if let fee { r.serviceFee = money(fee) }
        if c.kind != .refundOnly { r.returnAddress = returnAddress() }
        r.note = "approved"
        return r
    }

    static func reject(_ c: AfterSaleProto.AfterSaleCase, reason: String) -> ReviewAfterSaleRequest {
        var r = ReviewAfterSaleRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.decision = .reject
        r.rejectionReason = reason
        return r
    }

    static func selfShip(_ c: AfterSaleProto.AfterSaleCase, carrier: String = "SF", tracking: String) -> SubmitReturnShipmentRequest {
        var r = SubmitReturnShipmentRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.method = .selfShip
        r.carrier = carrier
        r.trackingNumber = tracking
        return r
    }

    static func pickup(_ c: AfterSaleProto.AfterSaleCase, carrier: String = "SF", windowStart: Int64, windowEnd: Int64) -> SubmitReturnShipmentRequest {
        var r = SubmitReturnShipmentRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.method = .pickup
        r.carrier = carrier
        r.pickupAddress = buyerAddress()
        r.pickupWindowStartUnixMs = windowStart
        r.pickupWindowEndUnixMs = windowEnd
        return r
    }

    static func receive(_ c: AfterSaleProto.AfterSaleCase, condition: AfterSaleProto.GoodsCondition = .intact) -> ConfirmReturnReceivedRequest {
        var r = ConfirmReturnReceivedRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.condition = condition
        r.note = "received"
        return r
    }

    static func shipBack(_ c: AfterSaleProto.AfterSaleCase, carrier: String = "YTO", tracking: String) -> ShipReplacementRequest {
        var r = ShipReplacementRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.carrier = carrier
        r.trackingNumber = tracking
        return r
    }

    static func confirmReplacement(_ c: AfterSaleProto.AfterSaleCase) -> ConfirmReplacementReceivedRequest {
        var r = ConfirmReplacementReceivedRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        return r
    }

    static func withdraw(_ c: AfterSaleProto.AfterSaleCase, note: String) -> WithdrawAfterSaleRequest {
        var r = WithdrawAfterSaleRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.note = note
        return r
    }

    static func forceRefund(_ c: AfterSaleProto.AfterSaleCase, ruling: String, amount: Int64? = nil) -> ForceRefundRequest {
        var r = ForceRefundRequest()
        r.caseNumber = c.caseNumber
        r.expectedVersion = expected(c.version)
        r.ruling = ruling
        if let amount { r.amount = money(amount) }
        return r
    }

    static func tracking(case caseNumber: String = "", carrier: String, number: String,
                         _ status: AfterSaleProto.TrackingStatus, at: Int64, location: String = "Hangzhou") -> IngestTrackingEventRequest {
        var r = IngestTrackingEventRequest()
        r.caseNumber = caseNumber
        r.carrier = carrier
        r.trackingNumber = number
        r.status = status
        r.occurredAtUnixMs = at
        r.location = location
        r.detail = "carrier says \(status)"
        return r
    }

    static func listRefunds(statuses: [AfterSaleProto.RefundStatus] = [], caseNumber: String = "", shop: String = "",
                            basis: AfterSaleProto.RefundTimeBasis = .unspecified, from: Int64 = 0, to: Int64 = 0,
                            pageSize: Int32 = 0, token: String = "") -> ListRefundsRequest {
        var r = ListRefundsRequest()
        r.statuses = statuses
        r.caseNumber = caseNumber
        r.shopId = shop
        r.timeBasis = basis
        r.fromUnixMs = from
        r.toUnixMs = to
        r.pageSize = pageSize
        r.pageToken = token
        return r
    }
}

/// The refund order id the contract derives from a case number: "RF" + the case number's digits.
func expectedRefundID(_ caseNumber: String) -> String { "RF" + caseNumber.filter(\.isNumber) }

/// Now, in Unix milliseconds.
func nowUnixMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

// MARK: - Orders

/// An order as the order system would send it: priced with the domain's own largest-remainder
/// allocation, so that the snapshot is consistent (paid = unit price × quantity − allocated
/// discount; total paid = Σ paid + shipping).
struct TestOrder: Sendable {
    struct Line: Sendable {
        var id: String
        var sku: String
        var title: String
        var category: String
        var unitPriceFen: Int64
        var quantity: Int
    }

    var id: String
    var buyer = "b-1"
    var shop = "s-1"
    var status: AfterSaleProto.OrderStatus = .delivered
    var version: Int64 = 1
    var lines: [Line] = TestOrder.standardLines
    var discountFen: Int64 = 3_000
    var shippingFen: Int64 = 1_000
    var paymentChannel = "alipay"

    /// A phone 1 × 2999.00, cases 2 × 49.90, socks 3 × 10.00 (with a 30.00 coupon and 10.00 shipping).
    static let standardLines = [
        Line(id: "l-1", sku: "PHONE-1", title: "Phone", category: "phones", unitPriceFen: 299_900, quantity: 1),
        Line(id: "l-2", sku: "CASE-1", title: "Phone case", category: "accessories", unitPriceFen: 4_990, quantity: 2),
        Line(id: "l-3", sku: "SOCK-1", title: "Socks", category: "apparel", unitPriceFen: 1_000, quantity: 3),
    ]

    init(id: String, buyer: String = "b-1", shop: String = "s-1", status: AfterSaleProto.OrderStatus = .delivered, version: Int64 = 1) {
        self.id = id
        self.buyer = buyer
        self.shop = shop
        self.status = status
        self.version = version
    }

    /// A one-line order without discount or shipping: its whole-order refund is `priceFen`.
    static func single(_ id: String, buyer: String, shop: String = "s-1", priceFen: Int64 = 1_990,
                       status: AfterSaleProto.OrderStatus = .paid, channel: String = "alipay") -> TestOrder {
        var order = TestOrder(id: id, buyer: buyer, shop: shop, status: status)
        order.lines = [Line(id: "l-1", sku: "SKU-\(id)", title: "Thing \(id)", category: "accessories", unitPriceFen: priceFen, quantity: 1)]
        order.discountFen = 0
        order.shippingFen = 0
        order.paymentChannel = channel
        return order
    }

    /// The snapshot, as sent in UpsertOrder.
    func snapshot() throws -> AfterSaleProto.OrderSnapshot {
        let drafts = lines.map {
            AfterSaleDomain.OrderSnapshot.LineDraft(id: $0.id, sku: $0.sku, title: $0.title, category: $0.category,
                                                    unitPrice: .cny($0.unitPriceFen), quantity: $0.quantity)
        }
        let priced = try AfterSaleDomain.OrderSnapshot.price(drafts, discount: .cny(discountFen), shippingFee: .cny(shippingFen))
        var s = AfterSaleProto.OrderSnapshot()
        s.orderId = id
        s.orderVersion = version
        var shopInfo = AfterSaleProto.ShopInfo()
        shopInfo.shopId = shop
        shopInfo.name = "Shop \(shop)"
        shopInfo.contact = "400-000-0000"
        s.shop = shopInfo
        s.buyerId = buyer
        s.status = status
        s.lines = priced.lines.map { line in
            var l = AfterSaleProto.OrderLine()
            l.lineId = line.id
            l.sku = line.sku
            l.title = line.title
            l.spec = "standard"
            l.category = line.category
            l.unitPrice = Requests.money(line.unitPrice.minorUnits)
            l.quantity = Int32(line.quantity)
            l.allocatedDiscount = Requests.money(line.allocatedDiscount.minorUnits)
            l.paidAmount = Requests.money(line.paidAmount.minorUnits)
            return l
        }
        s.shippingFee = Requests.money(shippingFen)
        s.totalPaid = Requests.money(priced.totalPaid.minorUnits)
        s.paymentChannel = paymentChannel
        s.paymentTransactionId = "tx-\(id)"
        s.deliveryAddress = Requests.buyerAddress()
        let now = nowUnixMs()
        let day: Int64 = 86_400_000
        s.createdAtUnixMs = now - 3 * day
        if status != .created && status != .cancelled { s.paidAtUnixMs = now - 3 * day }
        if status == .shipped || status == .delivered || status == .completed { s.shippedAtUnixMs = now - 2 * day }
        if status == .delivered || status == .completed { s.deliveredAtUnixMs = now - day }
        if status == .completed { s.completedAtUnixMs = now - day / 2 }
        if status == .cancelled { s.cancelledAtUnixMs = now - 2 * day }
        return s
    }

    func upsertRequest() throws -> UpsertOrderRequest {
        var r = UpsertOrderRequest()
        r.order = try snapshot()
        return r
    }
}

// MARK: - The server

/// A server hosting every service of aftersaled (OrderBridge and RefundBridge included) over a
/// fresh SQLite store in a temporary directory, a client to it, and the consumers it started.
final class IntegrationFixture: @unchecked Sendable {
    let directory: String
    let policy: PolicyConfig
    private(set) var repository: SQLiteRepository
    private(set) var server: TestServer
    private(set) var client: RPCClient
    private let collectors = Mutex<[EventCollector]>([])
    private let extraClients = Mutex<[RPCClient]>([])

    /// Refund retries are fast in tests: 3 attempts, 50 ms doubling up to 400 ms, 2 s leases by default.
    init(maxAttempts: Int = 3, initialBackoffMs: Int64 = 50, maximumBackoffMs: Int64 = 400, defaultLeaseMs: Int64 = 2_000,
         advanceReturnOnDelivery: Bool = true) throws {
        var policy = PolicyConfig.standard
        policy.refunds = RefundPolicy(maxAttempts: maxAttempts, initialBackoffMs: initialBackoffMs, maximumBackoffMs: maximumBackoffMs,
                                      defaultLeaseMs: defaultLeaseMs, maximumLeaseMs: 60_000)
        policy.tracking.advanceReturnOnDelivery = advanceReturnOnDelivery
        self.policy = policy
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("aftersale-it4-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        repository = try SQLiteRepository.open(dataDirectory: directory)
        server = try TestServer.start(router: ServiceHost(store: repository, policy: policy).router)
        client = try server.client()
    }

    /// Runs `body` on a fresh fixture and always stops it (also when `body` throws).
    static func run(maxAttempts: Int = 3, initialBackoffMs: Int64 = 50, maximumBackoffMs: Int64 = 400, defaultLeaseMs: Int64 = 2_000,
                    advanceReturnOnDelivery: Bool = true, _ body: (IntegrationFixture) async throws -> Void) async throws {
        let f = try IntegrationFixture(maxAttempts: maxAttempts, initialBackoffMs: initialBackoffMs, maximumBackoffMs: maximumBackoffMs,
                                       defaultLeaseMs: defaultLeaseMs, advanceReturnOnDelivery: advanceReturnOnDelivery)
        do {
            try await body(f)
        } catch {
            await f.stop()
            throw error
        }
        await f.stop()
    }

    /// Stops the server and closes the store, then opens both again on the same data directory.
    func restart() async throws {
        await stopCollectors()
        client.close()
        await server.shutdown()
        repository.close()
        repository = try SQLiteRepository.open(dataDirectory: directory)
        server = try TestServer.start(router: ServiceHost(store: repository, policy: policy).router)
        client = try server.client()
    }

    func stop() async {
        await stopCollectors()
        for c in extraClients.withLock({ $0 }) { c.close() }
        client.close()
        await server.shutdown()
        repository.close()
        try? FileManager.default.removeItem(atPath: directory)
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

    /// A case in full, read by an agent.
    func getCase(_ number: String) async throws -> AfterSaleProto.AfterSaleCase {
        var r = GetAfterSaleRequest()
        r.caseNumber = number
        return try #require(try await afterSale.getAfterSale(r, options: Callers.agent()).afterSale)
    }

    /// A case's trace records, read by an agent.
    func trace(_ number: String) async throws -> [AfterSaleProto.TraceRecord] {
        var r = GetAfterSaleRequest()
        r.caseNumber = number
        r.includeTrace = true
        return try await afterSale.getAfterSale(r, options: Callers.agent()).traceRecords
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
        var all: [AfterSaleProto.RefundOrder] = []
        var r = request
        for _ in 0..<100 {
            let page = try await refundBridge.listRefunds(r, options: Callers.agent())
            all += page.refunds
            if page.nextPageToken.isEmpty { return all }
            r.pageToken = page.nextPageToken
        }
        Issue.record("ListRefunds did not finish paging within 100 pages")
        return all
    }
}

// MARK: - The event feed

func subscribeRequest(consumer: String, from: Int64?, types: [AfterSaleProto.EventType] = [], stopAtHead: Bool) -> SubscribeRequest {
    var r = SubscribeRequest()
    r.consumerName = consumer
    if let from { r.fromCursor = Requests.expected(from) }
    r.eventTypes = types
    r.stopAtHead = stopAtHead
    return r
}

/// Reads the feed with stop_at_head: every event committed so far after the start cursor; bounded in time and size.
func readFeed(_ afterSale: AfterSaleServiceClient, consumer: String, from: Int64? = 0, types: [AfterSaleProto.EventType] = [],
              options: CallOptions = Callers.system("feed-reader", timeout: .seconds(10)), limit: Int = 100_000) async throws -> [Event] {
    let request = subscribeRequest(consumer: consumer, from: from, types: types, stopAtHead: true)
    return try await withTimeout(.seconds(12), "stop_at_head read of \(consumer)") {
        var events: [Event] = []
        for try await event in afterSale.subscribe(request, options: options) {
            events.append(event)
            if events.count >= limit { break }
        }
        return events
    }
}

func acknowledge(_ afterSale: AfterSaleServiceClient, consumer: String, cursor: Int64,
                 options: CallOptions = Callers.system("feed-reader")) async throws -> Int64 {
    var r = AcknowledgeEventsRequest()
    r.consumerName = consumer
    r.cursor = cursor
    return try await afterSale.acknowledgeEvents(r, options: options).acknowledgedCursor
}

/// A live consumer: one open Subscribe (no stop_at_head) whose events it keeps, until stopped.
final class EventCollector: Sendable {
    let name: String
    private let received = Mutex<[Event]>([])
    private let outcome = Mutex<String?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    private init(name: String) { self.name = name }

    static func start(_ afterSale: AfterSaleServiceClient, consumer: String, from: Int64? = 0, types: [AfterSaleProto.EventType] = [],
                      timeout: Duration = .seconds(55)) -> EventCollector {
        let collector = EventCollector(name: consumer)
        let request = subscribeRequest(consumer: consumer, from: from, types: types, stopAtHead: false)
        let options = Callers.system("consumer-\(consumer)", timeout: timeout)
        let t = Task {
            do {
                for try await event in afterSale.subscribe(request, options: options) {
                    collector.received.withLock { $0.append(event) }
                }
                collector.outcome.withLock { $0 = "ended OK" }
            } catch {
                collector.outcome.withLock { $0 = "ended: \(error)" }
            }
        }
        collector.task.withLock { $0 = t }
        return collector
    }

    var events: [Event] { received.withLock { $0 } }
    /// How the stream ended; nil while it is open.
    var ended: String? { outcome.withLock { $0 } }

    /// Waits until `condition` holds on what was received; whether it did within `timeout`.
    func wait(timeout: Duration = .seconds(5), until condition: ([Event]) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition(events) }
    }

    /// Waits for an event of `type` on case `caseNumber` (any case when empty); the event, or nil after `timeout`.
    func waitFor(_ type: AfterSaleProto.EventType, case caseNumber: String = "", timeout: Duration = .seconds(5)) async -> Event? {
        let match: (Event) -> Bool = { $0.eventType == type && (caseNumber.isEmpty || $0.caseNumber == caseNumber) }
        _ = await wait(timeout: timeout) { $0.contains(where: match) }
        return events.first(where: match)
    }

    /// Cancels the subscription (as a consumer that goes away) and waits, bounded, for the reader to end.
    func stop() async {
        guard let t = task.withLock({ $0 }) else { return }
        t.cancel()
        _ = try? await withTimeout(.seconds(3), "consumer \(name) stop") { await t.value }
    }
}

/// The events of one case, in feed order.
func caseEvents(_ events: [Event], _ caseNumber: String) -> [Event] { events.filter { $0.caseNumber == caseNumber } }

/// The order-state changes of one order caused by cases, in feed order.
func orderStateEvents(_ events: [Event], order: String) -> [Event] {
    events.filter { $0.eventType == .orderAfterSaleStateChanged && $0.orderId == order && !$0.caseNumber.isEmpty }
}

// MARK: - Payments

struct ChannelUnavailable: Error, CustomStringConvertible {
    var description: String { "payment channel unavailable" }
}

struct ChannelAmountMismatch: Error, CustomStringConvertible {
    let refundID: String
    var description: String { "refund \(refundID) was asked for with another amount" }
}

/// One payout the channel made.
struct Payout: Sendable, Equatable {
    let transaction: String
    let amountMinor: Int64
}

/// A payment channel (like Alipay's refund API): idempotent on the refund id passed as its
/// out_refund_no, so it pays a refund id at most once and answers a repeat with the same
/// transaction id; it can be switched down (every call throws), and it counts everything.
actor FakeChannel {
    private var down = false
    private var payouts: [String: Payout] = [:]
    private var payoutCounts: [String: Int] = [:]
    private var requestCounts: [String: Int] = [:]
    private var sequence = 0

    func setDown(_ value: Bool) { down = value }

    func refund(refundID: String, amountMinor: Int64) throws -> String {
        requestCounts[refundID, default: 0] += 1
        if down { throw ChannelUnavailable() }
        if let existing = payouts[refundID] {
            guard existing.amountMinor == amountMinor else { throw ChannelAmountMismatch(refundID: refundID) }
            return existing.transaction
        }
        sequence += 1
        let transaction = "CH\(String(format: "%06d", sequence))-\(refundID)"
        payouts[refundID] = Payout(transaction: transaction, amountMinor: amountMinor)
        payoutCounts[refundID, default: 0] += 1
        return transaction
    }

    /// Every refund id paid, with its payout.
    var paid: [String: Payout] { payouts }
    /// How many times money actually left for each refund id (never more than one by construction of the key).
    var payoutsByRefund: [String: Int] { payoutCounts }
    /// How many times each refund id was asked for (including while down and repeats).
    func requests(_ refundID: String) -> Int { requestCounts[refundID] ?? 0 }
    var allRequests: [String: Int] { requestCounts }
}

/// A payment worker of the payment system: claims refund orders under a lease, pays them on the
/// channel with the refund id as the idempotency key and reports the result.
struct PaymentWorker: Sendable {
    let id: String
    let bridge: RefundBridgeClient
    let channel: FakeChannel

    var options: CallOptions { Callers.system(id) }

    func claim(max: Int32 = 16, leaseMs: Int64 = 0, channels: [String] = []) async throws -> [AfterSaleProto.RefundLease] {
        var r = ClaimRefundsRequest()
        r.maxRefunds = max
        r.leaseMs = leaseMs
        r.paymentChannels = channels
        return try await bridge.claimRefunds(r, options: options).leases
    }

    func successReport(_ lease: AfterSaleProto.RefundLease, transaction: String, amountMinor: Int64? = nil, token: String? = nil) -> ReportRefundResultRequest {
        var r = ReportRefundResultRequest()
        r.refundId = lease.refund?.refundId ?? ""
        r.leaseToken = token ?? lease.leaseToken
        r.outcome = .succeeded
        r.channelTransactionId = transaction
        r.refundedAmount = Requests.money(amountMinor ?? lease.refund?.amount?.amountMinor ?? 0, lease.refund?.amount?.currency ?? "CNY")
        r.refundedAtUnixMs = nowUnixMs()
        return r
    }

    func failureReport(_ lease: AfterSaleProto.RefundLease, permanent: Bool = false, token: String? = nil) -> ReportRefundResultRequest {
        var r = ReportRefundResultRequest()
        r.refundId = lease.refund?.refundId ?? ""
        r.leaseToken = token ?? lease.leaseToken
        r.outcome = .failed
        r.failureCode = permanent ? "ACCOUNT_CLOSED" : "SYSTEM_BUSY"
        r.failureReason = permanent ? "the buyer's account is closed" : "payment channel unavailable"
        r.permanentFailure = permanent
        return r
    }

    func report(_ request: ReportRefundResultRequest) async throws -> ReportRefundResultResponse {
        try await bridge.reportRefundResult(request, options: options)
    }

    /// Pays one leased refund on the channel and reports the outcome: success with the channel's
    /// transaction id, or a transient failure when the channel is down.
    func pay(_ lease: AfterSaleProto.RefundLease) async throws -> ReportRefundResultResponse {
        let refund = try #require(lease.refund)
        let amount = refund.amount?.amountMinor ?? 0
        do {
            let transaction = try await channel.refund(refundID: refund.refundId, amountMinor: amount)
            return try await report(successReport(lease, transaction: transaction))
        } catch is ChannelUnavailable {
            return try await report(failureReport(lease))
        }
    }

    /// Claims and pays until `finished()` says so, nothing is left to claim and `finished()` holds,
    /// or `deadline` passes; the reports that were applied. Bounded by `maxRounds` claims.
    func drain(until deadline: ContinuousClock.Instant, leaseMs: Int64 = 0, batch: Int32 = 8, maxRounds: Int = 2_000,
               finished: @Sendable () async throws -> Bool) async throws -> [ReportRefundResultResponse] {
        var applied: [ReportRefundResultResponse] = []
        let clock = ContinuousClock()
        for _ in 0..<maxRounds {
            if clock.now >= deadline { break }
            let leases = try await claim(max: batch, leaseMs: leaseMs)
            if leases.isEmpty {
                if try await finished() { break }
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            for lease in leases {
                let response = try await pay(lease)
                if response.disposition == .applied { applied.append(response) }
            }
        }
        return applied
    }
}
