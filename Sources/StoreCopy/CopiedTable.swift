/// How one column travels from SQLite to PostgreSQL.
enum ColumnCopy: Sendable {
    /// An integer (`INTEGER` → `bigint`/`integer`).
    case integer
    /// An identifier, code or enum name (`TEXT` → `text`).
    case text
    /// Free text (`TEXT` → `bytea`): PostgreSQL's `text` cannot hold U+0000, which free text may.
    case utf8Bytes
    /// Binary (`BLOB` → `bytea`).
    case bytes
    /// A flag (`INTEGER` 0/1 → `boolean`).
    case flag
}

/// One table of the store as the copy moves it: the same name and columns in both dialects
/// (PostgreSQL's column types differ where ``ColumnCopy`` says), read in `order`.
struct CopiedTable: Sendable {
    let name: String
    let columns: [(name: String, copy: ColumnCopy)]
    /// The SQLite `ORDER BY`: the order rows are inserted in, which is the order PostgreSQL's
    /// identity columns number them in where the target has one the source lacks.
    let order: String
    /// Columns that PostgreSQL generates (`GENERATED ALWAYS AS IDENTITY`) but the copy keeps: they
    /// are inserted with `OVERRIDING SYSTEM VALUE`, and their sequence is moved past the largest.
    let keepsIdentity: String?

    init(_ name: String, order: String, keepsIdentity: String? = nil, _ columns: [(String, ColumnCopy)]) {
        self.name = name
        self.order = order
        self.keepsIdentity = keepsIdentity
        self.columns = columns.map { (name: $0.0, copy: $0.1) }
    }
}

