import AfterSaleDomain
import AfterSaleProto
import ServiceKit
import Synchronization

// In this module the domain's dispute names win; the wire's are spelled AfterSaleProto.… where used.
typealias Dispute = AfterSaleDomain.Dispute
typealias DisputeOutcome = AfterSaleDomain.DisputeOutcome
typealias DisputeStatus = AfterSaleDomain.DisputeStatus

/// What the Disputes service and the dispute worker share: every dispute change is stored by
/// compare-and-set with its DISPUTE_* event (and the order's ORDER_AFTER_SALE_STATE_CHANGED when
/// 维权中 starts or ends), and a dispute that enters review gets its ticket for agents with the
/// `arbitration` skill.
struct DisputeCore: Sendable {
    let store: any AfterSaleRepository
    let desk: Desk
    let clock: any WallClock
    let policy: DisputePolicy
    let logger: Logger
    /// Opens the stored responses of ruling keys (sealed under the buyer's key).
    let personalData: PersonalDataVault

    /// Whom the idempotency key of a ruling's case change belongs to: the dispute, not the agent,
    /// so a ruling retried by another agent, the platform or the dispute worker finds it.
    static let arbitration = Principal.system("arbitration")

    /// The idempotency key a first ruling's case change is made under, `dispute-ruling:<id>`: its
    /// stored response is the ruling (an ``AfterSaleProto/DisputeRuling`` with the refund order's
    /// id), so whoever finds the dispute still under review can record the ruling the case change
    /// was made for. Every ruling of the dispute spends the same key: a different one is refused by
    /// comparing it with the stored one.
    static func rulingCall(_ disputeID: String) -> IdempotentCall {
        IdempotentCall(record: IdempotencyRecord(key: "dispute-ruling:\(disputeID)", principal: arbitration,
                                                 fingerprint: "dispute-ruling|\(disputeID)"),
                       operation: Disputes.ruleDispute.info.path)
    }

    /// `current` with the stored first `ruling` recorded at `now` (its outcome, amount, reason,
    /// author and refund order as the case change was made for them).
    func recording(_ ruling: AfterSaleDomain.DisputeRuling, on current: Dispute, at now: Timestamp) throws(DomainError) -> Dispute {
        try current.rule(ruling.outcome, amount: ruling.amount, reason: ruling.reason, refundID: ruling.refundID, by: ruling.ruledBy,
                         at: now, policy: policy)
    }

    /// Records the first ruling of `dispute`, still under review, when its case change was made
    /// already (a RuleDispute interrupted between its two steps): the ruling stored under the
    /// dispute's key, exactly as RuleDispute would have recorded it, by compare-and-set.
    /// - Returns: true when it recorded one; false when there is none to record.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the dispute moved meanwhile.
    func recordInterruptedRuling(_ dispute: Dispute) async throws -> Bool {
        guard dispute.status == .underReview, let stored = try await store.storedResponse(for: Self.rulingCall(dispute.id)) else { return false }
        guard let afterSale = try await store.afterSale(dispute.caseNumber) else { return false }
        let opened = try await personalData.openedResponse(stored, buyerID: afterSale.buyerID)
        let ruling = try ProtoMapping.ruling(try AfterSaleProto.DisputeRuling(serializedBytes: opened), currency: afterSale.currency)
        let ruled = try recording(ruling, on: dispute, at: clock.now())
        try await commit(ruled, before: dispute, by: ruling.ruledBy)
        logger.log(.info, "recorded an interrupted ruling", ["dispute": dispute.id, "outcome": ruling.outcome.rawValue,
                                                            "refund": ruling.refundID ?? "-"])
        return true
    }

    /// Stores `after` (a change of `before`, or a new dispute) with its events. When the dispute
    /// opens or leaves the open statuses, the order's state (维权中) is derived from the order, its
    /// cases and its other open disputes as read, and the save checks in its transaction that none
    /// of them moved since (as a case change checks the order's open disputes): a concurrent case
    /// change on the order makes it derive again, so the last order state on the feed is right.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the dispute moved;
    ///   ``DomainError/duplicate(message:)`` when a new one's case has a dispute already.
    func commit(_ after: Dispute, before: Dispute?, by actor: Principal) async throws {
        let now = after.updatedAt
        let disputeEvent = ProtoMapping.disputeEvent(after, before: before, by: actor, at: now)
        var attempt = 0
        while true {
            attempt += 1
            var events = [disputeEvent]
            var basis: EligibilityBasis?
            if before?.status.isOpen != after.status.isOpen, let derived = try await orderView(after, before: before) {
                basis = derived.basis
                if let view = derived.view { events.append(ProtoMapping.orderStateEvent(view, about: after, by: actor, at: now)) }
            }
            do {
                try await store.saveDispute(after, expectedVersion: before?.version ?? 0, events: events, basis: basis)
                break
            } catch RepositoryError.eligibilityChanged where attempt < 5 {
                continue   // a case or another dispute of the order moved meanwhile: derive the order's state again
            } catch RepositoryError.eligibilityChanged {
                throw DomainError.stateConflict(message: "order \(after.orderID) kept changing while dispute \(after.id) was saved; retry")
            }
        }
        if after.ticketID != nil, after.ticketID != before?.ticketID {
            await openReviewTicket(after)
        }
    }

