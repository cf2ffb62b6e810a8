import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension SQLiteRepository {
    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?) async throws -> AppendedMessage {
        try await appendMessage(message, idempotency: idempotency, events: { _ in [] })
    }

    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?,
                              events: @escaping @Sendable (CaseMessage) -> [OutboxEvent]) async throws -> AppendedMessage {
        let attachments = EvidenceDocument.encode(message.attachments)
        let caseID = CaseKey.id(of: message.caseNumber)
        let (appended, lastEvent) = try await write { connection -> (AppendedMessage, Int64?) in
            if let idempotency,
               let result = try IdempotencyReplay.result(of: idempotency, for: .addMessage,
                                                         stored: try IdempotencyRows.find(idempotency, on: connection)) {
                guard let id = Int64(result), let stored = try MessageRows.load(id, on: connection) else {
                    throw RepositoryError.idempotencyKeyReused(key: idempotency.key)
                }
                return (AppendedMessage(message: stored, replayed: true), nil)
            }
            guard try CaseRows.version(of: caseID, on: connection) != nil else {
                throw RepositoryError.caseNotFound(message.caseNumber)
            }
            let stored = try MessageRows.insert(message, attachments: attachments, on: connection)
            if let idempotency {
                try IdempotencyRows.insert(idempotency, operation: .addMessage, result: String(stored.id),
                                           at: message.sentAt, on: connection)
            }
            let last = try EventRows.append(events(stored), on: connection)
            return (AppendedMessage(message: stored, replayed: false), last)
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
        return appended
    }

    public func messages(of number: CaseNumber, after: Int64?, limit: Int) async throws -> MessagePage {
        try StorageContract.checkMessagePage(limit: limit)
        let caseID = CaseKey.id(of: number)
        let rows = try await read { connection in
            try MessageRows.page(caseID: caseID, after: after ?? 0, limit: limit + 1, on: connection)
        }
        let (page, last) = KeysetPage.split(rows, pageSize: limit)
        return MessagePage(messages: page, next: last?.id)
    }
}
