/// Who may do what (权限): roles per action, and ownership of cases by buyers and shops.
public enum Permissions {
    /// Checks that `principal` may take `action` on `afterSale`: a well-formed principal, a role the
    /// action allows, and for buyers their own case, for merchants their own shop's case.
    /// Agents, the platform and systems may act on any case.
    /// - Throws: ``DomainError/permissionDenied(_:)`` or ``DomainError/invalidArgument(field:message:)``.
    public static func authorize(_ principal: Principal, _ action: ActionKind, on afterSale: AfterSaleCase) throws(DomainError) {
        try principal.validate()
        guard action.allowedRoles.contains(principal.role) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: action.verb, allowed: action.allowedRoles))
        }
        try requireOwnership(principal, of: afterSale)
    }

    /// Checks that `principal` may see `afterSale` (detail, conversation): the same ownership rule.
    public static func authorizeView(_ principal: Principal, of afterSale: AfterSaleCase) throws(DomainError) {
        try principal.validate()
        try requireOwnership(principal, of: afterSale)
    }

    /// True when `principal` may see `afterSale`.
    public static func canView(_ principal: Principal, _ afterSale: AfterSaleCase) -> Bool {
        (try? authorizeView(principal, of: afterSale)) != nil
    }

    /// The roles that may apply for an after-sale: the buyer, or support acting on the buyer's behalf.
    public static let applicantRoles: Set<ActorRole> = [.buyer, .agent, .platform]

    /// Checks that `principal` may apply for an after-sale on `order`.
    public static func authorizeApplication(_ principal: Principal, on order: OrderSnapshot) throws(DomainError) {
        try principal.validate()
        guard applicantRoles.contains(principal.role) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "apply for an after-sale", allowed: applicantRoles))
        }
        if principal.role == .buyer && principal.id != order.buyerID {
            throw .permissionDenied(.notOrderBuyer(buyerID: principal.id, orderID: order.id))
        }
    }

    private static func requireOwnership(_ principal: Principal, of afterSale: AfterSaleCase) throws(DomainError) {
        switch principal.role {
        case .buyer where principal.id != afterSale.buyerID:
            throw .permissionDenied(.notCaseBuyer(buyerID: principal.id, caseNumber: afterSale.number))
        case .merchant where principal.actingShopID != afterSale.shop.id:
            throw .permissionDenied(.notShopOwner(merchantID: principal.id, shopID: afterSale.shop.id))
        default:
            return
        }
    }
}
