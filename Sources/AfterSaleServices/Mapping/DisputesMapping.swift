import AfterSaleDomain
import AfterSaleProto

// Disputes between the domain and the wire.
extension ProtoMapping {
    static func grounds(_ g: AfterSaleDomain.DisputeGrounds) -> AfterSaleProto.DisputeGrounds {
        switch g {
        case .afterRejection: .afterRejection
        case .merchantOverdue: .merchantOverdue
        case .guarantee: .guarantee
        }
    }

    static func grounds(_ g: AfterSaleProto.DisputeGrounds, field: String) throws(DomainError) -> AfterSaleDomain.DisputeGrounds {
        guard let mapped = AfterSaleDomain.DisputeGrounds.allCases.first(where: { grounds($0) == g }) else {
            throw .invalidArgument(field: field, message: "name AFTER_REJECTION, MERCHANT_OVERDUE or GUARANTEE")
        }
        return mapped
    }

    static func disputeStatus(_ s: AfterSaleDomain.DisputeStatus) -> AfterSaleProto.DisputeStatus {
        switch s {
        case .awaitingMerchant: .awaitingMerchant
        case .awaitingEvidence: .awaitingEvidence
        case .underReview: .underReview
        case .ruled: .ruled
        case .appealed: .appealed
        case .final: .final
        }
    }

    static func disputeStatus(_ s: AfterSaleProto.DisputeStatus, field: String) throws(DomainError) -> AfterSaleDomain.DisputeStatus {
        guard let mapped = AfterSaleDomain.DisputeStatus.allCases.first(where: { disputeStatus($0) == s }) else {
            throw .invalidArgument(field: field, message: "is not a dispute status (\(s.rawValue))")
        }
        return mapped
    }

    static func outcome(_ o: AfterSaleDomain.DisputeOutcome) -> AfterSaleProto.DisputeOutcome {
        switch o {
        case .forBuyer: .forBuyer
        case .forMerchant: .forMerchant
        case .mediated: .mediated
        }
    }

    static func outcome(_ o: AfterSaleProto.DisputeOutcome, field: String) throws(DomainError) -> AfterSaleDomain.DisputeOutcome {
        guard let mapped = AfterSaleDomain.DisputeOutcome.allCases.first(where: { outcome($0) == o }) else {
            throw .invalidArgument(field: field, message: "name FOR_BUYER, FOR_MERCHANT or MEDIATED")
        }
        return mapped
    }

    static func ruling(_ r: AfterSaleDomain.DisputeRuling) -> AfterSaleProto.DisputeRuling {
        var p = AfterSaleProto.DisputeRuling()
        p.outcome = outcome(r.outcome)
        p.amount = r.amount.map(money)
        p.reason = r.reason
        p.ruledByRole = role(r.ruledBy.role)
        p.ruledById = r.ruledBy.id
        p.atUnixMs = r.at.millisecondsSinceEpoch
        p.refundId = r.refundID ?? ""
        return p
    }

    /// A ruling as stored with its case change (``DisputeCore/rulingCall(_:)``), back in the domain.
    static func ruling(_ p: AfterSaleProto.DisputeRuling, currency: CurrencyCode) throws(DomainError) -> AfterSaleDomain.DisputeRuling {
        let outcome = try outcome(p.outcome, field: "outcome")
        guard let ruledBy = role(p.ruledByRole) else { throw .invalidArgument(field: "ruled_by_role", message: "names no role") }
        let amount = try p.amount.map { money throws(DomainError) in try self.money(money, field: "amount", defaultCurrency: currency) }
        return AfterSaleDomain.DisputeRuling(outcome: outcome, amount: amount, reason: p.reason, ruledBy: Principal(role: ruledBy, id: p.ruledById),
                                             at: Timestamp(millisecondsSinceEpoch: p.atUnixMs), refundID: p.refundId.isEmpty ? nil : p.refundId)
    }

    static func disputeEntry(_ e: AfterSaleDomain.DisputeEntry) -> AfterSaleProto.DisputeEntry {
        var p = AfterSaleProto.DisputeEntry()
        p.atUnixMs = e.at.millisecondsSinceEpoch
        p.actorRole = role(e.actor.role)
        p.actorId = e.actor.id
        p.step = e.step.rawValue
        p.text = e.text
        p.evidence = e.evidence.map(evidence)
        p.fromStatus = e.from.map(disputeStatus) ?? .unspecified
        p.toStatus = disputeStatus(e.to)
        return p
    }

