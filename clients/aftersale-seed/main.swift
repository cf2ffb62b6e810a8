import AfterSaleDomain
import AfterSaleSQLite
import Foundation

// aftersale-seed: fills a data directory (server stopped) with orders and after-sale cases for the
// benchmarks in docs/PERFORMANCE.md.
//
//     aftersale-seed --data-dir PATH --cases N [--orders M] [--buyers B] [--shops S] [--fresh-orders K]
//
// Seeded cases: case n (0 ≤ n < N) belongs to order `seed-o-<n % M>`, whose buyer is
// `b-<(n % M) % B>` and shop `s-<(n % M) % S>`; its kind is the (n % 4)-th and its status the
// (n % 13)-th of the domain's lists. Cases are spread over D = N / 500,000 + 1 UTC days ending on
// 2026-01-01: case n is numbered `AS<yyyyMMdd of 2026-01-01 − (n % D) days><n / D + 1, 6 digits>`,
// the formula `aftersale-bench --scenario get` uses to pick existing numbers.
// Fresh orders: K paid, unshipped orders `bench-order-<i>` of buyer `bench-buyer-<i>` in shop
// `bench-shop-<i % 50>`, one line `l-1` of quantity 1,000: each takes up to 1,000 refund-only cases of
// quantity 1 (`aftersale-bench --scenario create`).
// The last line is machine-readable: seeded cases=N orders=M fresh_orders=K seconds=T

struct SeedOptions {
    var dataDirectory = ""
    var cases = 0
    var orders = 100_000
    var buyers = 50_000
    var shops = 200
    var freshOrders = 0
    var chunk = 2_000
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("aftersale-seed: \(message)\n".utf8))
    exit(2)
}

let usage = "usage: aftersale-seed --data-dir PATH --cases N [--orders M] [--buyers B] [--shops S] [--fresh-orders K] [--chunk C]"

func parse() -> SeedOptions {
    var o = SeedOptions()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        if a == "--help" || a == "-h" { print(usage); exit(0) }
        guard let v = args.popFirst() else { fail("\(a) needs a value") }
        switch a {
        case "--data-dir": o.dataDirectory = v
        case "--cases": o.cases = Int(v) ?? -1
        case "--orders": o.orders = Int(v) ?? -1
        case "--buyers": o.buyers = Int(v) ?? -1
        case "--shops": o.shops = Int(v) ?? -1
        case "--fresh-orders": o.freshOrders = Int(v) ?? -1
        case "--chunk": o.chunk = Int(v) ?? -1
        default: fail("unknown option \(a); \(usage)")
        }
    }
    guard !o.dataDirectory.isEmpty else { fail("--data-dir is required; \(usage)") }
    guard o.cases >= 0, o.orders > 0, o.buyers > 0, o.shops > 0, o.freshOrders >= 0, o.chunk > 0 else {
        fail("--cases and --fresh-orders must be at least 0; --orders, --buyers, --shops and --chunk positive")
    }
    let days = o.cases / 500_000 + 1
    guard (o.cases + days - 1) / days <= CaseNumber.maximumSequence else { fail("too many cases") }
    return o
}

/// 2026-01-01T00:00:00Z: the last day seeded cases are numbered on.
let anchorDay = Timestamp(millisecondsSinceEpoch: 1_767_225_600_000)

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func log(_ text: String) {
    print(text)
    fflush(nil)
}

/// The seeded order `index`: delivered on the day before the anchor, two lines.
func seededOrder(_ index: Int, _ o: SeedOptions) throws -> OrderSnapshot {
    let drafts = [
        OrderSnapshot.LineDraft(id: "l-1", sku: "SKU-\(index % 5_000)", title: "Item \(index % 5_000)", category: "phones",
                                unitPrice: .cny(1_000), quantity: 3),
        OrderSnapshot.LineDraft(id: "l-2", sku: "SOCK-1", title: "Socks", category: "apparel", unitPrice: .cny(500), quantity: 2),
    ]
    let priced = try OrderSnapshot.price(drafts, discount: .cny(100), shippingFee: .cny(800))
    let paid = anchorDay.adding(days: -30)
    let shop = "s-\(index % o.shops)"
    return OrderSnapshot(id: "seed-o-\(index)", shop: ShopInfo(id: shop, name: "Shop \(shop)", contact: "400-000-0000"),
                         buyerID: "b-\(index % o.buyers)", status: .delivered, lines: priced.lines, shippingFee: .cny(800),
                         totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-seed-\(index)",
                         deliveryAddress: Address(contactName: "B. Buyer", phone: "139****1111", street: "2 Home Street"),
                         timestamps: OrderTimestamps(created: paid.adding(milliseconds: -60_000), paid: paid,
                                                     shipped: paid.adding(days: 1), delivered: paid.adding(days: 3)))
}

