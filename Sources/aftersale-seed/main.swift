import AfterSaleDomain
import AfterSalePostgres
import AfterSaleProto
import AfterSaleServices
import Foundation
import RPCServer
import RPCWire
import ServiceKit
import StoreBackends
import Synchronization
import SignedTokens

// aftersale-seed: fills a store (server stopped) with orders and after-sale cases for the
// benchmarks in docs/PERFORMANCE.md, on either backend:
//
//     aftersale-seed (--data-dir PATH | --database URL) --cases N [--orders M] [--buyers B] [--shops S]
//                    [--fresh-orders K] [--concurrency C] [--timer-wait DURATION]
//
// Cases are complete: each is created by AfterSaleService's own CreateAfterSale handler (the code a
// real call runs, in process), so it has what a real create writes: its timeline and trace record,
// its idempotency record (key `seed-<n>`), the events of the feed and, for refund-only cases, a
// pending refund order. A third of the return, exchange and repair cases is then approved by the
// merchant through ReviewAfterSale, so statuses vary as in a live store.
//
// Seeded orders: order `seed-o-<i>` (0 ≤ i < M, M rounded up to a multiple of 4) of buyer `b-<i % B>`
// in shop `s-<i % S>`, two lines of 1,000 units; paid and not shipped when i % 4 = 0 (refund only
// needs that), delivered otherwise. Case n belongs to order `seed-o-<n % M>`; its kind is the
// (n % 4)-th of refund only, return and refund, exchange, repair (so every case of an order has the
// order's kind); it asks for one unit of line l-1 (n even) or l-2.
// Cases are spread over D = N / 500,000 + 1 UTC days ending on 2026-01-01: case n is created on day
// 2026-01-01 − (n % D) days, and each day's numbers run from 000001 without a gap, so
// `aftersale-bench --scenario get --cases N` picks existing numbers (AS<yyyyMMdd><n / D + 1, 6 digits>).
// Fresh orders: K paid, unshipped orders `bench-order-<i>` of buyer `bench-buyer-<i>` in shop
// `bench-shop-<i % 50>`, one line `l-1` of 1,000 units (`aftersale-bench --scenario create`).
// Desk: N agents `bench-agent-<i>` (team t-<i % 10>, skills kind:return_and_refund and lang:zh,
// capacity ceil(M / N) + S, away) and M queued tickets `TKSEED<i>` requiring kind:return_and_refund
// (`aftersale-bench --scenario dispatch`).
// The last line is machine-readable: seeded cases=N orders=M fresh_orders=K days=D desk_agents=N desk_tickets=M seconds=T

