import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCWire
import Synchronization
import Testing

// The event feed

func subscribeRequest(consumer: String, from: Int64?, types: [AfterSaleProto.EventType] = [], stopAtHead: Bool) -> SubscribeRequest {
    var r = SubscribeRequest()
    r.consumerName = consumer
    r.fromCursor = from
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

/// The cases of `numbers` that do not have exactly one event of each of `types` in `feed`, one
/// sentence each ("AS…: 2 × EVENT_TYPE_…").
func eventsNotOnce(_ feed: [Event], cases numbers: some Sequence<String>, types: [AfterSaleProto.EventType]) -> [String] {
    let byCase = Dictionary(grouping: feed.filter { !$0.caseNumber.isEmpty }, by: \.caseNumber)
    var problems: [String] = []
    for number in numbers {
        let seen = (byCase[number] ?? []).map(\.eventType)
        for type in types {
            let n = seen.filter { $0 == type }.count
            if n != 1 { problems.append("\(number): \(n) × \(type)") }
        }
    }
    return problems
}
