import AfterSaleDomain
import Synchronization

/// The reason catalog as last read, built once per change instead of once per call: every
/// CreateAfterSale needs it and only UpsertReason changes it.
///
/// A backend calls ``entry(loading:)`` to read and ``invalidate()`` after a committed change. A
/// read that overlapped a change is not kept (a generation counter tells), so the cache never
/// serves a catalog older than a change that returned. With several replicas, a backend that
/// cannot see other replicas' changes must not use it (or must invalidate on their notices).
public final class ReasonCatalogCache: Sendable {
    /// The stored reasons and the catalog built from them.
    public struct Entry: Sendable {
        /// Every stored reason, in the order the backend read them.
        public let stored: [StoredReason]
        /// The catalog of their reasons.
        public let catalog: ReasonCatalog
    }

    private struct State {
        var entry: Entry?
        var generation = 0
    }
    private let state = Mutex(State())

    /// An empty cache.
    public init() {}

    /// The cached entry, or one built from what `load` reads (kept unless a change overlapped it).
    public func entry(loading load: () async throws -> [StoredReason]) async throws -> Entry {
        let (cached, generation) = state.withLock { ($0.entry, $0.generation) }
        if let cached { return cached }
        let stored = try await load()
        let entry = Entry(stored: stored, catalog: ReasonCatalog(stored.map(\.reason)))
        state.withLock { if $0.generation == generation { $0.entry = entry } }
        return entry
    }

    /// Forgets the cached entry; call it after a change committed.
    public func invalidate() {
        state.withLock { state in
            state.entry = nil
            state.generation += 1
        }
    }
}
