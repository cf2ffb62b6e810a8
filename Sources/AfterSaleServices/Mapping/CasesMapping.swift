import AfterSaleDomain
import AfterSaleProto

// Cases, their lines, timeline, trace records, messages and reasons between the wire and the domain.
extension ProtoMapping {
    static func kind(_ kind: AfterSaleDomain.AfterSaleKind) -> AfterSaleProto.AfterSaleKind {
        switch kind {
        case .refundOnly: .refundOnly
        case .returnAndRefund: .returnAndRefund
        case .exchange: .exchange
        case .repair: .repair
        }
    }

    /// nil for UNSPECIFIED; unknown values are refused.
    static func kind(_ kind: AfterSaleProto.AfterSaleKind, field: String) throws(DomainError) -> AfterSaleDomain.AfterSaleKind? {
        switch kind {
        case .unspecified: nil
        case .refundOnly: .refundOnly
        case .returnAndRefund: .returnAndRefund
        case .exchange: .exchange
        case .repair: .repair
        default: throw .invalidArgument(field: field, message: "is not a known kind (\(kind.rawValue))")
        }
    }

    static func status(_ status: AfterSaleDomain.CaseStatus) -> AfterSaleProto.CaseStatus {
        switch status {
        case .pendingReview: .pendingReview
        case .rejected: .rejected
        case .awaitingReturn: .awaitingReturn
        case .returnShipped: .returnShipped
        case .awaitingReceipt: .awaitingReceipt
        case .pendingRefund: .pendingRefund
        case .awaitingExchange: .awaitingExchange
        case .exchanging: .exchanging
        case .repairing: .repairing
        case .repairedShipped: .repairedShipped
        case .completed: .completed
        case .withdrawn: .withdrawn
        case .closed: .closed
        }
    }

    static func status(_ status: AfterSaleDomain.CaseStatus?) -> AfterSaleProto.CaseStatus { status.map { self.status($0) } ?? .unspecified }

    static func status(_ status: AfterSaleProto.CaseStatus, field: String) throws(DomainError) -> AfterSaleDomain.CaseStatus? {
        if status == .unspecified { return nil }
        for candidate in AfterSaleDomain.CaseStatus.allCases where self.status(candidate) == status { return candidate }
        throw .invalidArgument(field: field, message: "is not a known status (\(status.rawValue))")
    }

    static func step(_ step: AfterSaleDomain.CaseStep) -> AfterSaleProto.CaseAction {
        switch step {
        case .create: .create
        case .autoApprove: .autoApprove
        case .approve: .approve
        case .reject: .reject
        case .withdraw: .withdraw
        case .submitReturnShipment: .submitReturnShipment
        case .bookPickup: .bookPickup
        case .trackingUpdate: .trackingUpdate
        case .confirmReturnReceived: .confirmReturnReceived
        case .refundSucceeded: .refundSucceeded
        case .refundFailed: .refundFailed
        case .shipReplacement: .shipReplacement
        case .confirmReplacementReceived: .confirmReplacementReceived
        case .forceRefund: .forceRefund
        case .arbitrationRefund: .arbitrationRefund
        case .refundRequeued: .refundRequeued
        case .close: .close
        case .revealPersonalData: .revealPersonalData
        case .erasePersonalData: .erasePersonalData
        }
    }

    static func step(_ action: AfterSaleProto.CaseAction) -> AfterSaleDomain.CaseStep? {
        AfterSaleDomain.CaseStep.allCases.first { step($0) == action }
    }

    static func outcome(_ outcome: AfterSaleDomain.TraceOutcome) -> AfterSaleProto.TraceOutcome {
        switch outcome {
        case .applied: .applied
        case .duplicate: .duplicate
        case .rejected: .rejected
        }
    }

    static func outcome(_ outcome: AfterSaleProto.TraceOutcome) -> AfterSaleDomain.TraceOutcome? {
        AfterSaleDomain.TraceOutcome.allCases.first { self.outcome($0) == outcome }
    }

    static func basis(_ basis: AfterSaleDomain.ReasonBasis) -> AfterSaleProto.ReasonBasis {
        switch basis {
        case .noReason: .noReason
        case .performanceFault: .performanceFault
        case .sellerFault: .sellerFault
        case .logistics: .logistics
        case .other: .other
        }
    }

    static func basis(_ basis: AfterSaleProto.ReasonBasis, field: String) throws(DomainError) -> AfterSaleDomain.ReasonBasis {
        for candidate in AfterSaleDomain.ReasonBasis.allCases where self.basis(candidate) == basis { return candidate }
        throw .invalidArgument(field: field, message: "must be a known basis, got \(basis.rawValue)")
    }

