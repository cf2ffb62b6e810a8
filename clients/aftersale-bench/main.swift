import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCTransport
import RPCWire
import SignedTokens
import Synchronization

// aftersale-bench: C connections × D calls in flight for T seconds through the client module.
// The last line is machine-readable: calls/s=N p50_us=N p99_us=N p999_us=N errors=N
//
// Scenarios (--scenario): health (default; Health/Check, or --method NAME with an empty payload,
//   as nobody, or with --identity stated|token as --as ROLE:ID: what authentication costs, see
//   scripts/bench/auth.sh),
// and, against a data directory filled by aftersale-seed:
// - create: CreateAfterSale, refund only of 1 unit of line l-1 of a fresh order `bench-order-<i>`
//   (paid, not shipped: the one kind such an order is eligible for), as its buyer `bench-buyer-<i>`, each
//   call with a new idempotency key; consecutive calls take consecutive orders from a random start,
//   so calls in flight at once touch different orders (--fresh-orders K as seeded).
// - statistics: GetStatistics as the platform over the last --days days (default 90) by --group-by
//   (day, kind, reason, category or shop), or a shop's (--shop s-1), against rollups seeded with
//   aftersale-seed --statistics-cases (scripts/bench/statistics.sh).
// - get: GetAfterSale of a random seeded case (--cases N as seeded), as role agent.
// - list: ListAfterSales of a random shop `s-<i>` (--shops S as seeded) and one random status, page
//   of 20, as role agent; every other call of a worker fetches the next page with the previous token.
//
// - timers: the order system sends a delivered one-line order `tbench-<run>-<c>` and its buyer applies
//   for a return (CreateAfterSale): two calls per iteration, so a case whose review timer starts.
//   Run the server with a short --timer-merchant-review (e.g. 3s). After the run it waits for every
//   timer to come due, reads each case (GetAfterSale) and prints the timers' lateness, from the due
//   time the create answered to the timeline entry the timer wrote:
//   timers cases=N fired=N lateness_p50_ms=N p99_ms=N max_ms=N
//
// - dispatch: against a store aftersale-seed filled with --desk-agents N (away) and queued
//   tickets: (1) every agent goes online at once (SetPresence, as each agent, over C connections)
//   and the queue drains: prints `dispatch drained=N seconds=S assignments/s=N`; (2) for T seconds
//   buyers open tickets (OpenTicket, C × D in flight), which the spare capacity takes at once:
//   prints `dispatch opened=N assigned=N creation_to_assignment_p50_ms=N p99_ms=N` (server
//   timestamps: the ticket's creation to its `assigned` entry) and the call latencies as usual.
//
// - drain: one subscriber reads the whole event feed from cursor 0 to its head (stop_at_head) on one
//   connection and prints `drain events=N seconds=S events/s=N` (run it after a create run).
//
// --subscribe true (create only) also opens the event feed on its own connection from its head
// while the creates run, and prints a second line: events/s delivered to that subscriber, and the
// latency of each new case's CASE_CREATED event measured from the create call's response (the
// commit happened before it; a negative figure means the event beat the response, counted as 0)
// and from the call's start (an upper bound):
//   events/s=N event_after_response_p50_us=N p99_us=N event_after_start_p50_us=N p99_us=N
// --subscribe-server HOST:PORT puts that subscriber on another replica than the creates (default:
// --server), which measures delivery across replicas: commit on one, event on the other.
//
// Every scenario but health calls as someone: with tokens minted by the development key of the
// server's data directory (--data-dir, or AFTERSALE_DATA_DIR, default ./data; --audience, default
// aftersale), one per caller, minted on its first call and reused (the create scenario's buyers are
// new callers, so each create also costs the server one signature check).

