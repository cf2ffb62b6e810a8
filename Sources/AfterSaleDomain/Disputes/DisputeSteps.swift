// The steps of a dispute. Each checks who acts and the status, and returns the next dispute with
// its flow-record entry and one more version; a refused step throws and changes nothing.

extension Dispute {
    /// The skill an agent needs to review disputes.
    public static let arbitrationSkill = "arbitration"

    /// The most days an evidence request may run.
    public static let maximumEvidenceMs: Int64 = 30 * Timestamp.millisecondsPerDay

    /// The ticket agents review the dispute under: one for the first review, another for the appeal.
    public var reviewTicketID: String { "TK" + id + (appealedAt == nil ? "" : "A") }

    /// Opens a dispute about `afterSale` on `grounds`, waiting for the merchant's response.
    ///
    /// - after a rejection: the case's buyer (or the platform on their behalf), within the
    ///   escalation window of the rejection; after it the rejection is final;
    /// - merchant overdue: the platform (or a system) on an open case not already refunding;
    /// - guarantee: the case's buyer (or the platform), on a completed exchange or repair within
    ///   the guarantee period.
    /// - Throws: ``DomainError/permissionDenied(_:)``, ``DomainError/stateConflict(message:)`` (the
    ///   case's status or a window), ``DomainError/invalidArgument(field:message:)``.
    public static func open(_ afterSale: AfterSaleCase, grounds: DisputeGrounds, statement: String, evidence: [EvidenceRef],
                            by principal: Principal, at now: Timestamp, policy: DisputePolicy = .standard,
                            evidencePolicy: EvidencePolicy = .standard) throws(DomainError) -> Dispute {
        try principal.validate()
        let number = afterSale.number
        switch grounds {
        case .afterRejection, .guarantee:
            guard principal.role == .buyer || principal.role == .platform else {
                throw .permissionDenied(.roleNotAllowed(principal: principal, action: "open a dispute on \(grounds.rawValue) grounds",
                                                        allowed: [.buyer, .platform]))
            }
            if principal.role == .buyer, principal.id != afterSale.buyerID {
                throw .permissionDenied(.notCaseBuyer(buyerID: principal.id, caseNumber: number))
            }
        case .merchantOverdue:
            guard principal.role == .platform || principal.role == .system else {
                throw .permissionDenied(.roleNotAllowed(principal: principal, action: "open a dispute because the merchant is overdue",
                                                        allowed: [.platform, .system]))
            }
        }
        try TextRules.required(statement, field: "statement")
        try evidencePolicy.validate(evidence)
        switch grounds {
        case .afterRejection:
            guard afterSale.status == .rejected, let rejectedAt = afterSale.finishedAt else {
                throw .stateConflict(message: "case \(number) is \(afterSale.status): only a rejected case may be escalated")
            }
            guard now.millisecondsSinceEpoch - rejectedAt.millisecondsSinceEpoch <= policy.escalationWindowMs else {
                throw .stateConflict(message: "the rejection of case \(number) is final: the escalation window ended at "
                                     + "\(rejectedAt.adding(milliseconds: policy.escalationWindowMs))")
            }
        case .merchantOverdue:
            guard afterSale.status.isOpen, afterSale.status != .pendingRefund else {
                throw .stateConflict(message: "case \(number) is \(afterSale.status): the platform steps in only on an open case not yet refunding")
            }
        case .guarantee:
            guard afterSale.status == .completed, afterSale.kind == .exchange || afterSale.kind == .repair,
                  let completedAt = afterSale.finishedAt else {
                throw .stateConflict(message: "case \(number) is a \(afterSale.status) \(afterSale.kind.rawValue) case: a guarantee claim "
                                     + "needs a completed exchange or repair (goods the buyer kept)")
            }
            guard now.millisecondsSinceEpoch - completedAt.millisecondsSinceEpoch <= policy.guaranteePeriodMs else {
                throw .stateConflict(message: "case \(number) completed too long ago: the guarantee period ended at "
                                     + "\(completedAt.adding(milliseconds: policy.guaranteePeriodMs))")
            }
        }
        let entry = DisputeEntry(at: now, actor: principal, step: .opened, text: statement, evidence: evidence, from: nil, to: .awaitingMerchant)
        return Dispute(id: id(of: number), caseNumber: number, orderID: afterSale.orderID, buyerID: afterSale.buyerID, shopID: afterSale.shop.id,
                       grounds: grounds, status: .awaitingMerchant, caseStatusAtOpening: afterSale.status, entries: [entry],
                       merchantResponseDueAt: now.adding(milliseconds: policy.merchantResponseMs), evidenceRequests: [], ruling: nil,
                       appealDueAt: nil, appealedAt: nil, appealRuling: nil, ticketID: nil, openedAt: now, updatedAt: now,
                       finishedAt: nil, version: 1)
    }

