import AfterSaleDomain
import Synchronization

/// Hands out case numbers to every replica from `case_number_days(day, last)`, a block at a time.
///
/// A replica reserves `size` numbers of a day with one statement, in its own short transaction
/// (never the create's, so a slow create does not hold the day's row):
///
/// ```sql
/// INSERT INTO case_number_days (day, last) VALUES (day, <largest stored sequence of the day> + size)
/// ON CONFLICT (day) DO UPDATE SET last = greatest(case_number_days.last + size, EXCLUDED.last)
/// RETURNING last
/// ```
///
/// and hands out `last - size + 1 ... last` from memory (``CaseNumberBlocks``). One reservation per
/// block, not per case: the day's row is one hot row every create of every replica would otherwise
/// update and commit (a commit flush each, one after another under its lock).
///
/// The upsert is atomic under the row's lock, so two replicas never get overlapping blocks; the
/// first use of a day seeds it from the cases already stored for it, and `greatest` keeps the
/// counter past numbers stored without it (imports, copies, seeding). Numbers of a block a replica
/// did not use before it stopped are never used (gaps are allowed, duplicates are not: the cases'
/// primary key would still refuse one, ``AfterSaleDomain/RepositoryError/caseNumberTaken(_:)``).
/// Numbers grow with time by block; within a block in order; across replicas blocks interleave.
enum CaseNumberRows {
    /// Reserves the next `size` sequences of `day` (yyyyMMdd); returns the last of them. It may
    /// exceed ``CaseNumber/maximumSequence`` (the caller refuses numbers past it).
    static func reserve(day: Int64, size: Int64, on connection: PostgresConnection) throws -> Int64 {
        let first = day * 1_000_000
        let last = first + Int64(CaseNumber.maximumSequence)
        guard let sequence = try connection.queryOne("""
            INSERT INTO case_number_days (day, last)
            VALUES ($1, coalesce((SELECT max(id) FROM cases WHERE id BETWEEN $2 AND $3), $2) - $2 + $4)
            ON CONFLICT (day) DO UPDATE SET last = greatest(case_number_days.last + $4, EXCLUDED.last)
            RETURNING last
            """, .int64(day), .int64(first), .int64(last), .int64(size), decode: { try $0.int64(0) }) else {
            throw PostgresError(kind: .other, message: "the case number upsert returned no row")
        }
        return sequence
    }
}

/// The blocks of case numbers this replica reserved and has not handed out yet, per day.
final class CaseNumberBlocks: Sendable {
    /// Numbers reserved per trip to the database.
    let size: Int64
    private let blocks = Mutex<[Int64: [ClosedRange<Int64>]]>([:])

    init(size: Int64) { self.size = max(1, size) }

    /// The next unused sequence of `day`, if a reserved block still has one.
    func take(day: Int64) -> Int64? {
        blocks.withLock { blocks in
            guard var ranges = blocks[day], let range = ranges.first else { return nil }
            let next = range.lowerBound
            if range.lowerBound == range.upperBound { ranges.removeFirst() } else { ranges[0] = (next + 1)...range.upperBound }
            blocks[day] = ranges.isEmpty ? nil : ranges
            return next
        }
    }

    /// Adds a block the database reserved (`last - size + 1 ... last`) and takes its first number.
    func add(day: Int64, last: Int64) -> Int64 {
        blocks.withLock { blocks in
            let first = last - size + 1
            if first < last {
                blocks[day, default: []].append((first + 1)...last)
                blocks[day]?.sort { $0.lowerBound < $1.lowerBound }  // the smallest unused number goes first
            }
            return first
        }
    }
}