struct BenchOptions {
    var server = "127.0.0.1:7400"
    var connections = 1
    var inflight = 1
    var duration = 5.0
    var warmup = 1.0
    var method: String?
    /// How health-scenario calls identify themselves: none, stated (x-caller-role/x-caller-id, for a
    /// server with --insecure-dev-principals) or token (a development token, verified once then cached).
    var identity = "none"
    /// The caller of health-scenario calls with an identity, ROLE:ID.
    var caller = "buyer:bench-buyer"
    /// Event loop threads for the connections; 0 means min(connections, 2), like the C reference client.
    var loops = 0
    /// health, create, get or list.
    var scenario = "health"
    /// The seeded data the scenarios address (see aftersale-seed).
    var cases = 1_000_000
    var shops = 200
    var freshOrders = 60_000
    /// The seeded support agents (dispatch).
    var agents = 1_000
    /// statistics: the grouping and the range (days ending today, UTC), and a shop's scope.
    var groupBy = "day"
    var days = 90
    var statisticsShop = ""
    /// Also subscribe to the event feed and measure delivery (create only).
    var subscribe = false
    /// Where the subscriber connects (default: `server`).
    var subscribeServer: String?
    /// The data directory whose development key mints the callers' tokens.
    var dataDirectory = ProcessInfo.processInfo.environment["AFTERSALE_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
    /// The service named in the tokens.
    var audience = "aftersale"
    /// TLS 1.3: the CA file that signed the server's certificate (nil: plain TCP), and a client
    /// certificate and key for mutual TLS.
    var tlsCA: String?
    var tlsCertificate: String?
    var tlsKey: String?
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("aftersale-bench: \(message)\n".utf8))
    exit(2)
}

func parse() -> BenchOptions {
    var o = BenchOptions()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        guard let v = args.popFirst() else { fail("\(a) needs a value") }
        switch a {
        case "--server": o.server = v
        case "--connections": o.connections = Int(v) ?? 0
        case "--inflight": o.inflight = Int(v) ?? 0
        case "--duration": o.duration = Double(v) ?? 0
        case "--warmup": o.warmup = Double(v) ?? -1
        case "--method": o.method = v
        case "--identity": o.identity = v
        case "--as": o.caller = v
        case "--loops": o.loops = Int(v) ?? -1
        case "--scenario": o.scenario = v
        case "--cases": o.cases = Int(v) ?? 0
        case "--shops": o.shops = Int(v) ?? 0
        case "--fresh-orders": o.freshOrders = Int(v) ?? 0
        case "--agents": o.agents = Int(v) ?? 0
        case "--group-by": o.groupBy = v
        case "--days": o.days = Int(v) ?? 0
        case "--shop": o.statisticsShop = v
        case "--subscribe": o.subscribe = v == "true"
        case "--subscribe-server": o.subscribeServer = v
        case "--data-dir": o.dataDirectory = v
        case "--audience": o.audience = v
        case "--tls-ca": o.tlsCA = v
        case "--tls-cert": o.tlsCertificate = v
        case "--tls-key": o.tlsKey = v
        default: fail("unknown option \(a); usage: aftersale-bench --server HOST:PORT --connections C --inflight D --duration SECONDS [--method NAME [--identity none|stated|token] [--as ROLE:ID]] [--warmup SECONDS] [--loops N] [--scenario health|create|get|list|drain] [--cases N] [--shops S] [--fresh-orders K] [--subscribe true] [--subscribe-server HOST:PORT] [--data-dir PATH] [--audience NAME] [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]")
        }
    }
    guard o.connections > 0, o.inflight > 0, o.duration > 0, o.warmup >= 0, o.loops >= 0 else {
        fail("--connections, --inflight and --duration must be positive, --loops at least 0")
    }
    guard ["day", "kind", "reason", "category", "shop"].contains(o.groupBy) else { fail("--group-by must be day, kind, reason, category or shop") }
    guard (1...366).contains(o.days) else { fail("--days must be 1…366") }
    guard ["health", "create", "get", "list", "timers", "dispatch", "drain", "statistics"].contains(o.scenario) else {
        fail("--scenario must be health, create, get, list, timers, dispatch or drain")
    }
    guard o.cases > 0, o.shops > 0, o.freshOrders > 0 else { fail("--cases, --shops and --fresh-orders must be positive") }
    guard o.scenario == "health" || o.method == nil else { fail("--method only applies to --scenario health") }
    guard ["none", "stated", "token"].contains(o.identity) else { fail("--identity must be none, stated or token") }
    guard o.identity == "none" || o.method != nil else { fail("--identity applies to a --method call") }
    guard o.caller.split(separator: ":").count == 2 else { fail("--as must be ROLE:ID") }
    guard !o.subscribe || o.scenario == "create" else { fail("--subscribe only applies to --scenario create") }
    if o.loops == 0 { o.loops = min(o.connections, 2) }
    return o
}

