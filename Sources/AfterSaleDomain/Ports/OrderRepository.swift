/// Orders as the order system last reported them: the facts eligibility is checked against.
public protocol OrderRepository: Sendable {
    /// Stores `order` unless the stored snapshot of the same order has the same or a newer version
    /// (the order system's messages may arrive late and out of order).
    /// - Returns: what happened to the stored snapshot.
    @discardableResult
    func saveOrder(_ order: OrderSnapshot) async throws -> OrderSaveOutcome

    /// The stored snapshot of order `id`, or nil when after-sales does not know it.
    func order(_ id: String) async throws -> OrderSnapshot?
}

/// What saving an order snapshot did.
public enum OrderSaveOutcome: Sendable, Hashable {
    /// The order was not known; the snapshot is stored.
    case inserted
    /// The snapshot replaced an older one, stored at `previousVersion`.
    case updated(previousVersion: Int64)
    /// The stored snapshot is as new or newer (`storedVersion`); nothing changed.
    case ignored(storedVersion: Int64)
}
