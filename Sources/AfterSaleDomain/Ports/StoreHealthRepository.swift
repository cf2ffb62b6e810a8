/// Whether the store can serve now: what readiness probes and the health service report.
public protocol StoreHealthRepository: Sendable {
    /// Returns when the store answers a trivial read (and its schema is current); throws when it
    /// cannot be reached.
    func checkHealth() async throws
}