/// Latencies of one worker, in nanoseconds, and its error count.
final class Samples: @unchecked Sendable {
    var latencies: [UInt64] = []
    var errors = 0
    var firstError: String?
}

let options = parse()
/// TLS for every connection of the run, when --tls-ca is given.
let tls: ClientTLS? = {
    guard let ca = options.tlsCA else { return nil }
    do {
        return try ClientTLS(trustRootsFile: ca, certificateFile: options.tlsCertificate, keyFile: options.tlsKey)
    } catch {
        fail("--tls-ca/--tls-cert/--tls-key: \(error)")
    }
}()
let path: String = {
    guard let m = options.method else { return Health.check.path }
    return m.hasPrefix("/") ? m : "/" + m
}()
let payload: [UInt8] = options.method == nil ? HealthCheckRequest().serializedBytes() : []

/// The yyyyMMdd (UTC) of each day seeded cases are numbered on: day k is 2026-01-01 − k days.
let seededDays = options.cases / 500_000 + 1
let seededDates: [String] = (0..<seededDays).map { k in
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd"
    return formatter.string(from: Date(timeIntervalSince1970: 1_767_225_600 - Double(k) * 86_400))
}
/// The number of seeded case n, as aftersale-seed numbers it.
func seededCaseNumber(_ n: Int) -> String {
    let sequence = String(n / seededDays + 1)
    return "AS" + seededDates[n % seededDays] + String(repeating: "0", count: max(0, 6 - sequence.count)) + sequence
}
/// Mints the callers' tokens with the data directory's development key (nil for the health
/// scenario, which needs no identity).
let minter: TokenMinter? = {
    guard options.scenario != "health" || options.identity == "token" else { return nil }
    do {
        return try DevelopmentKeys.minter(in: DevelopmentKeys.directory(inDataDirectory: options.dataDirectory), audience: options.audience)
    } catch {
        fail("the \(options.scenario) scenario calls with development tokens: \(error) (give the server's --data-dir)")
    }
}()
let tokens = Mutex<[String: String]>([:])

/// `authorization` metadata for `role` `id`: a token minted on the caller's first call, valid for
/// an hour, reused after.
func caller(_ role: String, _ id: String) -> Metadata {
    let key = role + ":" + id
    if let token = tokens.withLock({ $0[key] }) { return [BearerAuthorization.key: BearerAuthorization.value(token)] }
    guard let minter else { fail("no token minter for \(key)") }
    do {
        let token = try minter.mint(subject: id, role: role, shop: role == "merchant" ? id : nil, lifetime: 3_600)
        tokens.withLock { $0[key] = token }
        return [BearerAuthorization.key: BearerAuthorization.value(token)]
    } catch {
        fail("cannot mint a token for \(key): \(error)")
    }
}