enum SeedSettings {
    static let dataDir = Setting("--data-dir", env: "AFTERSALE_DATA_DIR", default: nil, value: "PATH", help: "seed SQLite here")
    static let database = Setting("--database", env: "AFTERSALE_DATABASE", default: nil, value: "URL",
                                  help: "seed this PostgreSQL database instead", redaction: .urlPassword)
    static let cases = Setting("--cases", env: "AFTERSALE_SEED_CASES", default: "0", value: "N", help: "cases to create")
    static let orders = Setting("--orders", env: "AFTERSALE_SEED_ORDERS", default: "100000", value: "M",
                                help: "orders the cases belong to")
    static let buyers = Setting("--buyers", env: "AFTERSALE_SEED_BUYERS", default: "50000", value: "B", help: "distinct buyers")
    static let shops = Setting("--shops", env: "AFTERSALE_SEED_SHOPS", default: "200", value: "S", help: "distinct shops")
    static let freshOrders = Setting("--fresh-orders", env: "AFTERSALE_SEED_FRESH_ORDERS", default: "0", value: "K",
                                     help: "paid orders for the create benchmark")
    static let concurrency = Setting("--concurrency", env: "AFTERSALE_SEED_CONCURRENCY", default: "32", value: "C",
                                     help: "creates in flight (each on orders of its own)")
    static let timerWait = Setting("--timer-wait", env: "AFTERSALE_SEED_TIMER_WAIT", default: nil, value: "DURATION",
                                   help: "every timer rule's wait for the seeded cases (default: the marketplace's; "
                                       + "3650d keeps their timers pending, for the timer benchmark)")
    static let deskAgents = Setting("--desk-agents", env: "AFTERSALE_SEED_DESK_AGENTS", default: "0", value: "N",
                                    help: "support agents `bench-agent-<i>` (team t-<i % 10>, away), for the dispatch benchmark")
    static let deskTickets = Setting("--desk-tickets", env: "AFTERSALE_SEED_DESK_TICKETS", default: "0", value: "M",
                                     help: "queued tickets `TKSEED<i>` (requiring kind:return_and_refund)")
    static let deskSpare = Setting("--desk-spare", env: "AFTERSALE_SEED_DESK_SPARE", default: "20", value: "S",
                                   help: "capacity per agent beyond its share of the seeded tickets")
    static let statisticsCases = Setting("--statistics-cases", env: "AFTERSALE_SEED_STATISTICS_CASES", default: "0", value: "N",
                                         help: "rollups of N synthetic cases (with tickets and ratings) over --statistics-days, "
                                             + "for the statistics benchmark; written through the recorder the projector uses")
    static let statisticsDays = Setting("--statistics-days", env: "AFTERSALE_SEED_STATISTICS_DAYS", default: "90", value: "D",
                                        help: "the days, ending today (UTC), the synthetic cases are spread over")
    static let masterKeyFile = Setting("--master-key-file", env: "AFTERSALE_MASTER_KEY_FILE", default: nil, value: "FILE",
                                       help: "the master key aftersaled will read (default: --data-dir/master.key, or ./data/master.key)")
    static let table = SettingsTable(program: "aftersale-seed",
                                     settings: [dataDir, database, masterKeyFile, statisticsCases, statisticsDays, cases, orders, buyers, shops, freshOrders, concurrency, timerWait,
                                                deskAgents, deskTickets, deskSpare])
}

struct SeedOptions: Sendable {
    var store: StoreBackend
    /// The master key file the server reads (what the seeded cases' personal data is sealed under).
    var masterKeyPath = "./data/master.key"
    var cases = 0
    var orders = 100_000
    var buyers = 50_000
    var shops = 200
    var freshOrders = 0
    var concurrency = 32
    /// The rules the seeded cases are decided by (their timers' waits among them).
    var policy = PolicyConfig.standard
    var deskAgents = 0
    var deskTickets = 0
    var deskSpare = 20
    var statisticsCases = 0
    var statisticsDays = 90
    var days: Int { cases / 500_000 + 1 }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("aftersale-seed: \(message)\n".utf8))
    exit(2)
}

func parse() -> SeedOptions {
    do {
        let s = SeedSettings.self
        let values = try s.table.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        let store: StoreBackend
        switch (values.string(s.dataDir), values.string(s.database)) {
        case (let directory?, nil): store = .sqlite(dataDirectory: directory)
        case (nil, let url?):
            store = .postgres(PostgresConfiguration(url, applicationName: "aftersale-seed"), PostgresRepository.Options(poolSize: 8))
        default: fail("give exactly one of --data-dir and --database")
        }
        var o = SeedOptions(store: store)
        o.masterKeyPath = values.string(s.masterKeyFile) ?? ((values.string(s.dataDir) ?? "./data") + "/master.key")
        o.cases = try values.int(s.cases, in: 0...9_000_000) ?? 0
        o.orders = try values.int(s.orders, in: 1...Int.max) ?? o.orders
        o.orders = (o.orders + 3) / 4 * 4
        o.buyers = try values.int(s.buyers, in: 1...Int.max) ?? o.buyers
        o.shops = try values.int(s.shops, in: 1...Int.max) ?? o.shops
        o.freshOrders = try values.int(s.freshOrders, in: 0...Int.max) ?? 0
        o.concurrency = try values.int(s.concurrency, in: 1...1_024) ?? o.concurrency
        o.deskAgents = try values.int(s.deskAgents, in: 0...100_000) ?? 0
        o.deskTickets = try values.int(s.deskTickets, in: 0...10_000_000) ?? 0
        o.deskSpare = try values.int(s.deskSpare, in: 0...1_000) ?? 20
        o.statisticsCases = try values.int(s.statisticsCases, in: 0...10_000_000) ?? 0
        o.statisticsDays = try values.int(s.statisticsDays, in: 1...366) ?? 90
        guard o.deskTickets == 0 || o.deskAgents > 0 else { fail("--desk-tickets needs --desk-agents") }
        if let wait = try values.duration(s.timerWait) {
            let ms = wait.components.seconds * 1_000 + wait.components.attoseconds / 1_000_000_000_000_000
            guard ms >= 1 else { fail("--timer-wait must be at least 1ms") }
            o.policy.timers = TimerPolicy(durations: Dictionary(uniqueKeysWithValues: TimerRule.allCases.map { ($0, ms) }),
                                          reminderLeadMs: 0)
        }
        // Each order takes at most 2,000 one-unit cases (two lines of 1,000).
        guard (o.cases + o.orders - 1) / o.orders <= 2_000 else { fail("--orders too small: at most 2,000 cases per order") }
        return o
    } catch {
        error.exit(program: "aftersale-seed")
    }
}

