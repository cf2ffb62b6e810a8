import AfterSaleDomain

/// The schema of the after-sale database on PostgreSQL, as the migrations that build it.
///
/// The layout follows the SQLite backend's (see `AfterSaleSQLite.Schema`): a case is a row of the
/// columns the list filters, sorts and shows plus `document` (``AfterSaleStorage/CaseDocument``, every
/// field but the timeline), with its timeline, trace records, messages, refund order and feed events
/// in tables of their own; `cases.id` is the case number's digits (`AS20261121000123` →
/// 20261121000123), and lists page by keyset on `(created_at, id)`, newest first, one index per
/// filter shape (`cases_by_buyer`, `cases_by_shop`, `cases_by_shop_status`, `cases_by_status`,
/// `cases_by_time`, `cases_by_order`), each ending in `(created_at, id)` so a page is a bounded walk.
///
/// Differences from SQLite, and why:
/// - Free text (notes, details, titles, messages, failure reasons) is stored as UTF-8 in `bytea`
///   columns: PostgreSQL `text` cannot hold U+0000, which the domain allows in free text.
///   Identifiers, codes and enum names stay `text`.
/// - Trace records and messages take their ids from identity columns (trace order is the id order;
///   message ids grow in commit order within a case, because appending locks the case row first).
/// - Events get their cursors after they commit, from the feed sequencer (see ``FeedSequencer``):
///   `events.seq` is the write order, `events.cursor` the feed position (NULL until sequenced), and
///   `feed_head` the newest cursor;
///   `case_number_days` hands out case numbers to every replica (see ``CaseNumberRows``);
///   `reason_catalog` counts catalog changes so each replica knows when its cached catalog is stale.
/// - No foreign keys, as in SQLite's writer: every write checks the case it names in its own
///   transaction, and enforced keys would take `FOR KEY SHARE` locks on the case row for every
///   timeline, trace or message insert.
///
/// Versions match SQLite's where they correspond, so both dialects number their changes alike from 7 on:
///
/// | PostgreSQL | SQLite                                                                          |
/// |------------|---------------------------------------------------------------------------------|
/// | 1          | 1, 3, 4, 5 and 6 in their final form (a new database is created at once)        |
/// | 2          | 2: the standard reason catalog at version 1                                     |
/// | 3–6        | recorded as applied, with nothing to do: their changes are already in 1         |
/// | 7          | 7: case timers and timer settings                                               |
/// | 8          | 8: the audit chain (older trace records are chained by the first round, see ``AuditRows``) |
/// | 9          | 9: service desk agents and tickets                                              |
/// | 10         | 10: buyers' ratings                                                              |
/// | 11         | 11: buyers' data keys                                                            |
/// | 12         | 12: the knowledge base (articles, revisions, term index, votes)                  |
/// | 13         | 13: statistics rollups                                                           |
/// | 14         | 14: disputes                                                                     |
/// | 15         | 15: statistics in blocks of days (replacing 13's rows), recounted from the feed  |
/// | 16, …      | future changes, in both dialects                                                 |
public enum PostgresSchema {
    /// Every migration, oldest first. Never edit one that has shipped: add the next (16, 17, …).
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "orders, cases, timeline, trace, idempotency, messages, reasons, refund orders, "
                          + "event feed, consumer cursors, tracking numbers, case number days (SQLite 1, 3, 4, 5, 6)",
                          sql: version1),
        PostgresMigration(version: 2, name: "standard reason catalog", sql: standardCatalogSQL()),
        PostgresMigration(version: 3, name: "(in 1) refund orders, event feed, consumer cursors, tracking numbers",
                          sql: "-- folded into migration 1"),
        PostgresMigration(version: 4, name: "(in 1) trace records name the refund order acted on",
                          sql: "-- folded into migration 1"),
        PostgresMigration(version: 5, name: "(in 1) refund orders replace refund requests; event cursors without a sequence",
                          sql: "-- folded into migration 1"),
        PostgresMigration(version: 6, name: "(in 1) trace ids on trace records; idempotency keys keep their responses",
                          sql: "-- folded into migration 1"),
        PostgresMigration(version: 7, name: "case timers and their settings (overrides, pauses) (SQLite 7)", sql: version7),
        PostgresMigration(version: 8, name: "the audit chain: trace records hash-chained, its head and signed checkpoints (SQLite 8)",
                          sql: AuditRows.migration),
        PostgresMigration(version: 9, name: "service desk: agents and tickets (SQLite 9)", sql: version9),
        PostgresMigration(version: 10, name: "buyers' ratings of cases and tickets (SQLite 10)", sql: version10),
        PostgresMigration(version: 11, name: "buyers' data keys, wrapped by the master key (SQLite 11)", sql: version11),
        PostgresMigration(version: 12, name: "the knowledge base: articles, revisions, the term index, helpful votes (SQLite 12)",
                          sql: version12),
        PostgresMigration(version: 13, name: "statistics rollups (SQLite 13)", sql: version13),
        PostgresMigration(version: 14, name: "disputes (维权): one per case, with the deadline the sweep reads (SQLite 14)", sql: version14),
        PostgresMigration(version: 15, name: "statistics in blocks of 1, 4, 16 and 64 days, recounted from the feed (SQLite 15)",
                          sql: version15),
    ]

    /// Migration 15, as SQLite's 15: statistics blocks replace 13's rows per metric, and the
    /// projector counts the feed again.
    static let version15 = """
        DROP TABLE statistics_rollups;
        CREATE TABLE statistics_blocks (
            scope     text   NOT NULL,
            dimension text   NOT NULL,
            span      bigint NOT NULL,
            first_day bigint NOT NULL,
            group_key text   NOT NULL,
            body      bytea  NOT NULL,
            PRIMARY KEY (scope, dimension, span, first_day, group_key)
        );
        DELETE FROM consumer_cursors WHERE consumer IN ('aftersale-statistics', 'statistics-seed');
        """

    /// Migration 14, as SQLite's 14: disputes, with `next_at` (the earliest deadline) indexed where
    /// set.
    static let version14 = """
        CREATE TABLE disputes (
            dispute_id text COLLATE "C" PRIMARY KEY,
            case_id    bigint NOT NULL,
            order_id   text   NOT NULL,
            buyer_id   text   NOT NULL,
            shop_id    text   NOT NULL,
            status     text   NOT NULL,
            opened_at  bigint NOT NULL,
            next_at    bigint,
            version    bigint NOT NULL,
            document   bytea  NOT NULL
        );
        CREATE INDEX disputes_by_time  ON disputes (opened_at, dispute_id);
        CREATE INDEX disputes_by_buyer ON disputes (buyer_id, opened_at, dispute_id);
        CREATE INDEX disputes_by_shop  ON disputes (shop_id, opened_at, dispute_id);
        CREATE INDEX disputes_by_order ON disputes (order_id);
        CREATE INDEX disputes_due      ON disputes (next_at, dispute_id) WHERE next_at IS NOT NULL;
        """

    /// Migration 13, as SQLite's 13: statistics rollups, one row per scope, dimension, day, group
    /// and metric; GetStatistics reads one range of the primary key.
    static let version13 = """
        CREATE TABLE statistics_rollups (
            scope     text   NOT NULL,
            dimension text   NOT NULL,
            day       bigint NOT NULL,
            group_key text   NOT NULL,
            metric    text   NOT NULL,
            amount    bigint NOT NULL,
            PRIMARY KEY (scope, dimension, day, group_key, metric)
        );
        """

    /// Migration 12, as SQLite's 12: the knowledge base. Terms and ids compare byte-wise
    /// (`COLLATE "C"`), as in SQLite and Swift, whatever the database's collation.
    static let version12 = """
        CREATE TABLE knowledge_articles (
            article_id         text COLLATE "C" PRIMARY KEY,
            status             text   NOT NULL,
            audience           text   NOT NULL,
            version            bigint NOT NULL,
            revision           bigint NOT NULL,
            published_revision bigint,
            updated_at         bigint NOT NULL,
            title_length       bigint NOT NULL,
            tags_length        bigint NOT NULL,
            body_length        bigint NOT NULL,
            helpful            bigint NOT NULL DEFAULT 0,
            not_helpful        bigint NOT NULL DEFAULT 0,
            document           bytea  NOT NULL
        );
        CREATE INDEX knowledge_articles_by_status ON knowledge_articles (status, article_id);
        CREATE TABLE knowledge_revisions (
            article_id text COLLATE "C" NOT NULL,
            revision   bigint NOT NULL,
            document   bytea  NOT NULL,
            PRIMARY KEY (article_id, revision)
        );
        CREATE TABLE knowledge_terms (
            term       text COLLATE "C" NOT NULL,
            article_id text COLLATE "C" NOT NULL,
            field      integer NOT NULL,
            count      integer NOT NULL,
            PRIMARY KEY (term, article_id, field)
        );
        CREATE INDEX knowledge_terms_by_article ON knowledge_terms (article_id);
        CREATE TABLE knowledge_votes (
            article_id text COLLATE "C" NOT NULL,
            voter      text   NOT NULL,
            vote       text   NOT NULL,
            voted_at   bigint NOT NULL,
            PRIMARY KEY (article_id, voter)
        );
        """

    /// Migration 11, as SQLite's 11: buyers' data keys.
    static let version11 = """
        CREATE TABLE personal_data_keys (
            buyer_id    text   NOT NULL,
            generation  bigint NOT NULL,
            wrapped_key bytea,
            created_at  bigint NOT NULL,
            erased_at   bigint,
            PRIMARY KEY (buyer_id, generation)
        );
        """

    /// Migration 10, as SQLite's 10: buyers' ratings.
    static let version10 = """
        CREATE TABLE ratings (
            subject  text   PRIMARY KEY,
            shop_id  text   NOT NULL,
            agent_id text,
            rated_at bigint NOT NULL,
            version  bigint NOT NULL,
            document bytea  NOT NULL
        );
        CREATE INDEX ratings_by_time  ON ratings (rated_at, subject);
        CREATE INDEX ratings_by_shop  ON ratings (shop_id, rated_at, subject);
        CREATE INDEX ratings_by_agent ON ratings (agent_id, rated_at, subject);
        """

    /// Migration 9, as SQLite's 9: the service desk's agents and tickets. (8 is the audit chain's.)
    static let version9 = """
        CREATE TABLE agents (
            agent_id text   PRIMARY KEY,
            team     text   NOT NULL,
            version  bigint NOT NULL,
            document bytea  NOT NULL
        );
        CREATE TABLE tickets (
            ticket_id         text   PRIMARY KEY,
            status            text   NOT NULL,
            assignee          text,
            previous_assignee text,
            team              text,
            requester_role    text   NOT NULL,
            requester_id      text   NOT NULL,
            buyer_id          text,
            shop_id           text,
            case_id           bigint,
            created_at        bigint NOT NULL,
            queued_at         bigint NOT NULL,
            wake_at           bigint,
            version           bigint NOT NULL,
            document          bytea  NOT NULL
        );
        CREATE INDEX tickets_queue       ON tickets (status, queued_at, ticket_id);
        CREATE INDEX tickets_wake        ON tickets (wake_at, ticket_id) WHERE wake_at IS NOT NULL;
        CREATE INDEX tickets_by_time     ON tickets (created_at, ticket_id);
        CREATE INDEX tickets_by_assignee ON tickets (assignee, created_at);
        CREATE INDEX tickets_by_case     ON tickets (case_id);
        """

    /// Migration 7, as SQLite's 7: one timer per waiting case, found by when it next needs looking
    /// at; timer settings as versioned documents.
    static let version7 = """
        CREATE TABLE case_timers (
            case_id          bigint PRIMARY KEY,
            shop_id          text   NOT NULL,
            rule             text   NOT NULL,
            started_at       bigint NOT NULL,
            duration_ms      bigint NOT NULL,
            reminder_lead_ms bigint NOT NULL,
            policy_version   text   NOT NULL,
            reminded_at      bigint,
            next_at          bigint NOT NULL
        );
        CREATE INDEX case_timers_by_next ON case_timers (next_at, case_id);
        CREATE TABLE timer_settings (
            kind     text   NOT NULL,
            key      text   NOT NULL,
            version  bigint NOT NULL,
            document bytea  NOT NULL,
            saved_at bigint NOT NULL,
            PRIMARY KEY (kind, key, version)
        );
        """

    static let version1 = """
        -- Orders as the order system last sent them; `version` is the order system's.
        CREATE TABLE orders (
            order_id  text   PRIMARY KEY,
            version   bigint NOT NULL,
            buyer_id  text   NOT NULL,
            shop_id   text   NOT NULL,
            status    text   NOT NULL,
            stored_at bigint NOT NULL,  -- Unix ms, database clock
            document  bytea  NOT NULL   -- OrderDocument
        );

        CREATE TABLE cases (
            id           bigint PRIMARY KEY,  -- the case number's digits: yyyyMMdd * 1000000 + sequence
            order_id     text   NOT NULL,
            buyer_id     text   NOT NULL,
            shop_id      text   NOT NULL,
            shop_name    bytea  NOT NULL,     -- UTF-8
            shop_contact bytea  NOT NULL,     -- UTF-8
            kind         text   NOT NULL,
            status       text   NOT NULL,
            created_at   bigint NOT NULL,     -- Unix ms, when the buyer applied
            updated_at   bigint NOT NULL,
            version      bigint NOT NULL,
            title        bytea  NOT NULL,     -- UTF-8: first line's product, for the list row
            spec         bytea  NOT NULL,
            image_url    bytea  NOT NULL,
            quantity     bigint NOT NULL,
            line_count   bigint NOT NULL,
            refund_units bigint,              -- approved or computed refund; NULL for exchange and repair
            currency     text   NOT NULL,
            document     bytea  NOT NULL      -- CaseDocument: every field but the timeline
        );
        CREATE INDEX cases_by_buyer       ON cases (buyer_id, created_at, id);
        CREATE INDEX cases_by_shop        ON cases (shop_id, created_at, id);
        CREATE INDEX cases_by_shop_status ON cases (shop_id, status, created_at, id);
        CREATE INDEX cases_by_status      ON cases (status, created_at, id);
        CREATE INDEX cases_by_time        ON cases (created_at, id);
        CREATE INDEX cases_by_order       ON cases (order_id);

        -- seq counts from 0 in timeline order: the case's timeline is these rows by seq.
        CREATE TABLE timeline_entries (
            case_id       bigint  NOT NULL,
            seq           integer NOT NULL,
            at            bigint  NOT NULL,
            step          text    NOT NULL,
            actor_role    text    NOT NULL,
            actor_id      text    NOT NULL,
            actor_shop_id text,
            from_status   text,
            to_status     text    NOT NULL,
            note          bytea   NOT NULL,  -- UTF-8
            PRIMARY KEY (case_id, seq)
        );

        -- Every action on a case, applied or refused, in id order.
        CREATE TABLE trace_records (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            case_id       bigint NOT NULL,
            at            bigint NOT NULL,
            step          text   NOT NULL,
            actor_role    text   NOT NULL,
            actor_id      text   NOT NULL,
            actor_shop_id text,
            from_status   text,
            to_status     text   NOT NULL,
            outcome       text   NOT NULL,
            details       bytea  NOT NULL,  -- UTF-8
            refund_id     text,
            trace_id      text   NOT NULL DEFAULT ''
        );
        CREATE INDEX trace_records_by_case ON trace_records (case_id, id);

        -- Keys are per principal (role, id). `result` is the case number (create_case) or the message
        -- id (add_message); `response` is what a state-changing call answered, replayed to a retry.
        CREATE TABLE idempotency_keys (
            principal_role text   NOT NULL,
            principal_id   text   NOT NULL,
            key            text   NOT NULL,
            operation      text   NOT NULL,
            fingerprint    text   NOT NULL,
            result         text   NOT NULL DEFAULT '',
            response       bytea,
            created_at     bigint NOT NULL,
            PRIMARY KEY (principal_role, principal_id, key)
        );

        CREATE TABLE messages (
            id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            case_id        bigint NOT NULL,
            sender_role    text   NOT NULL,
            sender_id      text   NOT NULL,
            sender_shop_id text,
            text           bytea  NOT NULL,  -- UTF-8
            attachments    bytea  NOT NULL,  -- EvidenceDocument
            sent_at        bigint NOT NULL
        );
        CREATE INDEX messages_by_case ON messages (case_id, id);

        CREATE TABLE reasons (
            code              text    COLLATE "C" PRIMARY KEY,
            title             bytea   NOT NULL,  -- UTF-8
            kinds             text    NOT NULL,  -- comma-separated kinds, sorted
            basis             text    NOT NULL,
            requires_evidence boolean NOT NULL,
            active            boolean NOT NULL,
            sort_order        bigint  NOT NULL,
            version           bigint  NOT NULL,
            updated_at        bigint  NOT NULL
        );
        -- One row: grows with every change of `reasons`, in the same transaction, so a replica's
        -- cached catalog is known stale by one small read.
        CREATE TABLE reason_catalog (
            id         integer PRIMARY KEY CHECK (id = 1),
            generation bigint  NOT NULL
        );
        INSERT INTO reason_catalog (id, generation) VALUES (1, 0);

        -- Refund orders the payment system pays, one per case at most (id = 'RF' || case id).
        -- available_at is when a worker may claim it: created_at while pending, next_attempt_at while
        -- a retry is scheduled, lease_expires_at while claimed, NULL once succeeded or waiting for an
        -- agent. ClaimRefunds walks refunds_claimable from the oldest, skipping rows other claims lock.
        CREATE TABLE refund_orders (
            id                     text   COLLATE "C" PRIMARY KEY,  -- byte order, as the reference sorts ids
            case_id                bigint NOT NULL UNIQUE,
            order_id               text   NOT NULL,
            shop_id                text   NOT NULL,
            buyer_id               text   NOT NULL,
            amount_units           bigint NOT NULL CHECK (amount_units >= 0),
            currency               text   NOT NULL,
            cause                  text   NOT NULL,
            status                 text   NOT NULL,
            payment_channel        text   NOT NULL,
            payment_transaction_id text   NOT NULL,
            attempts               bigint NOT NULL,
            max_attempts           bigint NOT NULL,
            next_attempt_at        bigint,
            lease_owner            text,
            lease_token            text,
            lease_expires_at       bigint,
            available_at           bigint,
            last_failure_code      bytea  NOT NULL,  -- UTF-8
            last_failure_reason    bytea  NOT NULL,  -- UTF-8
            channel_transaction_id text,
            refunded_units         bigint NOT NULL CHECK (refunded_units >= 0 AND refunded_units <= amount_units),
            succeeded_at           bigint,
            created_at             bigint NOT NULL,
            updated_at             bigint NOT NULL,
            version                bigint NOT NULL,
            last_report            bytea             -- UTF-8
        );
        CREATE INDEX refunds_claimable    ON refund_orders (available_at, id) WHERE available_at IS NOT NULL;
        CREATE INDEX refunds_by_created   ON refund_orders (created_at, id);
        CREATE INDEX refunds_by_updated   ON refund_orders (updated_at, id);
        CREATE INDEX refunds_by_succeeded ON refund_orders (succeeded_at, id) WHERE succeeded_at IS NOT NULL;

        -- Every refused report a worker sent (for reconciliation and disputes).
        CREATE TABLE refund_reports (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            refund_id   text   NOT NULL,
            worker      text   NOT NULL,
            lease_token text   NOT NULL,
            report      bytea  NOT NULL,  -- UTF-8 RefundReport.fingerprint
            disposition text   NOT NULL,  -- rejected
            details     bytea  NOT NULL,  -- UTF-8
            at          bigint NOT NULL
        );
        CREATE INDEX refund_reports_by_refund ON refund_reports (refund_id, id);

        -- The transactional outbox: written by the change's own transaction with cursor NULL, in
        -- `seq` order; the feed sequencer then gives committed events their cursors, contiguous, in
        -- the order it finds them committed (see FeedSequencer). payload is the encoded
        -- aftersale.v1.Event without cursor and id.
        CREATE TABLE events (
            seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            cursor      bigint UNIQUE,
            event_type  text   NOT NULL,
            case_id     bigint,
            order_id    text   NOT NULL,
            occurred_at bigint NOT NULL,
            payload     bytea  NOT NULL
        );
        -- What the sequencer has still to number.
        CREATE INDEX events_unsequenced ON events (seq) WHERE cursor IS NULL;
        -- One row: the cursor of the newest sequenced event. Only the sequencer writes it, under an
        -- advisory lock, in the transaction that numbers the events.
        CREATE TABLE feed_head (
            id     integer PRIMARY KEY CHECK (id = 1),
            cursor bigint  NOT NULL
        ) WITH (fillfactor = 50);
        INSERT INTO feed_head (id, cursor) VALUES (1, 0);

        CREATE TABLE consumer_cursors (
            consumer   text   PRIMARY KEY,
            cursor     bigint NOT NULL,
            updated_at bigint NOT NULL
        );

        -- Carrier tracking numbers of return and outbound shipments (carrier upper-cased).
        CREATE TABLE shipment_tracking (
            tracking_number text   NOT NULL,
            carrier         text   NOT NULL,
            case_id         bigint NOT NULL,
            PRIMARY KEY (tracking_number, carrier, case_id)
        );

        -- The last case number sequence reserved per UTC day (yyyyMMdd), shared by every replica;
        -- each replica reserves a block at a time (see CaseNumberRows).
        CREATE TABLE case_number_days (
            day  bigint PRIMARY KEY,
            last bigint NOT NULL
        );
        """

    /// Migration 2: the platform's standard reasons at version 1, stored at the migration's time.
    /// Built from ``ReasonCatalog/standard``; titles go as hex so no quoting rule can bite.
    static func standardCatalogSQL() -> String {
        let rows = ReasonCatalog.standard.reasons(for: nil, includeInactive: true)
            .sorted { ($0.sortOrder, $0.code) < ($1.sortOrder, $1.code) }
            .map { reason in
                let kinds = reason.kinds.map(\.rawValue).sorted().joined(separator: ",")
                return "(\(literal(reason.code)), decode('\(hex(Array(reason.title.utf8)))', 'hex'), \(literal(kinds)), "
                    + "\(literal(reason.basis.rawValue)), \(reason.requiresEvidence), \(reason.isActive), \(reason.sortOrder), 1, "
                    + "floor(extract(epoch FROM now()) * 1000)::bigint)"
            }
        return """
            INSERT INTO reasons (code, title, kinds, basis, requires_evidence, active, sort_order, version, updated_at)
            VALUES \(rows.joined(separator: ",\n       "))
            ON CONFLICT (code) DO NOTHING;
            UPDATE reason_catalog SET generation = generation + 1 WHERE id = 1;
            """
    }

    /// A standard SQL string literal (quotes doubled; `standard_conforming_strings` is on since 9.1).
    static func literal(_ text: String) -> String {
        "'" + String(text.flatMap { $0 == "'" ? ["'", "'"] : [$0] }) + "'"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
    }
}
