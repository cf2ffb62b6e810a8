import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

// Carrier tracking events coming in from logistics.
extension AfterSaleServiceProvider {
    public func ingestTrackingEvent(_ request: IngestTrackingEventRequest, context: ServerContext) async throws -> IngestTrackingEventResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .ingestTracking)
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
                number = try Fields.caseNumber(request.caseNumber)
            } else if let found = try await cases.caseNumber(shippingWith: key) {
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
                guard let current = try await cases.afterSale(number) else { throw RepositoryError.caseNotFound(number) }
                response.duplicate = true
                response.status = ProtoMapping.status(current.status)
                response.version = current.version
            }
            return response
        }
    }
}
