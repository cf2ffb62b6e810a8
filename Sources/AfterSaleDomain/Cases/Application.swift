/// A line and quantity the buyer asks an after-sale for.
public struct RequestedLine: Sendable, Hashable {
    /// The order line's identifier.
    public var orderLineID: String
    /// Units asked for (≥ 1, ≤ what is still available on the line).
    public var quantity: Int

    /// Creates a requested line.
    public init(orderLineID: String, quantity: Int) {
        self.orderLineID = orderLineID
        self.quantity = quantity
    }
}

/// An application for an after-sale (售后申请), as the buyer submits it.
public struct Application: Sendable, Hashable {
    /// The order number.
    public var orderID: String
    /// The kind asked for.
    public var kind: AfterSaleKind
    /// The lines and quantities asked for: at least one, each order line at most once.
    public var lines: [RequestedLine]
    /// The catalog code of the reason.
    public var reasonCode: String
    /// The buyer's free-text note.
    public var buyerNote: String
    /// Photos and videos.
    public var evidence: [EvidenceRef]

    /// Creates an application.
    public init(orderID: String, kind: AfterSaleKind, lines: [RequestedLine], reasonCode: String,
                buyerNote: String = "", evidence: [EvidenceRef] = []) {
        self.orderID = orderID
        self.kind = kind
        self.lines = lines
        self.reasonCode = reasonCode
        self.buyerNote = buyerNote
        self.evidence = evidence
    }

    /// Checks the fields that need no order: an order id, at least one line, no line twice,
    /// quantities ≥ 1, a reason code, a note of bounded length, well-formed evidence.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming the field.
    public func validate(evidencePolicy: EvidencePolicy = .standard) throws(DomainError) {
        guard !orderID.isEmpty else { throw .invalidArgument(field: "order_id", message: "must not be empty") }
        guard !lines.isEmpty else { throw .invalidArgument(field: "lines", message: "must ask for at least one line") }
        var seen: Set<String> = []
        for (index, line) in lines.enumerated() {
            guard !line.orderLineID.isEmpty else {
                throw .invalidArgument(field: "lines[\(index)].order_line_id", message: "must not be empty")
            }
            guard seen.insert(line.orderLineID).inserted else {
                throw .invalidArgument(field: "lines[\(index)].order_line_id", message: "asks for line \(line.orderLineID) twice")
            }
            guard line.quantity >= 1 else {
                throw .invalidArgument(field: "lines[\(index)].quantity", message: "must be at least 1, got \(line.quantity)")
            }
        }
        guard !reasonCode.isEmpty else { throw .invalidArgument(field: "reason_code", message: "must not be empty") }
        try TextRules.optional(buyerNote, field: "buyer_note")
        try evidencePolicy.validate(evidence)
    }
}