/// The identity of health-scenario calls (--identity, --as).
let healthMetadata: Metadata = {
    let parts = options.caller.split(separator: ":").map(String.init)
    switch options.identity {
    case "stated": return ["x-caller-role": parts[0], "x-caller-id": parts[1]]
    case "token": return caller(parts[0], parts[1])
    default: return Metadata()
    }
}()
let platformMetadata: Metadata = options.scenario == "statistics" ? caller("platform", "bench-platform") : Metadata()
/// The statistics scenario's request: the last --days days (UTC) through today, by --group-by.
let statisticsRequest: GetStatisticsRequest = {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    let now = Date()
    var r = GetStatisticsRequest()
    r.toDate = formatter.string(from: now)
    r.fromDate = formatter.string(from: now.addingTimeInterval(-Double(options.days - 1) * 86_400))
    r.groupBy = switch options.groupBy {
    case "kind": .kind
    case "reason": .reason
    case "category": .category
    case "shop": .shop
    default: .day
    }
    r.shopId = options.statisticsShop
    return r
}()
let agentMetadata: Metadata = options.scenario == "health" ? Metadata() : caller("agent", "bench-agent")
let orderSystemMetadata: Metadata = options.scenario == "timers" ? caller("system", "order-system") : Metadata()
/// The timers scenario's cases and when their review timer is due (Unix ms).
let timerCases = Mutex<[String: Int64]>([:])

/// A delivered order of one line (10.00 CNY) of buyer `tbench-buyer`, for the timers scenario.
func timerOrder(_ id: String) -> UpsertOrderRequest {
    func money(_ fen: Int64) -> Money {
        var m = Money()
        m.amountMinor = fen
        m.currency = "CNY"
        return m
    }
    let now = Int64(Date().timeIntervalSince1970 * 1_000)
    var s = OrderSnapshot()
    s.orderId = id
    s.orderVersion = 1
    var shop = ShopInfo()
    shop.shopId = "tbench-shop"
    shop.name = "Timer bench shop"
    shop.contact = "400-000-0000"
    s.shop = shop
    s.buyerId = "tbench-buyer"
    s.status = .delivered
    var line = OrderLine()
    line.lineId = "l-1"
    line.sku = "TB-1"
    line.title = "Thing"
    line.spec = "standard"
    line.category = "accessories"
    line.unitPrice = money(1_000)
    line.quantity = 1
    line.allocatedDiscount = money(0)
    line.paidAmount = money(1_000)
    s.lines = [line]
    s.shippingFee = money(0)
    s.totalPaid = money(1_000)
    s.paymentChannel = "alipay"
    s.paymentTransactionId = "tx-\(id)"
    s.createdAtUnixMs = now - 3 * 86_400_000
    s.paidAtUnixMs = now - 3 * 86_400_000
    s.shippedAtUnixMs = now - 2 * 86_400_000
    s.deliveredAtUnixMs = now - 86_400_000
    var request = UpsertOrderRequest()
    request.order = s
    return request
}
let listStatuses = CaseStatus.allCases.filter { $0 != .unspecified }
/// Create calls so far; call c uses fresh order (start + c) % K.
let createCounter = Atomic<Int>(0)
let createStart = Int.random(in: 0..<options.freshOrders)
let runID = String(UInt64.random(in: 0..<UInt64.max), radix: 36)

