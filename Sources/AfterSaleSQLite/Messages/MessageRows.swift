import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing `messages`.
enum MessageRows {
    static func insert(_ message: NewMessage, attachments: [UInt8], on connection: SQLiteConnection) throws -> CaseMessage {
        try connection.run("""
            INSERT INTO messages (case_id, sender_role, sender_id, sender_shop_id, text, attachments, sent_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """) {
            $0.bind(1, CaseKey.id(of: message.caseNumber))
            $0.bind(2, message.sender.role.rawValue)
            $0.bind(3, message.sender.id)
            $0.bind(4, message.sender.shopID)
            $0.bind(5, message.text)
            $0.bind(6, blob: attachments)
            $0.bind(7, message.sentAt.millisecondsSinceEpoch)
        }
        return CaseMessage(id: connection.lastInsertRowID, caseNumber: message.caseNumber, sender: message.sender,
                           text: message.text, attachments: message.attachments, sentAt: message.sentAt)
    }

    static let columns = "id, case_id, sender_role, sender_id, sender_shop_id, text, attachments, sent_at"

    static func load(_ id: Int64, on connection: SQLiteConnection) throws -> CaseMessage? {
        try connection.queryOne("SELECT \(columns) FROM messages WHERE id = ?1", bind: { $0.bind(1, id) }, row: decode)
    }

    static func page(caseID: Int64, after: Int64, limit: Int, on connection: SQLiteConnection) throws -> [CaseMessage] {
        try connection.query("SELECT \(columns) FROM messages WHERE case_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3", bind: {
            $0.bind(1, caseID)
            $0.bind(2, after)
            $0.bind(3, limit)
        }, row: decode)
    }

    static func decode(_ row: Statement) throws -> CaseMessage {
        CaseMessage(id: row.int64(0), caseNumber: try CaseKey.number(of: row.int64(1)),
                    sender: try CaseRows.principal(role: row.string(2), id: row.string(3), shopID: row.optionalString(4)),
                    text: row.string(5), attachments: try EvidenceDocument.decode(row.blob(6)),
                    sentAt: Timestamp(millisecondsSinceEpoch: row.int64(7)))
    }
}
