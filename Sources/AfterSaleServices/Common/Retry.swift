import AfterSaleDomain
import RPCWire

/// Decides a change again while what the decision read moves underneath it: storage refuses a
/// write whose basis (the case's version, the order's cases, the refund's version) changed since
/// the decision was made, and the step then reads and decides again on fresh state.
///
/// Only the commit's refusals start a new round; a refusal of the decision itself (a caller's
/// stale expected version, an illegal action) reaches the caller as it is.
enum DecideAgain {
    /// How many rounds a change gets before the caller is told to retry.
    static let attempts = 8

    /// Runs `round` until it returns a value (nil: decide again), at most ``attempts`` times.
    /// - Throws: ABORTED with `message` when every round had to decide again.
    static func run<T>(_ message: @autoclosure () -> String, _ round: () async throws -> T?) async throws -> T {
        for _ in 0..<attempts {
            if let value = try await round() { return value }
        }
        throw RPCError(.aborted, message())
    }

    /// Runs a commit; nil when storage refused it because the basis moved
    /// (``RepositoryError/eligibilityChanged(orderID:)``, ``RepositoryError/caseNumberTaken(_:)``,
    /// ``DomainError/versionConflict(expected:actual:)``), so the round decides again.
    static func commit<T>(_ body: () async throws -> T) async throws -> T? {
        do {
            return try await body()
        } catch RepositoryError.eligibilityChanged, RepositoryError.caseNumberTaken {
            return nil
        } catch DomainError.versionConflict {
            return nil
        }
    }
}
