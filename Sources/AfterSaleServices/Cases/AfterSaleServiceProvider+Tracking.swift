import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

// Carrier tracking events coming in from logistics.
extension AfterSaleServiceProvider {
    public func ingestTrackingEvent(_ request: IngestTrackingEventRequest, context: ServerContext) async throws -> IngestTrackingEventResponse {
        let caller = try context.caller
        return try await mapped {
            try Permissions.require(caller.principal, .ingestTracking)
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
            // A carrier's repeat is told apart by the event itself (status and time), so no key is needed.
            do {
                return try await workflow.act(on: number, by: caller, call: nil, expectedVersion: nil, trackingKeys: [key],
                                              respond: { committed in
                    let after = committed.transition.afterSale
                    var response = IngestTrackingEventResponse()
                    response.caseNumber = number.rawValue
                    response.advanced = after.status != committed.before.status
                    response.status = ProtoMapping.status(after.status)
                    response.version = after.version
                    return response
                }) { _ in .recordTracking(event, trackingNumber: request.trackingNumber) }
            } catch DomainError.duplicate {
                var response = IngestTrackingEventResponse()
                response.caseNumber = number.rawValue
                guard let current = try await cases.afterSale(number) else { throw RepositoryError.caseNotFound(number) }
                response.duplicate = true
                response.status = ProtoMapping.status(current.status)
                response.version = current.version
                return response
            }
        }
    }
}
