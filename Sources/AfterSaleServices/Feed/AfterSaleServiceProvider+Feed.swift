import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import RPCWire

// The event feed going out: Subscribe streams it, AcknowledgeEvents records a consumer's progress.
extension AfterSaleServiceProvider {
    /// Events read from storage per round trip while a subscriber catches up.
    static let feedBatch = 256
    /// Positions one read looks at when the subscriber filters by type.
    static let feedScan = 4096
    /// How long a caught-up subscriber waits for a commit before looking again (commits made in
    /// this process wake it at once; this bounds how late it sees another process's).
    static let feedIdleWait: Duration = .seconds(1)

    public func subscribe(_ request: SubscribeRequest, context: ServerContext, responses: ResponseStream<Event>) async throws {
        let principal = try context.principal
        let (start, types) = try await mapped { () async throws -> (Int64, Set<AfterSaleDomain.EventType>?) in
            try Self.authorizeFeed(principal)
            try Self.validateConsumer(request.consumerName)
            var types: Set<AfterSaleDomain.EventType> = []
            for (index, type) in request.eventTypes.enumerated() {
                types.insert(try ProtoMapping.eventType(type, field: "event_types[\(index)]"))
            }
            let start: Int64
            if let from = request.fromCursor {
                let head = try await feed.eventFeedHead()
                guard from <= head else {
                    // Starting past the head would skip the events written in between.
                    throw RPCError(.outOfRange, "from_cursor \(from) is past the feed's head \(head)")
                }
                start = from < 0 ? head : from
            } else {
                start = try await feed.consumerCursor(request.consumerName) ?? 0
            }
            return (start, types.isEmpty ? nil : types)
        }
        let stopAt: Int64? = request.stopAtHead ? try await mapped { try await feed.eventFeedHead() } : nil
        var cursor = start
        while true {
            try Task.checkCancellation()
            let batch = try await mapped {
                try await feed.events(after: cursor, types: types, limit: Self.feedBatch, scanLimit: Self.feedScan)
            }
            for event in batch.events {
                if let stopAt, event.cursor > stopAt { return }
                // Addresses are stored sealed; subscribers (logistics books pickups from them) get them opened.
                let payload = try await mapped { try await personalData.openedEventPayload(event.payload) }
                try await responses.send(serialized: FeedWire.complete(payload, cursor: event.cursor))
            }
            let advanced = batch.scannedThrough > cursor
            cursor = max(cursor, batch.scannedThrough)
            if let stopAt, cursor >= stopAt { return }
            if !advanced { await feed.waitForEvents(after: cursor, timeout: Self.feedIdleWait) }
        }
    }

    public func acknowledgeEvents(_ request: AcknowledgeEventsRequest, context: ServerContext) async throws -> AcknowledgeEventsResponse {
        let principal = try context.principal
        return try await mapped {
            try Self.authorizeFeed(principal)
            try Self.validateConsumer(request.consumerName)
            guard request.cursor >= 0 else {
                throw DomainError.invalidArgument(field: "cursor", message: "must not be negative, got \(request.cursor)")
            }
            var response = AcknowledgeEventsResponse()
            response.acknowledgedCursor = try await feed.acknowledge(consumer: request.consumerName, cursor: request.cursor,
                                                                            at: clock.now())
            return response
        }
    }

    static func authorizeFeed(_ principal: Principal) throws(DomainError) {
        try Permissions.require(principal, .readEventFeed)
    }

    /// A consumer name: 1–128 characters of letters, digits, `.`, `_` and `-`.
    static func validateConsumer(_ name: String) throws(DomainError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard !name.isEmpty, name.utf8.count <= 128, allowed else {
            throw .invalidArgument(field: "consumer_name", message: "must be 1 to 128 characters of letters, digits, '.', '_' and '-'")
        }
    }
}
