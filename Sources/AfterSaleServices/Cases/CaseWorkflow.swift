import AfterSaleDomain
import ProtoRuntime
import RPCWire
import ServiceKit

/// The domain core the three services (AfterSaleService, OrderBridge, RefundBridge) share: it
/// decides an action on a case and commits the result with everything that goes with it (the
/// refund order the transition asks for, the feed events, the tracking numbers) in one transaction.
///
/// The events include the order's after-sale state, computed from the order's cases as read; the
/// write checks that none of them moved since (else it decides again), so two changes on one
/// order never publish states that miss each other.
struct CaseWorkflow: Sendable {
    let cases: any CaseRepository
    let orders: any OrderRepository
    let idempotency: any IdempotencyRepository
    /// Where new timers get their waits from.
    let timers: TimerPolicySource
    let clock: any WallClock
    let policy: PolicyConfig
    let logger: Logger
    /// Seals the buyer's personal data in what is stored, opens it for responses.
    let personalData: PersonalDataVault

    /// The disputes about the order's cases, for the order's 维权中 state: the store that holds the
    /// cases holds them too (nil for a store without disputes).
    var disputes: (any DisputeRepository)? { cases as? any DisputeRepository }

    /// The ids of the open disputes about order `orderID`'s cases.
    func openDisputeIDs(ofOrder orderID: String) async throws -> [String] {
        guard let disputes else { return [] }
        return try await disputes.disputes(ofOrder: orderID).filter(\.status.isOpen).map(\.id)
    }

    /// A committed change: the case before and after, and the refund order it created or moved.
    struct Committed: Sendable {
        var before: AfterSaleDomain.AfterSaleCase
        /// The change as stored (the buyer's personal data sealed).
        var transition: Transition
        /// The case after the change with the buyer's personal data opened: what responses show.
        var view: AfterSaleDomain.AfterSaleCase
        var refund: AfterSaleDomain.RefundOrder?
        /// The case's timer after the change, nil when none runs.
        var timer: CaseTimer?
        /// The pauses known when it was committed (to show the timer's times).
        var pauses: [AfterSaleDomain.TimerPause]
    }

    /// Loads case `number`, decides `makeAction(case)` by the caller, commits it, and answers with
    /// `respond(committed)`; decides again on fresh state when the case or its order moved
    /// meanwhile (a stale `expectedVersion` is ABORTED by the decision). A refused action leaves a
    /// trace record.
    ///
    /// Under an idempotency key (`call`), the response is stored with the change, and a retry of
    /// the same request gets that response back instead of deciding again: before anything is read,
    /// and again inside the commit (a retry racing its original replays, never conflicts).
    func act<Response: ProtoMessage>(on number: CaseNumber, by caller: Caller, call: IdempotentCall?, expectedVersion: Int64?,
                                     trackingKeys: [TrackingKey] = [], respond: (Committed) -> Response,
                                     _ makeAction: (AfterSaleDomain.AfterSaleCase) throws -> Action) async throws -> Response {
        try await DecideAgain.run("case \(number) kept changing while the action was decided; retry") { () async throws -> Response? in
            guard let current = try await cases.afterSale(number) else { throw RepositoryError.caseNotFound(number) }
            if let call, let stored = try await idempotency.storedResponse(for: call) {
                return try Self.decode(try await personalData.openedResponse(stored, buyerID: current.buyerID))
            }
            let action = try makeAction(current)
            let transition = try await decideRecordingRefusal(current, action, by: caller, expectedVersion: expectedVersion)
            return try await DecideAgain.commit {
                switch try await commit(transition, before: current, trackingKeys: trackingKeys, call: call,
                                        respond: { respond($0).serializedBytes() }) {
                case .applied(let committed): return respond(committed)
                case .replayed(let stored): return try Self.decode(stored)
                }
            }
        }
    }

    /// `bytes` as the response they encode (a stored response of this very call).
    static func decode<Response: ProtoMessage>(_ bytes: [UInt8]) throws -> Response {
        do {
            return try Response(serializedBytes: bytes)
        } catch {
            throw RepositoryError.storageFailure("a stored response is not a valid \(Response.protoName)")
        }
    }

