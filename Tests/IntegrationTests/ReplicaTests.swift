import AfterSaleClient
import AfterSaleProto
import Foundation
import Glibc
import RPCWire
import Testing

// Several aftersaled replicas on one PostgreSQL database, as docs/OPERATIONS.md §2 runs them: one
// replica is killed with SIGKILL mid-load, the database restarts mid-load, and a SQLite store is
// moved to PostgreSQL with aftersale-copy (§7). These stories always run on PostgreSQL, whatever
// AFTERSALE_TEST_BACKEND says, and fail without it (scripts/test.sh skips the suite in its second,
// PostgreSQL-only pass, since it ran in the first).

extension Integration {
    @Suite("Replicas: aftersaled replicas on one PostgreSQL through a replica killed, a database restart, and a copy from SQLite")
    struct Replicas {
        @Test("kill -9 one of three replicas mid-load: the others serve, clients fail over, nothing acknowledged is lost or doubled")
        func killOneReplica() async throws {
            try await TestStore.with("replicakill", backend: .postgres) { store in
                let replicas = try await ReplicaSet.start(3, store: store, extraArguments: SagaDurabilityTests.fastRefunds)
                defer { replicas.killAll() }
                let clients = try replicas.clients(3)
                defer { clients.forEach { $0.close() } }
                let client = clients[0]

                let sagas = ReplicaSagas("rk", maxOrders: 120)
                sagas.start(clients, buyers: 4, workers: 2)
                let warm = await sagas.wait(timeout: .seconds(10)) { $0.acknowledged.count >= 30 && $0.payments.count >= 5 }
                #expect(warm, "traffic on every side before the kill: \(sagas.acknowledged.count) creates, \(sagas.payments.count) payments")

                // SIGKILL one replica while calls are in flight on it.
                sagas.disrupt()
                let victim = replicas.servers[0]
                victim.signal(SIGKILL)
                let status = await victim.waitForExit(timeout: .seconds(5))
                #expect(status == SIGKILL && victim.exitedBySignal, "killed by SIGKILL: \(String(describing: status))")
                let killedAt = sagas.started

                await sagas.finish(timeout: .seconds(15))
                #expect(sagas.started == sagas.maxOrders, "every saga started: \(sagas.started)")
                #expect(sagas.started > killedAt, "sagas were started after the kill")
                #expect(sagas.acknowledged.all.contains { $0.disrupted }, "the survivors acknowledged creates after the kill")
                #expect(sagas.unexpectedFailures.isEmpty, "\(sagas.unexpectedFailures.prefix(10))")

                try await sagas.audit(client)
                for index in 1..<3 {
                    let survivor = try replicas.client(index)
                    defer { survivor.close() }
                    #expect(try await survivor.health.check(healthRequest(), options: CallOptions(timeout: .seconds(2))).status == .serving)
                }
                #expect(await replicas.stop().dropFirst().allSatisfy { $0 == 0 }, "the survivors stop cleanly")
            }
        }