    /// The order's view after the change (nil when its state stays) and what it was derived from;
    /// nil when the order is unknown.
    func orderView(_ after: Dispute, before: Dispute?) async throws -> (view: AfterSaleDomain.OrderAfterSaleView?, basis: EligibilityBasis)? {
        guard let order = try await store.order(after.orderID) else { return nil }
        let cases = try await store.cases(ofOrder: after.orderID)
        let others = try await store.disputes(ofOrder: after.orderID).filter { $0.id != after.id && $0.status.isOpen }.map(\.id)
        let ledger = try OrderLedger(order: order, cases: cases)
        let viewBefore = AfterSaleDomain.OrderAfterSaleView(ledger, openDisputeIDs: others + (before?.status.isOpen == true ? [after.id] : []))
        let viewAfter = AfterSaleDomain.OrderAfterSaleView(ledger, openDisputeIDs: others + (after.status.isOpen ? [after.id] : []))
        return (viewAfter.differs(from: viewBefore) ? viewAfter : nil, EligibilityBasis(order: order, existingCases: cases, openDisputeIDs: others))
    }

    /// Opens the dispute's review ticket (once: its id derives from the dispute and the round);
    /// a failure is logged, and the platform may still rule (the worker's repair pass opens it later).
    /// - Returns: true when this call opened it.
    @discardableResult
    func openReviewTicket(_ dispute: Dispute) async -> Bool {
        guard let id = dispute.ticketID else { return false }
        do {
            guard let afterSale = try await store.afterSale(dispute.caseNumber) else { return false }
            let appeal = dispute.appealedAt != nil
            let ticket = try AfterSaleDomain.Ticket.open(AfterSaleDomain.Ticket.Opening(
                id: id, origin: .complaint,
                subject: appeal ? "Appeal of dispute \(dispute.id) on case \(dispute.caseNumber)"
                    : "Dispute \(dispute.id) on case \(dispute.caseNumber) (\(dispute.grounds.rawValue))",
                text: String((dispute.entries.last?.text ?? "").prefix(5_000)), caseNumber: dispute.caseNumber, orderID: dispute.orderID,
                requester: AfterSaleDomain.Ticket.desk, buyerID: dispute.buyerID, shopID: dispute.shopID, priority: appeal ? .high : .normal,
                requirement: SkillRequirement(required: [Dispute.arbitrationSkill],
                                              amount: afterSale.kind.refundsMoney ? afterSale.amounts.displayed : nil),
                at: clock.now()))
            try await desk.core.open(ticket)
            await desk.loop.request()
            return true
        } catch DomainError.duplicate {
            return false
        } catch {
            logger.log(.warning, "could not open a dispute's review ticket", ["dispute": dispute.id, "error": String(describing: error)])
            return false
        }
    }

    /// Opens the review ticket of `dispute`, being reviewed, when it was never opened (the ticket
    /// is opened after the dispute's save, best effort). The dispute names its ticket in the same
    /// compare-and-set that sends it to review (``Dispute/reviewTicketID``, `TK<id>`, `TK<id>A` on
    /// appeal), so only the ticket itself can be missing; its id is deterministic, so replicas
    /// repairing at once, or the step's own late attempt, open one ticket.
    /// - Returns: true when it opened one.
    func openMissingReviewTicket(_ dispute: Dispute) async throws -> Bool {
        guard Self.reviewStatuses.contains(dispute.status), let id = dispute.ticketID, try await store.ticket(id) == nil else { return false }
        return await openReviewTicket(dispute)
    }

    /// The statuses a dispute is reviewed in (with a review ticket once it was reviewed).
    static let reviewStatuses: Set<DisputeStatus> = [.underReview, .awaitingEvidence, .appealed]