    /// ``decide(_:_:by:at:expectedVersion:policy:)`` at the clock's now; an illegal or unauthorised
    /// action is recorded as a refused trace record (best effort: a failure to record is logged)
    /// before its error is thrown.
    func decideRecordingRefusal(_ current: AfterSaleDomain.AfterSaleCase, _ action: Action, by caller: Caller,
                                expectedVersion: Int64?) async throws -> Transition {
        let now = clock.now()
        do throws(DomainError) {
            var transition = try decide(current, action, by: caller.principal, at: now, expectedVersion: expectedVersion, policy: policy)
            transition.trace.traceID = caller.traceID
            return transition
        } catch {
            switch error {
            case .illegalTransition, .permissionDenied:
                do {
                    var refused = TraceRecord.refused(current, action, by: caller.principal, at: now, error: error)
                    refused.traceID = caller.traceID
                    try await cases.recordTrace(refused)
                } catch let failure {
                    logger.log(.warning, "could not record a refused action", [
                        "case": current.number.rawValue, "action": action.kind.rawValue, "error": String(describing: failure),
                    ])
                }
            default:
                break
            }
            throw error
        }
    }

    /// Commits `transition`, decided on `before`: creates the refund order it requests (or stores
    /// `refundUpdate`), appends its events, records new tracking numbers.
    /// - Returns: the refund order created or moved, if any.
    /// - Throws: ``RepositoryError/eligibilityChanged(orderID:)`` or ``DomainError/versionConflict(expected:actual:)``
    ///   when the case, its order or the refund moved: decide again.
    /// - Parameters:
    ///   - call: the idempotency key the change is made under, if any; `respond` then encodes the
    ///     response stored with it (given the change as committed).
    /// - Returns: the committed change, or the stored response when the key was spent by an
    ///   identical call already (then nothing was written).
    func commit(_ decided: Transition, before: AfterSaleDomain.AfterSaleCase, refundUpdate: RefundUpdate? = nil,
                trackingKeys: [TrackingKey] = [], call: IdempotentCall? = nil,
                respond: (Committed) -> [UInt8] = { _ in [] }) async throws -> CommitOutcome {
        var transition = decided
        // New personal data (a pickup address) is sealed before anything is derived from the case:
        // the stored case and the feed events that copy its addresses hold it sealed.
        transition.afterSale = try await personalData.sealed(transition.afterSale)
        let order = try await orders.order(before.orderID)
        let siblings = try await cases.cases(ofOrder: before.orderID)
        guard siblings.contains(where: { $0.number == before.number && $0.version == before.version }) else {
            throw RepositoryError.eligibilityChanged(orderID: before.orderID)
        }
        let after = transition.afterSale
        let newRefund = transition.refundRequest.map {
            AfterSaleDomain.RefundOrder.requested($0, order: order, policy: policy.refunds, at: after.updatedAt)
        }
        let refund = refundUpdate?.refund ?? newRefund
        transition.trace.refundID = refund?.id
        let casesAfter = siblings.map { $0.number == after.number ? after : $0 }
        if before.status.isTerminal, !after.status.isTerminal, let order {
            // Arbitration reopened a finished case: its claim comes back, and must still fit what the order has left.
            let broken = try OrderLedger(order: order, cases: casesAfter).violations
            guard broken.isEmpty else {
                throw DomainError.stateConflict(message: "case \(before.number) cannot be reopened: \(broken.joined(separator: "; "))")
            }
        }
        let openDisputes = try await openDisputeIDs(ofOrder: before.orderID)
        let events = try outbox(for: transition, before: before, refund: refund, order: order, casesBefore: siblings,
                                casesAfter: casesAfter, openDisputeIDs: openDisputes)
        let settings = try await timers.settings()
        let previousRule = TimerRule(waitingIn: before.status)
        let timer = CaseTimer.arm(after: transition, previousRule: previousRule,
                                  book: TimerBook(platform: timers.platform, overrides: settings.overrides))
        let timerAfter: CaseTimer?
        switch timer {
        case .set(let armed): timerAfter = armed
        case .clear: timerAfter = nil
        case .keep: timerAfter = previousRule == nil ? nil : try await timers.repository.caseTimer(of: before.number)
        }
        let committed = Committed(before: before, transition: transition, view: try await personalData.opened(after), refund: refund,
                                  timer: timerAfter, pauses: settings.pauses)
        var response: IdempotentResponse?
        if let call {
            // The stored response shows the buyer's data as the caller saw it: sealed under the buyer's key.
            response = IdempotentResponse(call: call, response: try await personalData.sealedResponse(respond(committed),
                                                                                                      buyerID: before.buyerID))
        }
        let effects = CaseChangeEffects(
            // The open disputes are part of the basis: the order's 维权中 in the events derives from them.
            basis: order.map { EligibilityBasis(order: $0, existingCases: siblings, openDisputeIDs: disputes == nil ? nil : openDisputes) },
            newRefund: newRefund,
            refundUpdate: refundUpdate, events: events,
            trackingKeys: Self.newTrackingKeys(before: before, after: after) + trackingKeys,
            response: response, timer: timer)
        switch try await cases.applyTransition(transition, expectedVersion: before.version, effects: effects) {
        case .applied: return .applied(committed)
        case .replayed(let stored): return .replayed(try await personalData.openedResponse(stored, buyerID: before.buyerID))
        }
    }

