import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCWire
import Testing

// Issue 4, sections 4.6 and 4.7: the transactional event feed as consumers use it. Events are
// appended in the same transaction as the change, streamed with strictly increasing cursors, and a
// consumer resumes after its last acknowledgement with no gap.

/// The feed must be a sequence of distinct events with strictly increasing cursors, and the events
/// of each case must carry non-decreasing case versions (commit order).
private func expectWellFormed(_ events: [Event], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(events.map(\.eventId)).count == events.count, "event ids are unique", sourceLocation: sourceLocation)
    #expect(events.allSatisfy { !$0.eventId.isEmpty && $0.cursor > 0 && $0.eventType != .unspecified }, sourceLocation: sourceLocation)
    #expect(zip(events, events.dropFirst()).allSatisfy { $0.cursor < $1.cursor }, "cursors strictly increase", sourceLocation: sourceLocation)
    for (number, ofCase) in Dictionary(grouping: events.filter { !$0.caseNumber.isEmpty && $0.eventType != .orderAfterSaleStateChanged },
                                       by: \.caseNumber) {
        #expect(zip(ofCase, ofCase.dropFirst()).allSatisfy { $0.caseVersion <= $1.caseVersion },
                "\(number): events in commit order \(ofCase.map(\.caseVersion))", sourceLocation: sourceLocation)
    }
}

