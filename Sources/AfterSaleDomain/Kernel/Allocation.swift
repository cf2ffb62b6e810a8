/// Deterministic splitting of an amount over weighted parts by the largest-remainder method (最大余额法).
///
/// Used to spread an order-level coupon/points discount over the order lines, and to spread a
/// case-level amount (approved refund, service fee) over the case lines, so that the parts always
/// add up to the whole, no part exceeds its weight, and equal inputs always give equal outputs.
public enum Allocation {
    /// Splits `total` over `weights` in proportion, rounding down and handing the leftover minor
    /// units one each to the parts with the largest remainders; ties go to the lower index.
    ///
    /// Guarantees: the result sums to `total`; each part is ≤ its weight when `total` ≤ Σ weights;
    /// a zero weight gets zero.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` for negative inputs, for a positive
    ///   total over zero weights, or ``DomainError/arithmeticOverflow(operation:)`` if Σ weights overflows.
    public static func largestRemainder(total: Int64, weights: [Int64]) throws(DomainError) -> [Int64] {
        guard total >= 0 else {
            throw .invalidArgument(field: "total", message: "must not be negative, got \(total)")
        }
        var weightSum: Int64 = 0
        for (index, weight) in weights.enumerated() {
            guard weight >= 0 else {
                throw .invalidArgument(field: "weights[\(index)]", message: "must not be negative, got \(weight)")
            }
            let (sum, overflow) = weightSum.addingReportingOverflow(weight)
            if overflow { throw .arithmeticOverflow(operation: "sum of allocation weights") }
            weightSum = sum
        }
        if weightSum == 0 {
            if total == 0 { return Array(repeating: 0, count: weights.count) }
            throw .invalidArgument(field: "weights", message: "cannot allocate \(total) over parts that all weigh zero")
        }
        var shares: [Int64] = []
        var remainders: [(index: Int, remainder: Int64)] = []
        shares.reserveCapacity(weights.count)
        var allocated: Int64 = 0
        for (index, weight) in weights.enumerated() {
            // total × weight can exceed Int64 even when the share cannot, so divide the full-width product.
            let split = try fullWidthQuotient(total, weight, weightSum)
            shares.append(split.quotient)
            remainders.append((index, split.remainder))
            allocated += split.quotient
        }
        var leftover = total - allocated  // < number of parts with a non-zero remainder
        remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
        var position = 0
        while leftover > 0 && position < remainders.count {
            shares[remainders[position].index] += 1
            leftover -= 1
            position += 1
        }
        return shares
    }

    /// Splits `amount` over `parts` in proportion to their amounts (all in one currency).
    /// - Throws: ``DomainError/currencyMismatch(expected:actual:)`` and the errors of ``largestRemainder(total:weights:)``.
    public static func allocate(_ amount: Money, over parts: [Money]) throws(DomainError) -> [Money] {
        for part in parts { try amount.requireSameCurrency(part) }
        let shares = try largestRemainder(total: amount.minorUnits, weights: parts.map(\.minorUnits))
        return shares.map { Money(minorUnits: $0, currency: amount.currency) }
    }

    /// Allocates an order-level discount (coupons, points) to lines in proportion to their gross
    /// amounts (unit price × quantity); the discount may not exceed the sum of the gross amounts.
    /// - Returns: each line's share of the discount, never more than the line's gross amount.
    public static func allocateDiscount(_ discount: Money, overGrossAmounts gross: [Money]) throws(DomainError) -> [Money] {
        let grossTotal = try Money.sum(gross, currency: discount.currency)
        guard discount.minorUnits >= 0, discount.minorUnits <= grossTotal.minorUnits else {
            throw .invalidArgument(field: "discount", message: "must be between 0 and the lines' gross total \(grossTotal), got \(discount)")
        }
        return try allocate(discount, over: gross)
    }

    /// ⌊a × b / c⌋ and its remainder for non-negative a, b and positive c, without intermediate overflow.
    static func fullWidthQuotient(_ a: Int64, _ b: Int64, _ c: Int64) throws(DomainError) -> (quotient: Int64, remainder: Int64) {
        precondition(a >= 0 && b >= 0 && c > 0, "fullWidthQuotient expects non-negative operands and a positive divisor")
        let product = UInt64(a).multipliedFullWidth(by: UInt64(b))
        let divisor = UInt64(c)
        guard product.high < divisor else { throw .arithmeticOverflow(operation: "\(a) × \(b) / \(c)") }
        let (quotient, remainder) = divisor.dividingFullWidth(product)
        guard quotient <= UInt64(Int64.max) else { throw .arithmeticOverflow(operation: "\(a) × \(b) / \(c)") }
        return (Int64(quotient), Int64(remainder))
    }
}
