/// The statistics rollups: one summary per scope, grouping, group and block of days
/// (``StatisticsBlocks``), which the projector adds to, and the projector's place on the event
/// feed, moved together.
public protocol StatisticsRepository: Sendable {
    /// Adds `increments` to the blocks holding their days (``StatisticsIncrements/blockDeltas()``)
    /// and moves `projector`'s feed cursor from `expectedCursor` to `cursor`, in one transaction:
    /// compare-and-set on the cursor, so several replicas projecting at once count each event once.
    /// A block whose sums all come to zero is removed.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the stored cursor is not
    ///   `expectedCursor` (another projector moved it; nothing is written);
    ///   ``DomainError/invalidArgument(field:message:)`` when `cursor` is behind `expectedCursor`.
    func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws

    /// The stored blocks of `query`'s scope and grouping in its runs, in any order; a block
    /// never written is not returned.
    func statisticsBlocks(_ query: StatisticsBlockQuery) async throws -> [StatisticsBlock]
}
