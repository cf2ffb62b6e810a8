import Foundation

/// Verified tokens by token string, so a caller presenting the same token on every call pays for
/// one signature check, not one per call.
///
/// Bounded: when full, expired entries are dropped first, and if that frees less than a quarter,
/// everything is (clear-when-full: no per-hit bookkeeping, and a burst of fresh tokens cannot
/// grow memory). Not thread-safe on its own: `TokenVerifier` keeps it under its lock.
struct VerifiedTokenCache {
    struct Entry {
        let claims: VerifiedClaims
        /// The entry answers for instants in `validFrom ..< validUntil` (before the clock skew);
        /// outside, the token goes through full verification again, which says why it fails.
        let validFrom: Date
        let validUntil: Date
    }

    let capacity: Int
    private(set) var entries: [String: Entry] = [:]

    init(capacity: Int) { self.capacity = max(0, capacity) }

    var count: Int { entries.count }

    /// The cached claims for `token` if they still hold at `now`; drops an entry that no longer does.
    mutating func lookup(_ token: String, now: Date, skew: TimeInterval) -> VerifiedClaims? {
        guard let entry = entries[token] else { return nil }
        if now.addingTimeInterval(skew) >= entry.validFrom && now.addingTimeInterval(-skew) < entry.validUntil {
            return entry.claims
        }
        entries[token] = nil
        return nil
    }

    mutating func insert(_ token: String, _ entry: Entry, now: Date, skew: TimeInterval) {
        guard capacity > 0 else { return }
        if entries.count >= capacity && entries[token] == nil {
            let cutoff = now.addingTimeInterval(-skew)
            entries = entries.filter { $0.value.validUntil > cutoff }
            if entries.count > capacity - capacity / 4 - 1 { entries.removeAll(keepingCapacity: true) }
        }
        entries[token] = entry
    }

    mutating func removeAll() { entries.removeAll() }
}
