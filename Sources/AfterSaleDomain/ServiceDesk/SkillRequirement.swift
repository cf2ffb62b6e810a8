/// What an agent must be able to do to take a ticket: skills they must have, skills preferred
/// (dropped after a wait, so no ticket waits forever), and the refund amount involved.
public struct SkillRequirement: Sendable, Hashable {
    /// Skills the agent must have.
    public var required: Set<String>
    /// Skills preferred until the ticket has waited long enough.
    public var optional: Set<String>
    /// The refund at stake (the agent's ceiling must cover it); nil: none.
    public var amount: Money?

    /// Creates a requirement.
    public init(required: Set<String> = [], optional: Set<String> = [], amount: Money? = nil) {
        self.required = required
        self.optional = optional
        self.amount = amount
    }

    /// What a ticket about `afterSale` needs: its kind (required), its products' categories
    /// (preferred), and its refund (for the agent's ceiling); `extra` adds required skills (such as
    /// `arbitration`).
    public static func derived(from afterSale: AfterSaleCase, extra: Set<String> = []) -> SkillRequirement {
        SkillRequirement(required: Set(["kind:\(afterSale.kind.rawValue)"]).union(extra),
                         optional: Set(afterSale.lines.map { "category:\($0.category)" }),
                         amount: afterSale.kind.refundsMoney ? afterSale.amounts.displayed : nil)
    }
}