        @Test("PostgreSQL stopped and started mid-load: replicas turn NOT_SERVING, calls fail UNAVAILABLE in time, then they recover by themselves")
        func databaseRestart() async throws {
            // A server of this test's own: the run's shared one serves other test targets meanwhile.
            try await PrivatePostgres.with("restart") { pg in
                try await TestStore.with("pgrestart", backend: .postgres, server: pg.url) { store in
                    let replicas = try await ReplicaSet.start(2, store: store, extraArguments: SagaDurabilityTests.fastRefunds
                                                              + ["--database-connect-timeout", "2"])
                    defer { replicas.killAll() }
                    let clients = try replicas.clients(3)
                    defer { clients.forEach { $0.close() } }
                    let client = clients[0]
                    let single = try replicas.ports.indices.map { try replicas.client($0) }
                    defer { single.forEach { $0.close() } }
                    let clock = ContinuousClock()

                    let sagas = ReplicaSagas("pr", maxOrders: 400)
                    sagas.start(clients, buyers: 4, workers: 2, pace: .milliseconds(20))
                    let warm = await sagas.wait(timeout: .seconds(10)) { $0.acknowledged.count >= 20 && $0.payments.count >= 3 }
                    #expect(warm, "traffic before the outage: \(sagas.acknowledged.count) creates, \(sagas.payments.count) payments")
                    // One saga of the test's own per replica, to probe it through the outage.
                    let probes = try replicas.ports.indices.map { _ in try #require(sagas.takeOrder()) }
                    for (replica, i) in probes.enumerated() { _ = try await sagas.upsert(i, single[replica].orderBridge) }
                    let knownCase = try #require(sagas.acknowledged.all.first?.caseNumber)

                    // The outage.
                    sagas.disrupt()
                    let stoppedAt = clock.now
                    try await pg.stop()
                    for (replica, c) in single.enumerated() {
                        #expect(await awaitHealth(c, .notServing, timeout: .seconds(5)), "replica \(replica) turns NOT_SERVING")
                    }
                    let deadline = Duration.seconds(3)
                    for (replica, c) in single.enumerated() {
                        let i = probes[replica]
                        var get = GetAfterSaleRequest()
                        get.caseNumber = knownCase
                        var claim = ClaimRefundsRequest()
                        claim.maxRefunds = 1
                        let agent = Callers.make("platform", "p-1", timeout: deadline)
                        let system = Callers.system("pr-probe", timeout: deadline)
                        let calls: [(String, () async throws -> Void)] = [
                            ("UpsertOrder", { _ = try await sagas.upsert(i, c.orderBridge, timeout: deadline) }),
                            ("CreateAfterSale", { _ = try await sagas.create(i, c.afterSale, timeout: deadline) }),
                            ("GetAfterSale", { _ = try await c.afterSale.getAfterSale(get, options: agent) }),
                            ("ListRefunds", { _ = try await c.refundBridge.listRefunds(Requests.listRefunds(), options: agent) }),
                            ("ClaimRefunds", { _ = try await c.refundBridge.claimRefunds(claim, options: system) }),
                            ("Subscribe", { _ = try await readFeed(c.afterSale, consumer: "pr-probe", options: system) }),
                        ]
                        for (name, call) in calls {
                            let (error, elapsed) = await timed { await rpcError { try await call() } }
                            #expect(error?.code == .unavailable && elapsed < deadline,
                                    "replica \(replica) \(name) during the outage: \(String(describing: error)) after \(elapsed)")
                        }
                    }
                    // Keep the database down for two seconds at least, under load.
                    try await Task.sleep(until: stoppedAt.advanced(by: .seconds(2)), clock: clock)
                    try await pg.start()
                    let outage = clock.now - stoppedAt

                    // Back by themselves: SERVING again, and writes go through on each replica.
                    for (replica, c) in single.enumerated() {
                        #expect(await awaitHealth(c, .serving, timeout: .seconds(10)), "replica \(replica) turns SERVING again")
                    }
                    let servingAt = clock.now
                    let recoveredIn = servingAt - stoppedAt - outage
                    // A pool connection whose reconnection failed during the outage waits up to a second
                    // before it tries again (PostgresPool), so a call right after SERVING may still meet
                    // UNAVAILABLE: the buyer sends it again with the same key, for at most three seconds.
                    var retriedProbes = 0
                    for (replica, c) in single.enumerated() {
                        var created: CreateAfterSaleResponse?
                        while created == nil {
                            do {
                                created = try await sagas.create(probes[replica], c.afterSale)
                            } catch let error as RPCError where error.code == .unavailable && clock.now < servingAt.advanced(by: .seconds(3)) {
                                retriedProbes += 1
                                try await Task.sleep(for: .milliseconds(100))
                            }
                        }
                        let response = try #require(created)
                        #expect(!response.replayed, "the create refused during the outage left nothing behind")
                        sagas.noteAcknowledged(probes[replica], response)
                    }
                    // From a second after SERVING on, no call may fail any more.
                    try await Task.sleep(until: servingAt.advanced(by: .milliseconds(1_200)), clock: clock)
                    sagas.recovered()
                    let after = await sagas.wait(timeout: .seconds(10)) { $0.acknowledged.all.filter { !$0.disrupted }.count >= 10 }
                    #expect(after, "creates were acknowledged after the recovery")
                    sagas.stopTaking()
                    await sagas.finish(timeout: .seconds(15))
                    print("database restart: down for \(outage), replicas SERVING again \(recoveredIn) after the start; "
                          + "\(retriedProbes) probe creates sent again after SERVING")
                    #expect(sagas.failures.all.contains { $0.disrupted && ($0.what.hasPrefix("create") || $0.what.hasPrefix("upsert")) },
                            "the load's calls met the outage")
                    #expect(sagas.unexpectedFailures.isEmpty, "\(sagas.unexpectedFailures.prefix(10))")

                    try await sagas.audit(client)
                    #expect(await replicas.stop().allSatisfy { $0 == 0 }, "the replicas stop cleanly")
                }
            }
        }