    static func requestedLine(_ line: AfterSaleDomain.RequestedLine) -> AfterSaleProto.RequestedLine {
        var l = AfterSaleProto.RequestedLine()
        l.orderLineId = line.orderLineID
        l.quantity = Int32(clamping: line.quantity)
        return l
    }

    static func requestedLine(_ line: AfterSaleProto.RequestedLine) -> AfterSaleDomain.RequestedLine {
        AfterSaleDomain.RequestedLine(orderLineID: line.orderLineId, quantity: Int(line.quantity))
    }

    static func timeline(_ entry: AfterSaleDomain.TimelineEntry) -> AfterSaleProto.TimelineEntry {
        var t = AfterSaleProto.TimelineEntry()
        t.atUnixMs = entry.at.millisecondsSinceEpoch
        t.action = step(entry.step)
        t.actorRole = role(entry.actor.role)
        t.actorId = entry.actor.id
        t.fromStatus = status(entry.from)
        t.toStatus = status(entry.to)
        t.note = entry.note
        return t
    }

    static func trace(_ record: AfterSaleDomain.TraceRecord, id: String) -> AfterSaleProto.TraceRecord {
        var t = AfterSaleProto.TraceRecord()
        t.recordId = id
        t.caseNumber = record.caseNumber.rawValue
        t.actorRole = role(record.actor.role)
        t.actorId = record.actor.id
        t.action = step(record.step)
        t.fromStatus = status(record.from)
        t.toStatus = status(record.to)
        t.atUnixMs = record.at.millisecondsSinceEpoch
        t.outcome = outcome(record.outcome)
        t.details = record.details
        t.traceId = record.traceID
        t.refundId = record.refundID ?? ""
        return t
    }

    static func line(_ line: AfterSaleDomain.CaseLine) -> AfterSaleProto.CaseLine {
        var l = AfterSaleProto.CaseLine()
        l.orderLineId = line.orderLineID
        l.sku = line.sku
        l.title = line.title
        l.spec = line.spec
        l.imageUrl = line.imageURL
        l.category = line.category
        l.quantity = Int32(clamping: line.quantity)
        l.unitPrice = money(line.unitPrice)
        l.refundAmount = money(line.refundAmount)
        return l
    }

    /// The case in full, as GetAfterSale and every state-changing call return it, with the buyer's
    /// personal data (the return pickup address) shown as ``PersonalDataDisclosure`` lets `viewer` see it.
    static func afterSale(_ c: AfterSaleDomain.AfterSaleCase, refund: AfterSaleDomain.RefundOrder?,
                          timer: CaseTimer?, pauses: [AfterSaleDomain.TimerPause], now: Timestamp,
                          viewer: Principal) -> AfterSaleProto.AfterSaleCase {
        let disclosure = PersonalDataDisclosure.of(c, for: viewer)
        var p = AfterSaleProto.AfterSaleCase()
        p.caseNumber = c.number.rawValue
        p.orderId = c.orderID
        p.buyerId = c.buyerID
        p.shop = shop(c.shop)
        p.kind = kind(c.kind)
        p.status = status(c.status)
        p.reasonCode = c.reasonCode
        p.reasonLabel = c.reasonTitle
        p.buyerNote = c.buyerNote
        p.lines = c.lines.map(line)
        p.evidence = c.evidence.map(evidence)
        p.coversWholeOrder = c.coversWholeOrder
        p.goodsAmount = money(c.amounts.goods)
        p.shippingRefund = money(c.amounts.shipping)
        p.computedAmount = money(c.amounts.computed)
        p.serviceFee = c.amounts.serviceFee.map(money)
        p.approvedAmount = c.amounts.approved.map(money)
        p.refundedAmount = money(c.amounts.refunded)
        p.rejectionReason = c.rejectionReason ?? ""
        p.returnAddress = c.returnAddress.map(address)
        p.returnShipment = c.returnShipment.map { logistics($0, to: c.returnAddress, disclosure: disclosure) }
        p.outboundShipment = c.outboundShipment.map { logistics($0, to: nil, disclosure: disclosure) }
        if let receipt = c.receipt {
            p.receivedCondition = condition(receipt.condition)
            p.receiptNote = receipt.note
            p.receiptEvidence = receipt.evidence.map(evidence)
        }
        p.refund = refund.map { refundOrder($0) }
        p.timeline = c.timeline.map(timeline)
        p.version = c.version
        p.createdAtUnixMs = c.createdAt.millisecondsSinceEpoch
        p.updatedAtUnixMs = c.updatedAt.millisecondsSinceEpoch
        p.finishedAtUnixMs = c.finishedAt?.millisecondsSinceEpoch ?? 0
        if let timer, timer.isCurrent(for: c) {
            let step = automaticStep(timer, pauses: pauses, now: now)
            p.nextAutomaticStep = step
            p.dueAtUnixMs = step.dueAtUnixMs
        }
        return p
    }

