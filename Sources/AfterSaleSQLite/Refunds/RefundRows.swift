import AfterSaleDomain
import AfterSaleStorage

/// Reading and writing rows of `refund_orders` and `refund_reports`.
enum RefundRows {
    static let columns = """
        id, case_id, order_id, shop_id, buyer_id, amount_units, currency, cause, status, payment_channel,
        payment_transaction_id, attempts, max_attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at,
        last_failure_code, last_failure_reason, channel_transaction_id, refunded_units, succeeded_at, created_at,
        updated_at, version, last_report
        """


    /// Inserts a new refund order; a second one for the same case violates the UNIQUE constraint.
    static func insert(_ refund: RefundOrder, on connection: SQLiteConnection) throws {
        try connection.run("""
            INSERT INTO refund_orders (\(columns), available_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
                    ?23, ?24, ?25, ?26, ?27)
            """) { bindAll(refund, $0) }
    }

    /// Replaces the stored row if it is at `expectedVersion`.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)``; ``RepositoryError/refundNotFound(_:)``.
    static func update(_ refund: RefundOrder, expectedVersion: Int64, on connection: SQLiteConnection) throws {
        let changed = try connection.run("""
            UPDATE refund_orders SET status = ?9, attempts = ?12, max_attempts = ?13, next_attempt_at = ?14,
                lease_owner = ?15, lease_token = ?16, lease_expires_at = ?17, last_failure_code = ?18,
                last_failure_reason = ?19, channel_transaction_id = ?20, refunded_units = ?21, succeeded_at = ?22,
                updated_at = ?24, version = ?25, last_report = ?26, available_at = ?27
            WHERE id = ?1 AND version = ?28
            """) {
            bindAll(refund, $0)
            $0.bind(28, expectedVersion)
        }
        guard changed == 1 else {
            guard let actual = try connection.queryOne("SELECT version FROM refund_orders WHERE id = ?1",
                                                       bind: { $0.bind(1, refund.id) }, row: { $0.int64(0) }) else {
                throw RepositoryError.refundNotFound(refund.id)
            }
            throw DomainError.versionConflict(expected: expectedVersion, actual: actual)
        }
    }

    private static func bindAll(_ r: RefundOrder, _ s: Statement) {
        s.bind(1, r.id)
        s.bind(2, CaseKey.id(of: r.caseNumber))
        s.bind(3, r.orderID)
        s.bind(4, r.shopID)
        s.bind(5, r.buyerID)
        s.bind(6, r.amount.minorUnits)
        s.bind(7, r.amount.currency.code)
        s.bind(8, r.trigger.rawValue)
        s.bind(9, r.status.rawValue)
        s.bind(10, r.paymentChannel)
        s.bind(11, r.paymentTransactionID)
        s.bind(12, r.attempts)
        s.bind(13, r.maxAttempts)
        s.bind(14, r.nextAttemptAt?.millisecondsSinceEpoch)
        s.bind(15, r.lease?.owner)
        s.bind(16, r.lease?.token)
        s.bind(17, r.lease?.expiresAt.millisecondsSinceEpoch)
        s.bind(18, r.lastFailureCode)
        s.bind(19, r.lastFailureReason)
        s.bind(20, r.channelTransactionID)
        s.bind(21, r.refundedAmount.minorUnits)
        s.bind(22, r.succeededAt?.millisecondsSinceEpoch)
        s.bind(23, r.createdAt.millisecondsSinceEpoch)
        s.bind(24, r.updatedAt.millisecondsSinceEpoch)
        s.bind(25, r.version)
        s.bind(26, r.lastReport)
        s.bind(27, r.claimableAtMilliseconds)
    }

    static func decode(_ row: Statement) throws -> RefundOrder {
        let currency = try decoding { try CurrencyCode(row.string(6)) }
        func time(_ column: Int32) -> Timestamp? { row.optionalInt64(column).map(Timestamp.init(millisecondsSinceEpoch:)) }
        var lease: RefundLease?
        if let owner = row.optionalString(14), let token = row.optionalString(15), let expires = time(16) {
            lease = RefundLease(owner: owner, token: token, expiresAt: expires)
        }
        return RefundOrder(
            id: row.string(0), caseNumber: try CaseKey.number(of: row.int64(1)), orderID: row.string(2),
            shopID: row.string(3), buyerID: row.string(4), amount: Money(minorUnits: row.int64(5), currency: currency),
            trigger: try decodeEnum(row.string(7), as: RefundTrigger.self),
            status: try decodeEnum(row.string(8), as: RefundStatus.self), paymentChannel: row.string(9),
            paymentTransactionID: row.string(10), attempts: row.int(11), maxAttempts: row.int(12),
            nextAttemptAt: time(13), lease: lease, lastFailureCode: row.string(17), lastFailureReason: row.string(18),
            channelTransactionID: row.optionalString(19), refundedAmount: Money(minorUnits: row.int64(20), currency: currency),
            succeededAt: time(21), createdAt: Timestamp(millisecondsSinceEpoch: row.int64(22)),
            updatedAt: Timestamp(millisecondsSinceEpoch: row.int64(23)), version: row.int64(24),
            lastReport: row.optionalString(25))
    }

