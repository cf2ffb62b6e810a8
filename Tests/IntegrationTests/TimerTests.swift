import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCWire
import Testing

// Timers through real aftersaled processes: millisecond waits given by flags, the worker in the
// process firing them, a server killed with SIGKILL and restarted, and (on PostgreSQL) two replicas
// watching the same timers with one killed mid-way.

/// What the timer stories share.
enum TimerStories {
    /// Waits in milliseconds, and a worker that looks every 100 ms.
    static func arguments(review: String = "1500ms", lead: String = "500ms", perSecond: Int = 200) -> [String] {
        ["--timer-merchant-review", review, "--timer-return-shipment", "60s", "--timer-receipt-confirmation", "60s",
         "--timer-replacement-confirmation", "60s", "--timer-reminder-lead", lead, "--timer-poll-interval", "100ms",
         "--timer-max-per-second", String(perSecond), "--timer-backlog-after", "100ms"]
    }

    /// Opens a return-and-refund case on a fresh order `order` of buyer b-1.
    static func open(_ client: RPCClient, order: String) async throws -> AfterSaleProto.AfterSaleCase {
        _ = try await client.orderBridge.upsertOrder(try TestOrder(id: order, status: .delivered).upsertRequest(),
                                                     options: Callers.orderSystem)
        let request = Requests.create(order: order, kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)])
        let created = try await client.afterSale.createAfterSale(request, options: Callers.buyer("b-1", key: "timer-\(order)"))
        return try #require(created.afterSale)
    }

    static func get(_ client: RPCClient, _ number: String) async throws -> AfterSaleProto.AfterSaleCase {
        var request = GetAfterSaleRequest()
        request.caseNumber = number
        return try #require(try await client.afterSale.getAfterSale(request, options: Callers.platform()).afterSale)
    }

    /// Polls every 100 ms (at most `timeout`) until every case has left PENDING_REVIEW; the cases as last read.
    static func awaitApproval(_ client: RPCClient, _ numbers: [String], timeout: Duration = .seconds(15)) async throws
        -> [AfterSaleProto.AfterSaleCase] {
        let deadline = ContinuousClock.now + timeout
        while true {
            var cases: [AfterSaleProto.AfterSaleCase] = []
            for number in numbers { cases.append(try await get(client, number)) }
            if cases.allSatisfy({ $0.status != .pendingReview }) || ContinuousClock.now >= deadline { return cases }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The timeline entries a timer wrote.
    static func timerEntries(_ afterSale: AfterSaleProto.AfterSaleCase) -> [TimelineEntry] {
        afterSale.timeline.filter { $0.actorRole == .system && $0.actorId == "timer" }
    }
}

extension Integration {
    @Suite("Timers: silent cases move by themselves, on time, once, across restarts")
    struct TimerTests {
        @Test("a silent merchant's case is approved by the timer within a second of its due time, after one reminder")
        func onTime() async throws {
            try await TestStore.with("timers") { store in
                let replicas = try await ReplicaSet.start(1, store: store, extraArguments: TimerStories.arguments())
                defer { replicas.killAll() }
                let client = try replicas.client()
                defer { client.close() }

                let opened = try await TimerStories.open(client, order: "o-timer")
                let step = try #require(opened.nextAutomaticStep)
                #expect(step.rule == "merchant_review")
                #expect(step.dueAtUnixMs == opened.createdAtUnixMs + 1_500)
                #expect(step.reminderAtUnixMs == opened.createdAtUnixMs + 1_000)

                let approved = try #require(try await TimerStories.awaitApproval(client, [opened.caseNumber]).first)
                #expect(approved.status == .awaitingReturn)
                let entry = try #require(TimerStories.timerEntries(approved).first)
                #expect(entry.note.contains("timer merchant_review, policy platform"))
                let lateness = entry.atUnixMs - step.dueAtUnixMs
                #expect((0...1_000).contains(lateness), "fired \(lateness) ms after its due time")
                #expect(approved.nextAutomaticStep?.rule == "return_shipment")

                let feed = try await readFeed(client.afterSale, consumer: "timer-audit")
                let reminders = feed.filter { $0.eventType == .timerReminder && $0.caseNumber == opened.caseNumber }
                #expect(reminders.count == 1)
                #expect(reminders.first?.notifications.first?.templateKey == "aftersale.timer.merchant_review.reminder.merchant")
                #expect(feed.filter { $0.eventType == .caseApproved && $0.caseNumber == opened.caseNumber }.count == 1)
                #expect(await replicas.stop().allSatisfy { $0 == 0 })
            }
        }

        @Test("timers that came due while the server was killed fire after the restart, oldest first, each once")
        func catchUpAfterKill() async throws {
            try await TestStore.with("timercatchup") { store in
                let arguments = TimerStories.arguments(review: "1s", lead: "0ms", perSecond: 5)
                let first = try await ReplicaSet.start(1, store: store, extraArguments: arguments)
                var numbers: [String] = []
                do {
                    let client = try first.client()
                    defer { client.close() }
                    for index in 0..<3 {
                        numbers.append(try await TimerStories.open(client, order: "o-catch-\(index)").caseNumber)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                first.killAll()
                _ = await first.servers[0].waitForExit(timeout: .seconds(5))
                try await Task.sleep(for: .milliseconds(1_500))   // every review timer is now overdue

                let second = try await ReplicaSet.start(1, store: store, extraArguments: arguments)
                defer { second.killAll() }
                let client = try second.client()
                defer { client.close() }
                let cases = try await TimerStories.awaitApproval(client, numbers)
                #expect(cases.allSatisfy { $0.status == .awaitingReturn })
                #expect(cases.allSatisfy { TimerStories.timerEntries($0).count == 1 })
                let firedAt = cases.compactMap { TimerStories.timerEntries($0).first?.atUnixMs }
                #expect(firedAt == firedAt.sorted(), "oldest first: \(firedAt)")
                // At 5 a second, the backlog drains over a few hundred milliseconds, not at once.
                if let earliest = firedAt.first, let latest = firedAt.last { #expect(latest - earliest >= 300) }
                #expect(await second.stop().allSatisfy { $0 == 0 })
            }
        }
    }

    @Suite("Replicas: timers on two replicas of one PostgreSQL, one killed with SIGKILL mid-way")
    struct TimerReplicas {
        @Test("every timer acts exactly once and reminds at most once, though both replicas watch it and one dies")
        func exactlyOnce() async throws {
            try await TestStore.with("timerreplicas", backend: .postgres) { store in
                let replicas = try await ReplicaSet.start(2, store: store, extraArguments: TimerStories.arguments(review: "2s", lead: "800ms"))
                defer { replicas.killAll() }
                let client = try replicas.client(1)
                defer { client.close() }
                let spread = try replicas.client()
                defer { spread.close() }

                var numbers: [String] = []
                for index in 0..<24 {
                    numbers.append(try await TimerStories.open(spread, order: "o-rep-\(index)").caseNumber)
                    try await Task.sleep(for: .milliseconds(60))
                }
                // Some timers have fired, some are due now, some later: kill replica 0.
                let victim = replicas.servers[0]
                victim.signal(SIGKILL)
                _ = await victim.waitForExit(timeout: .seconds(5))

                let cases = try await TimerStories.awaitApproval(client, numbers, timeout: .seconds(20))
                #expect(cases.allSatisfy { $0.status == .awaitingReturn }, "\(cases.filter { $0.status != .awaitingReturn }.map(\.caseNumber))")
                #expect(cases.allSatisfy { TimerStories.timerEntries($0).count == 1 })
                let feed = try await readFeed(client.afterSale, consumer: "timer-replicas")
                for number in numbers {
                    #expect(feed.filter { $0.eventType == .caseApproved && $0.caseNumber == number }.count == 1, "\(number)")
                    #expect(feed.filter { $0.eventType == .timerReminder && $0.caseNumber == number }.count <= 1, "\(number)")
                }
                #expect(await replicas.stop().dropFirst().allSatisfy { $0 == 0 })
            }
        }
    }
}
