/// How long each party has before a timer moves a case that nobody moves (in hours).
public struct TimerPolicy: Sendable, Hashable {
    /// Merchant silent on an application: approved automatically after this long.
    public var reviewHours: Int
    /// Buyer never ships an approved return: the case closes after this long.
    public var returnShipmentHours: Int
    /// Merchant never confirms a shipped return: receipt is confirmed automatically after this long.
    public var receiptHours: Int
    /// Buyer never confirms a replacement or repaired goods: confirmed automatically after this long.
    public var replacementConfirmationHours: Int

    /// Creates timer settings.
    public init(reviewHours: Int = 48, returnShipmentHours: Int = 7 * 24, receiptHours: Int = 10 * 24,
                replacementConfirmationHours: Int = 10 * 24) {
        self.reviewHours = reviewHours
        self.returnShipmentHours = returnShipmentHours
        self.receiptHours = receiptHours
        self.replacementConfirmationHours = replacementConfirmationHours
    }
}
