import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

// The conversation between buyer, merchant and support on a case.
extension AfterSaleServiceProvider {

    public func addMessage(_ request: AddMessageRequest, context: ServerContext) async throws -> AddMessageResponse {
        let principal = try context.principal
        let key = try CallerMetadata.idempotencyKey(from: context.metadata)
        return try await mapped {
            try Permissions.require(principal, .addMessage)
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            let attachments = try ProtoMapping.evidence(request.attachments, field: "attachments")
            try policy.evidence.validate(attachments, field: "attachments")
            guard !request.text.isEmpty || !attachments.isEmpty else {
                throw DomainError.invalidArgument(field: "text", message: "must not be empty unless attachments are given")
            }
            guard request.text.utf8.count <= 2000 else {
                throw DomainError.invalidArgument(field: "text", message: "must be at most 2000 bytes, got \(request.text.utf8.count)")
            }
            let idempotency = key.map {
                IdempotencyRecord(key: $0, principal: principal,
                                  fingerprint: RequestFingerprint.of(request.serializedBytes(), operation: AfterSaleService.addMessage.path))
            }
            let appended = try await messages.appendMessage(
                NewMessage(caseNumber: afterSale.number, sender: principal, text: request.text, attachments: attachments,
                           sentAt: clock.now()),
                idempotency: idempotency,
                events: { stored in EventPlanner.events(forMessage: stored, on: afterSale).map(ProtoMapping.outbox) })
            var response = AddMessageResponse()
            response.message = ProtoMapping.message(appended.message)
            return response
        }
    }

    public func listMessages(_ request: ListMessagesRequest, context: ServerContext) async throws -> ListMessagesResponse {
        let principal = try context.principal
        return try await mapped {
            let afterSale = try await visibleCase(request.caseNumber, to: principal)
            let limit = try Fields.pageSize(request.pageSize, Self.messagePaging)
            var after: Int64?
            if !request.pageToken.isEmpty {
                guard let id = Int64(request.pageToken), id >= 0 else {
                    throw DomainError.invalidArgument(field: "page_token", message: "is not a token this service issued")
                }
                after = id
            }
            let page = try await messages.messages(of: afterSale.number, after: after, limit: limit)
            var response = ListMessagesResponse()
            response.messages = page.messages.map(ProtoMapping.message)
            response.nextPageToken = page.next.map(String.init) ?? ""
            return response
        }
    }
}