        @Test("a SQLite store copied into PostgreSQL with aftersale-copy reads back the same, continues its numbering and feed, and is not copied twice")
        func copyFromSQLite() async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            let copyTool = try ExecutablesTests.require("aftersale-copy")
            try await TestStore.with("copysrc", backend: .sqlite) { source in
                try await TestStore.with("copydst", backend: .postgres) { target in
                    let targetURL = try #require(target.database).url

                    // A varied store, written through the client. No desk intake: it would add events of
                    // its own in the background, on each store differently.
                    let quiet = SagaDurabilityTests.fastRefunds + ["--desk-intake", "false"]
                    let (first, firstPort) = try await ChildProcess.startDaemon(daemon, store: source, extraArguments: quiet)
                    defer { if first.process.isRunning { first.signal(SIGKILL) } }
                    let population = try await CopiedPopulation.write(try RPCClient(target: "127.0.0.1:\(firstPort)"))
                    first.signal(SIGTERM)
                    #expect(await first.waitForExit(timeout: .seconds(10)) == 0, "aftersaled stops cleanly: \(first.stderr.suffix(500))")

                    // The copy.
                    let copied = try await ChildProcess.run(copyTool, ["--data-dir", source.directory, "--database", targetURL], timeout: .seconds(60))
                    #expect(copied.status == 0, "aftersale-copy: \(copied.stderr.suffix(1_000))")
                    let report = CopyReport(copied.stdout)
                    #expect(report.counts["orders"] == population.orders.count, "\(report.line)")
                    #expect(report.counts["cases"] == population.cases.count, "\(report.line)")
                    #expect(report.counts["messages"] == population.messages, "\(report.line)")
                    #expect(report.counts["refund_orders"] == population.refunds, "\(report.line)")
                    #expect(report.counts["events"] == Int(population.feedHead), "\(report.line)")
                    #expect(report.counts["feed_head"] == Int(population.feedHead), "\(report.line)")

                    // The copy's personal data stays sealed under the source's master key: the target serves with that key.
                    try FileManager.default.removeItem(atPath: target.masterKeyPath)
                    try FileManager.default.copyItem(atPath: source.masterKeyPath, toPath: target.masterKeyPath)
                    // Both stores served side by side read back the same.
                    async let sqliteServer = ChildProcess.startDaemon(daemon, store: source, extraArguments: quiet)
                    async let postgresServer = ChildProcess.startDaemon(daemon, store: target, extraArguments: quiet)
                    let (sqlite, sqlitePort) = try await sqliteServer
                    defer { if sqlite.process.isRunning { sqlite.signal(SIGKILL) } }
                    let (postgres, postgresPort) = try await postgresServer
                    defer { if postgres.process.isRunning { postgres.signal(SIGKILL) } }
                    let sqliteClient = try RPCClient(target: "127.0.0.1:\(sqlitePort)")
                    defer { sqliteClient.close() }
                    let postgresClient = try RPCClient(target: "127.0.0.1:\(postgresPort)")
                    defer { postgresClient.close() }

                    // The audit chain came along with its checkpoint (signed when the SQLite server stopped).
                    let fromSQLiteChain = try await TestTokens.auditVerifier().verify(sqliteClient.audit, options: Callers.platform())
                    let fromPostgresChain = try await TestTokens.auditVerifier().verify(postgresClient.audit, options: Callers.platform())
                    #expect(fromSQLiteChain.records > 0 && fromSQLiteChain.checkpointsMatched >= 1, "\(fromSQLiteChain)")
                    #expect(fromPostgresChain.records == fromSQLiteChain.records && fromPostgresChain.headHash == fromSQLiteChain.headHash
                            && fromPostgresChain.checkpointsMatched == fromSQLiteChain.checkpointsMatched)

                    let fromSQLite = try await StoreView.read(sqliteClient, population)
                    let fromPostgres = try await StoreView.read(postgresClient, population)
                    #expect(fromSQLite.cases.count == population.cases.count && fromSQLite.feed.count == Int(population.feedHead))
                    let differences = fromSQLite.differences(fromPostgres)
                    #expect(differences.isEmpty, "SQLite and PostgreSQL differ: \(differences.prefix(10))")
                    print("copy: \(report.line); both read back \(fromSQLite.cases.count) cases in \(fromSQLite.pages.count) pages, "
                          + "\(fromSQLite.feed.count) events, \(fromSQLite.refunds.count) refunds, \(fromSQLite.messages.values.joined().count) messages, "
                          + "\(fromSQLite.reasons.count) reasons, \(fromSQLite.consumerCursors) cursors, \(fromSQLite.orders.count) orders")

                    // PostgreSQL goes on from there: an earlier create replays, a new case gets a new number, the feed continues.
                    let afterSale = postgresClient.afterSale
                    let replay = try await afterSale.createAfterSale(population.firstCreate.request, options: population.firstCreate.options)
                    let firstNumber = try #require(population.firstCreate.response.afterSale).caseNumber
                    #expect(replay.replayed && replay.afterSale?.caseNumber == firstNumber, "the idempotency record came along")
                    var getFirst = GetAfterSaleRequest()
                    getFirst.caseNumber = firstNumber
                    #expect(replay.afterSale == (try await afterSale.getAfterSale(getFirst, options: Callers.platform())).afterSale,
                            "a replayed create answers with the case as it is now")
                    let approval = population.keyedApproval
                    #expect(try await afterSale.reviewAfterSale(approval.request, options: approval.options) == approval.response,
                            "a keyed transition replays the very response it got from SQLite")
                    let newOrder = TestOrder.single("o-cp-new", buyer: "b-cp-new", priceFen: 4_200)
                    _ = try await postgresClient.orderBridge.upsertOrder(try newOrder.upsertRequest(), options: Callers.orderSystem)
                    let fresh = try #require(try await afterSale.createAfterSale(
                        Requests.create(order: newOrder.id, kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                        options: Callers.buyer("b-cp-new", key: "k-cp-new")).afterSale)
                    #expect(!population.cases.contains(fresh.caseNumber) && fresh.caseNumber.hasPrefix("AS"), "\(fresh.caseNumber) is new")
                    // The refund left pending in SQLite is paid from PostgreSQL.
                    let worker = PaymentWorker(id: "cp-wechat-worker", bridge: postgresClient.refundBridge, channel: population.channel)
                    let lease = try #require(try await worker.claim(channels: ["wechat_pay"]).first)
                    #expect(lease.refund?.refundId == population.pendingRefundID)
                    #expect(try await worker.pay(lease).disposition == .applied)
                    let continued = try await readFeed(afterSale, consumer: "cp-audit", from: population.feedHead)
                    #expect(continued.map(\.cursor) == Array(stride(from: population.feedHead + 1, through: population.feedHead + Int64(continued.count), by: 1)),
                            "the feed continues from \(population.feedHead + 1): \(continued.map(\.cursor))")
                    #expect(continued.contains { $0.eventType == .caseCreated && $0.caseNumber == fresh.caseNumber })
                    #expect(continued.contains { $0.eventType == .refundSucceeded && $0.refund?.refundId == population.pendingRefundID })

                    // The chain goes on from the copied head.
                    let extendedChain = try await TestTokens.auditVerifier().verify(postgresClient.audit, options: Callers.platform())
                    #expect(extendedChain.records > fromPostgresChain.records)

                    // While aftersaled has the SQLite directory open, a copy is refused: the directory is locked.
                    let busy = try await ChildProcess.run(copyTool, ["--data-dir", source.directory, "--database", targetURL],
                                                          timeout: .seconds(60))
                    #expect(busy.status == 1, "a copy from a store in use is refused: \(String(describing: busy.status))")
                    #expect(busy.stderr.contains("another process has this data directory open"), "\(busy.stderr.suffix(500))")
                    sqlite.signal(SIGTERM)
                    #expect(await sqlite.waitForExit(timeout: .seconds(10)) == 0)

                    // A second copy into the now non-empty database is refused and changes nothing.
                    var extended = population
                    extended.orders.append(newOrder.id)
                    let before = try await StoreView.read(postgresClient, extended)
                    let again = try await ChildProcess.run(copyTool, ["--data-dir", source.directory, "--database", targetURL], timeout: .seconds(60))
                    #expect(again.status == 1, "a second copy is refused: \(String(describing: again.status)) \(again.stderr.suffix(500))")
                    #expect(again.stderr.contains("not empty"), "\(again.stderr.suffix(500))")
                    let after = try await StoreView.read(postgresClient, extended)
                    #expect(before.differences(after).isEmpty, "the refused copy changed: \(before.differences(after).prefix(10))")
                    #expect(after.cases.count == population.cases.count + 1)

                    postgres.signal(SIGTERM)
                    #expect(await postgres.waitForExit(timeout: .seconds(10)) == 0)
                }
            }
        }
    }
}

