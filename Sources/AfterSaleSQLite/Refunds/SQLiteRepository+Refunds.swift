import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension SQLiteRepository {
    public func refund(_ id: String) async throws -> RefundOrder? {
        try await read { connection in try RefundRows.load(id: id, on: connection) }
    }

    public func refund(of number: CaseNumber) async throws -> RefundOrder? {
        let caseID = CaseKey.id(of: number)
        return try await read { connection in try RefundRows.load(caseID: caseID, on: connection) }
    }

    public func claimRefunds(_ claim: RefundClaim) async throws -> [RefundOrder] {
        try await write { connection in try Self.claim(claim, on: connection) }
    }

    public func claimRefunds(_ claim: RefundClaim, call: IdempotentCall,
                             respond: @escaping @Sendable ([RefundOrder]) -> [UInt8]) async throws -> [UInt8] {
        try await write { connection in
            if let stored = try IdempotencyRows.response(for: call, on: connection) { return stored }
            let response = respond(try Self.claim(claim, on: connection))
            try IdempotencyRows.insert(IdempotentResponse(call: call, response: response), at: claim.at, on: connection)
            return response
        }
    }

    private static func claim(_ claim: RefundClaim, on connection: SQLiteConnection) throws -> [RefundOrder] {
        try RefundClaimWindow.claim(claim, candidates: { limit in
            try RefundRows.claimable(at: claim.at.millisecondsSinceEpoch, limit: limit, on: connection)
        }, store: { next, prior in
            try RefundRows.update(next, expectedVersion: prior.version, on: connection)
        })
    }

    @discardableResult
    public func updateRefund(_ update: RefundUpdate, trace: TraceRecord?, events: [OutboxEvent],
                             response: IdempotentResponse?) async throws -> ChangeOutcome {
        let (outcome, lastEvent) = try await write { connection -> (ChangeOutcome, Int64?) in
            if let response, let stored = try IdempotencyRows.response(for: response.call, on: connection) {
                return (.replayed(stored), nil)
            }
            try RefundRows.update(update.refund, expectedVersion: update.expectedVersion, on: connection)
            if let trace { try CaseRows.insertTrace(trace, on: connection) }
            if let response { try IdempotencyRows.insert(response, at: update.refund.updatedAt, on: connection) }
            return (.applied, try EventRows.append(events, on: connection))
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
        return outcome
    }

    public func recordRefusedReport(_ refused: RefusedRefundReport) async throws {
        try await write { connection in
            try RefundRows.insertReport(refundID: refused.refundID, report: refused.report, disposition: "rejected",
                                        details: refused.reason, at: refused.trace.at, on: connection)
            if try CaseRows.version(of: CaseKey.id(of: refused.trace.caseNumber), on: connection) != nil {
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
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        var next: RefundCursor?
        if let last {
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
