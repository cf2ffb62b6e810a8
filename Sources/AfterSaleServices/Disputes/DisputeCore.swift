import AfterSaleDomain
import AfterSaleProto
import ServiceKit

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

    /// Stores `after` (a change of `before`, or a new dispute) with its events.
    /// - Throws: ``DomainError/versionConflict(expected:actual:)`` when the dispute moved;
    ///   ``DomainError/duplicate(message:)`` when a new one's case has a dispute already.
    func commit(_ after: Dispute, before: Dispute?, by actor: Principal) async throws {
        let now = after.updatedAt
        var events = [ProtoMapping.disputeEvent(after, before: before, by: actor, at: now)]
        if before?.status.isOpen != after.status.isOpen, let view = try await orderView(after, before: before) {
            events.append(ProtoMapping.orderStateEvent(view, about: after, by: actor, at: now))
        }
        try await store.saveDispute(after, expectedVersion: before?.version ?? 0, events: events)
        if after.ticketID != nil, after.ticketID != before?.ticketID {
            await openReviewTicket(after)
        }
    }

    /// The order's view after the change, nil when the order is unknown or its state stays.
    func orderView(_ after: Dispute, before: Dispute?) async throws -> AfterSaleDomain.OrderAfterSaleView? {
        guard let order = try await store.order(after.orderID) else { return nil }
        let cases = try await store.cases(ofOrder: after.orderID)
        let others = try await store.disputes(ofOrder: after.orderID).filter { $0.id != after.id && $0.status.isOpen }.map(\.id)
        let ledger = try OrderLedger(order: order, cases: cases)
        let viewBefore = AfterSaleDomain.OrderAfterSaleView(ledger, openDisputeIDs: others + (before?.status.isOpen == true ? [after.id] : []))
        let viewAfter = AfterSaleDomain.OrderAfterSaleView(ledger, openDisputeIDs: others + (after.status.isOpen ? [after.id] : []))
        return viewAfter.differs(from: viewBefore) ? viewAfter : nil
    }

    /// Opens the dispute's review ticket (once: its id derives from the dispute and the round);
    /// a failure is logged, and the platform may still rule.
    func openReviewTicket(_ dispute: Dispute) async {
        guard let id = dispute.ticketID else { return }
        do {
            guard let afterSale = try await store.afterSale(dispute.caseNumber) else { return }
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
        } catch DomainError.duplicate {
            return
        } catch {
            logger.log(.warning, "could not open a dispute's review ticket", ["dispute": dispute.id, "error": String(describing: error)])
        }
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
/// passed (the merchant's response, evidence requests, the appeal window), each once.
public final class DisputeWorker: Service, Sendable {
    public let name = "dispute-worker"
    private let core: DisputeCore
    private let intervalMs: Int64
    private let loop = RepeatingTask()

    /// A worker over `store` sweeping every `intervalMs`.
    public init(store: any AfterSaleRepository, desk: Desk, clock: any WallClock = SystemClock(), policy: DisputePolicy = .standard,
                intervalMs: Int64 = 1_000, logger: Logger = .disabled) {
        core = DisputeCore(store: store, desk: desk, clock: clock, policy: policy, logger: logger)
        self.intervalMs = max(10, intervalMs)
    }

    public func start() async throws {
        loop.start { [self] in
            await self.sweep()
            return .milliseconds(self.intervalMs)
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
