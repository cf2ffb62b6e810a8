import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// Three grouped counts in one round trip each: open cases by status, open tickets by status,
    /// and timers whose next look is overdue (through `case_timers_by_next`).
    public func businessGauges(overdueBefore: Timestamp) async throws -> BusinessGauges {
        let terminal = CaseStatus.allCases.filter(\.isTerminal).map(\.rawValue).joined(separator: ",")
        return try await read("businessGauges") { connection in
            var gauges = BusinessGauges()
            for (status, count) in try connection.query("""
                SELECT status, count(*) FROM cases WHERE status <> ALL (string_to_array($1::text, ',')) GROUP BY status
                """, .text(terminal), decode: { (try $0.string(0), try $0.int64(1)) }) {
                gauges.openCases[try decodeEnum(status, as: CaseStatus.self)] = Int(count)
            }
            for (status, count) in try connection.query("""
                SELECT status, count(*) FROM tickets WHERE status IN ('new', 'assigned', 'pending') GROUP BY status
                """, decode: { (try $0.string(0), try $0.int64(1)) }) {
                gauges.openTickets[try decodeEnum(status, as: TicketStatus.self)] = Int(count)
            }
            gauges.overdueTimers = Int(try connection.queryOne("SELECT count(*) FROM case_timers WHERE next_at < $1",
                                                               .time(overdueBefore)) { try $0.int64(0) } ?? 0)
            return gauges
        }
    }
}