// MARK: - The copy story's store

/// What the copy story wrote into SQLite through the client: orders; refund-only cases paid at
/// once, paid after a failed attempt, failed for good, and left pending for another channel; a
/// return-and-refund case tracked, received and paid; an exchange completed; a repair shipped
/// back; a rejected and a withdrawn case; a conversation; a reason created and changed; two
/// consumers' cursors.
private struct CopiedPopulation {
    var orders: [String] = []
    var cases: [String] = []
    var messages = 0
    var refunds = 0
    var feedHead: Int64 = 0
    let consumers = ["cp-ledger", "cp-inventory"]
    /// The first create: its request, options and response, to replay it on PostgreSQL.
    var firstCreate: (request: CreateAfterSaleRequest, options: CallOptions, response: CreateAfterSaleResponse)
    /// The approval of the return-and-refund case, sent with an idempotency key.
    var keyedApproval: (request: ReviewAfterSaleRequest, options: CallOptions, response: ReviewAfterSaleResponse)
    /// The refund order left pending (on the wechat_pay channel).
    var pendingRefundID = ""
    let channel: FakeChannel

    static func write(_ client: RPCClient) async throws -> CopiedPopulation {
        defer { client.close() }
        let afterSale = client.afterSale
        let merchant = Callers.merchant()
        let channel = FakeChannel()
        let worker = PaymentWorker(id: "cp-alipay-worker", bridge: client.refundBridge, channel: channel)

        var orders: [String] = []
        func upsert(_ order: TestOrder) async throws {
            #expect(try await client.orderBridge.upsertOrder(try order.upsertRequest(), options: Callers.orderSystem).outcome == .applied)
            orders.append(order.id)
        }
        var cases: [String] = []
        func create(_ order: TestOrder, _ kind: AfterSaleProto.AfterSaleKind, reason: String, lines: [(String, Int32)])
            async throws -> (CreateAfterSaleRequest, CallOptions, CreateAfterSaleResponse) {
            let request = Requests.create(order: order.id, kind: kind, reason: reason, lines: lines)
            let options = Callers.buyer(order.buyer, key: "k-cp-\(order.id)-\(cases.count)")
            let response = try await afterSale.createAfterSale(request, options: options)
            cases.append(try #require(response.afterSale).caseNumber)
            return (request, options, response)
        }
        /// Claims (alipay only) until a lease comes, for at most three seconds.
        func claimOne() async throws -> AfterSaleProto.RefundLease {
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: .seconds(3))
            while clock.now < end {
                if let lease = try await worker.claim(max: 1, leaseMs: 5_000, channels: ["alipay"]).first { return lease }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TimedOut(what: "a refund to claim")
        }

        // Refund only: paid at once.
        let ro1 = TestOrder.single("o-cp-ro1", buyer: "b-cp-1", priceFen: 1_990)
        try await upsert(ro1)
        let firstCreate = try await create(ro1, .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)])
        #expect(try await worker.pay(try await claimOne()).disposition == .applied)
        // Refund only: the channel is down for the first attempt, the retry pays.
        let ro2 = TestOrder.single("o-cp-ro2", buyer: "b-cp-2", priceFen: 2_990)
        try await upsert(ro2)
        _ = try await create(ro2, .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)])
        await channel.setDown(true)
        #expect(try await worker.pay(try await claimOne()).refund?.status == .retryScheduled)
        await channel.setDown(false)
        #expect(try await worker.pay(try await claimOne()).refund?.status == .succeeded)
        // Refund only: failed for good, an agent must look at it.
        let ro3 = TestOrder.single("o-cp-ro3", buyer: "b-cp-1", priceFen: 3_990)
        try await upsert(ro3)
        _ = try await create(ro3, .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)])
        let failed = try await worker.report(worker.failureReport(try await claimOne(), permanent: true))
        #expect(failed.refund?.status == .needsAttention)
        // Refund only on another channel: left pending.
        let ro4 = TestOrder.single("o-cp-ro4", buyer: "b-cp-3", priceFen: 4_990, channel: "wechat_pay")
        try await upsert(ro4)
        let pending = try await create(ro4, .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)])

        // Return and refund: approved with a fee, shipped, tracked to delivery, received, paid.
        let rr = TestOrder(id: "o-cp-rr", buyer: "b-cp-1")
        try await upsert(rr)
        var c = try #require(try await create(rr, .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 2)]).2.afterSale)
        let approve = Requests.approve(c, fee: 100)
        let approveOptions = Callers.make("merchant", "s-1", key: "k-cp-rr-approve")
        let approved = try await afterSale.reviewAfterSale(approve, options: approveOptions)
        c = try #require(approved.afterSale)
        c = try #require(try await afterSale.submitReturnShipment(Requests.selfShip(c, tracking: "SF-CP-RR"), options: Callers.buyer(rr.buyer)).afterSale)
        let t0 = nowUnixMs() - 60_000
        _ = try await afterSale.ingestTrackingEvent(Requests.tracking(carrier: "SF", number: "SF-CP-RR", .inTransit, at: t0), options: Callers.logistics)
        let rrDelivered = try await afterSale.ingestTrackingEvent(Requests.tracking(carrier: "SF", number: "SF-CP-RR", .delivered, at: t0 + 1_000),
                                                                  options: Callers.logistics)
        #expect(rrDelivered.advanced)
        c.version = rrDelivered.version
        c = try #require(try await afterSale.confirmReturnReceived(Requests.receive(c, condition: .opened), options: merchant).afterSale)
        #expect(try await worker.pay(try await claimOne()).refund?.status == .succeeded)
        var messages = 0
        for (text, options) in [("the parcel left today", Callers.buyer(rr.buyer)), ("received, refund on its way", merchant),
                                ("thanks", Callers.buyer(rr.buyer))] {
            var message = AddMessageRequest()
            message.caseNumber = c.caseNumber
            message.text = text
            _ = try await afterSale.addMessage(message, options: options)
            messages += 1
        }

        // Exchange: self-shipped, delivered, received, replacement shipped and confirmed.
        let ex = TestOrder(id: "o-cp-ex", buyer: "b-cp-2")
        try await upsert(ex)
        c = try #require(try await create(ex, .exchange, reason: "size_does_not_fit", lines: [("l-2", 1)]).2.afterSale)
        c = try #require(try await afterSale.reviewAfterSale(Requests.approve(c), options: merchant).afterSale)
        c = try #require(try await afterSale.submitReturnShipment(Requests.selfShip(c, tracking: "SF-CP-EX"), options: Callers.buyer(ex.buyer)).afterSale)
        let exDelivered = try await afterSale.ingestTrackingEvent(Requests.tracking(carrier: "SF", number: "SF-CP-EX", .delivered, at: t0),
                                                                  options: Callers.logistics)
        #expect(exDelivered.advanced)
        c.version = exDelivered.version
        c = try #require(try await afterSale.confirmReturnReceived(Requests.receive(c), options: merchant).afterSale)
        c = try #require(try await afterSale.shipReplacement(Requests.shipBack(c, tracking: "YT-CP-EX"), options: merchant).afterSale)
        c = try #require(try await afterSale.confirmReplacementReceived(Requests.confirmReplacement(c), options: Callers.buyer(ex.buyer)).afterSale)
        #expect(c.status == .completed)

        // Repair: received and shipped back, not confirmed yet.
        let rp = TestOrder(id: "o-cp-rp", buyer: "b-cp-3")
        try await upsert(rp)
        c = try #require(try await create(rp, .repair, reason: "quality_fault", lines: [("l-1", 1)]).2.afterSale)
        c = try #require(try await afterSale.reviewAfterSale(Requests.approve(c), options: merchant).afterSale)
        c = try #require(try await afterSale.submitReturnShipment(Requests.selfShip(c, tracking: "SF-CP-RP"), options: Callers.buyer(rp.buyer)).afterSale)
        let rpDelivered = try await afterSale.ingestTrackingEvent(Requests.tracking(carrier: "SF", number: "SF-CP-RP", .delivered, at: t0),
                                                                  options: Callers.logistics)
        c.version = rpDelivered.version
        c = try #require(try await afterSale.confirmReturnReceived(Requests.receive(c), options: merchant).afterSale)
        c = try #require(try await afterSale.shipReplacement(Requests.shipBack(c, tracking: "YT-CP-RP"), options: merchant).afterSale)
        #expect(c.status == .repairedShipped)

        // Rejected, and withdrawn.
        let rj = TestOrder(id: "o-cp-rj", buyer: "b-cp-2")
        try await upsert(rj)
        c = try #require(try await create(rj, .returnAndRefund, reason: "no_reason_7_days", lines: [("l-1", 1)]).2.afterSale)
        c = try #require(try await afterSale.reviewAfterSale(Requests.reject(c, reason: "the seal is broken"), options: merchant).afterSale)
        c = try #require(try await create(rj, .exchange, reason: "size_does_not_fit", lines: [("l-2", 1)]).2.afterSale)
        c = try #require(try await afterSale.withdrawAfterSale(Requests.withdraw(c, note: "it fits after all"), options: Callers.buyer(rj.buyer)).afterSale)
        #expect(c.status == .withdrawn)

        // A reason created, then changed.
        var upsertReason = UpsertReasonRequest()
        var reason = AfterSaleProto.Reason()
        reason.code = "cp_gift_unwanted"
        reason.label = "Gift not wanted"
        reason.kinds = [.returnAndRefund, .exchange]
        reason.basis = .other
        reason.active = true
        reason.sortOrder = 95
        upsertReason.reason = reason
        upsertReason.expectedVersion = 0
        let stored = try #require(try await afterSale.upsertReason(upsertReason, options: Callers.platform()).reason)
        reason.label = "Gift not wanted (unopened)"
        reason.active = false
        upsertReason.reason = reason
        upsertReason.expectedVersion = stored.version
        _ = try await afterSale.upsertReason(upsertReason, options: Callers.platform())

        // Consumers' cursors.
        let feed = try await readFeed(afterSale, consumer: "cp-reader")
        let head = feed.last?.cursor ?? 0
        #expect(head > 10 && feed.map(\.cursor) == Array(stride(from: Int64(1), through: head, by: 1)))
        #expect(try await acknowledge(afterSale, consumer: "cp-ledger", cursor: head - 2) == head - 2)
        #expect(try await acknowledge(afterSale, consumer: "cp-inventory", cursor: 3) == 3)

        let refunds = try await allRefunds(client.refundBridge)
        return CopiedPopulation(orders: orders, cases: cases, messages: messages, refunds: refunds.count, feedHead: head,
                                firstCreate: firstCreate, keyedApproval: (approve, approveOptions, approved), pendingRefundID: try #require(pending.2.afterSale?.refund).refundId, channel: channel)
    }
}

