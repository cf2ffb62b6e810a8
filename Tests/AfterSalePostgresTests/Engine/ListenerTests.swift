import Foundation
import Testing
@testable import AfterSalePostgres

@Suite("The notification listener")
struct ListenerTests {
    @Test("a notification sent from another connection arrives within milliseconds, on every listened channel")
    func deliversNotifications() async throws {
        let channel = TestDatabase.unique("Feed Channel")
        let quoted = TestDatabase.unique("with\"quote")
        let received = Mailbox<PostgresNotification>()
        let listener = PostgresListener(configuration: try TestDatabase.configuration(), channels: [channel, quoted],
                                        onNotification: { received.put($0) })
        defer { listener.close() }
        #expect(await listener.waitUntilListening(timeout: .seconds(10)))

        let sender = try await onThread { try PostgresConnection(configuration: TestDatabase.configuration()) }
        let sentAt = ContinuousClock.now
        try await onThread { try sender.notify(channel: channel, payload: "case 42 changed") }
        let first = await received.wait(for: .seconds(5)) { $0.channel == channel }
        #expect(first?.value.payload == "case 42 changed")
        #expect(first?.value.senderPID == sender.backendPID)
        if let first { #expect(first.at - sentAt < .seconds(5), "delivered, not lost to the poll") }

        try await onThread { try sender.notify(channel: quoted) }
        let second = await received.wait(for: .seconds(5)) { $0.channel == quoted }
        #expect(second?.value.payload == "")

        let closing = ContinuousClock.now
        listener.close()
        #expect(ContinuousClock.now - closing < .seconds(2))
        #expect(!listener.isListening)
    }

    @Test("after its server process is terminated, the listener reconnects, listens again and calls onReconnect")
    func reconnects() async throws {
        let channel = TestDatabase.unique("reconnect")
        let received = Mailbox<String>()
        let reconnected = Mailbox<Int>()
        let errors = Mailbox<PostgresError.Kind>()
        let listener = PostgresListener(configuration: try TestDatabase.configuration(), channels: [channel],
                                        onNotification: { received.put($0.payload) },
                                        onReconnect: { reconnected.put(1) },
                                        onError: { errors.put($0.kind) })
        defer { listener.close() }
        #expect(await listener.waitUntilListening(timeout: .seconds(10)))
        let firstPID = listener.backendPID

        try await onThread { try TestDatabase.terminate(firstPID, using: TestDatabase.admin()) }
        #expect(await reconnected.wait(for: .seconds(10)) != nil)
        #expect(await listener.waitUntilListening(timeout: .seconds(10)))
        #expect(listener.backendPID != firstPID)
        #expect(listener.reconnects == 1)
        #expect(await errors.wait(for: .seconds(1)) { $0 == .connection } != nil)

        try await onThread {
            try PostgresConnection(configuration: TestDatabase.configuration()).notify(channel: channel, payload: "after")
        }
        #expect(await received.wait(for: .seconds(5)) { $0 == "after" } != nil)
    }
}
