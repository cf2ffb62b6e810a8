/// How carrier tracking updates move cases.
public struct TrackingPolicy: Sendable, Hashable {
    /// When true, a return reported delivered moves its case from return shipped to awaiting the
    /// merchant's receipt; when false, tracking is recorded but only the merchant moves the case.
    public var advanceReturnOnDelivery: Bool

    /// Creates a tracking policy.
    public init(advanceReturnOnDelivery: Bool = true) {
        self.advanceReturnOnDelivery = advanceReturnOnDelivery
    }
}