/// aftersale-copy's last line: `copied orders=N cases=N … feed_head=N seconds=T`.
private struct CopyReport {
    let line: String
    let counts: [String: Int]

    init(_ stdout: String) {
        line = stdout.split(separator: "\n").last { $0.hasPrefix("copied ") }.map(String.init) ?? ""
        counts = Dictionary(line.split(separator: " ").dropFirst().compactMap { pair -> (String, Int)? in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let n = Int(parts[1]) else { return nil }
            return (String(parts[0]), n)
        }, uniquingKeysWith: { first, _ in first })
    }
}

/// Everything a client reads back from one server about the copy story's store.
private struct StoreView {
    /// GetAfterSale with the trace, serialized, by case number.
    var cases: [String: [UInt8]] = [:]
    /// ListAfterSales, four rows a page, every page.
    var pages: [[AfterSaleProto.AfterSaleSummary]] = []
    /// The whole feed, read from cursor 0 to the head.
    var feed: [Event] = []
    var refunds: [AfterSaleProto.RefundOrder] = []
    var messages: [String: [AfterSaleProto.CaseMessage]] = [:]
    var reasons: [AfterSaleProto.Reason] = []
    var consumerCursors: [String: Int64] = [:]
    var orders: [String: AfterSaleProto.OrderAfterSaleView] = [:]

