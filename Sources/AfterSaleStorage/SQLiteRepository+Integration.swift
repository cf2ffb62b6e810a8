import AfterSaleDomain

// MARK: - Tracking numbers

extension SQLiteRepository {
    public func caseNumber(shippingWith key: TrackingKey) async throws -> CaseNumber? {
        let id = try await read { connection in
            try connection.queryOne("""
                SELECT max(case_id) FROM shipment_tracking WHERE tracking_number = ?1 AND carrier = ?2
                """, bind: { $0.bind(1, key.trackingNumber); $0.bind(2, key.carrier) }, row: { $0.optionalInt64(0) }) ?? nil
        }
        return try id.map { try CaseRows.number(of: $0) }
    }
}

// MARK: - Refund orders

extension SQLiteRepository {
    /// The most refunds one claim hands out.
    public static let maximumClaim = 256

    public func refund(_ id: String) async throws -> RefundOrder? {
        try await read { connection in try RefundRows.load(id: id, on: connection) }
    }

    public func refund(of number: CaseNumber) async throws -> RefundOrder? {
        let caseID = CaseRows.id(of: number)
        return try await read { connection in try RefundRows.load(caseID: caseID, on: connection) }
    }

    public func claimRefunds(_ claim: RefundClaim) async throws -> [RefundOrder] {
        let limit = min(claim.limit, claim.tokens.count, Self.maximumClaim)
        guard limit > 0 else { return [] }
        return try await write { connection in
            var claimed: [RefundOrder] = []
            var tokens = claim.tokens.makeIterator()
            // Walk the claimable rows in windows; rows on other channels are skipped, not taken.
            var offsetWindow = limit * 4
            while claimed.count < limit {
                let candidates = try RefundRows.claimable(at: claim.at.millisecondsSinceEpoch, limit: offsetWindow, on: connection)
                var progressed = false
                for refund in candidates where claimed.count < limit && !claimed.contains(where: { $0.id == refund.id }) {
                    guard refund.isClaimable(at: claim.at),
                          claim.channels.isEmpty || claim.channels.contains(refund.paymentChannel),
                          let token = tokens.next() else { continue }
                    let next = refund.claimed(by: claim.owner, token: token, leaseMs: claim.leaseMs, at: claim.at)
                    try RefundRows.update(next, expectedVersion: refund.version, on: connection)
                    claimed.append(next)
                    progressed = true
                }
                // Claimed rows move past `now` in the index, so a second pass sees the next ones;
                // stop when a pass found nothing new or the index ran out.
                if !progressed || candidates.count < offsetWindow { break }
                offsetWindow *= 2
            }
            return claimed
        }
    }

    public func updateRefund(_ update: RefundUpdate, trace: TraceRecord?, events: [OutboxEvent]) async throws {
        let lastEvent = try await write { connection -> Int64? in
            try RefundRows.update(update.refund, expectedVersion: update.expectedVersion, on: connection)
            if let trace { try CaseRows.insertTrace(trace, on: connection) }
            return try EventRows.append(events, on: connection)
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
    }

    public func recordRefusedReport(_ refused: RefusedRefundReport) async throws {
        try await write { connection in
            try RefundRows.insertReport(refundID: refused.refundID, report: refused.report, disposition: "rejected",
                                        details: refused.reason, at: refused.trace.at, on: connection)
            if try CaseRows.version(of: CaseRows.id(of: refused.trace.caseNumber), on: connection) != nil {
                try CaseRows.insertTrace(refused.trace, on: connection)
            }
        }
    }

    public func listRefunds(_ query: RefundQuery) async throws -> RefundPage {
        let statement = RefundListQuery(query)
        let (rows, totals) = try await read { connection in
            try connection.readTransaction {
                let rows = try connection.query(statement.pageSQL, bind: statement.bindPage, row: RefundRows.decode)
                let totals = try connection.query(statement.totalsSQL, bind: statement.bindFilter) { row in
                    let currency = try decoding { try CurrencyCode(row.string(1)) }
                    return RefundTotal(status: try decodeEnum(row.string(0), as: RefundStatus.self), count: row.int64(2),
                                       amount: Money(minorUnits: row.int64(3), currency: currency),
                                       refunded: Money(minorUnits: row.int64(4), currency: currency))
                }
                return (rows, totals)
            }
        }
        let page = Array(rows.prefix(query.pageSize))
        var next: RefundCursor?
        if rows.count > query.pageSize, let last = page.last {
            let at: Int64 = switch query.basis {
            case .created: last.createdAt.millisecondsSinceEpoch
            case .updated: last.updatedAt.millisecondsSinceEpoch
            case .succeeded: last.succeededAt?.millisecondsSinceEpoch ?? 0
            }
            next = RefundCursor(at: at, refundID: last.id)
        }
        return RefundPage(rows: page, next: next, totals: totals)
    }
}

// MARK: - Event feed

extension SQLiteRepository {
    public func events(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int) async throws -> EventBatch {
        try await read { connection in
            try EventRows.read(after: cursor, types: types, limit: max(1, limit), scanLimit: scanLimit, on: connection)
        }
    }

    public func eventFeedHead() async throws -> Int64 {
        try await read { connection in try EventRows.head(on: connection) }
    }

    public func consumerCursor(_ consumer: String) async throws -> Int64? {
        try await read { connection in try EventRows.consumerCursor(consumer, on: connection) }
    }

    public func acknowledge(consumer: String, cursor: Int64, at instant: Timestamp) async throws -> Int64 {
        try await write { connection in
            let head = try EventRows.head(on: connection)
            guard cursor <= head else {
                throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)")
            }
            try connection.run("""
                INSERT INTO consumer_cursors (consumer, cursor, updated_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (consumer) DO UPDATE SET cursor = max(cursor, ?2), updated_at = ?3
                """) {
                $0.bind(1, consumer)
                $0.bind(2, cursor)
                $0.bind(3, instant.millisecondsSinceEpoch)
            }
            return try EventRows.consumerCursor(consumer, on: connection) ?? cursor
        }
    }

    public func waitForEvents(after cursor: Int64, timeout: Duration) async {
        await feedSignal.wait(after: cursor, timeout: timeout)
    }
}
