import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import RPCServer
import RPCWire
import StorageConformance
import Testing

/// Timers over the in-memory store, on a clock the test moves, stepped by the worker's `sweep()`.
@Suite("Timers: the worker moves silent cases, the platform steers it")
struct TimerServiceTests {
    static let platform = Principal.platform("p-1")
    static let merchant = Principal.merchant("m-1", shop: "s-1")

    /// A fixture whose waits are seconds long: review 10 s (reminder 4 s before), shipment 20 s,
    /// receipt 30 s, replacement 40 s.
    static func fixture(reminderLeadMs: Int64 = 4_000) async throws -> ServiceFixture {
        var f = ServiceFixture()
        f.policy.timers = TimerPolicy(durations: [.merchantReview: 10_000, .returnShipment: 20_000, .receiptConfirmation: 30_000,
                                                  .replacementConfirmation: 40_000], reminderLeadMs: reminderLeadMs)
        try await f.store.saveOrder(StorageFixture.order(status: .delivered))
        return f
    }

    static func returnRequest(line: String = "l-3") -> CreateAfterSaleRequest {
        var request = ServiceFixture.refundOnly()
        request.kind = .returnAndRefund
        request.reasonCode = "no_reason_7_days"
        var photo = EvidenceRef()
        photo.url = "https://img.example.com/evidence/timer.jpg"
        photo.contentType = "image/jpeg"
        photo.sizeBytes = 90_000
        request.evidence = [photo]
        request.lines[0].orderLineId = line
        return request
    }

    static func open(_ f: ServiceFixture, key: String = "k-1", line: String = "l-3") async throws -> AfterSaleProto.AfterSaleCase {
        try #require(try await f.afterSale.createAfterSale(returnRequest(line: line), context: ServiceFixture.creating(key: key)).afterSale)
    }