    /// A party's statement with evidence. The merchant's, while awaited, sends the dispute to
    /// review; a requested party's answers its evidence request (the last one outstanding sends
    /// the dispute back to review).
    /// - Throws: ``DomainError/permissionDenied(_:)`` for anyone but the buyer or the shop;
    ///   ``DomainError/stateConflict(message:)`` once ruled; ``DomainError/invalidArgument(field:message:)``.
    public func statement(_ text: String, evidence: [EvidenceRef], by principal: Principal, at now: Timestamp,
                          evidencePolicy: EvidencePolicy = .standard) throws(DomainError) -> Dispute {
        try principal.validate()
        guard isParty(principal) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "make a statement in dispute \(id)", allowed: [.buyer, .merchant]))
        }
        guard status.isOpen else { throw conflict("is \(status): statements are closed") }
        try TextRules.required(text, field: "text")
        try evidencePolicy.validate(evidence)
        var next = self
        switch status {
        case .awaitingMerchant where principal.role == .merchant:
            next.status = .underReview
            next.ticketID = reviewTicketID
            next.append(DisputeEntry(at: now, actor: principal, step: .merchantResponded, text: text, evidence: evidence, from: status, to: .underReview))
        case .awaitingEvidence:
            var answered = false
            for index in next.evidenceRequests.indices
            where next.evidenceRequests[index].party == principal.role && next.evidenceRequests[index].state == .pending {
                next.evidenceRequests[index].state = .answered
                answered = true
            }
            next.append(DisputeEntry(at: now, actor: principal, step: .statement, text: text, evidence: evidence, from: status, to: status))
            if answered { next.resumeReviewIfAnswered(at: now) }
        default:
            next.append(DisputeEntry(at: now, actor: principal, step: .statement, text: text, evidence: evidence, from: status, to: status))
        }
        return next.bumped(at: now)
    }

    /// An agent or the platform asks `parties` for evidence by `dueAt` (default: the policy's
    /// evidence window); the dispute waits until each answered or lapsed.
    /// - Throws: ``DomainError/permissionDenied(_:)``, ``DomainError/stateConflict(message:)``
    ///   outside review, ``DomainError/invalidArgument(field:message:)``.
    public func requestEvidence(from parties: Set<ActorRole>, note: String, dueAt: Timestamp?, by principal: Principal, at now: Timestamp,
                                policy: DisputePolicy = .standard) throws(DomainError) -> Dispute {
        try principal.validate()
        guard principal.role == .agent || principal.role == .platform else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "request evidence", allowed: [.agent, .platform]))
        }
        guard status == .underReview || status == .appealed || status == .awaitingMerchant else {
            throw conflict("is \(status): evidence is requested while the dispute is reviewed")
        }
        guard !parties.isEmpty, parties.isSubset(of: [.buyer, .merchant]) else {
            throw .invalidArgument(field: "parties", message: "name the buyer, the merchant or both")
        }
        try TextRules.required(note, field: "note")
        let due = dueAt ?? now.adding(milliseconds: policy.evidenceMs)
        guard due > now, due.millisecondsSinceEpoch - now.millisecondsSinceEpoch <= Self.maximumEvidenceMs else {
            throw .invalidArgument(field: "due_at_unix_ms", message: "must be in the future and at most 30 days away")
        }
        var next = self
        next.status = .awaitingEvidence
        next.evidenceRequests = [ActorRole.buyer, .merchant].filter(parties.contains).map {
            EvidenceRequest(party: $0, note: note, dueAt: due)
        }
        next.append(DisputeEntry(at: now, actor: principal, step: .evidenceRequested,
                                 text: "\(note) (from: \(next.evidenceRequests.map(\.party.rawValue).joined(separator: ", ")))",
                                 from: status, to: .awaitingEvidence))
        return next.bumped(at: now)
    }

    /// An agent or the platform rules. The first ruling for the buyer or mediated may be appealed by
    /// the merchant within the appeal window; one for the merchant, and any ruling on appeal, is final.
    ///
    /// On appeal the ruled amount may not exceed the first ruling's (its refund was paid already).
    /// - Parameters:
    ///   - amount: what the buyer is refunded (required and positive for mediated and for the
    ///     buyer; nil for the merchant). The case's refund checks it against what is refundable.
    ///   - refundID: the refund order that pays it (for the buyer or mediated, first ruling).
    /// - Throws: ``DomainError/permissionDenied(_:)``, ``DomainError/stateConflict(message:)``
    ///   outside review, ``DomainError/invalidArgument(field:message:)``.
    public func rule(_ outcome: DisputeOutcome, amount: Money?, reason: String, refundID: String?, by principal: Principal,
                     at now: Timestamp, policy: DisputePolicy = .standard) throws(DomainError) -> Dispute {
        try principal.validate()
        guard principal.role == .agent || principal.role == .platform else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "rule on a dispute", allowed: [.agent, .platform]))
        }
        guard status == .underReview || status == .appealed else {
            throw conflict("is \(status): only a dispute under review (or on appeal) is ruled")
        }
        try TextRules.required(reason, field: "reason")
        try Self.check(outcome, amount: amount)
        var next = self
        let ruling = DisputeRuling(outcome: outcome, amount: outcome == .forMerchant ? nil : amount, reason: reason, ruledBy: principal,
                                   at: now, refundID: refundID)
        if status == .appealed {
            if let paid = self.ruling?.amount, let amount = ruling.amount {
                try paid.requireSameCurrency(amount)
                guard amount.minorUnits <= paid.minorUnits else {
                    throw .invalidArgument(field: "amount", message: "a ruling on appeal may not exceed the first ruling's \(paid) (already refunded)")
                }
            }
            next.appealRuling = ruling
            next.status = .final
            next.finishedAt = now
        } else {
            next.ruling = ruling
            if outcome == .forMerchant {
                next.status = .final
                next.finishedAt = now
            } else {
                next.status = .ruled
                next.appealDueAt = now.adding(milliseconds: policy.appealWindowMs)
            }
        }
        let money = ruling.amount.map { " amount=\($0)" } ?? ""
        next.append(DisputeEntry(at: now, actor: principal, step: .ruled, text: "\(outcome.rawValue)\(money): \(reason)", from: status, to: next.status))
        return next.bumped(at: now)
    }

    /// The money a ruling moves and its outcome must agree: for the buyer and mediated a positive
    /// amount (mediated) or a non-negative one; for the merchant none.
    static func check(_ outcome: DisputeOutcome, amount: Money?) throws(DomainError) {
        switch outcome {
        case .forMerchant:
            if let amount, amount.minorUnits != 0 {
                throw .invalidArgument(field: "amount", message: "a ruling for the merchant refunds nothing")
            }
        case .forBuyer, .mediated:
            guard let amount else { throw .invalidArgument(field: "amount", message: "is required for a \(outcome.rawValue) ruling") }
            guard amount.minorUnits > 0 || (outcome == .forBuyer && amount.minorUnits == 0) else {
                throw .invalidArgument(field: "amount", message: "must be positive for a mediated ruling")
            }
        }
    }

    /// The merchant appeals the ruling against them, once, within the appeal window; the dispute
    /// is reviewed again and the next ruling is final.
    /// - Throws: ``DomainError/permissionDenied(_:)`` for anyone but the shop;
    ///   ``DomainError/stateConflict(message:)`` when there is nothing to appeal or the window passed.
    public func appeal(_ reason: String, evidence: [EvidenceRef], by principal: Principal, at now: Timestamp,
                       evidencePolicy: EvidencePolicy = .standard) throws(DomainError) -> Dispute {
        try principal.validate()
        guard principal.role == .merchant, isParty(principal) else {
            throw .permissionDenied(.roleNotAllowed(principal: principal, action: "appeal the ruling of dispute \(id)", allowed: [.merchant]))
        }
        guard appealedAt == nil else { throw conflict("was appealed already: a ruling is appealed once") }
        guard status == .ruled, let ruling, ruling.outcome != .forMerchant, let due = appealDueAt else {
            throw conflict("is \(status): only a ruling against the merchant may be appealed")
        }
        guard now <= due else { throw conflict("may no longer be appealed: the appeal window ended at \(due)") }
        try TextRules.required(reason, field: "reason")
        try evidencePolicy.validate(evidence)
        var next = self
        next.status = .appealed
        next.appealedAt = now
        next.appealDueAt = nil
        next.evidenceRequests = []
        next.ticketID = next.reviewTicketID
        next.append(DisputeEntry(at: now, actor: principal, step: .appealed, text: reason, evidence: evidence, from: status, to: .appealed))
        return next.bumped(at: now)
    }

    /// What the deadlines passed by `now` do, or nil when none has: the merchant's silence sends
    /// the dispute to review; a party's lapsed evidence request is recorded (the last one sends it
    /// back to review); the end of the appeal window makes the ruling final.
    public func applyingDeadlines(at now: Timestamp) -> Dispute? {
        guard let due = nextAt, due <= now else { return nil }
        var next = self
        switch status {
        case .awaitingMerchant:
            next.status = .underReview
            next.ticketID = reviewTicketID
            next.append(DisputeEntry(at: now, actor: Self.deadlineActor, step: .merchantResponseLapsed,
                                     text: "the merchant did not respond by \(due)", from: status, to: .underReview))
        case .awaitingEvidence:
            for index in next.evidenceRequests.indices
            where next.evidenceRequests[index].state == .pending && next.evidenceRequests[index].dueAt <= now {
                next.evidenceRequests[index].state = .lapsed
                let request = next.evidenceRequests[index]
                next.append(DisputeEntry(at: now, actor: Self.deadlineActor, step: .evidenceLapsed,
                                         text: "no evidence from the \(request.party.rawValue) by \(request.dueAt)", from: status, to: status))
            }
            next.resumeReviewIfAnswered(at: now)
        case .ruled:
            next.status = .final
            next.finishedAt = now
            next.appealDueAt = nil
            next.append(DisputeEntry(at: now, actor: Self.deadlineActor, step: .finalized, text: "the appeal window passed",
                                     from: status, to: .final))
        case .underReview, .appealed, .final:
            return nil
        }
        return next.bumped(at: now)
    }

    // MARK: - Helpers

    private func conflict(_ message: String) -> DomainError { .stateConflict(message: "dispute \(id) \(message)") }

    private mutating func append(_ entry: DisputeEntry) { entries.append(entry) }

    /// Back to review once no evidence request is pending.
    private mutating func resumeReviewIfAnswered(at now: Timestamp) {
        guard status == .awaitingEvidence, !evidenceRequests.contains(where: { $0.state == .pending }) else { return }
        let back: DisputeStatus = appealedAt == nil ? .underReview : .appealed
        entries.append(DisputeEntry(at: now, actor: Self.deadlineActor, step: .reviewResumed,
                                    text: evidenceRequests.map { "\($0.party.rawValue): \($0.state.rawValue)" }.joined(separator: ", "),
                                    from: status, to: back))
        status = back
        ticketID = reviewTicketID
    }

    private func bumped(at now: Timestamp) -> Dispute {
        var next = self
        next.version = version + 1
        next.updatedAt = now
        return next
    }
}