extension AfterSaleCase {
    /// Opens a case (提交售后申请): validates the application, checks eligibility against the order,
    /// the cases already on it, the reason catalog and the policy, computes the money, and returns the
    /// new case at version 1 with its creation trace. A refund-only case is approved at once and comes
    /// back pending refund with the refund to request, unless `abuse` holds it: then it waits for a
    /// person's review (pending review, no refund), and the rule that decided is recorded either way.
    /// - Parameters:
    ///   - number: the case number storage reserved (see ``CaseNumber/init(at:sequence:)``).
    ///   - order: the order, or nil when after-sales does not know it.
    ///   - existingCases: every case already opened on the order (others are ignored).
    /// - Throws: ``DomainError`` naming the field, the rule or the permission that refused.
    public static func open(_ application: Application, number: CaseNumber, order: OrderSnapshot?,
                            existingCases: [AfterSaleCase], catalog: ReasonCatalog, policy: PolicyConfig = .standard,
                            by principal: Principal, at now: Timestamp,
                            abuse: AbuseDecision? = nil) throws(DomainError) -> Transition {
        try application.validate(evidencePolicy: policy.evidence)
        guard let order, order.id == application.orderID else {
            throw .notEligible(rule: .orderUnknown, message: "order \(application.orderID) is not known to after-sales")
        }
        try order.validate()
        try Permissions.authorizeApplication(principal, on: order)
        let kind = application.kind
        try Eligibility.checkOrderStatus(order, for: kind)
        let reason = try Eligibility.checkReason(application.reasonCode, for: kind, in: catalog)
        try Eligibility.checkEvidence(application.evidence, kind: kind, reason: reason)

        let ledger = try OrderLedger(order: order, cases: existingCases)
        let currency = order.currency
        var lines: [CaseLine] = []
        for (index, requested) in application.lines.enumerated() {
            guard let orderLine = order.line(requested.orderLineID) else {
                throw .invalidArgument(field: "lines[\(index)].order_line_id", message: "order \(order.id) has no line \(requested.orderLineID)")
            }
            guard let figures = ledger.line(orderLine.id) else {
                throw .invalidArgument(field: "lines[\(index)].order_line_id", message: "order \(order.id) has no line \(requested.orderLineID)")
            }
            try Eligibility.checkPolicy(line: orderLine, order: order, kind: kind, reason: reason, policy: policy, now: now)
            let claim = try ProRata.claim(lineID: orderLine.id, paid: orderLine.paidAmount,
                                          purchasedQuantity: orderLine.quantity,
                                          claimedQuantity: figures.claimedQuantity, claimedAmount: figures.claimedAmount,
                                          quantity: requested.quantity)
            lines.append(CaseLine(orderLineID: orderLine.id, sku: orderLine.sku, title: orderLine.title, spec: orderLine.spec,
                                  imageURL: orderLine.imageURL, category: orderLine.category, unitPrice: orderLine.unitPrice,
                                  quantity: requested.quantity, claimAmount: claim,
                                  refundAmount: kind.refundsMoney ? claim : .zero(currency), refundedAmount: .zero(currency)))
        }
        let coversWholeOrder = order.lines.allSatisfy { orderLine in
            ledger.line(orderLine.id)?.claimedQuantity == 0
                && application.lines.contains { $0.orderLineID == orderLine.id && $0.quantity == orderLine.quantity }
        }
        let goods = try Money.sum(lines.map(\.refundAmount), currency: currency)
        // Shipping goes back when the order is refunded in full before it ships: the refund-only case
        // that, with the cases already on the order, covers every line in full carries it.
        var requested: [String: Int] = [:]
        for line in application.lines { requested[line.orderLineID, default: 0] += line.quantity }
        let carriesShipping = kind == .refundOnly && ledger.shippingRefundable && ledger.completesOrder(with: requested)
        let shipping = carriesShipping ? order.shippingFee : .zero(currency)
        let computed = try goods.adding(shipping)

        let created = TimelineEntry(at: now, step: .create, actor: principal, from: nil, to: .pendingReview,
                                    note: application.buyerNote)
        var afterSale = AfterSaleCase(
            number: number, orderID: order.id, buyerID: order.buyerID, shop: order.shop, kind: kind,
            reasonCode: reason.code, reasonTitle: reason.title, buyerNote: application.buyerNote,
            evidence: application.evidence, lines: lines, coversWholeOrder: coversWholeOrder,
            amounts: CaseAmounts(goods: goods, shipping: shipping, computed: computed, refunded: .zero(currency)),
            status: .pendingReview, timeline: [created], version: 1, createdAt: now, updatedAt: now)
        var details = "kind=\(kind.rawValue) reason=\(reason.code) lines=\(lines.map { "\($0.orderLineID)×\($0.quantity)" }.joined(separator: ",")) computed=\(computed)"
        var refund: RefundRequest?
        if kind == .refundOnly, let abuse, abuse.holds {
            // Beyond the buyer's limits: a person reviews it (a ticket), and may force the refund or close it.
            afterSale.timeline[0].note = AbuseDecision.heldNotePrefix + abuse.rule
            details += " held=\(abuse.rule) \(abuse.details)"
        } else if kind == .refundOnly {
            if let abuse { details += " abuse_check=\(abuse.rule) \(abuse.details)" }
            // 仅退款: no review; the system approves and the refund is requested at once.
            let approve = TimelineEntry(at: now, step: .autoApprove, actor: .system("aftersale"), from: .pendingReview,
                                        to: .pendingRefund, note: "refund only: approved automatically")
            afterSale.status = .pendingRefund
            afterSale.timeline.append(approve)
            afterSale.amounts.approved = computed
            for index in afterSale.lines.indices { afterSale.lines[index].approvedAmount = afterSale.lines[index].refundAmount }
            refund = RefundRequest(for: afterSale, amount: computed, trigger: .refundOnlyCreated)
            details += " approved=\(computed) (automatic)"
        }
        let trace = TraceRecord(caseNumber: number, actor: principal, step: .create, from: nil, to: afterSale.status,
                                at: now, outcome: .applied, details: details)
        return Transition(afterSale: afterSale, entries: afterSale.timeline, trace: trace, refundRequest: refund)
    }
}