    /// What a commit did.
    enum CommitOutcome: Sendable {
        /// The change was stored.
        case applied(Committed)
        /// The call's key was spent by an identical call: its stored response.
        case replayed([UInt8])
    }

    /// The events of a new case (what CreateAfterSale stores with it), its refund order and its timer;
    /// the order's state in the events derives from `openDisputeIDs` (put them in the creation's basis).
    func creationEffects(of transition: Transition, order: AfterSaleDomain.OrderSnapshot?,
                         existingCases: [AfterSaleDomain.AfterSaleCase], openDisputeIDs: [String]) async throws
        -> (refund: AfterSaleDomain.RefundOrder?, events: [OutboxEvent], timer: CaseTimer?) {
        let after = transition.afterSale
        let refund = transition.refundRequest.map {
            AfterSaleDomain.RefundOrder.requested($0, order: order, policy: policy.refunds, at: after.createdAt)
        }
        let events = try outbox(for: transition, before: nil, refund: refund, order: order, casesBefore: existingCases,
                                casesAfter: existingCases + [after], openDisputeIDs: openDisputeIDs)
        guard case .set(let timer) = CaseTimer.arm(after: transition, previousRule: nil, book: try await timers.book()) else {
            return (refund, events, nil)
        }
        return (refund, events, timer)
    }

    /// The encoded events of `transition`, with the order's after-sale view over `casesBefore` and
    /// `casesAfter` (no order-state event when the order is unknown).
    private func outbox(for transition: Transition, before: AfterSaleDomain.AfterSaleCase?, refund: AfterSaleDomain.RefundOrder?,
                        order: AfterSaleDomain.OrderSnapshot?, casesBefore: [AfterSaleDomain.AfterSaleCase],
                        casesAfter: [AfterSaleDomain.AfterSaleCase], openDisputeIDs: [String]) throws -> [OutboxEvent] {
        let views = try order.map { order in
            (try OrderAfterSaleView(OrderLedger(order: order, cases: casesBefore), openDisputeIDs: openDisputeIDs),
             try OrderAfterSaleView(OrderLedger(order: order, cases: casesAfter), openDisputeIDs: openDisputeIDs))
        }
        return EventPlanner.events(for: transition, before: before, refund: refund, orderBefore: views?.0, orderAfter: views?.1)
            .map(ProtoMapping.outbox)
    }

    /// The tracking numbers `after` ships with that `before` did not.
    static func newTrackingKeys(before: AfterSaleDomain.AfterSaleCase, after: AfterSaleDomain.AfterSaleCase) -> [TrackingKey] {
        [(before.returnShipment, after.returnShipment), (before.outboundShipment, after.outboundShipment)].compactMap { old, new in
            guard let new, !new.trackingNumber.isEmpty, old?.trackingNumber != new.trackingNumber else { return nil }
            return TrackingKey(carrier: new.carrier, trackingNumber: new.trackingNumber)
        }
    }
}

