import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// ``appendMessage(_:idempotency:events:)`` appending no events.
    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?) async throws -> AppendedMessage {
        try await appendMessage(message, idempotency: idempotency, events: { _ in [] })
    }

    /// Appends a message under its case's row lock (`FOR NO KEY UPDATE`), so messages of one case
    /// take their ids in commit order and a reader paging by id never skips one that commits later.
    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?,
                              events: @escaping @Sendable (CaseMessage) -> [OutboxEvent]) async throws -> AppendedMessage {
        let attachments = EvidenceDocument.encode(message.attachments)
        let caseID = CaseKey.id(of: message.caseNumber)
        let (result, appendedEvents) = try await write("appendMessage") { connection -> (AppendedMessage, Bool) in
            if let idempotency,
               let stored = try IdempotencyRows.claim(idempotency, operation: IdempotentOperation.addMessage.rawValue,
                                                      at: message.sentAt, on: connection),
               let result = try IdempotencyReplay.result(of: idempotency, for: .addMessage, stored: stored) {
                guard let id = Int64(result), let stored = try MessageRows.load(id, on: connection) else {
                    throw RepositoryError.idempotencyKeyReused(key: idempotency.key)
                }
                return (AppendedMessage(message: stored, replayed: true), false)
            }
            guard try connection.queryOne("SELECT 1 FROM cases WHERE id = $1 FOR NO KEY UPDATE", .int64(caseID),
                                          decode: { _ in true }) != nil else {
                throw RepositoryError.caseNotFound(message.caseNumber)
            }
            let stored = try MessageRows.insert(message, attachments: attachments, on: connection)
            if let idempotency { try IdempotencyRows.store(result: String(stored.id), for: idempotency, on: connection) }
            return (AppendedMessage(message: stored, replayed: false),
                    try FeedRows.append(events(stored), on: connection))
        }
        await settle(appended: appendedEvents)
        return result
    }

    /// Up to `limit` messages of the case after message `after`, oldest first.
    public func messages(of number: CaseNumber, after: Int64?, limit: Int) async throws -> MessagePage {
        try StorageContract.checkMessagePage(limit: limit)
        let caseID = CaseKey.id(of: number)
        let rows = try await read("messages") { connection in
            try MessageRows.page(caseID: caseID, after: after ?? 0, limit: limit + 1, on: connection)
        }
        let (page, last) = KeysetPage.split(rows, pageSize: limit)
        return MessagePage(messages: page, next: last?.id)
    }
}