/// 2026-01-01T00:00:00Z: the last day seeded cases are created on.
let anchorDay = Timestamp(millisecondsSinceEpoch: 1_767_225_600_000)

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func log(_ text: String) {
    print(text)
    fflush(nil)
}

/// The instant each create sees: the start of the case's day plus a step per call, so cases of a
/// day are created in increasing instants. One per worker (a worker creates one case at a time).
final class SeedClock: WallClock {
    private let day = Atomic<Int64>(0)
    private let step = Atomic<Int64>(0)

    func set(day: Timestamp) { self.day.store(day.millisecondsSinceEpoch, ordering: .relaxed) }

    func now() -> Timestamp {
        let n = step.add(1, ordering: .relaxed).newValue
        return Timestamp(millisecondsSinceEpoch: day.load(ordering: .relaxed) + (n * 37) % 86_000_000)
    }
}

/// The seeded order `index`: two lines of 1,000 units, paid and not shipped when `index % 4 == 0`,
/// else delivered two days before the first seeded day.
func seededOrder(_ index: Int, _ o: SeedOptions) throws -> AfterSaleDomain.OrderSnapshot {
    let drafts = [
        AfterSaleDomain.OrderSnapshot.LineDraft(id: "l-1", sku: "SKU-\(index % 5_000)", title: "Item \(index % 5_000)", category: "phones",
                                unitPrice: .cny(1_000), quantity: 1_000),
        AfterSaleDomain.OrderSnapshot.LineDraft(id: "l-2", sku: "SOCK-1", title: "Socks", category: "apparel", unitPrice: .cny(500), quantity: 1_000),
    ]
    let priced = try AfterSaleDomain.OrderSnapshot.price(drafts, discount: .cny(100), shippingFee: .cny(800))
    let delivered = anchorDay.adding(days: -(o.days + 1))
    let paid = delivered.adding(days: -3)
    let shop = "s-\(index % o.shops)"
    let shipped = index % 4 != 0
    let timestamps = shipped
        ? AfterSaleDomain.OrderTimestamps(created: paid.adding(milliseconds: -60_000), paid: paid, shipped: paid.adding(days: 1),
                                          delivered: delivered)
        : AfterSaleDomain.OrderTimestamps(created: paid.adding(milliseconds: -60_000), paid: paid)
    return AfterSaleDomain.OrderSnapshot(id: "seed-o-\(index)", shop: AfterSaleDomain.ShopInfo(id: shop, name: "Shop \(shop)", contact: "400-000-0000"),
                         buyerID: "b-\(index % o.buyers)", status: shipped ? .delivered : .paid, lines: priced.lines, shippingFee: .cny(800),
                         totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-seed-\(index)",
                         deliveryAddress: AfterSaleDomain.Address(contactName: "B. Buyer", phone: "139****1111", street: "2 Home Street"),
                         timestamps: timestamps)
}

