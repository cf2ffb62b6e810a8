extension OrderSnapshot {
    /// A line before pricing: what the order system knows before the discount is allocated.
    public struct LineDraft: Sendable, Hashable {
        /// The line's identifier.
        public var id: String
        /// The stock-keeping unit.
        public var sku: String
        /// The product title.
        public var title: String
        /// The product category.
        public var category: String
        /// The list price of one unit.
        public var unitPrice: Money
        /// Units purchased.
        public var quantity: Int

        /// Creates a line draft.
        public init(id: String, sku: String, title: String, category: String, unitPrice: Money, quantity: Int) {
            self.id = id
            self.sku = sku
            self.title = title
            self.category = category
            self.unitPrice = unitPrice
            self.quantity = quantity
        }
    }

    /// Prices lines: allocates an order-level `discount` by largest remainder over the lines' gross
    /// amounts and derives each line's paid amount and the order total (shipping included).
    /// - Returns: the priced lines and the total paid.
    public static func price(_ drafts: [LineDraft], discount: Money, shippingFee: Money) throws(DomainError) -> (lines: [OrderLine], totalPaid: Money) {
        var gross: [Money] = []
        for draft in drafts { gross.append(try draft.unitPrice.multiplied(by: Int64(draft.quantity))) }
        let shares = try Allocation.allocateDiscount(discount, overGrossAmounts: gross)
        var lines: [OrderLine] = []
        var total = shippingFee
        for (index, draft) in drafts.enumerated() {
            let paid = try gross[index].subtracting(shares[index])
            total = try total.adding(paid)
            lines.append(OrderLine(id: draft.id, sku: draft.sku, title: draft.title, category: draft.category,
                                   unitPrice: draft.unitPrice, quantity: draft.quantity,
                                   allocatedDiscount: shares[index], paidAmount: paid))
        }
        return (lines, total)
    }
}