/// One call of the scenario on `client`; `state` is the worker's page token (list).
func scenarioCall(_ client: RPCClient, _ state: inout String) async throws {
    switch options.scenario {
    case "create":
        let c = createCounter.add(1, ordering: .relaxed).oldValue
        let order = (createStart + c) % options.freshOrders
        var request = CreateAfterSaleRequest()
        request.orderId = "bench-order-\(order)"
        request.kind = .refundOnly
        var line = RequestedLine()
        line.orderLineId = "l-1"
        line.quantity = 1
        request.lines = [line]
        request.reasonCode = "no_longer_wanted"
        var metadata = caller("buyer", "bench-buyer-\(order)")
        metadata.add("idempotency-key", "bench-\(runID)-\(c)")
        let t0 = MonotonicClock.nanos()
        let response = try await client.afterSale.createAfterSale(request, options: CallOptions(metadata: metadata))
        if response.replayed { throw RPCError(.internal, "a new idempotency key was replayed") }
        if options.subscribe, let number = response.afterSale?.caseNumber {
            let t1 = MonotonicClock.nanos()
            feedTimes.withLock { $0.calls[number] = (t0, t1) }
        }
    case "timers":
        let c = createCounter.add(1, ordering: .relaxed).oldValue
        let order = "tbench-\(runID)-\(c)"
        _ = try await client.orderBridge.upsertOrder(timerOrder(order), options: CallOptions(metadata: orderSystemMetadata))
        var request = CreateAfterSaleRequest()
        request.orderId = order
        request.kind = .returnAndRefund
        var line = RequestedLine()
        line.orderLineId = "l-1"
        line.quantity = 1
        request.lines = [line]
        request.reasonCode = "no_reason_7_days"
        var photo = EvidenceRef()
        photo.url = "https://img.example.com/bench.jpg"
        photo.contentType = "image/jpeg"
        photo.sizeBytes = 1_000
        request.evidence = [photo]
        var metadata = caller("buyer", "tbench-buyer")
        metadata.add("idempotency-key", "tb-\(runID)-\(c)")
        let response = try await client.afterSale.createAfterSale(request, options: CallOptions(metadata: metadata))
        guard let created = response.afterSale, let step = created.nextAutomaticStep else {
            throw RPCError(.internal, "a new return case without a review timer")
        }
        timerCases.withLock { $0[created.caseNumber] = step.dueAtUnixMs }
    case "statistics":
        _ = try await client.statistics.getStatistics(statisticsRequest, options: CallOptions(metadata: platformMetadata))
    case "get":
        var request = GetAfterSaleRequest()
        request.caseNumber = seededCaseNumber(Int.random(in: 0..<options.cases))
        _ = try await client.afterSale.getAfterSale(request, options: CallOptions(metadata: agentMetadata))
    case "list":
        var request = ListAfterSalesRequest()
        if state.isEmpty {
            request.shopId = "s-\(Int.random(in: 0..<options.shops))"
            request.statuses = [listStatuses.randomElement()!]
            request.pageSize = 20
        } else {
            // The next page of the previous query: the token carries the filters back (see below).
            let parts = state.split(separator: "|", maxSplits: 2).map(String.init)
            request.shopId = parts[0]
            request.statuses = [CaseStatus(rawValue: Int32(parts[1]) ?? 1)]
            request.pageSize = 20
            request.pageToken = parts[2]
        }
        let response = try await client.afterSale.listAfterSales(request, options: CallOptions(metadata: agentMetadata))
        if response.items.count != 20 && !response.nextPageToken.isEmpty {
            throw RPCError(.internal, "a page of \(response.items.count) rows with a next page")
        }
        state = state.isEmpty && !response.nextPageToken.isEmpty
            ? "\(request.shopId)|\(request.statuses[0].rawValue)|\(response.nextPageToken)" : ""
    default:
        _ = try await client.call(path: path, payload: payload, options: CallOptions(metadata: healthMetadata))
    }
}

var loops: [EventLoop] = []
for i in 0..<options.loops {
    do { loops.append(try EventLoop(name: "bench-loop-\(i)")) } catch { fail("\(error)") }
}
let clients: [RPCClient] = (0..<options.connections).map { i in
    var config = ClientConfiguration()
    config.tls = tls
    config.loop = loops[i % loops.count]
    do { return try RPCClient(target: options.server, configuration: config) } catch { fail("\(error)") }
}

/// When each created case's call started and returned, and when its CASE_CREATED event arrived.
struct FeedTimes {
    var calls: [String: (UInt64, UInt64)] = [:]
    var events: [String: UInt64] = [:]
    var delivered = 0
}
let feedTimes = Mutex(FeedTimes())

/// The dispatch scenario's figures: creation-to-assignment waits (ms), tickets left unassigned, call latencies.
let dispatchWaits = Mutex<[Int64]>([])
let dispatchUnassigned = Atomic<Int>(0)
let dispatchCalls = Mutex<[UInt64]>([])

