import AfterSaleDomain
import AfterSaleStorage
import Testing

/// The behaviour every storage backend must show, as checks a backend's test target runs against
/// a fresh store of its own (in the spirit of fluent-kit's FluentBenchmark):
///
/// ```swift
/// @Test(arguments: StorageConformance.checks)
/// func conforms(_ check: ConformanceCheck) async throws {
///     try await check.run(on: MyBackendHarness())
/// }
/// ```
///
/// The in-memory backend is the reference; SQLite and PostgreSQL run the same checks. What only
/// one engine can show (SQLite's query plans, reopening a file) stays in that engine's own tests.
public enum StorageConformance {
    /// Every check, in a stable order.
    public static let checks: [ConformanceCheck] =
        OrderRepositoryChecks.checks + CaseCreationChecks.checks + TransitionChecks.checks + CaseListChecks.checks
        + MessageAndReasonChecks.checks + RefundAndFeedStorageChecks.checks + TimerChecks.checks + DeskChecks.checks + AuditChecks.checks + FeedbackChecks.checks
        + PersonalDataKeyChecks.checks + KnowledgeChecks.checks + StatisticsChecks.checks + BusinessGaugeChecks.checks + DisputeChecks.checks
}

/// Makes a fresh, empty store of one backend for each check and disposes of it afterwards.
public protocol StorageHarness: Sendable {
    /// Runs `body` on a fresh, empty store, then closes and deletes it (also when `body` throws).
    func withStore(_ body: (any AfterSaleRepository) async throws -> Void) async throws
}

/// One behaviour a backend must show, named by a sentence.
public struct ConformanceCheck: Sendable, CustomStringConvertible, CustomTestStringConvertible {
    /// What the check shows, e.g. "a stale expected version gets a version conflict and changes nothing".
    public let name: String
    private let body: @Sendable (any AfterSaleRepository) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (any AfterSaleRepository) async throws -> Void) {
        self.name = name
        self.body = body
    }

    /// Runs the check on a fresh store from `harness`.
    public func run(on harness: some StorageHarness) async throws {
        try await harness.withStore { store in try await body(store) }
    }

    public var description: String { name }
    public var testDescription: String { name }
}

/// The reference backend's harness: a new ``InMemoryRepository`` per check.
public struct InMemoryHarness: StorageHarness {
    /// The harness.
    public init() {}

    public func withStore(_ body: (any AfterSaleRepository) async throws -> Void) async throws {
        try await body(InMemoryRepository())
    }
}
