import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    /// Three grouped counts on a reader: cases through the covering `cases_by_shop` index (it holds
    /// every case's status, so the rows and their documents are not read), tickets by status, and
    /// timers through `case_timers_by_next`.
    public func businessGauges(overdueBefore: Timestamp) async throws -> BusinessGauges {
        let terminal = CaseStatus.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try await read { connection in
            var gauges = BusinessGauges()
            for (status, count) in try connection.query("""
                SELECT status, count(*) FROM cases INDEXED BY cases_by_shop WHERE status NOT IN (\(terminal)) GROUP BY status
                """, row: { ($0.string(0), $0.int(1)) }) {
                gauges.openCases[try decodeEnum(status, as: CaseStatus.self)] = count
            }
            for (status, count) in try connection.query("""
                SELECT status, count(*) FROM tickets WHERE status IN ('new', 'assigned', 'pending') GROUP BY status
                """, row: { ($0.string(0), $0.int(1)) }) {
                gauges.openTickets[try decodeEnum(status, as: TicketStatus.self)] = count
            }
            gauges.overdueTimers = try connection.queryOne("SELECT count(*) FROM case_timers WHERE next_at < ?1",
                                                           bind: { $0.bind(1, overdueBefore.millisecondsSinceEpoch) },
                                                           row: { $0.int(0) }) ?? 0
            return gauges
        }
    }
}