    static func get(_ f: ServiceFixture, _ number: String) async throws -> AfterSaleProto.AfterSaleCase {
        var request = GetAfterSaleRequest()
        request.caseNumber = number
        return try #require(try await f.afterSale.getAfterSale(request, context: ServiceFixture.context(AfterSaleService.getAfterSale.info,
                                                                                                         as: platform)).afterSale)
    }

    static func reminders(_ f: ServiceFixture) async throws -> Int {
        try await f.store.events(after: 0, types: [.timerReminder], limit: 100, scanLimit: 10_000).events.count
    }

    static func controls(_ method: RPCMethodInfo, as principal: Principal = platform) -> ServerContext {
        ServiceFixture.context(method, as: principal)
    }

    @Test("a silent merchant is reminded once before the deadline, then the case is approved by the timer, recorded with its rule and policy")
    func merchantSilent() async throws {
        let f = try await Self.fixture()
        let start = f.clock.now()
        let opened = try await Self.open(f)
        let step = try #require(opened.nextAutomaticStep)
        #expect(step.rule == "merchant_review")
        #expect(step.action == .autoApprove)
        #expect(step.outcome == "approves automatically")
        #expect(step.dueAtUnixMs == start.millisecondsSinceEpoch + 10_000)
        #expect(step.reminderAtUnixMs == start.millisecondsSinceEpoch + 6_000)
        #expect(step.policyVersion == "platform")
        #expect(opened.dueAtUnixMs == step.dueAtUnixMs)

        f.clock.advance(milliseconds: 5_999)
        #expect(await f.timerWorker.sweep().total == 0)
        f.clock.advance(milliseconds: 1)
        #expect(await f.timerWorker.sweep().reminded == 1)
        #expect(await f.timerWorker.sweep().total == 0)
        #expect(try await Self.reminders(f) == 1)
        #expect(try await Self.get(f, opened.caseNumber).nextAutomaticStep?.reminderAtUnixMs == 0)

        f.clock.advance(milliseconds: 4_000)
        #expect(await f.timerWorker.sweep().fired == 1)
        #expect(await f.timerWorker.sweep().total == 0)
        let approved = try await Self.get(f, opened.caseNumber)
        #expect(approved.status == .awaitingReturn)
        let entry = try #require(approved.timeline.last)
        #expect(entry.actorRole == .system)
        #expect(entry.actorId == "timer")
        #expect(entry.note.contains("timer merchant_review, policy platform"))
        #expect(approved.nextAutomaticStep?.rule == "return_shipment")
        #expect(approved.nextAutomaticStep?.dueAtUnixMs == start.millisecondsSinceEpoch + 30_000)
        let number = try CaseNumber(parsing: opened.caseNumber)
        let trace = try #require(try await f.store.traceRecords(of: number).last)
        #expect(trace.actor == TimerRule.actor)
        #expect(trace.details.contains("policy platform"))
        let approvals = try await f.store.events(after: 0, types: [.caseApproved], limit: 10, scanLimit: 1_000).events
        #expect(approvals.count == 1)

        // Nobody ships: the next timer closes the case.
        f.clock.advance(milliseconds: 20_000)
        #expect(await f.timerWorker.sweep().fired == 1)
        let closed = try await Self.get(f, opened.caseNumber)
        #expect(closed.status == .closed)
        #expect(closed.nextAutomaticStep == nil)
        #expect(try await f.store.caseTimer(of: number) == nil)
    }

    @Test("a case the merchant answered in time is left alone; the worker acts on the wait that follows")
    func answeredInTime() async throws {
        let f = try await Self.fixture(reminderLeadMs: 0)
        let opened = try await Self.open(f)
        f.clock.advance(milliseconds: 9_000)
        var review = ReviewAfterSaleRequest()
        review.caseNumber = opened.caseNumber
        review.decision = .approve
        review.returnAddress = AfterSaleProto.Address()
        review.returnAddress?.contactName = "Returns"
        review.returnAddress?.phone = "13800000000"
        review.returnAddress?.city = "Hangzhou"
        review.returnAddress?.street = "1 Road"
        let reviewed = try #require(try await f.afterSale.reviewAfterSale(review, context: Self.controls(AfterSaleService.reviewAfterSale.info,
                                                                                                          as: Self.merchant)).afterSale)
        #expect(reviewed.nextAutomaticStep?.rule == "return_shipment")
        f.clock.advance(milliseconds: 2_000)
        #expect(await f.timerWorker.sweep().total == 0)
        let after = try await Self.get(f, opened.caseNumber)
        #expect(after.status == .awaitingReturn)
        #expect(after.timeline.filter { $0.actorId == "timer" }.isEmpty)
    }

    @Test("a pause moves deadlines by the paused time (shown in GetAfterSale and list rows); ending it early moves them back")
    func pauses() async throws {
        let f = try await Self.fixture(reminderLeadMs: 0)
        let start = f.clock.now().millisecondsSinceEpoch
        let opened = try await Self.open(f)
        let other = try await Self.open(f, key: "k-2", line: "l-2")

        var pause = PauseTimersRequest()
        pause.startsAtUnixMs = start + 2_000
        pause.endsAtUnixMs = start + 7_000
        pause.shopIds = ["s-1"]
        pause.reason = "春节 Spring Festival"
        let paused = try #require(try await f.timerControls.pauseTimers(pause, context: Self.controls(Timers.pauseTimers.info)).pause)
        #expect(try await Self.get(f, opened.caseNumber).dueAtUnixMs == start + 15_000)

        var list = ListAfterSalesRequest()
        list.pageSize = 10
        let rows = try await f.afterSale.listAfterSales(list, context: Self.controls(AfterSaleService.listAfterSales.info)).items
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0.nextAutomaticStep?.dueAtUnixMs == start + 15_000 })

        f.clock.advance(milliseconds: 3_000)
        #expect(try await Self.get(f, opened.caseNumber).nextAutomaticStep?.paused == true)
        f.clock.advance(milliseconds: 7_000)        // the unpaused deadline: recounted, not fired
        #expect(await f.timerWorker.sweep().rescheduled == 2)
        #expect(try await Self.get(f, opened.caseNumber).status == .pendingReview)

        // Ended at +10 s, the pause covered 5 s anyway; end it now: no further change.
        var end = EndTimerPauseRequest()
        end.pauseId = paused.pauseId
        end.expectedVersion = 1
        await #expect(throws: RPCError.self) { try await f.timerControls.endTimerPause(end, context: Self.controls(Timers.endTimerPause.info)) }

        f.clock.advance(milliseconds: 5_000)
        #expect(await f.timerWorker.sweep().fired == 2)
        #expect(try await Self.get(f, other.caseNumber).status == .awaitingReturn)
    }

    @Test("ending a pause early brings deadlines forward again")
    func endingEarly() async throws {
        let f = try await Self.fixture(reminderLeadMs: 0)
        let start = f.clock.now().millisecondsSinceEpoch
        let opened = try await Self.open(f)
        var pause = PauseTimersRequest()
        pause.startsAtUnixMs = start + 1_000
        pause.endsAtUnixMs = start + 86_400_000
        pause.reason = "maintenance"
        let paused = try #require(try await f.timerControls.pauseTimers(pause, context: Self.controls(Timers.pauseTimers.info)).pause)
        f.clock.advance(milliseconds: 10_000)
        #expect(await f.timerWorker.sweep().rescheduled == 1)
        #expect(try await f.store.dueTimers(at: f.clock.now(), limit: 10).isEmpty)

        f.clock.advance(milliseconds: 2_000)         // +12 s: 1 s counted before, 11 s paused
        var end = EndTimerPauseRequest()
        end.pauseId = paused.pauseId
        end.expectedVersion = 1
        let ended = try #require(try await f.timerControls.endTimerPause(end, context: Self.controls(Timers.endTimerPause.info)).pause)
        #expect(ended.endsAtUnixMs == start + 12_000)
        #expect(ended.version == 2)
        #expect(try await Self.get(f, opened.caseNumber).dueAtUnixMs == start + 21_000)
        f.clock.advance(milliseconds: 9_000)
        let sweep = await f.timerWorker.sweep()
        #expect(sweep.fired == 1)
        #expect(try await Self.get(f, opened.caseNumber).status == .awaitingReturn)
    }

    @Test("a shop's override applies to waits that start after it and names its version; only the next version is accepted")
    func overrides() async throws {
        let f = try await Self.fixture()
        var set = SetTimerOverrideRequest()
        set.scope = "shop:s-1"
        set.durations = TimerDurations()
        set.durations?.merchantReviewMs = 3_000
        let stored = try #require(try await f.timerControls.setTimerOverride(set, context: Self.controls(Timers.setTimerOverride.info)).override)
        #expect(stored.version == 1)
        #expect(stored.setBy == "platform:p-1")
        do {
            _ = try await f.timerControls.setTimerOverride(set, context: Self.controls(Timers.setTimerOverride.info))
            Issue.record("a stale override was stored")
        } catch {
            #expect((error as? RPCError)?.code == .aborted)
        }
        let opened = try await Self.open(f)
        #expect(opened.nextAutomaticStep?.durationMs == 3_000)
        #expect(opened.nextAutomaticStep?.policyVersion == "shop:s-1@v1")

        var get = GetTimerPolicyRequest()
        get.shopId = "s-1"
        let policy = try await f.timerControls.getTimerPolicy(get, context: Self.controls(Timers.getTimerPolicy.info))
        #expect(policy.platform?.merchantReviewMs == 10_000)
        #expect(policy.overrides.map(\.scope) == ["shop:s-1"])
        #expect(policy.effective.first { $0.rule == "merchant_review" }?.policyVersion == "shop:s-1@v1")

        for (scope, duration) in [("brand:x", Int64(1_000)), ("shop:s-1", 0)] {
            var bad = SetTimerOverrideRequest()
            bad.scope = scope
            bad.durations = TimerDurations()
            bad.durations?.merchantReviewMs = duration
            bad.expectedVersion = 1
            do {
                _ = try await f.timerControls.setTimerOverride(bad, context: Self.controls(Timers.setTimerOverride.info))
                Issue.record("\(scope) \(duration) was stored")
            } catch {
                #expect((error as? RPCError)?.code == .invalidArgument)
            }
        }
        do {
            _ = try await f.timerControls.getTimerPolicy(get, context: Self.controls(Timers.getTimerPolicy.info, as: Self.merchant))
            Issue.record("a merchant read the timer policy")
        } catch {
            #expect((error as? RPCError)?.code == .permissionDenied)
        }
    }

    @Test("FireTimer applies a case's pending timer now and records who asked; a case without one is FAILED_PRECONDITION")
    func fireNow() async throws {
        let f = try await Self.fixture()
        let opened = try await Self.open(f)
        var fire = FireTimerRequest()
        fire.caseNumber = opened.caseNumber
        let fired = try await f.timerControls.fireTimer(fire, context: Self.controls(Timers.fireTimer.info))
        #expect(fired.rule == "merchant_review")
        #expect(fired.afterSale?.status == .awaitingReturn)
        #expect(fired.afterSale?.timeline.last?.note.contains("fired early by platform:p-1") == true)
        #expect(fired.afterSale?.nextAutomaticStep?.rule == "return_shipment")
        // The worker finds nothing left to do for the review.
        f.clock.advance(milliseconds: 10_000)
        #expect(await f.timerWorker.sweep().total == 0)

        // Closed by the next firing: no timer remains.
        _ = try await f.timerControls.fireTimer(fire, context: Self.controls(Timers.fireTimer.info))
        do {
            _ = try await f.timerControls.fireTimer(fire, context: Self.controls(Timers.fireTimer.info))
            Issue.record("fired a closed case's timer")
        } catch {
            #expect((error as? RPCError)?.code == .failedPrecondition)
        }
    }

    @Test("after downtime every overdue timer fires on the first sweeps, each once")
    func catchUp() async throws {
        let f = try await Self.fixture(reminderLeadMs: 0)
        var numbers: [String] = []
        for (index, line) in ["l-1", "l-2", "l-3"].enumerated() {
            numbers.append(try await Self.open(f, key: "k-\(index)", line: line).caseNumber)
            f.clock.advance(milliseconds: 1_000)
        }
        f.clock.advance(milliseconds: 3_600_000)
        let sweep = await f.timerWorker.sweep()
        #expect(sweep.fired == 3)
        for number in numbers { #expect(try await Self.get(f, number).status == .awaitingReturn) }
        // The follow-up waits start when the timers acted, not when their cases were opened.
        #expect(await f.timerWorker.sweep().total == 0)
        f.clock.advance(milliseconds: 20_000)
        #expect(await f.timerWorker.sweep().fired == 3)
        #expect(await f.timerWorker.sweep().total == 0)
    }
}
