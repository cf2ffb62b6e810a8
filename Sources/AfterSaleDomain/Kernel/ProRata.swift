/// The share of one order line's paid amount that a case may claim for a quantity (按数量比例退款).
///
/// The claim is cumulative: with `P` units purchased for `paid`, the units claimed by earlier
/// still-active cases (`claimedQuantity`, `claimedAmount`) and `quantity` more units asked for,
///
///     claim = ⌊paid × (claimedQuantity + quantity) / P⌋ − claimedAmount   (never below 0)
///
/// so that the claims on a line add up to exactly `paid` when every unit has been claimed, the last
/// unit taking the rounding remainder, and never to more than `paid` whatever the order in which
/// cases are opened, withdrawn or rejected.
public enum ProRata {
    /// What a new case may claim from a line for `quantity` more units.
    /// - Parameters:
    ///   - paid: what the buyer paid for the whole line (discounts already deducted).
    ///   - purchasedQuantity: units bought on the line (> 0).
    ///   - claimedQuantity: units held by open or completed cases on the line.
    ///   - claimedAmount: the amounts those cases claimed (≤ `paid`).
    ///   - quantity: units asked for now (≥ 1, ≤ purchased − claimed).
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` for inconsistent figures,
    ///   ``DomainError/quantityExceedsRefundable(lineID:requested:available:)`` for too many units.
    public static func claim(
        lineID: String,
        paid: Money,
        purchasedQuantity: Int,
        claimedQuantity: Int,
        claimedAmount: Money,
        quantity: Int
    ) throws(DomainError) -> Money {
        try paid.requireSameCurrency(claimedAmount)
        guard purchasedQuantity > 0 else {
            throw .invalidArgument(field: "purchased_quantity", message: "must be at least 1, got \(purchasedQuantity)")
        }
        guard paid.minorUnits >= 0 else {
            throw .invalidArgument(field: "paid_amount", message: "must not be negative, got \(paid)")
        }
        guard claimedQuantity >= 0, claimedQuantity <= purchasedQuantity else {
            throw .invalidArgument(field: "claimed_quantity", message: "must be between 0 and \(purchasedQuantity), got \(claimedQuantity)")
        }
        guard claimedAmount.minorUnits >= 0, claimedAmount.minorUnits <= paid.minorUnits else {
            throw .invalidArgument(field: "claimed_amount", message: "must be between 0 and \(paid), got \(claimedAmount)")
        }
        guard quantity >= 1 else {
            throw .invalidArgument(field: "quantity", message: "must be at least 1, got \(quantity)")
        }
        let available = purchasedQuantity - claimedQuantity
        guard quantity <= available else {
            throw .quantityExceedsRefundable(lineID: lineID, requested: quantity, available: available)
        }
        let cumulative = try Allocation.fullWidthQuotient(
            paid.minorUnits, Int64(claimedQuantity + quantity), Int64(purchasedQuantity)).quotient
        return Money(minorUnits: max(0, cumulative - claimedAmount.minorUnits), currency: paid.currency)
    }
}