/// A fresh order for the create benchmark: paid, not shipped, one line of 1,000 units.
func freshOrder(_ index: Int, now: Timestamp) throws -> OrderSnapshot {
    let drafts = [OrderSnapshot.LineDraft(id: "l-1", sku: "BENCH-1", title: "Bench item", category: "accessories",
                                          unitPrice: .cny(100), quantity: 1_000)]
    let priced = try OrderSnapshot.price(drafts, discount: .cny(0), shippingFee: .cny(0))
    let shop = "bench-shop-\(index % 50)"
    return OrderSnapshot(id: "bench-order-\(index)", shop: ShopInfo(id: shop, name: "Bench shop", contact: "400-000-0000"),
                         buyerID: "bench-buyer-\(index)", status: .paid, lines: priced.lines, shippingFee: .cny(0),
                         totalPaid: priced.totalPaid, paymentChannel: "alipay", paymentTransactionID: "tx-bench-\(index)",
                         timestamps: OrderTimestamps(created: now.adding(milliseconds: -60_000), paid: now))
}

let reasons: [AfterSaleKind: String] = [.refundOnly: "no_longer_wanted", .returnAndRefund: "no_reason_7_days",
                                        .exchange: "size_does_not_fit", .repair: "quality_fault"]

/// Seeded case `n`, built directly (not through the domain's rules), like the storage benchmark's.
func seededCase(_ n: Int, days: Int, _ o: SeedOptions) throws -> Transition {
    let orderIndex = n % o.orders
    let buyerID = "b-\(orderIndex % o.buyers)", shopID = "s-\(orderIndex % o.shops)"
    let kind = AfterSaleKind.allCases[n % AfterSaleKind.allCases.count]
    let status = CaseStatus.allCases[n % CaseStatus.allCases.count]
    let sequence = n / days + 1
    let day = anchorDay.adding(days: -(n % days))
    let number = try CaseNumber(at: day, sequence: sequence)
    let createdAt = day.adding(milliseconds: Int64(sequence) * 100)
    let quantity = 1 + n % 3
    let refund: Money = .cny(kind.refundsMoney ? Int64(quantity) * 1_000 : 0)
    let line = CaseLine(orderLineID: "l-1", sku: "SKU-\(orderIndex % 5_000)", title: "Item \(orderIndex % 5_000)", spec: "blue",
                        imageURL: "https://img.example/\(orderIndex % 5_000).jpg", category: "phones", unitPrice: .cny(1_000),
                        quantity: quantity, claimAmount: .cny(Int64(quantity) * 1_000), refundAmount: refund, refundedAmount: .cny(0))
    let created = TimelineEntry(at: createdAt, step: .create, actor: .buyer(buyerID), from: nil, to: status)
    let afterSale = AfterSaleCase(
        number: number, orderID: "seed-o-\(orderIndex)", buyerID: buyerID,
        shop: ShopInfo(id: shopID, name: "Shop \(shopID)"), kind: kind, reasonCode: reasons[kind] ?? "no_longer_wanted",
        reasonTitle: "seeded", buyerNote: "", evidence: [], lines: [line], coversWholeOrder: false,
        amounts: CaseAmounts(goods: refund, shipping: .cny(0), computed: refund, refunded: .cny(0)),
        status: status, timeline: [created], version: 1, createdAt: createdAt, updatedAt: createdAt)
    let trace = TraceRecord(caseNumber: number, actor: .buyer(buyerID), step: .create, from: nil, to: status, at: createdAt,
                            outcome: .applied, details: "seeded")
    return Transition(afterSale: afterSale, entries: [created], trace: trace)
}

/// Saves orders `range` with 32 writes in flight, so that the group-commit writer batches them.
func saveOrders(_ repository: SQLiteRepository, _ count: Int, label: String,
                _ make: @escaping @Sendable (Int) throws -> OrderSnapshot) async throws {
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

let options = parse()
let startedAt = ContinuousClock.now
let repository: SQLiteRepository
do {
    repository = try SQLiteRepository.open(dataDirectory: options.dataDirectory)
} catch {
    fail("\(error)")
}

do {
    let o = options
    let ordersNeeded = min(o.orders, max(o.cases, 0))
    try await saveOrders(repository, ordersNeeded, label: "orders") { try seededOrder($0, o) }

    let days = o.cases / 500_000 + 1
    let caseStart = ContinuousClock.now
    var next = 0
    var lastReport = 0
    while next < o.cases {
        let upper = min(o.cases, next + o.chunk)
        let transitions = try (next..<upper).map { try seededCase($0, days: days, o) }
        try await repository.importCases(transitions)
        next = upper
        if next - lastReport >= 50_000 || next == o.cases {
            lastReport = next
            let elapsed = seconds(since: caseStart)
            log("cases: \(next)/\(o.cases) in \(String(format: "%.1f", elapsed)) s (\(Int(Double(next) / max(elapsed, 0.001)))/s)")
        }
    }

    let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
    try await saveOrders(repository, o.freshOrders, label: "fresh orders") { try freshOrder($0, now: now) }
    repository.close()
    log("seeded cases=\(o.cases) orders=\(ordersNeeded) fresh_orders=\(o.freshOrders) days=\(days) "
        + "seconds=\(String(format: "%.1f", seconds(since: startedAt)))")
} catch {
    repository.close()
    fail("\(error)")
}
