import AfterSaleDomain
import Synchronization

/// The per-day case number sequences of this process, in memory after their first use (for a
/// backend with one writing process; several replicas need the database to hand numbers out).
///
/// SQLite has one writer process (this one), so memory is the authority once a day's sequence is
/// seeded from the largest number stored for that day; a number reserved and never stored leaves
/// a gap, and a restart continues after the largest stored one.
public final class CaseNumberSequences: Sendable {
    private let last = Mutex<[Int64: Int]>([:])

    /// No day seeded yet.
    public init() {}

    /// The next sequence of `day` (yyyyMMdd), seeding it with `seed` (the last sequence used)
    /// when the day is new; nil when the day is new and no seed was given.
    /// - Throws: ``RepositoryError/sequenceExhausted(day:)`` past ``CaseNumber/maximumSequence``.
    public func reserve(day: Int64, seed: Int?) throws -> Int? {
        let next: Int? = last.withLock { days in
            guard let current = days[day] ?? seed else { return nil }
            let next = current + 1
            days[day] = min(next, CaseNumber.maximumSequence + 1)
            return next
        }
        if let next, next > CaseNumber.maximumSequence { throw RepositoryError.sequenceExhausted(day: String(day)) }
        return next
    }

    /// Makes sure a day already in memory never issues `sequence` or below again (after an import);
    /// a day not in memory yet will be seeded from the stored numbers anyway.
    public func advance(day: Int64, past sequence: Int) {
        last.withLock { days in
            if let current = days[day], current < sequence { days[day] = sequence }
        }
    }
}