    static func load(id: String, on connection: SQLiteConnection) throws -> RefundOrder? {
        try connection.queryOne("SELECT \(columns) FROM refund_orders WHERE id = ?1", bind: { $0.bind(1, id) }, row: decode)
    }

    static func load(caseID: Int64, on connection: SQLiteConnection) throws -> RefundOrder? {
        try connection.queryOne("SELECT \(columns) FROM refund_orders WHERE case_id = ?1", bind: { $0.bind(1, caseID) },
                                row: decode)
    }

    /// The claimable refunds at `now`, oldest availability first (the partial index holds only
    /// claimable-some-day rows, so this never walks succeeded refunds).
    static func claimable(at now: Int64, limit: Int, on connection: SQLiteConnection) throws -> [RefundOrder] {
        try connection.query("""
            SELECT \(columns) FROM refund_orders INDEXED BY refunds_claimable
            WHERE available_at IS NOT NULL AND available_at <= ?1 ORDER BY available_at, id LIMIT ?2
            """, bind: { $0.bind(1, now); $0.bind(2, limit) }, row: decode)
    }

    static func insertReport(refundID: String, report: RefundReport, disposition: String, details: String, at: Timestamp,
                             on connection: SQLiteConnection) throws {
        try connection.run("""
            INSERT INTO refund_reports (refund_id, worker, lease_token, report, disposition, details, at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """) {
            $0.bind(1, refundID)
            $0.bind(2, report.worker)
            $0.bind(3, report.leaseToken)
            $0.bind(4, report.fingerprint)
            $0.bind(5, disposition)
            $0.bind(6, details)
            $0.bind(7, at.millisecondsSinceEpoch)
        }
    }
}

/// The SQL of one ListRefunds page and of its totals.
struct RefundListQuery {
    let pageSQL: String
    let totalsSQL: String
    let bindFilter: @Sendable (Statement) -> Void
    let bindPage: @Sendable (Statement) -> Void
    let timeColumn: String

    init(_ query: RefundQuery) {
        let column = switch query.basis {
        case .created: "created_at"
        case .updated: "updated_at"
        case .succeeded: "succeeded_at"
        }
        timeColumn = column
        var conditions: [String] = []
        // Parameters: ?1 from, ?2 before, ?3 shop, ?4 case id, ?10… statuses, ?5/?6 cursor, ?7 limit.
        conditions.append(query.from == nil ? "?1 IS NULL" : "\(column) >= ?1")
        conditions.append(query.before == nil ? "?2 IS NULL" : "\(column) < ?2")
        if query.basis == .succeeded { conditions.append("succeeded_at IS NOT NULL") }
        if query.shopID != nil { conditions.append("shop_id = ?3") }
        if query.caseNumber != nil { conditions.append("case_id = ?4") }
        if let numbers = query.caseNumbers {
            // Case ids are integers made here from parsed case numbers: written into the SQL as such.
            let ids = numbers.map { String(CaseKey.id(of: $0)) }.sorted()
            conditions.append(ids.isEmpty ? "0" : "case_id IN (\(ids.joined(separator: ", ")))")
        }
        let statuses = query.statuses.map(\.rawValue).sorted()
        if !statuses.isEmpty {
            conditions.append("status IN (" + statuses.indices.map { "?\(10 + $0)" }.joined(separator: ", ") + ")")
        }
        let filter = conditions.joined(separator: " AND ")
        let cursorCondition = query.after == nil ? "" : " AND (\(column), id) < (?5, ?6)"
        pageSQL = """
            SELECT \(RefundRows.columns) FROM refund_orders WHERE \(filter)\(cursorCondition)
            ORDER BY \(column) DESC, id DESC LIMIT ?7
            """
        totalsSQL = """
            SELECT status, currency, count(*), sum(amount_units), sum(refunded_units) FROM refund_orders
            WHERE \(filter) GROUP BY status, currency ORDER BY status, currency
            """
        let from = query.from?.millisecondsSinceEpoch, before = query.before?.millisecondsSinceEpoch
        let shop = query.shopID, caseID = query.caseNumber.map(CaseKey.id(of:))
        let filterBinder: @Sendable (Statement) -> Void = { s in
            s.bind(1, from)
            s.bind(2, before)
            if let shop { s.bind(3, shop) }
            if let caseID { s.bind(4, caseID) }
            for (index, status) in statuses.enumerated() { s.bind(Int32(10 + index), status) }
        }
        bindFilter = filterBinder
        let after = query.after, limit = query.pageSize + 1
        bindPage = { s in
            filterBinder(s)
            if let after {
                s.bind(5, after.at)
                s.bind(6, after.refundID)
            }
            s.bind(7, limit)
        }
    }
}