extension CopiedTable {
    /// Every table that holds state, in the order they are copied. Tables PostgreSQL derives from
    /// these (`feed_head`, `case_number_days`, `reason_catalog`, `audit_head`) are set after them.
    static let all: [CopiedTable] = [
        CopiedTable("orders", order: "order_id", [
            ("order_id", .text), ("version", .integer), ("buyer_id", .text), ("shop_id", .text), ("status", .text),
            ("stored_at", .integer), ("document", .bytes),
        ]),
        CopiedTable("cases", order: "id", [
            ("id", .integer), ("order_id", .text), ("buyer_id", .text), ("shop_id", .text), ("shop_name", .utf8Bytes),
            ("shop_contact", .utf8Bytes), ("kind", .text), ("status", .text), ("created_at", .integer), ("updated_at", .integer),
            ("version", .integer), ("title", .utf8Bytes), ("spec", .utf8Bytes), ("image_url", .utf8Bytes), ("quantity", .integer),
            ("line_count", .integer), ("refund_units", .integer), ("currency", .text), ("document", .bytes),
        ]),
        CopiedTable("timeline_entries", order: "case_id, seq", [
            ("case_id", .integer), ("seq", .integer), ("at", .integer), ("step", .text), ("actor_role", .text),
            ("actor_id", .text), ("actor_shop_id", .text), ("from_status", .text), ("to_status", .text), ("note", .utf8Bytes),
        ]),
        // SQLite numbers trace records per case (seq); PostgreSQL by one identity column. Inserted in
        // (case, seq) order, each case's records keep their order.
        CopiedTable("trace_records", order: "case_id, seq", [
            ("case_id", .integer), ("at", .integer), ("step", .text), ("actor_role", .text), ("actor_id", .text),
            ("actor_shop_id", .text), ("from_status", .text), ("to_status", .text), ("outcome", .text), ("details", .utf8Bytes),
            ("refund_id", .text), ("trace_id", .text), ("chain_position", .integer), ("chain_hash", .bytes),
        ]),
        // The audit chain's checkpoints, as signed (the chain itself travels with trace_records).
        CopiedTable("audit_checkpoints", order: "size", [
            ("size", .integer), ("hash", .bytes), ("note", .text), ("signed_at", .integer),
        ]),
        CopiedTable("idempotency_keys", order: "principal_role, principal_id, key", [
            ("principal_role", .text), ("principal_id", .text), ("key", .text), ("operation", .text), ("fingerprint", .text),
            ("result", .text), ("response", .bytes), ("created_at", .integer),
        ]),
        // Message ids are part of the contract (AddMessage answers them; idempotency records name them).
        CopiedTable("messages", order: "id", keepsIdentity: "id", [
            ("id", .integer), ("case_id", .integer), ("sender_role", .text), ("sender_id", .text), ("sender_shop_id", .text),
            ("text", .utf8Bytes), ("attachments", .bytes), ("sent_at", .integer),
        ]),
        CopiedTable("reasons", order: "code", [
            ("code", .text), ("title", .utf8Bytes), ("kinds", .text), ("basis", .text), ("requires_evidence", .flag),
            ("active", .flag), ("sort_order", .integer), ("version", .integer), ("updated_at", .integer),
        ]),
        CopiedTable("refund_orders", order: "id", [
            ("id", .text), ("case_id", .integer), ("order_id", .text), ("shop_id", .text), ("buyer_id", .text),
            ("amount_units", .integer), ("currency", .text), ("cause", .text), ("status", .text), ("payment_channel", .text),
            ("payment_transaction_id", .text), ("attempts", .integer), ("max_attempts", .integer), ("next_attempt_at", .integer),
            ("lease_owner", .text), ("lease_token", .text), ("lease_expires_at", .integer), ("available_at", .integer),
            ("last_failure_code", .utf8Bytes), ("last_failure_reason", .utf8Bytes), ("channel_transaction_id", .text),
            ("refunded_units", .integer), ("succeeded_at", .integer), ("created_at", .integer), ("updated_at", .integer),
            ("version", .integer), ("last_report", .utf8Bytes),
        ]),
        CopiedTable("refund_reports", order: "id", keepsIdentity: "id", [
            ("id", .integer), ("refund_id", .text), ("worker", .text), ("lease_token", .text), ("report", .utf8Bytes),
            ("disposition", .text), ("details", .utf8Bytes), ("at", .integer),
        ]),
        CopiedTable("events", order: "cursor", [
            ("cursor", .integer), ("event_type", .text), ("case_id", .integer), ("order_id", .text), ("occurred_at", .integer),
            ("payload", .bytes),
        ]),
        CopiedTable("consumer_cursors", order: "consumer", [
            ("consumer", .text), ("cursor", .integer), ("updated_at", .integer),
        ]),
        CopiedTable("shipment_tracking", order: "tracking_number, carrier, case_id", [
            ("tracking_number", .text), ("carrier", .text), ("case_id", .integer),
        ]),
        CopiedTable("case_timers", order: "case_id", [
            ("case_id", .integer), ("shop_id", .text), ("rule", .text), ("started_at", .integer), ("duration_ms", .integer),
            ("reminder_lead_ms", .integer), ("policy_version", .text), ("reminded_at", .integer), ("next_at", .integer),
        ]),
        CopiedTable("timer_settings", order: "kind, key, version", [
            ("kind", .text), ("key", .text), ("version", .integer), ("document", .bytes), ("saved_at", .integer),
        ]),
        CopiedTable("ratings", order: "subject", [
            ("subject", .text), ("shop_id", .text), ("agent_id", .text), ("rated_at", .integer), ("version", .integer), ("document", .bytes),
        ]),
        CopiedTable("personal_data_keys", order: "buyer_id, generation", [
            ("buyer_id", .text), ("generation", .integer), ("wrapped_key", .bytes), ("created_at", .integer), ("erased_at", .integer),
        ]),
        CopiedTable("knowledge_articles", order: "article_id", [
            ("article_id", .text), ("status", .text), ("audience", .text), ("version", .integer), ("revision", .integer),
            ("published_revision", .integer), ("updated_at", .integer), ("title_length", .integer), ("tags_length", .integer),
            ("body_length", .integer), ("helpful", .integer), ("not_helpful", .integer), ("document", .bytes),
        ]),
        CopiedTable("knowledge_revisions", order: "article_id, revision", [
            ("article_id", .text), ("revision", .integer), ("document", .bytes),
        ]),
        CopiedTable("knowledge_terms", order: "term, article_id, field", [
            ("term", .text), ("article_id", .text), ("field", .integer), ("count", .integer),
        ]),
        CopiedTable("knowledge_votes", order: "article_id, voter", [
            ("article_id", .text), ("voter", .text), ("vote", .text), ("voted_at", .integer),
        ]),
        CopiedTable("statistics_blocks", order: "scope, dimension, span, first_day, group_key", [
            ("scope", .text), ("dimension", .text), ("span", .integer), ("first_day", .integer), ("group_key", .text), ("body", .bytes),
        ]),
        CopiedTable("disputes", order: "dispute_id", [
            ("dispute_id", .text), ("case_id", .integer), ("order_id", .text), ("buyer_id", .text), ("shop_id", .text), ("status", .text),
            ("opened_at", .integer), ("next_at", .integer), ("version", .integer), ("document", .bytes),
        ]),
        CopiedTable("agents", order: "agent_id", [
            ("agent_id", .text), ("team", .text), ("version", .integer), ("document", .bytes),
        ]),
        CopiedTable("tickets", order: "ticket_id", [
            ("ticket_id", .text), ("status", .text), ("assignee", .text), ("previous_assignee", .text), ("team", .text),
            ("requester_role", .text), ("requester_id", .text), ("buyer_id", .text), ("shop_id", .text), ("case_id", .integer),
            ("created_at", .integer), ("queued_at", .integer), ("wake_at", .integer), ("version", .integer), ("document", .bytes),
        ]),
    ]
}
