import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import RPCWire

// Tracking updates coming in, and the event feed going out.
extension AfterSaleServiceImpl {
    /// The roles that consume the event feed.
    static let feedConsumers: Set<AfterSaleDomain.ActorRole> = [.system, .platform]
    /// Events read from storage per round trip while a subscriber catches up.
    static let feedBatch = 256
    /// Positions one read looks at when the subscriber filters by type.
    static let feedScan = 4096
    /// How long a caught-up subscriber waits for a commit before looking again (commits made in
    /// this process wake it at once; this bounds how late it sees another process's).
    static let feedIdleWait: Duration = .seconds(1)

    public func ingestTrackingEvent(_ request: IngestTrackingEventRequest, context: ServerContext) async throws -> IngestTrackingEventResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            guard principal.role == .system else {
                throw DomainError.permissionDenied(.roleNotAllowed(principal: principal, action: "ingest tracking events", allowed: [.system]))
            }
            try TextRules.code(request.carrier, field: "carrier")
            try TextRules.code(request.trackingNumber, field: "tracking_number")
            let status = try ProtoMapping.trackingStatus(request.status, field: "status")
            guard request.occurredAtUnixMs > 0 else {
                throw DomainError.invalidArgument(field: "occurred_at_unix_ms", message: "must be a positive Unix time in ms")
            }
            try TextRules.optional(request.location, field: "location")
            try TextRules.optional(request.detail, field: "detail")
            let key = TrackingKey(carrier: request.carrier, trackingNumber: request.trackingNumber)
            let number: CaseNumber
            if !request.caseNumber.isEmpty {
                number = try parseCaseNumber(request.caseNumber)
            } else if let found = try await repository.caseNumber(shippingWith: key) {
                number = found
            } else {
                throw RPCError(.notFound, "no case ships with \(key.carrier) \(key.trackingNumber)")
            }
            let event = AfterSaleDomain.TrackingEvent(status: status, occurredAt: Timestamp(millisecondsSinceEpoch: request.occurredAtUnixMs),
                                                      location: request.location, detail: request.detail)
            var response = IngestTrackingEventResponse()
            response.caseNumber = number.rawValue
            do {
                let committed = try await workflow.act(on: number, by: principal, expectedVersion: nil, trackingKeys: [key]) { _ in
                    .recordTracking(event, trackingNumber: request.trackingNumber)
                }
                let after = committed.transition.afterSale
                response.advanced = after.status != committed.before.status
                response.status = ProtoMapping.status(after.status)
                response.version = after.version
            } catch DomainError.duplicate {
                guard let current = try await repository.afterSale(number) else { throw RepositoryError.caseNotFound(number) }
                response.duplicate = true
                response.status = ProtoMapping.status(current.status)
                response.version = current.version
            }
            return response
        }
    }

    public func subscribe(_ request: SubscribeRequest, context: ServerContext, responses: ResponseStream<Event>) async throws {
        let principal = try CallerMetadata.principal(from: context.metadata)
        let (start, types) = try await mapped { () async throws -> (Int64, Set<AfterSaleDomain.EventType>?) in
            try Self.authorizeFeed(principal)
            try Self.validateConsumer(request.consumerName)
            var types: Set<AfterSaleDomain.EventType> = []
            for (index, type) in request.eventTypes.enumerated() {
                types.insert(try ProtoMapping.eventType(type, field: "event_types[\(index)]"))
            }
            let start: Int64
            if let from = request.fromCursor {
                start = from.value < 0 ? try await repository.eventFeedHead() : from.value
            } else {
                start = try await repository.consumerCursor(request.consumerName) ?? 0
            }
            return (start, types.isEmpty ? nil : types)
        }
        let stopAt: Int64? = request.stopAtHead ? try await mapped { try await repository.eventFeedHead() } : nil
        var cursor = start
        while true {
            try Task.checkCancellation()
            let batch = try await mapped {
                try await repository.events(after: cursor, types: types, limit: Self.feedBatch, scanLimit: Self.feedScan)
            }
            for event in batch.events {
                if let stopAt, event.cursor > stopAt { return }
                try await responses.send(serialized: FeedWire.complete(event.payload, cursor: event.cursor))
            }
            let advanced = batch.scannedThrough > cursor
            cursor = max(cursor, batch.scannedThrough)
            if let stopAt, cursor >= stopAt { return }
            if !advanced { await repository.waitForEvents(after: cursor, timeout: Self.feedIdleWait) }
        }
    }

    public func acknowledgeEvents(_ request: AcknowledgeEventsRequest, context: ServerContext) async throws -> AcknowledgeEventsResponse {
        let principal = try CallerMetadata.principal(from: context.metadata)
        return try await mapped {
            try Self.authorizeFeed(principal)
            try Self.validateConsumer(request.consumerName)
            guard request.cursor >= 0 else {
                throw DomainError.invalidArgument(field: "cursor", message: "must not be negative, got \(request.cursor)")
            }
            var response = AcknowledgeEventsResponse()
            response.acknowledgedCursor = try await repository.acknowledge(consumer: request.consumerName, cursor: request.cursor,
                                                                            at: clock.now())
            return response
        }
    }

    static func authorizeFeed(_ principal: Principal) throws(DomainError) {
        guard feedConsumers.contains(principal.role) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "read the event feed", allowed: feedConsumers))
        }
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
