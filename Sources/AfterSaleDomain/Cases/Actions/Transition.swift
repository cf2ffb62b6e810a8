/// The outcome of an accepted action: the case after it, what to record, and what to request.
public struct Transition: Sendable, Hashable {
    /// The case after the action (version + 1; version 1 for a new case).
    public var afterSale: AfterSaleCase
    /// The timeline entries the action added, oldest first.
    public var entries: [TimelineEntry]
    /// The trace record to store with the change.
    public var trace: TraceRecord
    /// A refund order to create with the change, if the action asks for money to move.
    public var refundRequest: RefundRequest?

    /// Creates a transition.
    public init(afterSale: AfterSaleCase, entries: [TimelineEntry], trace: TraceRecord, refundRequest: RefundRequest? = nil) {
        self.afterSale = afterSale
        self.entries = entries
        self.trace = trace
        self.refundRequest = refundRequest
    }
}
