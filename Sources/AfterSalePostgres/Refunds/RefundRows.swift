import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `refund_orders` and `refund_reports`.
enum RefundRows {
    static let columns = """
        id, case_id, order_id, shop_id, buyer_id, amount_units, currency, cause, status, payment_channel, \
        payment_transaction_id, attempts, max_attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, \
        last_failure_code, last_failure_reason, channel_transaction_id, refunded_units, succeeded_at, created_at, \
        updated_at, version, last_report
        """

    /// Every stored column of `refund`, in the order of ``columns``, then `available_at`.
    private static func values(_ r: RefundOrder) -> [PostgresValue] {
        [.text(r.id), .int64(CaseKey.id(of: r.caseNumber)), .text(r.orderID), .text(r.shopID), .text(r.buyerID),
         .int64(r.amount.minorUnits), .text(r.amount.currency.code), .text(r.trigger.rawValue), .text(r.status.rawValue),
         .text(r.paymentChannel), .text(r.paymentTransactionID), .int64(Int64(r.attempts)), .int64(Int64(r.maxAttempts)),
         .time(r.nextAttemptAt), PostgresValue(r.lease?.owner), PostgresValue(r.lease?.token), .time(r.lease?.expiresAt),
         .utf8(r.lastFailureCode), .utf8(r.lastFailureReason), PostgresValue(r.channelTransactionID),
         .int64(r.refundedAmount.minorUnits), .time(r.succeededAt), .time(r.createdAt), .time(r.updatedAt), .int64(r.version),
         .utf8(r.lastReport), PostgresValue(r.claimableAtMilliseconds)]
    }

    /// Adds a new refund order to `write`; a unique violation of the write means the case has one
    /// already (or the id is taken): the state machine never asks for a second, and the unique keys
    /// are the backstop.
    static func insert(_ refund: RefundOrder, onlyIf part: Int? = nil, into write: inout CombinedWrite) {
        write.insert("refund_orders (\(columns), available_at)", rows: [values(refund)], types: [
            "text", "bigint", "text", "text", "text", "bigint", "text", "text", "text", "text", "text", "bigint", "bigint",
            "bigint", "text", "text", "bigint", "bytea", "bytea", "text", "bigint", "bigint", "bigint", "bigint", "bigint",
            "bytea", "bigint",
        ], onlyIf: part)
    }

    /// Replaces the stored row if it is at `expectedVersion` (compare-and-set).
    /// - Throws: ``DomainError/versionConflict(expected:actual:)``; ``RepositoryError/refundNotFound(_:)``.
    static func update(_ refund: RefundOrder, expectedVersion: Int64, on connection: PostgresConnection) throws {
        let r = refund
        // Only what a refund's life can change: its identity, amount, parties and creation stay.
        let changed = try connection.execute("""
            UPDATE refund_orders SET status = $3, attempts = $4, max_attempts = $5, next_attempt_at = $6::bigint,
                lease_owner = $7::text, lease_token = $8::text, lease_expires_at = $9::bigint, last_failure_code = $10,
                last_failure_reason = $11, channel_transaction_id = $12::text, refunded_units = $13,
                succeeded_at = $14::bigint, updated_at = $15, version = $16, last_report = $17::bytea,
                available_at = $18::bigint
            WHERE id = $1 AND version = $2
            """, parameters: [
                .text(r.id), .int64(expectedVersion), .text(r.status.rawValue), .int64(Int64(r.attempts)),
                .int64(Int64(r.maxAttempts)), .time(r.nextAttemptAt), PostgresValue(r.lease?.owner), PostgresValue(r.lease?.token),
                .time(r.lease?.expiresAt), .utf8(r.lastFailureCode), .utf8(r.lastFailureReason),
                PostgresValue(r.channelTransactionID), .int64(r.refundedAmount.minorUnits), .time(r.succeededAt),
                .time(r.updatedAt), .int64(r.version), .utf8(r.lastReport), PostgresValue(r.claimableAtMilliseconds),
            ])
        guard changed == 1 else {
            guard let actual = try connection.queryOne("SELECT version FROM refund_orders WHERE id = $1", .text(refund.id),
                                                       decode: { try $0.int64(0) }) else {
                throw RepositoryError.refundNotFound(refund.id)
            }
            throw DomainError.versionConflict(expected: expectedVersion, actual: actual)
        }
    }

    static func decode(_ row: PostgresRow) throws -> RefundOrder {
        let currency = try decoding { try CurrencyCode(try row.string(6)) }
        var lease: RefundLease?
        if let owner = try row.optionalString(14), let token = try row.optionalString(15), let expires = try row.optionalTimestamp(16) {
            lease = RefundLease(owner: owner, token: token, expiresAt: expires)
        }
        let id = try row.string(0)
        let caseNumber = try CaseKey.number(of: try row.int64(1))
        let orderID = try row.string(2)
        let shopID = try row.string(3)
        let buyerID = try row.string(4)
        let amount = Money(minorUnits: try row.int64(5), currency: currency)
        let trigger = try row.name(7, as: RefundTrigger.self)
        let status = try row.name(8, as: RefundStatus.self)
        let paymentChannel = try row.string(9)
        let paymentTransactionID = try row.string(10)
        let attempts = try row.int(11)
        let maxAttempts = try row.int(12)
        let nextAttemptAt = try row.optionalTimestamp(13)
        let lastFailureCode = try row.utf8(17)
        let lastFailureReason = try row.utf8(18)
        let channelTransactionID = try row.optionalString(19)
        let refunded = Money(minorUnits: try row.int64(20), currency: currency)
        let succeededAt = try row.optionalTimestamp(21)
        let createdAt = try row.timestamp(22)
        let updatedAt = try row.timestamp(23)
        let version = try row.int64(24)
        let lastReport = try row.optionalUTF8(25)
        return RefundOrder(
            id: id, caseNumber: caseNumber, orderID: orderID, shopID: shopID, buyerID: buyerID, amount: amount, trigger: trigger,
            status: status, paymentChannel: paymentChannel, paymentTransactionID: paymentTransactionID, attempts: attempts,
            maxAttempts: maxAttempts, nextAttemptAt: nextAttemptAt, lease: lease, lastFailureCode: lastFailureCode,
            lastFailureReason: lastFailureReason, channelTransactionID: channelTransactionID, refundedAmount: refunded,
            succeededAt: succeededAt, createdAt: createdAt, updatedAt: updatedAt, version: version, lastReport: lastReport)
    }