/// A fresh order for the create benchmark: paid, not shipped, one line of 1,000 units.
func freshOrder(_ index: Int, now: Timestamp) throws -> AfterSaleDomain.OrderSnapshot {
    let drafts = [AfterSaleDomain.OrderSnapshot.LineDraft(id: "l-1", sku: "BENCH-1", title: "Bench item", category: "accessories",
                                          unitPrice: .cny(100), quantity: 1_000)]
    let priced = try AfterSaleDomain.OrderSnapshot.price(drafts, discount: .cny(0), shippingFee: .cny(0))
    let shop = "bench-shop-\(index % 50)"
    return AfterSaleDomain.OrderSnapshot(id: "bench-order-\(index)", shop: AfterSaleDomain.ShopInfo(id: shop, name: "Bench shop", contact: "400-000-0000"),
                         buyerID: "bench-buyer-\(index)", status: .paid, lines: priced.lines, shippingFee: .cny(0),
                         totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-bench-\(index)",
                         timestamps: AfterSaleDomain.OrderTimestamps(created: now.adding(milliseconds: -60_000), paid: now))
}

let kinds: [(AfterSaleProto.AfterSaleKind, String)] = [
    (.refundOnly, "no_longer_wanted"), (.returnAndRefund, "no_reason_7_days"), (.exchange, "size_does_not_fit"),
    (.repair, "quality_fault"),
]

/// The CreateAfterSale request of case `n`.
func createRequest(_ n: Int, _ o: SeedOptions) -> CreateAfterSaleRequest {
    let (kind, reason) = kinds[n % kinds.count]
    var request = CreateAfterSaleRequest()
    request.orderId = "seed-o-\(n % o.orders)"
    request.kind = kind
    request.reasonCode = reason
    request.buyerNote = "seeded case \(n)"
    var line = RequestedLine()
    line.orderLineId = n % 2 == 0 ? "l-1" : "l-2"
    line.quantity = 1
    request.lines = [line]
    if kind != .refundOnly {
        var evidence = EvidenceRef()
        evidence.url = "https://img.example.com/evidence/seed-\(n % 1_000).jpg"
        evidence.contentType = "image/jpeg"
        evidence.sizeBytes = 90_000
        request.evidence = [evidence]
    }
    return request
}

/// The merchant's approval of a created return, exchange or repair case.
func approval(of afterSale: AfterSaleProto.AfterSaleCase) -> ReviewAfterSaleRequest {
    var request = ReviewAfterSaleRequest()
    request.caseNumber = afterSale.caseNumber
    request.expectedVersion = afterSale.version
    request.decision = .approve
    request.note = "approved"
    var address = AfterSaleProto.Address()
    address.contactName = "Returns desk"
    address.phone = "400-000-0000"
    address.city = "Hangzhou"
    address.street = "1 Warehouse Road"
    request.returnAddress = address
    return request
}

func context(_ method: RPCMethodInfo, as principal: Principal, key: String? = nil) -> ServerContext {
    var metadata = Metadata()
    if let key { metadata["idempotency-key"] = key }
    var context = ServerContext(method: method, callID: 1, metadata: metadata, deadlineNanos: nil, peer: "aftersale-seed")
    context[PrincipalKey.self] = principal
    return context
}

/// Saves `count` orders with 32 writes in flight.
func saveOrders(_ repository: any AfterSaleRepository, _ count: Int, label: String,
                _ make: @escaping @Sendable (Int) throws -> AfterSaleDomain.OrderSnapshot) async throws {
    let start = ContinuousClock.now
    let workers = 32
    let step = 50_000
    var done = 0
    while done < count {
        let upper = min(count, done + step)
        let base = done
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var i = base + w
                    while i < upper {
                        try await repository.saveOrder(try make(i))
                        i += workers
                    }
                }
            }
            try await group.waitForAll()
        }
        done = upper
        log("\(label): \(done)/\(count) in \(String(format: "%.1f", seconds(since: start))) s")
    }
}

/// Cases created so far (for the progress lines).
let createdCases = Atomic<Int>(0)

