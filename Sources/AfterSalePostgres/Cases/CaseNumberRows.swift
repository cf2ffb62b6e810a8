import AfterSaleDomain

/// Hands out case numbers to every replica from `case_number_days(day, last)`.
///
/// One statement, in its own short transaction (never the create's, so a slow create does not hold
/// the day's row):
///
/// ```sql
/// INSERT INTO case_number_days (day, last) VALUES (day, <largest stored sequence of the day> + 1)
/// ON CONFLICT (day) DO UPDATE SET last = greatest(case_number_days.last + 1, EXCLUDED.last)
/// RETURNING last
/// ```
///
/// The upsert is atomic under the row's lock, so two replicas never get the same sequence; the
/// first use of a day seeds it from the cases already stored for it, and `greatest` keeps the
/// counter past numbers stored without it (imports, seeding). A number reserved and never used
/// leaves a gap; a duplicate would still be refused by the cases' primary key
/// (``AfterSaleDomain/RepositoryError/caseNumberTaken(_:)``).
enum CaseNumberRows {
    /// The next sequence of `day` (yyyyMMdd); may exceed ``CaseNumber/maximumSequence`` (the caller refuses it).
    static func next(day: Int64, on connection: PostgresConnection) throws -> Int64 {
        let first = day * 1_000_000
        let last = first + Int64(CaseNumber.maximumSequence)
        guard let sequence = try connection.queryOne("""
            INSERT INTO case_number_days (day, last)
            VALUES ($1, coalesce((SELECT max(id) FROM cases WHERE id BETWEEN $2 AND $3), $2) - $2 + 1)
            ON CONFLICT (day) DO UPDATE SET last = greatest(case_number_days.last + 1, EXCLUDED.last)
            RETURNING last
            """, .int64(day), .int64(first), .int64(last), decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the case number upsert returned no row")
        }
        return sequence
    }
}