    static func load(id: String, on connection: PostgresConnection) throws -> RefundOrder? {
        try connection.queryOne("SELECT \(columns) FROM refund_orders WHERE id = $1", .text(id), decode: decode)
    }

    static func load(caseID: Int64, on connection: PostgresConnection) throws -> RefundOrder? {
        try connection.queryOne("SELECT \(columns) FROM refund_orders WHERE case_id = $1", .int64(caseID), decode: decode)
    }

    /// Locks up to `limit` refunds claimable at `now` (oldest availability first) on `channels`
    /// (empty: any), skipping rows another transaction holds: a concurrent claim, on any replica,
    /// takes the next ones instead of waiting, and never the same.
    static func lockClaimable(at now: Int64, limit: Int, channels: Set<String>, on connection: PostgresConnection) throws -> [RefundOrder] {
        var sql = StatementBuilder()
        let nowParameter = sql.parameter(.int64(now))
        var channelCondition = ""
        if !channels.isEmpty {
            channelCondition = " AND payment_channel IN ("
                + channels.sorted().map { "\(sql.parameter(.text($0)))::text" }.joined(separator: ", ") + ")"
        }
        let limitParameter = sql.parameter(.int64(Int64(limit)))
        return try connection.query("""
            SELECT \(columns) FROM refund_orders
            WHERE available_at IS NOT NULL AND available_at <= \(nowParameter)::bigint\(channelCondition)
            ORDER BY available_at, id
            LIMIT \(limitParameter)::bigint
            FOR UPDATE SKIP LOCKED
            """, parameters: sql.parameters, decode: decode)
    }

    static func insertReport(refundID: String, report: RefundReport, disposition: String, details: String, at: Timestamp,
                             on connection: PostgresConnection) throws {
        try connection.execute("""
            INSERT INTO refund_reports (refund_id, worker, lease_token, report, disposition, details, at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, .text(refundID), .text(report.worker), .text(report.leaseToken), .utf8(report.fingerprint), .text(disposition),
            .utf8(details), .time(at))
    }
}

/// The SQL of one ListRefunds page and of its totals over the whole filter.
struct RefundListQuery {
    let pageSQL: String
    let pageParameters: [PostgresValue]
    let totalsSQL: String
    let totalsParameters: [PostgresValue]

    init(_ query: RefundQuery) {
        let column = Self.timeColumn(query.basis)
        var page = StatementBuilder()
        var pageConditions = Self.filter(query, column: column, into: &page)
        if let after = query.after {
            // succeeded_at is never NULL here (the filter requires it for that basis).
            let at = page.parameter(.int64(after.at))
            let id = page.parameter(.text(after.refundID))
            pageConditions += " AND (\(column), id) < (\(at)::bigint, \(id)::text)"
        }
        let limit = page.parameter(.int64(Int64(query.pageSize + 1)))
        pageSQL = """
            SELECT \(RefundRows.columns) FROM refund_orders WHERE \(pageConditions)
            ORDER BY \(column) DESC, id DESC LIMIT \(limit)::bigint
            """
        pageParameters = page.parameters
        var totals = StatementBuilder()
        let totalConditions = Self.filter(query, column: column, into: &totals)
        totalsSQL = """
            SELECT status, currency, count(*), sum(amount_units)::text, sum(refunded_units)::text FROM refund_orders
            WHERE \(totalConditions) GROUP BY status, currency
            """
        totalsParameters = totals.parameters
    }

    /// The column a list's range and order use.
    static func timeColumn(_ basis: RefundTimeBasis) -> String {
        switch basis {
        case .created: "created_at"
        case .updated: "updated_at"
        case .succeeded: "succeeded_at"
        }
    }

    /// The filter's conditions, with their parameters added to `sql`.
    static func filter(_ query: RefundQuery, column: String, into sql: inout StatementBuilder) -> String {
        var conditions = ["true"]
        if let from = query.from { conditions.append("\(column) >= \(sql.parameter(.time(from)))::bigint") }
        if let before = query.before { conditions.append("\(column) < \(sql.parameter(.time(before)))::bigint") }
        if query.basis == .succeeded { conditions.append("succeeded_at IS NOT NULL") }
        if let shop = query.shopID { conditions.append("shop_id = \(sql.parameter(.text(shop)))::text") }
        if let number = query.caseNumber {
            conditions.append("case_id = \(sql.parameter(.int64(CaseKey.id(of: number))))::bigint")
        }
        if let numbers = query.caseNumbers {
            let ids = numbers.map { String(CaseKey.id(of: $0)) }.sorted()
            conditions.append("case_id = ANY (\(sql.parameter(.text("{" + ids.joined(separator: ",") + "}")))::bigint[])")
        }
        let statuses = query.statuses.map(\.rawValue).sorted()
        if !statuses.isEmpty {
            // Status names are snake_case words: a comma never occurs in one.
            let names = sql.parameter(.text(statuses.joined(separator: ",")))
            conditions.append("status = ANY (string_to_array(\(names)::text, ','))")
        }
        return conditions.joined(separator: " AND ")
    }
}
