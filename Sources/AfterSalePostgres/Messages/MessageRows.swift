import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing `messages`.
enum MessageRows {
    static let columns = "id, case_id, sender_role, sender_id, sender_shop_id, text, attachments, sent_at"

    static func insert(_ message: NewMessage, attachments: [UInt8], on connection: PostgresConnection) throws -> CaseMessage {
        guard let id = try connection.queryOne("""
            INSERT INTO messages (case_id, sender_role, sender_id, sender_shop_id, text, attachments, sent_at)
            VALUES ($1, $2, $3, $4::text, $5, $6, $7) RETURNING id
            """, parameters: [.int64(CaseKey.id(of: message.caseNumber)), .text(message.sender.role.rawValue),
                              .text(message.sender.id), PostgresValue(message.sender.shopID), .utf8(message.text),
                              .bytes(attachments), .time(message.sentAt)], decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the message insert returned no id")
        }
        return CaseMessage(id: id, caseNumber: message.caseNumber, sender: message.sender, text: message.text,
                           attachments: message.attachments, sentAt: message.sentAt)
    }

    static func load(_ id: Int64, on connection: PostgresConnection) throws -> CaseMessage? {
        try connection.queryOne("SELECT \(columns) FROM messages WHERE id = $1", .int64(id), decode: decode)
    }

    static func page(caseID: Int64, after: Int64, limit: Int, on connection: PostgresConnection) throws -> [CaseMessage] {
        try connection.query("SELECT \(columns) FROM messages WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                             .int64(caseID), .int64(after), .int64(Int64(limit)), decode: decode)
    }

    static func decode(_ row: PostgresRow) throws -> CaseMessage {
        CaseMessage(id: try row.int64(0), caseNumber: try CaseKey.number(of: try row.int64(1)), sender: try row.principal(2),
                    text: try row.utf8(5), attachments: try EvidenceDocument.decode(try row.bytes(6)), sentAt: try row.timestamp(7))
    }
}