    /// What `timer` will do and when, counting `pauses`.
    static func automaticStep(_ timer: CaseTimer, pauses: [AfterSaleDomain.TimerPause], now: Timestamp) -> AutomaticStep {
        var step = AutomaticStep()
        step.rule = timer.rule.rawValue
        step.action = self.step(timer.rule.action.kind.step)
        step.outcome = timer.rule.outcome
        step.dueAtUnixMs = timer.dueAt(pauses: pauses).millisecondsSinceEpoch
        step.reminderAtUnixMs = timer.reminderAt(pauses: pauses)?.millisecondsSinceEpoch ?? 0
        step.startedAtUnixMs = timer.startedAt.millisecondsSinceEpoch
        step.durationMs = timer.durationMs
        step.policyVersion = timer.policyVersion
        step.paused = pauses.contains { $0.applies(toShop: timer.shopID) && $0.startsAt <= now && now < $0.endsAt }
        return step
    }

    /// A list row, with what its timer will do (when it still belongs to the row's status).
    static func summary(_ row: CaseSummary, timer: CaseTimer?, pauses: [AfterSaleDomain.TimerPause], now: Timestamp) -> AfterSaleProto.AfterSaleSummary {
        var s = summary(row)
        if let timer, TimerRule(waitingIn: row.status) == timer.rule {
            s.nextAutomaticStep = automaticStep(timer, pauses: pauses, now: now)
        }
        return s
    }

    static func summary(_ row: CaseSummary) -> AfterSaleProto.AfterSaleSummary {
        var s = AfterSaleProto.AfterSaleSummary()
        s.caseNumber = row.number.rawValue
        s.orderId = row.orderID
        s.buyerId = row.buyerID
        s.shop = shop(row.shop)
        s.kind = kind(row.kind)
        s.status = status(row.status)
        s.title = row.title
        s.spec = row.spec
        s.imageUrl = row.imageURL
        s.quantity = Int32(clamping: row.quantity)
        s.lineCount = Int32(clamping: row.lineCount)
        s.refundAmount = row.refundAmount.map(money)
        s.createdAtUnixMs = row.appliedAt.millisecondsSinceEpoch
        s.updatedAtUnixMs = row.updatedAt.millisecondsSinceEpoch
        s.version = row.version
        return s
    }

    static func message(_ message: AfterSaleDomain.CaseMessage) -> AfterSaleProto.CaseMessage {
        var m = AfterSaleProto.CaseMessage()
        m.messageId = String(message.id)
        m.caseNumber = message.caseNumber.rawValue
        m.senderRole = role(message.sender.role)
        m.senderId = message.sender.id
        m.text = message.text
        m.attachments = message.attachments.map(evidence)
        m.sentAtUnixMs = message.sentAt.millisecondsSinceEpoch
        return m
    }

    static func reason(_ stored: StoredReason) -> AfterSaleProto.Reason {
        var r = AfterSaleProto.Reason()
        let reason = stored.reason
        r.code = reason.code
        r.kinds = AfterSaleDomain.AfterSaleKind.allCases.filter { reason.kinds.contains($0) }.map { kind($0) }
        r.label = reason.title
        r.basis = basis(reason.basis)
        r.requiresEvidence = reason.requiresEvidence
        r.active = reason.isActive
        r.sortOrder = Int32(clamping: reason.sortOrder)
        r.version = stored.version
        r.updatedAtUnixMs = stored.updatedAt.millisecondsSinceEpoch
        return r
    }

    /// A catalog entry from the wire; its version and updated_at are ignored.
    static func reason(_ reason: AfterSaleProto.Reason, field: String) throws(DomainError) -> AfterSaleDomain.Reason {
        var kinds: Set<AfterSaleDomain.AfterSaleKind> = []
        for (index, k) in reason.kinds.enumerated() {
            guard let mapped = try kind(k, field: "\(field).kinds[\(index)]") else {
                throw .invalidArgument(field: "\(field).kinds[\(index)]", message: "must not be UNSPECIFIED")
            }
            kinds.insert(mapped)
        }
        return AfterSaleDomain.Reason(code: reason.code, title: reason.label, kinds: kinds,
                        basis: try basis(reason.basis, field: "\(field).basis"),
                        requiresEvidence: reason.requiresEvidence, isActive: reason.active, sortOrder: Int(reason.sortOrder))
    }
}
