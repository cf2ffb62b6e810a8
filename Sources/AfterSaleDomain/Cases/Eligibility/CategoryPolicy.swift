/// The three-guarantees (三包) windows for a performance fault, in days from delivery.
public struct ThreeGuaranteesWindows: Sendable, Hashable {
    /// Within this many days: return, exchange or repair at the buyer's choice (7 by law).
    public var returnDays: Int
    /// Within this many days: exchange or repair (15 by law).
    public var exchangeDays: Int
    /// Within this many days (the warranty period): repair.
    public var warrantyDays: Int

    /// Creates three-guarantees windows.
    public init(returnDays: Int = 7, exchangeDays: Int = 15, warrantyDays: Int = 365) {
        self.returnDays = returnDays
        self.exchangeDays = exchangeDays
        self.warrantyDays = warrantyDays
    }
}

/// After-sale rules for one product category.
public struct CategoryPolicy: Sendable, Hashable {
    /// False for categories excluded from no-reason returns (custom-made, fresh, digital...).
    public var allowsNoReasonReturn: Bool
    /// Days from delivery within which a no-reason return may be asked for (7 by law).
    public var noReasonReturnDays: Int
    /// The three-guarantees windows for quality reasons.
    public var threeGuarantees: ThreeGuaranteesWindows
    /// Days from delivery within which the seller's fault, logistics or other reasons may be claimed.
    public var afterSaleWindowDays: Int

    /// Creates a category policy.
    public init(allowsNoReasonReturn: Bool = true, noReasonReturnDays: Int = 7,
                threeGuarantees: ThreeGuaranteesWindows = ThreeGuaranteesWindows(), afterSaleWindowDays: Int = 15) {
        self.allowsNoReasonReturn = allowsNoReasonReturn
        self.noReasonReturnDays = noReasonReturnDays
        self.threeGuarantees = threeGuarantees
        self.afterSaleWindowDays = afterSaleWindowDays
    }

    /// The law's defaults: 7-day no-reason returns; 三包 7/15 days and a one-year warranty; 15 days otherwise.
    public static let standard = CategoryPolicy()
}