if options.scenario == "dispatch" {
    // (1) Every agent online at once; the seeded queue drains.
    let platform = caller("platform", "bench-supervisor")
    func queued() async throws -> Int {
        var list = ListTicketsRequest()
        list.statuses = [.new]
        list.pageSize = 100
        return try await clients[0].serviceDesk.listTickets(list, options: CallOptions(timeout: .seconds(30), metadata: platform)).tickets.count
    }
    let drainStart = MonotonicClock.nanos()
    await withTaskGroup(of: Void.self) { group in
        for c in 0..<clients.count {
            group.addTask {
                for i in stride(from: c, to: options.agents, by: clients.count) {
                    var presence = SetPresenceRequest()
                    presence.presence = .online
                    do {
                        _ = try await clients[c].serviceDesk.setPresence(presence, options: CallOptions(timeout: .seconds(60),
                                                                                                    metadata: caller("agent", "bench-agent-\(i)")))
                    } catch {
                        FileHandle.standardError.write(Data("aftersale-bench: SetPresence bench-agent-\(i): \(error)\n".utf8))
                    }
                }
            }
        }
    }
    var left = 0
    for _ in 0..<1_200 {
        do { left = try await queued() } catch { fail("ListTickets: \(error)") }
        if left == 0 { break }
        try? await Task.sleep(for: .milliseconds(100))
    }
    let drainSeconds = Double(MonotonicClock.nanos() - drainStart) / 1e9
    print("dispatch agents=\(options.agents) drained=\(left == 0) seconds=\(String(format: "%.2f", drainSeconds)) "
          + "assignments/s=\(Int((Double(options.cases) / drainSeconds).rounded())) (--cases \(options.cases) seeded tickets)")
    fflush(nil)
    // (2) New tickets under load: creation to assignment.
    let until = MonotonicClock.nanos() + UInt64(options.duration * 1e9)
    await withTaskGroup(of: Void.self) { group in
        for (index, client) in clients.enumerated() {
            for j in 0..<options.inflight {
                group.addTask {
                    var n = 0
                    while MonotonicClock.nanos() < until {
                        n += 1
                        var open = OpenTicketRequest()
                        open.subject = "bench question"
                        open.text = "where is my parcel"
                        let t0 = MonotonicClock.nanos()
                        do {
                            let ticket = try await client.serviceDesk.openTicket(open, options: CallOptions(
                                timeout: .seconds(10), metadata: caller("buyer", "dbench-\(index)-\(j)"))).ticket
                            let t1 = MonotonicClock.nanos()
                            dispatchCalls.withLock { $0.append(t1 - t0) }
                            if let ticket, let assigned = ticket.entries.first(where: { $0.step == "assigned" }) {
                                dispatchWaits.withLock { $0.append(assigned.atUnixMs - ticket.createdAtUnixMs) }
                            } else {
                                dispatchUnassigned.add(1, ordering: .relaxed)
                            }
                        } catch {
                            dispatchUnassigned.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
        }
    }
    let waits = dispatchWaits.withLock { $0 }.sorted()
    func pct(_ q: Double) -> Int64 { waits.isEmpty ? 0 : waits[min(waits.count - 1, max(0, Int((q * Double(waits.count)).rounded(.up)) - 1))] }
    let calls = dispatchCalls.withLock { $0 }.sorted()
    print("dispatch opened=\(waits.count + dispatchUnassigned.load(ordering: .relaxed)) assigned=\(waits.count) "
          + "creation_to_assignment_p50_ms=\(pct(0.5)) p99_ms=\(pct(0.99)) max_ms=\(waits.last ?? 0)")
    print("calls/s=\(Int((Double(calls.count) / options.duration).rounded())) p50_us=\(percentile(0.5, calls)) "
          + "p99_us=\(percentile(0.99, calls)) p999_us=\(percentile(0.999, calls)) errors=\(dispatchUnassigned.load(ordering: .relaxed))")
    exit(0)
}

if options.scenario == "drain" {
    var config = ClientConfiguration()
    config.tls = tls
    config.loop = loops[0]
    guard let feedClient = try? RPCClient(target: options.server, configuration: config) else { fail("cannot connect") }
    var request = SubscribeRequest()
    request.consumerName = "bench-drain-\(runID)"
    request.fromCursor = 0
    request.stopAtHead = true
    let metadata = caller("system", "bench-drain")
    let t0 = MonotonicClock.nanos()
    var count = 0
    var last: Int64 = 0
    do {
        for try await event in feedClient.afterSale.subscribe(request, options: CallOptions(timeout: .seconds(600), metadata: metadata)) {
            if event.cursor <= last { fail("cursor \(event.cursor) after \(last)") }
            last = event.cursor
            count += 1
        }
    } catch {
        fail("drain: \(error)")
    }
    let seconds = Double(MonotonicClock.nanos() - t0) / 1e9
    print("drain events=\(count) seconds=\(String(format: "%.2f", seconds)) events/s=\(Int((Double(count) / seconds).rounded()))")
    exit(0)
}

let start = MonotonicClock.nanos()
let windowStart = start + UInt64(options.warmup * 1e9)
let windowEnd = windowStart + UInt64(options.duration * 1e9)

// The subscriber: its own connection and loop, from the feed's head, for the whole run.
let subscriber: Task<Void, Never>? = !options.subscribe ? nil : Task {
    var config = ClientConfiguration()
    config.tls = tls
    config.loop = loops[0]
    guard let feedClient = try? RPCClient(target: options.subscribeServer ?? options.server, configuration: config) else {
        fail("cannot connect the subscriber")
    }
    let feedMetadata = caller("system", "bench-feed")
    var request = SubscribeRequest()
    request.consumerName = "bench-\(runID)"
    request.fromCursor = -1  // from the feed's head: only the events this run causes
    let deadline = Duration.seconds(options.warmup + options.duration + 5)
    do {
        for try await event in feedClient.afterSale.subscribe(request, options: CallOptions(timeout: deadline, metadata: feedMetadata)) {
            let now = MonotonicClock.nanos()
            if now >= windowEnd { break }
            feedTimes.withLock { times in
                if now >= windowStart { times.delivered += 1 }
                if event.eventType == .caseCreated { times.events[event.caseNumber] = now }
            }
        }
    } catch {
        FileHandle.standardError.write(Data("aftersale-bench: subscriber: \(error)\n".utf8))
    }
    feedClient.close()
}

let allSamples = await withTaskGroup(of: Samples.self) { group in
    for (index, client) in clients.enumerated() {
        // Each worker runs on its connection's event loop: a response resumes the waiting call on
        // the thread that read it, with no hop through the global pool.
        let loop = loops[index % loops.count]
        for _ in 0..<options.inflight {
            group.addTask(executorPreference: loop) {
                let s = Samples()
                s.latencies.reserveCapacity(1 << 16)
                var state = ""
                while true {
                    let t0 = MonotonicClock.nanos()
                    if t0 >= windowEnd { break }
                    do {
                        if options.scenario == "health" {
                            _ = try await client.call(path: path, payload: payload, options: CallOptions(metadata: healthMetadata))
                        } else {
                            try await scenarioCall(client, &state)
                        }
                        let t1 = MonotonicClock.nanos()
                        if t0 >= windowStart && t1 <= windowEnd { s.latencies.append(t1 - t0) }
                    } catch {
                        if t0 >= windowStart { s.errors += 1 }
                        if s.firstError == nil { s.firstError = "\(error)" }
                        if (error as? RPCError)?.code == .unavailable { try? await Task.sleep(for: .milliseconds(10)) }
                    }
                }
                return s
            }
        }
    }
    var all: [Samples] = []
    for await s in group { all.append(s) }
    return all
}

let latencies = allSamples.flatMap { $0.latencies }.sorted()
let errors = allSamples.reduce(0) { $0 + $1.errors }
func percentile(_ q: Double, _ latencies: [UInt64]) -> UInt64 {
    guard !latencies.isEmpty else { return 0 }
    var rank = Int((q * Double(latencies.count)).rounded(.up))
    rank = min(max(rank, 1), latencies.count)
    return latencies[rank - 1] / 1000
}
if let firstError = allSamples.compactMap({ $0.firstError }).first {
    FileHandle.standardError.write(Data("aftersale-bench: first error: \(firstError)\n".utf8))
}
let rate = Int((Double(latencies.count) / options.duration).rounded())
let method = switch options.scenario {
case "create": AfterSaleService.createAfterSale.path
case "get": AfterSaleService.getAfterSale.path
case "statistics": "\(AfterSaleProto.Statistics.getStatistics.path) group_by=\(options.groupBy) days=\(options.days)\(options.statisticsShop.isEmpty ? "" : " shop=\(options.statisticsShop)")"
case "list": AfterSaleService.listAfterSales.path
case "timers": "\(OrderBridge.upsertOrder.path) + \(AfterSaleService.createAfterSale.path)"
default: path
}
print("server=\(options.server) scenario=\(options.scenario) method=\(method) connections=\(options.connections) inflight=\(options.inflight) duration_s=\(options.duration) calls=\(latencies.count)")
if let subscriber {
    try? await Task.sleep(for: .milliseconds(200))
    subscriber.cancel()
    _ = await subscriber.value
    let times = feedTimes.withLock { $0 }
    var afterResponse: [UInt64] = [], afterStart: [UInt64] = []
    for (number, (t0, t1)) in times.calls where t0 >= windowStart {
        guard let t2 = times.events[number] else { continue }
        afterResponse.append(t2 > t1 ? t2 - t1 : 0)
        afterStart.append(t2 > t0 ? t2 - t0 : 0)
    }
    afterResponse.sort()
    afterStart.sort()
    let missing = times.calls.keys.filter { times.calls[$0]!.1 + 1_000_000_000 < windowEnd && times.events[$0] == nil }.count
    print("subscriber=\(options.subscribeServer ?? options.server) events/s=\(Int((Double(times.delivered) / options.duration).rounded())) event_after_response_p50_us=\(percentile(0.5, afterResponse)) p99_us=\(percentile(0.99, afterResponse)) event_after_start_p50_us=\(percentile(0.5, afterStart)) p99_us=\(percentile(0.99, afterStart)) matched=\(afterStart.count) missing=\(missing)")
}
if options.scenario == "timers" {
    // Every review timer comes due, then each case is read back: when did its timer act?
    let due = timerCases.withLock { $0 }
    let lastDue = due.values.max() ?? 0
    let waitMs = lastDue + 2_000 - Int64(Date().timeIntervalSince1970 * 1_000)
    if waitMs > 0 { try? await Task.sleep(for: .milliseconds(waitMs)) }
    let numbers = Array(due.keys)
    let lateness = await withTaskGroup(of: [Int64?].self) { group in
        let readers = max(1, clients.count * 4)
        for r in 0..<readers {
            let client = clients[r % clients.count]
            group.addTask {
                var found: [Int64?] = []
                for number in stride(from: r, to: numbers.count, by: readers).map({ numbers[$0] }) {
                    var request = GetAfterSaleRequest()
                    request.caseNumber = number
                    let read = try? await client.afterSale.getAfterSale(request, options: CallOptions(metadata: agentMetadata))
                    let entry = read?.afterSale?.timeline.first { $0.actorRole == .system && $0.actorId == "timer" }
                    found.append(entry.map { $0.atUnixMs - (due[number] ?? 0) })
                }
                return found
            }
        }
        var all: [Int64?] = []
        for await part in group { all += part }
        return all
    }
    let fired = lateness.compactMap { $0 }.sorted()
    func pct(_ q: Double) -> Int64 {
        guard !fired.isEmpty else { return 0 }
        return fired[min(fired.count - 1, max(0, Int((q * Double(fired.count)).rounded(.up)) - 1))]
    }
    print("timers cases=\(numbers.count) fired=\(fired.count) lateness_p50_ms=\(pct(0.5)) p99_ms=\(pct(0.99)) max_ms=\(fired.last ?? 0)")
}
print("calls/s=\(rate) p50_us=\(percentile(0.5, latencies)) p99_us=\(percentile(0.99, latencies)) p999_us=\(percentile(0.999, latencies)) errors=\(errors)")