    /// The dispute as the wire shows it; `entries` limits the flow record (feed events carry the step's only).
    static func dispute(_ d: AfterSaleDomain.Dispute, entries: ArraySlice<AfterSaleDomain.DisputeEntry>? = nil) -> AfterSaleProto.Dispute {
        var p = AfterSaleProto.Dispute()
        p.disputeId = d.id
        p.caseNumber = d.caseNumber.rawValue
        p.orderId = d.orderID
        p.buyerId = d.buyerID
        p.shopId = d.shopID
        p.grounds = grounds(d.grounds)
        p.status = disputeStatus(d.status)
        p.entries = (entries ?? d.entries[...]).map(disputeEntry)
        p.merchantResponseDueUnixMs = d.status == .awaitingMerchant ? d.merchantResponseDueAt?.millisecondsSinceEpoch ?? 0 : 0
        p.evidenceRequests = d.evidenceRequests.map { r in
            var q = AfterSaleProto.EvidenceRequest()
            q.party = role(r.party)
            q.note = r.note
            q.dueUnixMs = r.dueAt.millisecondsSinceEpoch
            q.state = r.state.rawValue
            return q
        }
        p.ruling = d.ruling.map(ruling)
        p.appealDueUnixMs = d.appealDueAt?.millisecondsSinceEpoch ?? 0
        p.appealedAtUnixMs = d.appealedAt?.millisecondsSinceEpoch ?? 0
        p.appealRuling = d.appealRuling.map(ruling)
        p.ticketId = d.ticketID ?? ""
        p.nextDeadlineUnixMs = d.nextAt?.millisecondsSinceEpoch ?? 0
        p.merchantCompensation = d.merchantCompensation.map(money)
        p.openedAtUnixMs = d.openedAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = d.updatedAt.millisecondsSinceEpoch
        p.finishedAtUnixMs = d.finishedAt?.millisecondsSinceEpoch ?? 0
        p.version = d.version
        return p
    }

    /// The feed event of a dispute change from `before` (nil: opened) to `after`, carrying the
    /// step's new entries; its type follows the first new entry's step.
    static func disputeEvent(_ after: AfterSaleDomain.Dispute, before: AfterSaleDomain.Dispute?, by actor: Principal,
                             at: Timestamp) -> OutboxEvent {
        let newEntries = after.entries[(before?.entries.count ?? 0)...]
        let type = AfterSaleDomain.EventType.dispute(newEntries.first?.step ?? .statement)
        var e = AfterSaleProto.Event()
        e.eventType = eventType(type)
        e.occurredAtUnixMs = at.millisecondsSinceEpoch
        e.caseNumber = after.caseNumber.rawValue
        e.orderId = after.orderID
        e.shopId = after.shopID
        e.buyerId = after.buyerID
        e.actorRole = role(actor.role)
        e.actorId = actor.id
        e.amount = after.effectiveRuling?.amount.map(money)
        e.note = newEntries.last?.text ?? ""
        e.notifications = [AfterSaleDomain.ActorRole.buyer, .merchant].map { recipient in
            var n = AfterSaleProto.NotificationInstruction()
            n.recipientRole = role(recipient)
            n.recipientId = recipient == .buyer ? after.buyerID : after.shopID
            n.templateKey = "aftersale.dispute_\(after.status.rawValue).\(recipient.rawValue)"
            n.params = [("dispute_id", after.id), ("case_number", after.caseNumber.rawValue), ("status", after.status.rawValue)].map { k, v in
                var kv = AfterSaleProto.KeyValue()
                kv.key = k
                kv.value = v
                return kv
            }
            return n
        }
        e.dispute = dispute(after, entries: newEntries)
        return OutboxEvent(type: type, caseNumber: after.caseNumber, orderID: after.orderID, occurredAt: at, payload: e.serializedBytes())
    }

    /// The ORDER_AFTER_SALE_STATE_CHANGED event of a dispute that opened or closed the order's 维权中.
    static func orderStateEvent(_ view: AfterSaleDomain.OrderAfterSaleView, about d: AfterSaleDomain.Dispute, by actor: Principal,
                                at: Timestamp) -> OutboxEvent {
        var e = AfterSaleProto.Event()
        e.eventType = eventType(.orderAfterSaleStateChanged)
        e.occurredAtUnixMs = at.millisecondsSinceEpoch
        e.caseNumber = d.caseNumber.rawValue
        e.orderId = d.orderID
        e.shopId = d.shopID
        e.buyerId = d.buyerID
        e.actorRole = role(actor.role)
        e.actorId = actor.id
        e.orderState = orderView(view)
        return OutboxEvent(type: .orderAfterSaleStateChanged, caseNumber: d.caseNumber, orderID: d.orderID, occurredAt: at,
                           payload: e.serializedBytes())
    }
}