/// Creates every case through the service's handlers. Worker w takes the cases whose order index
/// is w modulo the worker count, so no two creates in flight touch one order (no create is decided
/// twice, and no case number is skipped).
func createCases(_ repository: any AfterSaleRepository, _ o: SeedOptions) async throws {
    let start = ContinuousClock.now
    let personalData = PersonalDataVault(masterKey: try MasterKey.loadOrCreate(file: o.masterKeyPath), keys: repository, clock: SystemClock())
    try await personalData.verifyMasterKey()
    let workers = min(o.concurrency, o.orders)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for w in 0..<workers {
            group.addTask {
                let clock = SeedClock()
                let service = AfterSaleServiceProvider(store: repository, personalData: personalData, clock: clock, policy: o.policy)
                for n in stride(from: 0, to: o.cases, by: 1) where (n % o.orders) % workers == w {
                    let orderIndex = n % o.orders
                    clock.set(day: anchorDay.adding(days: -(n % o.days)))
                    let buyer = Principal.buyer("b-\(orderIndex % o.buyers)")
                    let response = try await service.createAfterSale(
                        createRequest(n, o), context: context(AfterSaleService.createAfterSale.info, as: buyer, key: "seed-\(n)"))
                    if n % 4 != 0, n % 3 == 0, let afterSale = response.afterSale {
                        let merchant = Principal.merchant("m-\(orderIndex % o.shops)", shop: "s-\(orderIndex % o.shops)")
                        _ = try await service.reviewAfterSale(approval(of: afterSale),
                                                              context: context(AfterSaleService.reviewAfterSale.info, as: merchant))
                    }
                    let done = createdCases.add(1, ordering: .relaxed).newValue
                    if done % 50_000 == 0 || done == o.cases {
                        let elapsed = seconds(since: start)
                        log("cases: \(done)/\(o.cases) in \(String(format: "%.1f", elapsed)) s (\(Int(Double(done) / max(elapsed, 0.001)))/s)")
                    }
                }
            }
        }
        try await group.waitForAll()
    }
}

/// Support agents (away, so nothing is dispatched before the benchmark says so) and queued tickets.
func seedDesk(_ repository: any AfterSaleRepository, _ o: SeedOptions) async throws {
    guard o.deskAgents > 0 else { return }
    let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
    let capacity = (o.deskTickets + o.deskAgents - 1) / o.deskAgents + o.deskSpare
    for start in stride(from: 0, to: o.deskAgents, by: 500) {
        let agents = (start..<min(o.deskAgents, start + 500)).map { i in
            AgentWrite(agent: Agent(id: "bench-agent-\(i)", name: "Bench agent \(i)", team: "t-\(i % 10)",
                                    skills: ["kind:return_and_refund", "lang:zh"], capacity: max(1, capacity), presence: .away,
                                    presenceChangedAt: now, lastHeartbeatAt: now), expectedVersion: 0)
        }
        try await repository.commitDesk(DeskWrite(agents: agents))
    }
    let started = ContinuousClock.now
    for start in stride(from: 0, to: o.deskTickets, by: 500) {
        let tickets = try (start..<min(o.deskTickets, start + 500)).map { i in
            TicketWrite(ticket: try Ticket.open(Ticket.Opening(
                id: "TKSEED\(i)", origin: .inquiry, subject: "seeded question \(i)", text: "", requester: .buyer("b-\(i % 50_000)"),
                buyerID: "b-\(i % 50_000)", requirement: SkillRequirement(required: ["kind:return_and_refund"]),
                at: now.adding(milliseconds: Int64(i)))), expectedVersion: 0, wakeAt: nil)
        }
        try await repository.commitDesk(DeskWrite(tickets: tickets))
        if (start + 500) % 50_000 == 0 { log("tickets: \(start + 500)/\(o.deskTickets) in \(String(format: "%.1f", seconds(since: started))) s") }
    }
}

