import AfterSaleDomain
import AfterSaleProto
import ServiceKit
import Synchronization

/// The knowledge-base articles `CreateAfterSale` suggests with a new case: at most ``limit``
/// published articles for buyers, chosen by the case's kind, reason and first line's product
/// category and ranked as `SuggestArticles` ranks them (``KnowledgeSearch/suggestion(kind:reasonCode:reasonTitle:categories:text:audiences:limit:)``).
///
/// CreateAfterSale is the hot path and those three values repeat across cases, so the hits are
/// kept per replica, keyed by them (empty answers too: a knowledge base with nothing for a kind
/// is then not asked again). An article change through this replica (``invalidate()``, called by
/// the Knowledge service after every edit, publication, archive and vote) bumps a generation that
/// drops every entry at once; a change through another replica is seen once the entry is older
/// than `maximumAge` (30 seconds by default). A lookup that overlapped an invalidation is
/// answered but not kept.
///
/// A suggestion never fails a case: when the knowledge base cannot be read the answer is empty,
/// logged at debug, and not kept (the next case asks again).
public final class ArticleSuggestions: Sendable {
    /// Most articles suggested with a case.
    public static let limit = 3
    /// How long an entry serves without a change through this replica (another replica's article
    /// changes are seen within it).
    public static let defaultMaximumAge: Duration = .seconds(30)
    /// Most (kind, reason, category) entries kept; beyond it the oldest is dropped.
    static let maximumEntries = 1_024

    /// What the suggestions depend on: the case's kind, its reason (code, and the label the
    /// ranking reads words from) and its first line's category.
    struct Key: Hashable {
        var kind: AfterSaleDomain.AfterSaleKind
        var reasonCode: String
        var reasonTitle: String
        var category: String
    }

    struct Entry {
        var hits: [ArticleHit]
        var generation: Int
        var filledAtMs: Int64
    }

    struct State {
        var entries: [Key: Entry] = [:]
        var generation = 0
    }

    private let store: any KnowledgeRepository
    private let clock: any WallClock
    private let logger: Logger
    private let maximumAgeMs: Int64
    private let state = Mutex(State())

    /// Suggestions read from `store`, each kept at most `maximumAge`.
    public init(store: any KnowledgeRepository, clock: any WallClock = SystemClock(), maximumAge: Duration = ArticleSuggestions.defaultMaximumAge,
                logger: Logger = .disabled) {
        self.store = store
        self.clock = clock
        self.logger = logger
        maximumAgeMs = max(0, maximumAge.components.seconds * 1_000 + maximumAge.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The articles to suggest with `afterSale`, best first; empty when none match or the
    /// knowledge base could not be read.
    public func suggestions(for afterSale: AfterSaleDomain.AfterSaleCase) async -> [ArticleHit] {
        await suggestions(for: Key(kind: afterSale.kind, reasonCode: afterSale.reasonCode, reasonTitle: afterSale.reasonTitle,
                                   category: afterSale.lines.first?.category ?? ""))
    }

    func suggestions(for key: Key) async -> [ArticleHit] {
        let now = clock.now().millisecondsSinceEpoch
        let (cached, generation) = state.withLock { state -> (Entry?, Int) in
            guard let entry = state.entries[key], entry.generation == state.generation, now - entry.filledAtMs < maximumAgeMs else {
                return (nil, state.generation)
            }
            return (entry, state.generation)
        }
        if let cached { return cached.hits }
        let search = KnowledgeSearch.suggestion(kind: key.kind, reasonCode: key.reasonCode, reasonTitle: key.reasonTitle,
                                                categories: key.category.isEmpty ? [] : [key.category], text: "",
                                                audiences: [.buyers], limit: Self.limit)
        let hits: [ArticleHit]
        do {
            hits = try await store.search(search).hits.map(KnowledgeProvider.wire)
        } catch {
            logger.log(.debug, "no article suggestions: the knowledge base could not be read",
                       ["kind": key.kind.rawValue, "reason": key.reasonCode, "error": String(describing: error)])
            return []
        }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries[key] == nil, state.entries.count >= Self.maximumEntries { Self.evict(&state, now: now, maximumAgeMs: maximumAgeMs) }
            state.entries[key] = Entry(hits: hits, generation: generation, filledAtMs: now)
        }
        return hits
    }

    /// Forgets every entry: call it after an article change committed through this replica.
    public func invalidate() {
        state.withLock { state in
            state.generation += 1
            state.entries.removeAll(keepingCapacity: true)
        }
    }

    /// Makes room for one entry: drops the expired ones, or else the oldest.
    private static func evict(_ state: inout State, now: Int64, maximumAgeMs: Int64) {
        state.entries = state.entries.filter { now - $0.value.filledAtMs < maximumAgeMs }
        guard state.entries.count >= maximumEntries,
              let oldest = state.entries.min(by: { $0.value.filledAtMs < $1.value.filledAtMs })?.key else { return }
        state.entries[oldest] = nil
    }
}