    static func read(_ client: RPCClient, _ population: CopiedPopulation) async throws -> StoreView {
        let afterSale = client.afterSale
        let agent = Callers.platform()
        var view = StoreView()
        var list = ListAfterSalesRequest()
        list.pageSize = 4
        for _ in 0..<100 {
            let page = try await afterSale.listAfterSales(list, options: agent)
            view.pages.append(page.items)
            if page.nextPageToken.isEmpty { break }
            list.pageToken = page.nextPageToken
        }
        for number in view.pages.joined().map(\.caseNumber) {
            var get = GetAfterSaleRequest()
            get.caseNumber = number
            get.includeTrace = true
            view.cases[number] = try await afterSale.getAfterSale(get, options: agent).serializedBytes()
            var messages = ListMessagesRequest()
            messages.caseNumber = number
            messages.pageSize = 200
            view.messages[number] = try await afterSale.listMessages(messages, options: agent).messages
        }
        view.feed = try await readFeed(afterSale, consumer: "cp-compare")
        view.refunds = try await allRefunds(client.refundBridge)
        var catalog = GetReasonCatalogRequest()
        catalog.includeInactive = true
        view.reasons = try await afterSale.getReasonCatalog(catalog, options: agent).reasons
        for consumer in population.consumers {
            // An acknowledgement of cursor 0 never moves a cursor back: it answers the stored one.
            view.consumerCursors[consumer] = try await acknowledge(afterSale, consumer: consumer, cursor: 0)
        }
        for order in population.orders {
            var state = GetOrderAfterSaleStateRequest()
            state.orderId = order
            view.orders[order] = try await client.orderBridge.getOrderAfterSaleState(state, options: Callers.orderSystem).state
        }
        return view
    }

