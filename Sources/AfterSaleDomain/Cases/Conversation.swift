/// A stored message of a case's conversation.
public struct CaseMessage: Sendable, Hashable {
    /// The storage's identifier, increasing in the order messages were stored.
    public var id: Int64
    /// The case.
    public var caseNumber: CaseNumber
    /// Who sent it.
    public var sender: Principal
    /// The text.
    public var text: String
    /// Attached files.
    public var attachments: [EvidenceRef]
    /// When it was sent.
    public var sentAt: Timestamp

    /// Creates a stored message.
    public init(id: Int64, caseNumber: CaseNumber, sender: Principal, text: String, attachments: [EvidenceRef], sentAt: Timestamp) {
        self.id = id
        self.caseNumber = caseNumber
        self.sender = sender
        self.text = text
        self.attachments = attachments
        self.sentAt = sentAt
    }
}
