/// The role in which someone acts on a case.
public enum ActorRole: String, Sendable, Hashable, CaseIterable {
    /// The buyer who placed the order (买家).
    case buyer
    /// The merchant that sold the goods (商家).
    case merchant
    /// A customer-support agent (客服).
    case agent
    /// The platform: arbitration and policy (平台).
    case platform
    /// An internal system or timer: payment, logistics, scheduler.
    case system
}

/// Who is acting: a role and an identifier, as the call metadata states them.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// The role acted in.
    public var role: ActorRole
    /// The buyer id, merchant id, agent id, or the name of the system.
    public var id: String
    /// For a merchant, the shop it acts for; defaults to `id` (a shop acting as itself).
    public var shopID: String?

    /// Creates a principal; for merchants, `shopID` names the shop when it differs from `id`.
    public init(role: ActorRole, id: String, shopID: String? = nil) {
        self.role = role
        self.id = id
        self.shopID = shopID
    }

    /// A buyer.
    public static func buyer(_ id: String) -> Principal { Principal(role: .buyer, id: id) }
    /// A merchant acting for `shop` (its own id when omitted).
    public static func merchant(_ id: String, shop: String? = nil) -> Principal { Principal(role: .merchant, id: id, shopID: shop) }
    /// A support agent.
    public static func agent(_ id: String) -> Principal { Principal(role: .agent, id: id) }
    /// The platform.
    public static func platform(_ id: String) -> Principal { Principal(role: .platform, id: id) }
    /// An internal system or timer.
    public static func system(_ id: String) -> Principal { Principal(role: .system, id: id) }

    /// The shop a merchant acts for.
    public var actingShopID: String { shopID ?? id }

    /// Checks the principal is well-formed: an identifier without control characters, 1…128 bytes.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming `principal.id` or `principal.shop_id`.
    public func validate() throws(DomainError) {
        for (field, value) in [("principal.id", id), ("principal.shop_id", shopID)] {
            guard let value else { continue }
            guard !value.isEmpty, value.utf8.count <= 128 else {
                throw .invalidArgument(field: field, message: "must be 1 to 128 bytes, got \(value.utf8.count)")
            }
            guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw .invalidArgument(field: field, message: "must not contain control characters")
            }
        }
    }

    /// The role and id, e.g. `merchant m-2`.
    public var description: String { "\(role.rawValue) \(id)" }
}