    /// Finishes what a step left undone after its save, for up to `limit` disputes being reviewed:
    /// records a first ruling whose case change was made (``recordInterruptedRuling(_:)``), and
    /// opens a review ticket that was never opened (``openMissingReviewTicket(_:)``); and, for up
    /// to `limit` refund-only cases pending review, opens the manual-review ticket of a case abuse
    /// control held whose opening was lost (``ManualReview/repair(store:desk:now:logger:limit:)``).
    /// Each is a compare-and-set or idempotent, so several replicas may repair at once.
    /// - Returns: the disputes and cases repaired.
    @discardableResult
    func repair(limit: Int = 1_000) async throws -> Int {
        var repaired = 0
        var seen = 0
        var query = DisputeQuery(statuses: Self.reviewStatuses, pageSize: 100)
        while seen < limit {
            let page = try await store.listDisputes(query)
            for dispute in page.disputes {
                do {
                    if try await recordInterruptedRuling(dispute) {
                        repaired += 1
                    } else if try await openMissingReviewTicket(dispute) {
                        repaired += 1
                    }
                } catch DomainError.versionConflict {
                    continue   // a ruling or a party moved it meanwhile: the next pass looks again
                } catch {
                    logger.log(.warning, "could not repair a dispute", ["dispute": dispute.id, "error": String(describing: error)])
                }
            }
            seen += page.disputes.count
            guard let next = page.next else { break }
            query.after = next
        }
        // Held refund-only cases (abuse control) whose manual-review ticket was never opened.
        repaired += try await ManualReview.repair(store: store, desk: desk, now: clock.now(), logger: logger, limit: limit)
        return repaired
    }

    /// Applies what the deadlines passed by now do to the due disputes (up to `limit`), each a
    /// compare-and-set, so several replicas apply each once.
    /// - Returns: the disputes changed.
    @discardableResult
    func sweep(limit: Int = 200) async throws -> Int {
        let now = clock.now()
        var applied = 0
        for due in try await store.disputesDue(at: now, limit: limit) {
            guard let next = due.applyingDeadlines(at: now) else { continue }
            do {
                try await commit(next, before: due, by: Dispute.deadlineActor)
                applied += 1
            } catch DomainError.versionConflict {
                continue   // another replica applied it, or a party moved it: the next sweep looks again
            } catch {
                logger.log(.warning, "could not apply a dispute deadline", ["dispute": due.id, "error": String(describing: error)])
            }
        }
        return applied
    }
}

/// The dispute worker, in every replica: applies the outcome of each dispute deadline that
/// passed (the merchant's response, evidence requests, the appeal window), each once; and, on
/// start and then every `repairIntervalMs`, repairs what a step left undone after its save
/// (``repair()``).
public final class DisputeWorker: Service, Sendable {
    public let name = "dispute-worker"
    private let core: DisputeCore
    private let intervalMs: Int64
    private let repairIntervalMs: Int64
    private let loop = RepeatingTask()
    /// When the last repair pass began (the worker's clock), nil before the first.
    private let lastRepair = Mutex<Timestamp?>(nil)

    /// A worker over `store` sweeping every `intervalMs` and repairing every `repairIntervalMs`.
    public init(store: any AfterSaleRepository, desk: Desk, personalData: PersonalDataVault, clock: any WallClock = SystemClock(),
                policy: DisputePolicy = .standard, intervalMs: Int64 = 1_000, repairIntervalMs: Int64 = 30_000, logger: Logger = .disabled) {
        core = DisputeCore(store: store, desk: desk, clock: clock, policy: policy, logger: logger, personalData: personalData)
        self.intervalMs = max(10, intervalMs)
        self.repairIntervalMs = max(self.intervalMs, repairIntervalMs)
    }

    public func start() async throws {
        loop.start { [self] in
            await self.sweep()
            let now = self.core.clock.now()
            let due = self.lastRepair.withLock { last -> Bool in
                guard last.map({ now.millisecondsSinceEpoch - $0.millisecondsSinceEpoch >= self.repairIntervalMs }) ?? true else { return false }
                last = now
                return true
            }
            if due { await self.repair() }
            return .milliseconds(self.intervalMs)
        }
    }

    /// One repair pass over the disputes being reviewed: a ruling interrupted between its case
    /// change and its record is recorded, a review ticket never opened is opened.
    /// - Returns: the disputes repaired.
    @discardableResult
    public func repair() async -> Int {
        do {
            return try await core.repair()
        } catch {
            core.logger.log(.warning, "a dispute repair pass failed", ["error": String(describing: error)])
            return 0
        }
    }

    public func shutdown() async {
        await loop.stop()
    }

    /// One sweep of the due disputes.
    /// - Returns: the disputes changed.
    @discardableResult
    public func sweep() async -> Int {
        do {
            return try await core.sweep()
        } catch {
            core.logger.log(.warning, "a dispute sweep failed", ["error": String(describing: error)])
            return 0
        }
    }
}
