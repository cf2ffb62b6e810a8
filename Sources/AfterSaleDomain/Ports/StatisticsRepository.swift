/// The statistics rollups: rows keyed by scope, grouping, group, day and metric, each a sum the
/// projector adds to, and the projector's place on the event feed, moved together.
public protocol StatisticsRepository: Sendable {
    /// Adds `increments` to the rollup rows and moves `projector`'s feed cursor from `expectedCursor`
    /// to `cursor`, in one transaction: compare-and-set on the cursor, so several replicas
    /// projecting at once count each event once.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the stored cursor is not
    ///   `expectedCursor` (another projector moved it; nothing is written);
    ///   ``DomainError/invalidArgument(field:message:)`` when `cursor` is behind `expectedCursor`.
    func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws

    /// The rows of `query`'s scope and grouping over its days: for the day grouping one row per
    /// (day, metric); for every other grouping one row per (group, metric), summed over the days
    /// (its `day` is `fromDay`), so an answer's size follows the groups, not the range.
    func statisticsRows(_ query: StatisticsRowQuery) async throws -> [StatisticsRow]
}
