import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// The refund order with `id`, or nil.
    public func refund(_ id: String) async throws -> RefundOrder? {
        try await read("refund") { connection in try RefundRows.load(id: id, on: connection) }
    }

    /// The refund order of the case, or nil.
    public func refund(of number: CaseNumber) async throws -> RefundOrder? {
        let caseID = CaseKey.id(of: number)
        return try await read("refundOfCase") { connection in try RefundRows.load(caseID: caseID, on: connection) }
    }

    /// Leases claimable refunds in one transaction: candidates are locked with `FOR UPDATE SKIP
    /// LOCKED` (oldest availability first), so concurrent claims on any replicas split the queue
    /// instead of waiting on or taking each other's rows; each is then updated to claimed under a
    /// fresh token, compare-and-set on its version.
    ///
    /// With ``LeaseClock/database`` (the default) "now" is the database's clock read in the
    /// transaction, not `claim.at`: it decides what is claimable and when the new leases expire,
    /// and the returned refunds carry it (`updatedAt`, `lease.expiresAt`) exactly as stored.
    public func claimRefunds(_ claim: RefundClaim) async throws -> [RefundOrder] {
        let clock = options.leaseClock
        return try await write("claimRefunds") { connection in try Self.claim(claim, clock: clock, on: connection) }
    }

    /// ``claimRefunds(_:)`` under an idempotency key claimed first: the response is stored with the
    /// leases, and an identical retry gets it back, leasing nothing more.
    public func claimRefunds(_ claim: RefundClaim, call: IdempotentCall,
                             respond: @escaping @Sendable ([RefundOrder]) -> [UInt8]) async throws -> [UInt8] {
        let clock = options.leaseClock
        return try await write("claimRefunds") { connection in
            if let stored = try IdempotencyRows.claim(call, at: claim.at, on: connection) { return stored }
            let response = respond(try Self.claim(claim, clock: clock, on: connection))
            try IdempotencyRows.store(response: response, for: call.record, on: connection)
            return response
        }
    }

    /// The claim inside the caller's transaction.
    static func claim(_ claim: RefundClaim, clock: LeaseClock, on connection: PostgresConnection) throws -> [RefundOrder] {
        let limit = min(claim.limit, claim.tokens.count, StorageContract.maximumClaim)
        guard limit > 0 else { return [] }
        let now = clock == .database ? try databaseNow(on: connection) : claim.at
        let candidates = try RefundRows.lockClaimable(at: now.millisecondsSinceEpoch, limit: limit, channels: claim.channels,
                                                      on: connection)
        var claimed: [RefundOrder] = []
        var tokens = claim.tokens.makeIterator()
        for refund in candidates where refund.isClaimable(at: now) {
            guard let token = tokens.next() else { break }
            let next = refund.claimed(by: claim.owner, token: token, leaseMs: claim.leaseMs, at: now)
            try RefundRows.update(next, expectedVersion: refund.version, on: connection)
            claimed.append(next)
        }
        return claimed
    }

    /// The database server's clock in Unix milliseconds (`clock_timestamp()`: the moment of the
    /// statement, not of the transaction's start).
    static func databaseNow(on connection: PostgresConnection) throws -> Timestamp {
        guard let milliseconds = try connection.queryOne("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint",
                                                         decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the database clock returned no row")
        }
        return Timestamp(millisecondsSinceEpoch: milliseconds)
    }

    /// Stores a refund change, compare-and-set on its version, with its trace record and events;
    /// an identical retry under the response's key replays the stored response.
    /// - Throws: ``AfterSaleDomain/DomainError/versionConflict(expected:actual:)``; ``AfterSaleDomain/RepositoryError/refundNotFound(_:)``.
    @discardableResult
    public func updateRefund(_ update: RefundUpdate, trace: TraceRecord?, events: [OutboxEvent],
                             response: IdempotentResponse?) async throws -> ChangeOutcome {
        let (outcome, appended) = try await write("updateRefund") { connection -> (ChangeOutcome, Bool) in
            if let response,
               let stored = try IdempotencyRows.claim(response.call, response: response.response, at: update.refund.updatedAt,
                                                      on: connection) {
                return (.replayed(stored), false)
            }
            try RefundRows.update(update.refund, expectedVersion: update.expectedVersion, on: connection)
            if let trace { try CaseRows.insertTraceIfCaseExists(trace, on: connection) }
            return (.applied, try FeedRows.append(events, on: connection))
        }
        await settle(appended: appended)
        return outcome
    }

    /// Records a refused report and its trace record (when the case exists); nothing else changes.
    public func recordRefusedReport(_ refused: RefusedRefundReport) async throws {
        try await write("recordRefusedReport") { connection in
            try RefundRows.insertReport(refundID: refused.refundID, report: refused.report, disposition: "rejected",
                                        details: refused.reason, at: refused.trace.at, on: connection)
            try CaseRows.insertTraceIfCaseExists(refused.trace, on: connection)
        }
    }

    /// One page and the totals over the whole filter, from one snapshot. Sums wrap modulo 2⁶⁴ as
    /// the reference's do.
    public func listRefunds(_ query: RefundQuery) async throws -> RefundPage {
        let statement = RefundListQuery(query)
        let (rows, totals) = try await snapshot("listRefunds") { connection in
            let rows = try connection.query(statement.pageSQL, parameters: statement.pageParameters, decode: RefundRows.decode)
            let totals = try connection.query(statement.totalsSQL, parameters: statement.totalsParameters) { row in
                let currency = try decoding { try CurrencyCode(try row.string(1)) }
                return RefundTotal(status: try row.name(0, as: RefundStatus.self), count: try row.int64(2),
                                   amount: Money(minorUnits: try WrappingSum.parse(try row.string(3)), currency: currency),
                                   refunded: Money(minorUnits: try WrappingSum.parse(try row.string(4)), currency: currency))
            }
            return (rows, totals)
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        let next = last.map { refund -> RefundCursor in
            let at: Int64 = switch query.basis {
            case .created: refund.createdAt.millisecondsSinceEpoch
            case .updated: refund.updatedAt.millisecondsSinceEpoch
            case .succeeded: refund.succeededAt?.millisecondsSinceEpoch ?? 0
            }
            return RefundCursor(at: at, refundID: refund.id)
        }
        // The reference orders totals by "status|currency" as Swift compares strings, whatever the
        // database's collation.
        let ordered = totals.sorted { "\($0.status.rawValue)|\($0.amount.currency.code)" < "\($1.status.rawValue)|\($1.amount.currency.code)" }
        return RefundPage(rows: page, next: next, totals: ordered)
    }
}