/// The rollups of `o.statisticsCases` synthetic cases spread evenly over the last
/// `o.statisticsDays` days: facts made up deterministically (200 shops, 4 kinds with 3 reasons
/// each, 20 categories, 10 teams; 80 % completed after 1–72 h and refunded, 10 % rejected, 5 %
/// withdrawn, 5 % closed by a timer; a ticket for one case in five, a rating for one completed
/// case in four), counted by ``StatisticsRecorder`` as the projector counts events, and stored a
/// day at a time under a projector name of their own (so the live projector's cursor is untouched).
func seedStatistics(_ repository: any AfterSaleRepository, _ o: SeedOptions) async throws {
    guard o.statisticsCases > 0 else { return }
    let started = ContinuousClock.now
    let kinds: [(AfterSaleDomain.AfterSaleKind, [String])] = [(.refundOnly, ["no_longer_wanted", "not_received", "wrong_item"]),
                                              (.returnAndRefund, ["no_reason_7_days", "quality", "not_as_described"]),
                                              (.exchange, ["size", "quality", "wrong_item"]), (.repair, ["broken", "quality", "warranty"])]
    let today = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)).millisecondsSinceEpoch / Timestamp.millisecondsPerDay
    let perDay = (o.statisticsCases + o.statisticsDays - 1) / o.statisticsDays
    // The seed's own projector name; its cursor stays where it is (the rollups come from no feed event).
    let cursor: Int64 = try await repository.consumerCursor("statistics-seed") ?? 0
    var seeded = 0
    for dayIndex in 0..<o.statisticsDays {
        var recorder = StatisticsRecorder(sla: .standard)
        let dayStart = (today - Int64(o.statisticsDays - 1 - dayIndex)) * Timestamp.millisecondsPerDay
        for k in 0..<min(perDay, o.statisticsCases - seeded) {
            let i = seeded + k
            let (kind, reasons) = kinds[i % 4]
            let d = StatisticsDimensions(shop: "s-\(i % 200)", kind: kind.rawValue, reason: reasons[(i / 4) % 3], category: "c-\(i % 20)")
            let applied = Timestamp(millisecondsSinceEpoch: dayStart + Int64((i * 7_919) % 43_200_000))
            recorder.caseApplied(d, at: applied)
            recorder.merchantWaitEnded(overdue: i % 10 == 0, at: applied.adding(milliseconds: 3_600_000), d)
            let finished = applied.adding(milliseconds: Int64(3_600_000 + (i * 104_729) % 255_600_000))
            switch i % 20 {
            case 0, 1: recorder.caseFinished(.rejected, createdAt: applied, at: finished, d)
            case 2: recorder.caseFinished(.withdrawn, createdAt: applied, at: finished, d)
            case 3:
                recorder.timerActed(.returnShipment, at: finished, d)
                recorder.caseFinished(.closed, createdAt: applied, at: finished, d)
            default:
                if kind == .refundOnly || kind == .returnAndRefund { recorder.refundPaid(.cny(Int64(1_000 + i % 50_000)), at: finished, d) }
                recorder.caseFinished(.completed, createdAt: applied, at: finished, d)
                if i % 4 == 0 { recorder.rated(stars: 1 + i % 5, ratedAt: finished.adding(milliseconds: 60_000), d) }
            }
            if i % 5 == 0 {
                let ticket = StatisticsDimensions(shop: d.shop, team: "t-\(i % 10)", kind: d.kind, reason: d.reason, category: d.category)
                recorder.ticketReceived(at: applied, ticket)
                recorder.ticketFirstReply(createdAt: applied, at: applied.adding(milliseconds: Int64(60_000 + i % 3_600_000)), ticket)
            }
        }
        seeded += min(perDay, o.statisticsCases - seeded)
        try await repository.projectStatistics(recorder.increments, projector: "statistics-seed", expectedCursor: cursor, cursor: cursor)
        if seeded >= o.statisticsCases { break }
    }
    log("statistics: rollups of \(seeded) cases over \(o.statisticsDays) days in \(String(format: "%.1f", seconds(since: started))) s")
}

let options = parse()
let startedAt = ContinuousClock.now
let opened: OpenedStore
do {
    opened = try await options.store.open()
} catch {
    fail("cannot open the \(options.store.name) store at \(options.store.location): \(error)")
}

do {
    let o = options
    let repository = opened.repository
    let ordersNeeded = min(o.orders, o.cases)
    try await saveOrders(repository, ordersNeeded, label: "orders") { try seededOrder($0, o) }
    try await createCases(repository, o)
    let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
    try await saveOrders(repository, o.freshOrders, label: "fresh orders") { try freshOrder($0, now: now) }
    try await seedDesk(repository, o)
    try await seedStatistics(repository, o)
    opened.close()
    log("seeded cases=\(o.cases) orders=\(ordersNeeded) fresh_orders=\(o.freshOrders) days=\(o.days) desk_agents=\(o.deskAgents) desk_tickets=\(o.deskTickets) "
        + "seconds=\(String(format: "%.1f", seconds(since: startedAt)))")
} catch {
    opened.close()
    fail("\(error)")
}