    /// What differs from `other`, one line per difference.
    func differences(_ other: StoreView) -> [String] {
        var found: [String] = []
        func compare<Key: Comparable, Value: Equatable>(_ what: String, _ mine: [Key: Value], _ theirs: [Key: Value], show: Bool = true) {
            for key in Set(mine.keys).union(theirs.keys).sorted() where mine[key] != theirs[key] {
                let values = show ? ": \(mine[key].map { "\($0)" } ?? "missing") vs \(theirs[key].map { "\($0)" } ?? "missing")" : ""
                found.append("\(what) \(key)\(values)")
            }
        }
        compare("GetAfterSale (with trace) bytes of", cases, other.cases, show: false)
        if pages != other.pages {
            found.append("ListAfterSales pages: \(pages.map { $0.map(\.caseNumber) }) vs \(other.pages.map { $0.map(\.caseNumber) })")
        }
        compare("event at cursor", Dictionary(feed.map { ($0.cursor, $0) }, uniquingKeysWith: { a, _ in a }),
                Dictionary(other.feed.map { ($0.cursor, $0) }, uniquingKeysWith: { a, _ in a }))
        if feed.count != other.feed.count { found.append("feed: \(feed.count) vs \(other.feed.count) events") }
        compare("refund", Dictionary(refunds.map { ($0.refundId, $0) }, uniquingKeysWith: { a, _ in a }),
                Dictionary(other.refunds.map { ($0.refundId, $0) }, uniquingKeysWith: { a, _ in a }))
        if refunds.map(\.refundId) != other.refunds.map(\.refundId) { found.append("ListRefunds order differs") }
        compare("messages of", messages, other.messages)
        if reasons != other.reasons { found.append("reasons: \(reasons.map(\.code)) vs \(other.reasons.map(\.code))") }
        compare("consumer", consumerCursors, other.consumerCursors)
        compare("order", orders, other.orders)
        return found
    }
}