/// Creates a refund-only case on a fresh paid one-line order "o-<name>" of buyer "b-<name>".
private func refundOnlyCase(_ f: IntegrationFixture, _ name: String) async throws -> AfterSaleProto.AfterSaleCase {
    try await f.upsert(TestOrder.single("o-\(name)", buyer: "b-\(name)"))
    return try await f.create(Requests.create(order: "o-\(name)", kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                              buyer: "b-\(name)", key: "k-\(name)")
}

extension Integration {
    @Suite("Event feed: stop at head, filters, acknowledgements, live delivery, consumers that crash")
    struct EventFeedTests {
        @Test("every change appends its events: created, rejected, withdrawn, message, order state; stop_at_head ends OK; filters apply")
        func eventsPerChange() async throws {
            try await IntegrationFixture.run { f in
                try await f.upsert(TestOrder(id: "o-feed"))
                // A case the merchant rejects.
                let rejected = try await f.create(Requests.create(order: "o-feed", kind: .returnAndRefund, reason: "no_reason_7_days",
                                                                  lines: [("l-3", 1)]), key: "k-feed-1")
                let afterReject = try #require(try await f.afterSale.reviewAfterSale(Requests.reject(rejected, reason: "the socks were worn"),
                                                                                     options: Callers.merchant()).afterSale)
                #expect(afterReject.status == .rejected)
                // A case the buyer talks about, then withdraws.
                let withdrawn = try await f.create(Requests.create(order: "o-feed", kind: .returnAndRefund, reason: "no_reason_7_days",
                                                                   lines: [("l-2", 1)]), key: "k-feed-2")
                var message = AddMessageRequest()
                message.caseNumber = withdrawn.caseNumber
                message.text = "is it too late?"
                let sent = try #require(try await f.afterSale.addMessage(message, options: Callers.buyer()).message)
                let afterWithdraw = try #require(try await f.afterSale.withdrawAfterSale(Requests.withdraw(withdrawn, note: "found a use for it"),
                                                                                         options: Callers.buyer()).afterSale)
                #expect(afterWithdraw.status == .withdrawn)

                let feed = try await f.feed()
                expectWellFormed(feed)
                let first = caseEvents(feed, rejected.caseNumber).filter { $0.eventType != .orderAfterSaleStateChanged }
                #expect(first.map(\.eventType) == [.caseCreated, .caseRejected])
                let reject = try #require(first.last)
                #expect(reject.note == "the socks were worn")
                #expect(reject.actorRole == .merchant)
                #expect(reject.actorId == "s-1")
                #expect(reject.fromStatus == .pendingReview)
                #expect(reject.toStatus == .rejected)
                #expect(reject.caseVersion == afterReject.version)
                #expect(reject.orderId == "o-feed" && reject.shopId == "s-1" && reject.buyerId == "b-1" && reject.kind == .returnAndRefund)
                #expect(reject.notifications.contains { $0.recipientRole == .buyer && $0.recipientId == "b-1" && $0.templateKey.hasPrefix("aftersale.") },
                        "the buyer hears of the rejection: \(reject.notifications)")
                let created = try #require(first.first)
                #expect(created.actorRole == .buyer && created.actorId == "b-1")
                #expect(created.toStatus == .pendingReview)
                #expect(created.caseVersion == rejected.version)
                #expect(!created.notifications.isEmpty, "someone hears of the application")
                #expect(created.notifications.allSatisfy { ($0.recipientRole == .merchant && $0.recipientId == "s-1")
                            || ($0.recipientRole == .buyer && $0.recipientId == "b-1") }, "\(created.notifications)")

                let second = caseEvents(feed, withdrawn.caseNumber).filter { $0.eventType != .orderAfterSaleStateChanged }
                #expect(second.map(\.eventType) == [.caseCreated, .messageAdded, .caseWithdrawn])
                #expect(second.dropFirst().first?.message?.text == "is it too late?")
                #expect(second.dropFirst().first?.message?.messageId == sent.messageId)
                #expect(second.last?.note == "found a use for it")
                #expect(second.last?.actorRole == .buyer)
                #expect(second.last?.toStatus == .withdrawn)

                // The order system saw the order go into after-sales and out again, twice.
                let states = orderStateEvents(feed, order: "o-feed")
                #expect(states.map { $0.orderState?.state ?? .unspecified } == [.inProgress, .none, .inProgress, .none])
                #expect(states.map { $0.orderState?.openCaseNumbers ?? ["?"] } == [[rejected.caseNumber], [], [withdrawn.caseNumber], []])
                #expect(states.map { $0.orderState?.mayComplete ?? false } == [false, true, false, true])
                #expect(states.map(\.caseNumber) == [rejected.caseNumber, rejected.caseNumber, withdrawn.caseNumber, withdrawn.caseNumber])

                // Type filters.
                let createdOnly = try await f.feed(consumer: "created-only", types: [.caseCreated])
                #expect(createdOnly.map(\.eventId) == feed.filter { $0.eventType == .caseCreated }.map(\.eventId))
                #expect(createdOnly.count == 2)
                let endings = try await f.feed(consumer: "endings", types: [.caseRejected, .caseWithdrawn])
                #expect(endings.map(\.eventType) == [.caseRejected, .caseWithdrawn])
                // A start cursor: exactly the suffix after it.
                let middle = feed[feed.count / 2].cursor
                let suffix = try await f.feed(consumer: "suffix", from: middle)
                #expect(suffix.map(\.eventId) == feed.filter { $0.cursor > middle }.map(\.eventId))
                #expect(try await f.feed(consumer: "at-head", from: feed.last?.cursor ?? 0).isEmpty)
                // The stream is the same for a platform caller, and refused to everyone else.
                #expect(try await readFeed(f.afterSale, consumer: "platform-view", options: Callers.platform()).map(\.eventId) == feed.map(\.eventId))
                for options in [Callers.buyer(), Callers.merchant(), Callers.agent()] {
                    let refused = await rpcError { try await readFeed(f.afterSale, consumer: "nosy", options: options) }
                    #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
                    let ack = await rpcError { try await acknowledge(f.afterSale, consumer: "nosy", cursor: 1, options: options) }
                    #expect(ack?.code == .permissionDenied, "\(String(describing: ack))")
                }
                #expect(await rpcError { try await readFeed(f.afterSale, consumer: "nobody", options: Callers.anonymous) }?.code == .unauthenticated)
            }
        }

        @Test("acknowledgements: stored as the maximum, never backwards, beyond the head refused; a consumer resumes after its cursor")
        func acknowledgements() async throws {
            try await IntegrationFixture.run { f in
                for i in 0..<4 { _ = try await refundOnlyCase(f, "ack-\(i)") }
                let feed = try await f.feed()
                #expect(feed.count >= 8)
                let head = try #require(feed.last).cursor
                let mid = feed[feed.count / 2].cursor
                let low = feed[1].cursor

                // A new consumer starts from the beginning.
                #expect(try await f.feed(consumer: "billing", from: nil).map(\.eventId) == feed.map(\.eventId))
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: mid) == mid)
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: low) == mid, "never backwards")
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: 0) == mid)
                // Without from_cursor it resumes right after its acknowledgement: no gap, nothing before it.
                let resumed = try await f.feed(consumer: "billing", from: nil)
                #expect(resumed.map(\.eventId) == feed.filter { $0.cursor > mid }.map(\.eventId))
                // Beyond the head: refused, and the stored cursor is unchanged.
                let beyond = await rpcError { try await acknowledge(f.afterSale, consumer: "billing", cursor: head + 1) }
                #expect(beyond?.code == .invalidArgument, "\(String(describing: beyond))")
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: low) == mid)
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: head) == head)
                #expect(try await f.feed(consumer: "billing", from: nil).isEmpty)
                // Consumers are independent; from_cursor overrides the stored cursor.
                #expect(try await f.feed(consumer: "billing", from: low).map(\.eventId) == feed.filter { $0.cursor > low }.map(\.eventId))
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: 0) == head, "reading from a cursor does not move the acknowledgement")
                #expect(try await acknowledge(f.afterSale, consumer: "search-indexer", cursor: low) == low)

                // New events after the acknowledged head are what the consumer gets next.
                let later = try await refundOnlyCase(f, "ack-later")
                let next = try await f.feed(consumer: "billing", from: nil)
                #expect(!next.isEmpty)
                #expect(next.allSatisfy { $0.cursor > head && $0.caseNumber == later.caseNumber })
                #expect(next.first?.eventType == .caseCreated)

                // The acknowledgement survives a restart of the server.
                try await f.restart()
                #expect(try await acknowledge(f.afterSale, consumer: "billing", cursor: 0) == head)
                #expect(try await f.feed(consumer: "billing", from: nil).map(\.eventId) == next.map(\.eventId))
                #expect(try await f.feed().map(\.eventId) == feed.map(\.eventId) + next.map(\.eventId), "the feed survives a restart as it was")
            }
        }

        @Test("consumer names: 1–128 characters of [A-Za-z0-9._-], else INVALID_ARGUMENT")
        func consumerNames() async throws {
            try await IntegrationFixture.run { f in
                _ = try await refundOnlyCase(f, "names")
                for bad in ["", "has space", String(repeating: "n", count: 129), "消费者", "a/b", "tab\t", "semi;colon"] {
                    let subscribe = await rpcError { try await readFeed(f.afterSale, consumer: bad) }
                    #expect(subscribe?.code == .invalidArgument, "subscribe \"\(bad)\": \(String(describing: subscribe))")
                    let ack = await rpcError { try await acknowledge(f.afterSale, consumer: bad, cursor: 1) }
                    #expect(ack?.code == .invalidArgument, "acknowledge \"\(bad)\": \(String(describing: ack))")
                }
                for good in ["A", "inventory.v2_consumer-1", String(repeating: "n", count: 128)] {
                    #expect(try await readFeed(f.afterSale, consumer: good).isEmpty == false, "\(good)")
                    #expect(try await acknowledge(f.afterSale, consumer: good, cursor: 1) == 1)
                }
            }
        }

        @Test("live delivery: an open stream gets each new event within a second, filtered, until the consumer leaves")
        func liveDelivery() async throws {
            try await IntegrationFixture.run { f in
                let first = try await refundOnlyCase(f, "live-0")
                let head = try await f.head()
                let everything = try f.consumer("live-all", from: head)
                let messages = try f.consumer("live-messages", from: head, types: [.messageAdded])
                try await Task.sleep(for: .milliseconds(100))
                #expect(everything.events.isEmpty, "nothing after the head yet: \(everything.events.map(\.eventType))")

                let clock = ContinuousClock()
                let start = clock.now
                let second = try await refundOnlyCase(f, "live-1")
                let created = await everything.waitFor(.caseCreated, case: second.caseNumber, timeout: .seconds(3))
                let latency = clock.now - start
                #expect(created != nil, "the new case reached the open stream")
                #expect(latency < .seconds(1), "delivered in \(latency)")

                var message = AddMessageRequest()
                message.caseNumber = first.caseNumber
                message.text = "live"
                _ = try await f.afterSale.addMessage(message, options: Callers.buyer("b-live-0"))
                let delivered = await messages.waitFor(.messageAdded, case: first.caseNumber, timeout: .seconds(3))
                #expect(delivered?.message?.text == "live")
                #expect(await everything.waitFor(.messageAdded, case: first.caseNumber, timeout: .seconds(3)) != nil)
                #expect(messages.events.allSatisfy { $0.eventType == .messageAdded })
                #expect(messages.events.count == 1)
                #expect(everything.ended == nil, "the stream stays open")
                // What the live stream delivered is exactly the feed after the head, in order.
                let feed = try await f.feed(from: head)
                #expect(await everything.wait(timeout: .seconds(3)) { $0.count >= feed.count })
                #expect(everything.events.map(\.eventId) == feed.map(\.eventId))

                // The consumer leaves; the server ends its side (new events go nowhere, later calls still work).
                await everything.stop()
                await messages.stop()
                #expect(everything.ended != nil)
                _ = try await refundOnlyCase(f, "live-2")
                #expect(try await f.feed(from: head).count > feed.count)
            }
        }

        @Test("a consumer killed mid-stream resumes after its acknowledgement: no gap, a few duplicates dropped by event id")
        func consumerCrashResumes() async throws {
            try await IntegrationFixture.run { f in
                for i in 0..<10 { _ = try await refundOnlyCase(f, "crash-\(i)") }
                let before = try await f.feed(consumer: "count-before")
                #expect(before.count >= 20)

                // First life: process events one by one, acknowledge every fifth, die after about half
                // (its connection drops without a goodbye, as when the process is killed).
                let consumerName = "inventory-sync"
                let firstConnection = try f.newClient()
                let firstLife = Collected<Event>()
                let acknowledged = Collected<Int64>()
                let stopAfter = before.count / 2 + 2
                let firstAfterSale = firstConnection.afterSale
                do {
                    try await withTimeout(.seconds(10), "first life") {
                        let stream = firstAfterSale.subscribe(subscribeRequest(consumer: consumerName, from: nil, stopAtHead: false),
                                                              options: Callers.system("inventory", timeout: .seconds(20)))
                        for try await event in stream {
                            firstLife.append(event)
                            if firstLife.count % 5 == 0 {
                                let stored = try await acknowledge(firstAfterSale, consumer: consumerName, cursor: event.cursor,
                                                                   options: Callers.system("inventory"))
                                acknowledged.append(stored)
                            }
                            if firstLife.count >= stopAfter {
                                firstConnection.close()
                                return
                            }
                        }
                    }
                } catch {
                    // The stream may end with UNAVAILABLE once the connection is closed under it.
                }
                let ackedCursor = acknowledged.all.last ?? 0
                #expect(acknowledged.all == acknowledged.all.sorted(), "the stored cursor only moves forward")
                #expect(firstLife.count == stopAfter)
                #expect(ackedCursor == firstLife.all[(stopAfter / 5) * 5 - 1].cursor)

                // While it is down, more cases come in.
                for i in 10..<14 { _ = try await refundOnlyCase(f, "crash-\(i)") }

                // Second life: a new connection, no from_cursor; it drops what it already processed.
                let secondConnection = try f.newClient()
                let secondLife = try await readFeed(secondConnection.afterSale, consumer: consumerName, from: nil,
                                                    options: Callers.system("inventory", timeout: .seconds(10)))
                let feed = try await f.feed(consumer: "truth")
                expectWellFormed(feed)
                #expect(secondLife.map(\.eventId) == feed.filter { $0.cursor > ackedCursor }.map(\.eventId), "resumes right after the acknowledgement")
                var processed = Set(firstLife.all.map(\.eventId))
                var duplicates = 0
                for event in secondLife where !processed.insert(event.eventId).inserted { duplicates += 1 }
                #expect(duplicates == firstLife.all.filter { $0.cursor > ackedCursor }.count, "only the unacknowledged events come again")
                #expect(duplicates <= 4)
                #expect(processed == Set(feed.map(\.eventId)), "the union of what it processed is the feed")
                if let last = secondLife.last {
                    #expect(try await acknowledge(secondConnection.afterSale, consumer: consumerName, cursor: last.cursor,
                                                  options: Callers.system("inventory")) == last.cursor)
                }
                #expect(try await readFeed(secondConnection.afterSale, consumer: consumerName, from: nil).isEmpty)
            }
        }
    }
}
