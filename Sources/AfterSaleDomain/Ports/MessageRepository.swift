/// The buyer–merchant conversation on a case.
public protocol MessageRepository: Sendable {
    /// Appends a message to its case's conversation; with an idempotency record, a retry with the
    /// same key returns the message stored the first time.
    /// - Throws: ``RepositoryError/caseNotFound(_:)``; ``RepositoryError/idempotencyKeyReused(key:)``.
    func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?) async throws -> AppendedMessage

    /// ``appendMessage(_:idempotency:)``, appending the events `events` makes of the stored message
    /// in the same transaction (called on the storage's writer; keep it short).
    func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?,
                       events: @escaping @Sendable (CaseMessage) -> [OutboxEvent]) async throws -> AppendedMessage

    /// Up to `limit` messages of case `number` after the message with id `after` (from the start
    /// when nil), oldest first.
    func messages(of number: CaseNumber, after: Int64?, limit: Int) async throws -> MessagePage
}

/// A message to add to a case's conversation.
public struct NewMessage: Sendable, Hashable {
    /// The case.
    public var caseNumber: CaseNumber
    /// Who sends it.
    public var sender: Principal
    /// The text.
    public var text: String
    /// Attached files.
    public var attachments: [EvidenceRef]
    /// When it was sent.
    public var sentAt: Timestamp

    /// Creates a message to add.
    public init(caseNumber: CaseNumber, sender: Principal, text: String, attachments: [EvidenceRef] = [], sentAt: Timestamp) {
        self.caseNumber = caseNumber
        self.sender = sender
        self.text = text
        self.attachments = attachments
        self.sentAt = sentAt
    }
}

/// The result of ``MessageRepository/appendMessage(_:idempotency:)``.
public struct AppendedMessage: Sendable, Hashable {
    /// The stored message.
    public var message: CaseMessage
    /// True when an earlier call with the same key stored it and nothing was written now.
    public var replayed: Bool

    /// Creates a result.
    public init(message: CaseMessage, replayed: Bool) {
        self.message = message
        self.replayed = replayed
    }
}

/// One page of a conversation.
public struct MessagePage: Sendable, Hashable {
    /// The messages, oldest first.
    public var messages: [CaseMessage]
    /// The id to pass as `after` for the next page; nil when there are no more messages.
    public var next: Int64?

    /// Creates a page.
    public init(messages: [CaseMessage], next: Int64?) {
        self.messages = messages
        self.next = next
    }
}
