import AfterSaleDomain
import AfterSaleStorage
import Foundation

/// The schema of the after-sale database, as the migrations that build it.
///
/// Layout of a case: the columns the list filters, sorts and shows, plus `document` (every field
/// but the timeline in a compact binary form, see ``CaseDocument``), which `GetAfterSale` decodes. The timeline,
/// trace records, messages, refund orders and outbox events are rows of their own tables, written by the
/// transaction that changes the case.
///
/// `cases.id` is the case number's digits (`AS20261121000123` → 20261121000123): numbers sort
/// like their text, the primary key is the rowid (no second unique index), and every secondary
/// index already ends in it, so `(created_at, id)` orders and pages the list.
///
/// Which index serves which list filter (see ``CaseListQuery``, which names the index it uses):
///
/// | filter                                   | index                                           |
/// |------------------------------------------|-------------------------------------------------|
/// | buyer (+ kind, statuses, time range)     | `cases_by_buyer(buyer_id, created_at, id, kind, status)` |
/// | shop + exactly one status (+ kind, time) | `cases_by_shop_status(shop_id, status, created_at, id, kind)` |
/// | shop (+ kind, several statuses, time)    | `cases_by_shop(shop_id, created_at, id, kind, status)` |
/// | exactly one status (+ kind, time)        | `cases_by_status(status, created_at, id, kind)` |
/// | none, kind, several statuses, time range | `cases_by_time(created_at, id, kind, status)`   |
/// | search by order number; eligibility      | `cases_by_order(order_id)`                      |
/// | search by case number; GetAfterSale      | the primary key                                 |
///
/// Each index delivers rows already in `(created_at, id)` order after its equality columns, so a
/// page is a bounded walk from the cursor (a range seek on the row value `(created_at, id)`), never
/// a sort of every match; `kind` and `status` ride along at the end so the walk filters them from
/// the index entry without visiting the row.
public enum Schema {
    /// Every migration, oldest first. Never edit one that has shipped: add the next.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "orders, cases, timeline, trace, idempotency, messages, refunds, reasons", sql: version1),
        Migration(version: 2, name: "standard reason catalog", apply: seedStandardCatalog),
        Migration(version: 3, name: "refund orders, event feed, consumer cursors, tracking numbers", sql: version3),
        Migration(version: 4, name: "trace records name the refund order acted on",
                  sql: "ALTER TABLE trace_records ADD COLUMN refund_id TEXT;"),
        Migration(version: 5, name: "refund orders replace refund requests; event cursors without AUTOINCREMENT", sql: version5),
        Migration(version: 6, name: "trace records keep the caller's trace id; idempotency keys keep the response they replay",
                  sql: version6),
        Migration(version: 7, name: "case timers and their settings (overrides, pauses)", sql: version7),
        Migration(version: 8, name: "the audit chain: trace records hash-chained, its head and signed checkpoints",
                  apply: AuditRows.migrate),
        Migration(version: 9, name: "service desk: agents and tickets", sql: version9),
        Migration(version: 10, name: "buyers' ratings of cases and tickets", sql: version10),
        Migration(version: 11, name: "buyers' data keys, wrapped by the master key", sql: version11),
        Migration(version: 12, name: "the knowledge base: articles, revisions, the term index, helpful votes", sql: version12),
        Migration(version: 13, name: "statistics rollups", sql: version13),
        Migration(version: 14, name: "disputes (维权): one per case, with the deadline the sweep reads", sql: version14),
        Migration(version: 15, name: "statistics in blocks of 1, 4, 16 and 64 days, recounted from the feed", sql: version15),
    ]

    /// Statistics blocks replace the rows per metric of 13: one row per scope, dimension, span
    /// (1, 4, 16 or 64 days), first day and group, its body every sum of the block encoded
    /// (``StatisticsSummary/encoded()``), so a 90-day answer reads at most 19 rows per group
    /// (``StatisticsBlocks``). The rows of 13 are dropped and the projector's cursor with them: it
    /// counts the whole feed again into the blocks (nothing deletes events).
    static let version15 = """
        DROP TABLE statistics_rollups;
        CREATE TABLE statistics_blocks (
            scope     TEXT    NOT NULL,
            dimension TEXT    NOT NULL,
            span      INTEGER NOT NULL,
            first_day INTEGER NOT NULL,
            group_key TEXT    NOT NULL,
            body      BLOB    NOT NULL,
            PRIMARY KEY (scope, dimension, span, first_day, group_key)
        ) WITHOUT ROWID;
        DELETE FROM consumer_cursors WHERE consumer IN ('aftersale-statistics', 'statistics-seed');
        """

    /// Disputes (维权) as documents, with the columns lists and the deadline sweep filter on:
    /// `next_at` is the earliest deadline still to apply (NULL when none runs), indexed only where set.
    static let version14 = """
        CREATE TABLE disputes (
            dispute_id TEXT    PRIMARY KEY,
            case_id    INTEGER NOT NULL,
            order_id   TEXT    NOT NULL,
            buyer_id   TEXT    NOT NULL,
            shop_id    TEXT    NOT NULL,
            status     TEXT    NOT NULL,
            opened_at  INTEGER NOT NULL,
            next_at    INTEGER,
            version    INTEGER NOT NULL,
            document   BLOB    NOT NULL
        );
        CREATE INDEX disputes_by_time  ON disputes (opened_at, dispute_id);
        CREATE INDEX disputes_by_buyer ON disputes (buyer_id, opened_at, dispute_id);
        CREATE INDEX disputes_by_shop  ON disputes (shop_id, opened_at, dispute_id);
        CREATE INDEX disputes_by_order ON disputes (order_id);
        CREATE INDEX disputes_due      ON disputes (next_at, dispute_id) WHERE next_at IS NOT NULL;
        """

    /// Statistics rollups (see ``StatisticsRecorder``): one row per scope ('' the platform,
    /// `shop:<id>`, `team:<name>`), dimension (day, kind, reason, category, shop, agent), day,
    /// group and metric, holding a sum the projector adds to. A GetStatistics answer is one range
    /// seek on the primary key: (scope, dimension) and the day range. The projector's place on the
    /// feed is its row in consumer_cursors, moved in the same transaction.
    static let version13 = """
        CREATE TABLE statistics_rollups (
            scope     TEXT    NOT NULL,
            dimension TEXT    NOT NULL,
            day       INTEGER NOT NULL,
            group_key TEXT    NOT NULL,
            metric    TEXT    NOT NULL,
            amount    INTEGER NOT NULL,
            PRIMARY KEY (scope, dimension, day, group_key, metric)
        ) WITHOUT ROWID;
        """

    /// The knowledge base (知识库). Articles and revisions as documents; `knowledge_terms` is the
    /// term index of the published revisions, written by the same transaction as the article, one
    /// row per term and field (terms cut in Swift by ``KnowledgeText``: Han bigrams and unigrams,
    /// folded words, facets such as `kind:refund_only`), with each article's field lengths and vote
    /// tallies as columns of its row, so a search reads postings by term (the primary key) and ranks
    /// them in Swift, exactly as PostgreSQL's does.
    static let version12 = """
        CREATE TABLE knowledge_articles (
            article_id         TEXT    PRIMARY KEY,
            status             TEXT    NOT NULL,   -- draft | published | archived
            audience           TEXT    NOT NULL,   -- of the published revision, else of the newest
            version            INTEGER NOT NULL,
            revision           INTEGER NOT NULL,
            published_revision INTEGER,
            updated_at         INTEGER NOT NULL,
            title_length       INTEGER NOT NULL,   -- tokens of the published revision (0 unless published)
            tags_length        INTEGER NOT NULL,
            body_length        INTEGER NOT NULL,
            helpful            INTEGER NOT NULL DEFAULT 0,
            not_helpful        INTEGER NOT NULL DEFAULT 0,
            document           BLOB    NOT NULL
        );
        CREATE INDEX knowledge_articles_by_status ON knowledge_articles (status, article_id);
        CREATE TABLE knowledge_revisions (
            article_id TEXT    NOT NULL,
            revision   INTEGER NOT NULL,
            document   BLOB    NOT NULL,
            PRIMARY KEY (article_id, revision)
        ) WITHOUT ROWID;
        CREATE TABLE knowledge_terms (
            term       TEXT    NOT NULL,
            article_id TEXT    NOT NULL,
            field      INTEGER NOT NULL,   -- 0 title, 1 tags, 2 body, 3 facets
            count      INTEGER NOT NULL,
            PRIMARY KEY (term, article_id, field)
        ) WITHOUT ROWID;
        CREATE INDEX knowledge_terms_by_article ON knowledge_terms (article_id);
        CREATE TABLE knowledge_votes (
            article_id TEXT    NOT NULL,
            voter      TEXT    NOT NULL,   -- role:id
            vote       TEXT    NOT NULL,   -- helpful | not_helpful
            voted_at   INTEGER NOT NULL,
            PRIMARY KEY (article_id, voter)
        ) WITHOUT ROWID;
        """

    /// Buyers' data keys (one row per generation; `wrapped_key` NULL once destroyed). The row of
    /// buyer '' is the key check: it tells a server whether its master key is the store's.
    static let version11 = """
        CREATE TABLE personal_data_keys (
            buyer_id    TEXT    NOT NULL,
            generation  INTEGER NOT NULL,
            wrapped_key BLOB,
            created_at  INTEGER NOT NULL,
            erased_at   INTEGER,
            PRIMARY KEY (buyer_id, generation)
        );
        """

    /// Buyers' ratings (评价), one per case or ticket, as documents with the columns lists filter on.
    static let version10 = """
        CREATE TABLE ratings (
            subject  TEXT    PRIMARY KEY,   -- case:<number> | ticket:<id>
            shop_id  TEXT    NOT NULL,
            agent_id TEXT,
            rated_at INTEGER NOT NULL,
            version  INTEGER NOT NULL,
            document BLOB    NOT NULL
        );
        CREATE INDEX ratings_by_time  ON ratings (rated_at, subject);
        CREATE INDEX ratings_by_shop  ON ratings (shop_id, rated_at, subject);
        CREATE INDEX ratings_by_agent ON ratings (agent_id, rated_at, subject);
        """

    /// The service desk: agents and tickets as documents, with the columns dispatch, the desk worker
    /// and the ticket list filter on. (8 is the audit chain's.)
    static let version9 = """
        CREATE TABLE agents (
            agent_id TEXT    PRIMARY KEY,
            team     TEXT    NOT NULL,
            version  INTEGER NOT NULL,
            document BLOB    NOT NULL
        );
        CREATE TABLE tickets (
            ticket_id         TEXT    PRIMARY KEY,
            status            TEXT    NOT NULL,
            assignee          TEXT,
            previous_assignee TEXT,
            team              TEXT,
            requester_role    TEXT    NOT NULL,
            requester_id      TEXT    NOT NULL,
            buyer_id          TEXT,
            shop_id           TEXT,
            case_id           INTEGER,
            created_at        INTEGER NOT NULL,
            queued_at         INTEGER NOT NULL,
            wake_at           INTEGER,           -- Unix ms, when the desk worker looks at it next
            version           INTEGER NOT NULL,
            document          BLOB    NOT NULL
        );
        CREATE INDEX tickets_queue       ON tickets (status, queued_at, ticket_id);
        CREATE INDEX tickets_wake        ON tickets (wake_at, ticket_id) WHERE wake_at IS NOT NULL;
        CREATE INDEX tickets_by_time     ON tickets (created_at, ticket_id);
        CREATE INDEX tickets_by_assignee ON tickets (assignee, created_at);
        CREATE INDEX tickets_by_case     ON tickets (case_id);
        """

    /// One timer per waiting case, found by when it next needs looking at; timer settings as
    /// versioned documents (every version kept, so a timer can name the one it was armed under).
    static let version7 = """
        CREATE TABLE case_timers (
            case_id          INTEGER PRIMARY KEY REFERENCES cases (id),
            shop_id          TEXT    NOT NULL,
            rule             TEXT    NOT NULL,
            started_at       INTEGER NOT NULL,  -- Unix ms, when the wait began
            duration_ms      INTEGER NOT NULL,
            reminder_lead_ms INTEGER NOT NULL,
            policy_version   TEXT    NOT NULL,
            reminded_at      INTEGER,
            next_at          INTEGER NOT NULL   -- Unix ms, when the worker next looks at it
        );
        CREATE INDEX case_timers_by_next ON case_timers (next_at, case_id);
        CREATE TABLE timer_settings (
            kind     TEXT    NOT NULL,  -- override | pause
            key      TEXT    NOT NULL,  -- the override's scope, the pause's id
            version  INTEGER NOT NULL,
            document BLOB    NOT NULL,
            saved_at INTEGER NOT NULL,
            PRIMARY KEY (kind, key, version)
        );
        """

    /// Trace records name the call's `x-trace-id`; a key spent on a state-changing call keeps the
    /// response it returned, replayed to an identical retry.
    static let version6 = """
        ALTER TABLE trace_records ADD COLUMN trace_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE idempotency_keys ADD COLUMN response BLOB;
        """

    static let version1 = """
        -- Orders as the order system last sent them; `version` is the order system's.
        CREATE TABLE orders (
            order_id  TEXT    PRIMARY KEY,
            version   INTEGER NOT NULL,
            buyer_id  TEXT    NOT NULL,
            shop_id   TEXT    NOT NULL,
            status    TEXT    NOT NULL,
            stored_at INTEGER NOT NULL,  -- Unix ms
            document  BLOB    NOT NULL   -- binary, see OrderDocument
        );

        CREATE TABLE cases (
            id           INTEGER PRIMARY KEY,  -- the case number's digits: yyyyMMdd * 1000000 + sequence
            order_id     TEXT    NOT NULL,
            buyer_id     TEXT    NOT NULL,
            shop_id      TEXT    NOT NULL,
            shop_name    TEXT    NOT NULL,
            shop_contact TEXT    NOT NULL,
            kind         TEXT    NOT NULL,
            status       TEXT    NOT NULL,
            created_at   INTEGER NOT NULL,  -- Unix ms, when the buyer applied
            updated_at   INTEGER NOT NULL,
            version      INTEGER NOT NULL,
            title        TEXT    NOT NULL,  -- first line's product, for the list row
            spec         TEXT    NOT NULL,
            image_url    TEXT    NOT NULL,
            quantity     INTEGER NOT NULL,
            line_count   INTEGER NOT NULL,
            refund_units INTEGER,           -- approved or computed refund; NULL for exchange and repair
            currency     TEXT    NOT NULL,
            document     BLOB    NOT NULL   -- CaseDocument: every field but the timeline; last, so list reads skip it
        );
        CREATE INDEX cases_by_buyer       ON cases (buyer_id, created_at, id, kind, status);
        CREATE INDEX cases_by_shop        ON cases (shop_id, created_at, id, kind, status);
        CREATE INDEX cases_by_shop_status ON cases (shop_id, status, created_at, id, kind);
        CREATE INDEX cases_by_status      ON cases (status, created_at, id, kind);
        CREATE INDEX cases_by_time        ON cases (created_at, id, kind, status);
        CREATE INDEX cases_by_order       ON cases (order_id);

        -- seq counts from 0 in timeline order: the case's timeline is these rows by seq.
        CREATE TABLE timeline_entries (
            case_id       INTEGER NOT NULL REFERENCES cases (id),
            seq           INTEGER NOT NULL,
            at            INTEGER NOT NULL,
            step          TEXT    NOT NULL,
            actor_role    TEXT    NOT NULL,
            actor_id      TEXT    NOT NULL,
            actor_shop_id TEXT,
            from_status   TEXT,
            to_status     TEXT    NOT NULL,
            note          TEXT    NOT NULL,
            PRIMARY KEY (case_id, seq)
        ) WITHOUT ROWID;

        -- Every action on a case, applied or refused; seq counts from 1 per case.
        CREATE TABLE trace_records (
            case_id       INTEGER NOT NULL REFERENCES cases (id),
            seq           INTEGER NOT NULL,
            at            INTEGER NOT NULL,
            step          TEXT    NOT NULL,
            actor_role    TEXT    NOT NULL,
            actor_id      TEXT    NOT NULL,
            actor_shop_id TEXT,
            from_status   TEXT,
            to_status     TEXT    NOT NULL,
            outcome       TEXT    NOT NULL,
            details       TEXT    NOT NULL,
            PRIMARY KEY (case_id, seq)
        ) WITHOUT ROWID;

        -- Keys are per principal (role, id): two callers never collide. `result` is the case number
        -- (operation create_case) or the message id (add_message).
        CREATE TABLE idempotency_keys (
            principal_role TEXT    NOT NULL,
            principal_id   TEXT    NOT NULL,
            key            TEXT    NOT NULL,
            operation      TEXT    NOT NULL,
            fingerprint    TEXT    NOT NULL,
            result         TEXT    NOT NULL,
            created_at     INTEGER NOT NULL,
            PRIMARY KEY (principal_role, principal_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE messages (
            id             INTEGER PRIMARY KEY,
            case_id        INTEGER NOT NULL REFERENCES cases (id),
            sender_role    TEXT    NOT NULL,
            sender_id      TEXT    NOT NULL,
            sender_shop_id TEXT,
            text           TEXT    NOT NULL,
            attachments    BLOB    NOT NULL,  -- EvidenceDocument
            sent_at        INTEGER NOT NULL
        );
        CREATE INDEX messages_by_case ON messages (case_id, id);

        -- Refunds transitions asked for, written in the same transaction as the case change.
        CREATE TABLE refund_requests (
            id           INTEGER PRIMARY KEY,
            case_id      INTEGER NOT NULL REFERENCES cases (id),
            case_version INTEGER NOT NULL,
            order_id     TEXT    NOT NULL,
            shop_id      TEXT    NOT NULL,
            buyer_id     TEXT    NOT NULL,
            amount_units INTEGER NOT NULL,
            currency     TEXT    NOT NULL,
            cause        TEXT    NOT NULL,  -- the RefundTrigger
            requested_at INTEGER NOT NULL
        );
        CREATE INDEX refund_requests_by_case ON refund_requests (case_id, id);

        CREATE TABLE reasons (
            code              TEXT    PRIMARY KEY,
            title             TEXT    NOT NULL,
            kinds             TEXT    NOT NULL,  -- comma-separated kinds, sorted
            basis             TEXT    NOT NULL,
            requires_evidence INTEGER NOT NULL,
            active            INTEGER NOT NULL,
            sort_order        INTEGER NOT NULL,
            version           INTEGER NOT NULL,
            updated_at        INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    static let version3 = """
        -- Refund orders the payment system pays, one per case at most (id = 'RF' || case id).
        -- available_at is when a worker may claim it: created_at while pending, next_attempt_at
        -- while a retry is scheduled, lease_expires_at while claimed, NULL once succeeded or
        -- waiting for an agent. ClaimRefunds walks refunds_claimable from the oldest.
        CREATE TABLE refund_orders (
            id                     TEXT    PRIMARY KEY,
            case_id                INTEGER NOT NULL UNIQUE REFERENCES cases (id),
            order_id               TEXT    NOT NULL,
            shop_id                TEXT    NOT NULL,
            buyer_id               TEXT    NOT NULL,
            amount_units           INTEGER NOT NULL CHECK (amount_units >= 0),
            currency               TEXT    NOT NULL,
            cause                  TEXT    NOT NULL,
            status                 TEXT    NOT NULL,
            payment_channel        TEXT    NOT NULL,
            payment_transaction_id TEXT    NOT NULL,
            attempts               INTEGER NOT NULL,
            max_attempts           INTEGER NOT NULL,
            next_attempt_at        INTEGER,
            lease_owner            TEXT,
            lease_token            TEXT,
            lease_expires_at       INTEGER,
            available_at           INTEGER,
            last_failure_code      TEXT    NOT NULL DEFAULT '',
            last_failure_reason    TEXT    NOT NULL DEFAULT '',
            channel_transaction_id TEXT,
            refunded_units         INTEGER NOT NULL CHECK (refunded_units >= 0 AND refunded_units <= amount_units),
            succeeded_at           INTEGER,
            created_at             INTEGER NOT NULL,
            updated_at             INTEGER NOT NULL,
            version                INTEGER NOT NULL,
            last_report            TEXT
        );
        CREATE INDEX refunds_claimable    ON refund_orders (available_at, id) WHERE available_at IS NOT NULL;
        CREATE INDEX refunds_by_created   ON refund_orders (created_at, id);
        CREATE INDEX refunds_by_updated   ON refund_orders (updated_at, id);
        CREATE INDEX refunds_by_succeeded ON refund_orders (succeeded_at, id) WHERE succeeded_at IS NOT NULL;

        -- Every report a worker sent: applied, duplicate or refused (for reconciliation and disputes).
        CREATE TABLE refund_reports (
            id          INTEGER PRIMARY KEY,
            refund_id   TEXT    NOT NULL,
            worker      TEXT    NOT NULL,
            lease_token TEXT    NOT NULL,
            report      TEXT    NOT NULL,  -- RefundReport.fingerprint
            disposition TEXT    NOT NULL,  -- applied | rejected
            details     TEXT    NOT NULL,
            at          INTEGER NOT NULL
        );
        CREATE INDEX refund_reports_by_refund ON refund_reports (refund_id, id);

        -- Refund requests stored before this migration become pending refund orders.
        INSERT OR IGNORE INTO refund_orders (id, case_id, order_id, shop_id, buyer_id, amount_units, currency, cause, status,
                                             payment_channel, payment_transaction_id, attempts, max_attempts, available_at,
                                             refunded_units, created_at, updated_at, version)
        SELECT 'RF' || r.case_id, r.case_id, r.order_id, r.shop_id, r.buyer_id, r.amount_units, r.currency, r.cause, 'pending',
               '', '', 0, 5, r.requested_at, 0, r.requested_at, r.requested_at, 1
        FROM refund_requests r JOIN cases c ON c.id = r.case_id
        WHERE c.status = 'pending_refund';

        -- The transactional outbox: appended in the transaction of the change; cursor is the feed
        -- position (AUTOINCREMENT: never reused, strictly increasing in commit order, since one
        -- writer commits). payload is the encoded aftersale.v1.Event without cursor and id.
        CREATE TABLE events (
            cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
            event_type  TEXT    NOT NULL,
            case_id     INTEGER,
            order_id    TEXT    NOT NULL,
            occurred_at INTEGER NOT NULL,
            payload     BLOB    NOT NULL
        );

        CREATE TABLE consumer_cursors (
            consumer   TEXT    PRIMARY KEY,
            cursor     INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- Carrier tracking numbers of return and outbound shipments (carrier upper-cased).
        CREATE TABLE shipment_tracking (
            tracking_number TEXT    NOT NULL,
            carrier         TEXT    NOT NULL,
            case_id         INTEGER NOT NULL REFERENCES cases (id),
            PRIMARY KEY (tracking_number, carrier, case_id)
        ) WITHOUT ROWID;
        """

    static let version5 = """
        -- Since migration 3 every refund request also became a refund order in the same transaction,
        -- so refund_requests only repeated them. Requests that never got an order (cases imported
        -- by an older seeder) become pending orders, as in migration 3; then the table goes.
        INSERT OR IGNORE INTO refund_orders (id, case_id, order_id, shop_id, buyer_id, amount_units, currency, cause, status,
                                             payment_channel, payment_transaction_id, attempts, max_attempts, available_at,
                                             refunded_units, created_at, updated_at, version)
        SELECT 'RF' || r.case_id, r.case_id, r.order_id, r.shop_id, r.buyer_id, r.amount_units, r.currency, r.cause, 'pending',
               '', '', 0, 5, r.requested_at, 0, r.requested_at, r.requested_at, 1
        FROM refund_requests r JOIN cases c ON c.id = r.case_id
        WHERE c.status = 'pending_refund';
        DROP TABLE refund_requests;

        -- AUTOINCREMENT read and rewrote sqlite_sequence on every insert. Without it a new cursor is
        -- max(cursor) + 1, which is the same guarantee as long as the newest event is never deleted:
        -- the one writer appends in commit order and nothing deletes events (a future retention job
        -- must keep the newest row).
        CREATE TABLE events_v5 (
            cursor      INTEGER PRIMARY KEY,
            event_type  TEXT    NOT NULL,
            case_id     INTEGER,
            order_id    TEXT    NOT NULL,
            occurred_at INTEGER NOT NULL,
            payload     BLOB    NOT NULL
        );
        INSERT INTO events_v5 (cursor, event_type, case_id, order_id, occurred_at, payload)
        SELECT cursor, event_type, case_id, order_id, occurred_at, payload FROM events ORDER BY cursor;
        DROP TABLE events;
        ALTER TABLE events_v5 RENAME TO events;
        """

    /// A new database starts with the platform's standard reasons; the back office edits them from there.
    @Sendable static func seedStandardCatalog(_ connection: SQLiteConnection) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for reason in ReasonCatalog.standard.reasons(for: nil, includeInactive: true) {
            try ReasonRows.insert(reason, version: 1, at: now, on: connection)
        }
    }
}
