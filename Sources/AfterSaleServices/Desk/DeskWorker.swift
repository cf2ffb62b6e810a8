import AfterSaleDomain
import AfterSaleProto
import ServiceKit
import Synchronization

/// The desk worker, in every replica: each sweep it
/// - dispatches the queue (also when nothing else asked: the periodic sweep);
/// - announces SLA warnings and breaches when due, and closes solved tickets past their reopen
///   window (each a compare-and-set on the ticket, so exactly once across replicas);
/// - takes agents without heartbeats offline, and returns the tickets of agents offline past the
///   grace period to the queue;
/// - opens tickets where a person must act, from the event feed (the intake, see ``DeskIntake``).
public final class DeskWorker: Service, Sendable {
    public let name = "desk-worker"
    private let desk: Desk
    private let intake: DeskIntake
    private let loop = RepeatingTask()

    /// A worker for `desk`.
    public init(desk: Desk) {
        self.desk = desk
        intake = DeskIntake(core: desk.core)
    }

    var core: DeskCore { desk.core }

    public func start() async throws {
        loop.start { [self] in
            await self.sweep()
            return .milliseconds(self.core.settings.sweepIntervalMs)
        }
    }

    public func shutdown() async {
        await loop.stop()
    }

    /// One sweep of everything the worker does.
    public func sweep() async {
        var steps: [(String, () async throws -> Void)] = [("presence", presence), ("wake-ups", wakeUps)]
        if core.settings.intake { steps.insert(("intake", intake.run), at: 0) }
        for (what, step) in steps {
            do {
                try await step()
            } catch {
                core.logger.log(.warning, "a desk sweep step failed", ["step": what, "error": String(describing: error)])
            }
        }
        await desk.loop.request()
    }

    /// Offline after missed heartbeats; tickets of agents offline past the grace period back to the queue.
    func presence() async throws {
        let now = core.clock.now()
        for agent in try await core.store.agents(team: nil) {
            if agent.presence != .offline,
               now.millisecondsSinceEpoch - agent.lastHeartbeatAt.millisecondsSinceEpoch > core.settings.heartbeatTimeoutMs {
                _ = try? await core.actOnAgent(agent.id) { stored, at in
                    guard stored.presence != .offline,
                          at.millisecondsSinceEpoch - stored.lastHeartbeatAt.millisecondsSinceEpoch > self.core.settings.heartbeatTimeoutMs else { return }
                    stored.presence = .offline
                    stored.presenceChangedAt = at
                }
                core.logger.log(.info, "agent offline after missed heartbeats", ["agent": agent.id])
            } else if agent.presence == .offline,
                      now.millisecondsSinceEpoch - agent.presenceChangedAt.millisecondsSinceEpoch > core.settings.offlineGraceMs {
                let held = try await core.store.listTickets(TicketQuery(scope: .all, statuses: [.assigned, .pending], assignee: agent.id,
                                                                        pageSize: 100))
                for ticket in held.tickets {
                    _ = try? await core.act(on: ticket.id, by: Ticket.desk) { current, at in
                        try current.release(by: Ticket.desk, at: at, note: "agent \(agent.id) offline")
                    }
                }
            }
        }
    }

    /// SLA announcements and closing solved tickets, each when due.
    func wakeUps() async throws {
        let now = core.clock.now()
        for ticket in try await core.store.ticketsToWake(at: now, limit: 500) {
            if ticket.status == .solved {
                _ = try? await core.act(on: ticket.id, by: Ticket.desk) { current, at in
                    guard current.status == .solved else { throw DomainError.stateConflict(message: "no longer solved") }
                    return try current.close(by: Ticket.desk, at: at)
                }
                continue
            }
            guard let next = ticket.nextSLAAlert(policy: core.settings.sla, now: now), next.at <= now else {
                // Nothing due after all: store its real wake-up (a new version, no step, no event).
                var touched = ticket
                touched.version += 1
                try? await core.store.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: touched, expectedVersion: ticket.version,
                                                                                 wakeAt: core.wakeAt(ticket, now: now))]))
                continue
            }
            let announcement = SLAAnnouncement(metric: next.metric, alert: next.alert,
                                               dueAt: next.alert == .warning ? next.at.adding(milliseconds: core.settings.sla.warningLeadMs) : next.at)
            let change = ticket.announce(announcement, at: now)
            do {
                try await core.commit(change, before: ticket, by: Ticket.desk, at: now)
            } catch DomainError.versionConflict {
                continue   // another replica announced it, or the ticket moved: the next sweep looks again
            }
        }
    }
}

/// Opens tickets where a person must act, from the event feed: a refund that needs attention, a
/// new case of a self-operated shop (its review is the platform's), a timer reminder of a rule the
/// platform escalates. Ticket ids come from the event's cursor, so an event seen twice (by two
/// replicas, or again after a restart) opens one ticket.
struct DeskIntake: Sendable {
    let core: DeskCore
    static let consumer = "aftersale-service-desk"

    func run() async throws {
        let store = core.store
        var cursor = try await store.consumerCursor(Self.consumer) ?? 0
        for _ in 0..<10 {
            let batch = try await store.events(after: cursor, types: Self.watched, limit: 200, scanLimit: 5_000)
            for stored in batch.events {
                switch stored.type {
                case .refundNeedsAttention, .caseCreated, .timerReminder: try await openTicket(for: stored)
                case .refundRequested: try await settleAfterForcedRefund(stored)
                default: try await refreshDeadlines(for: stored)
                }
            }
            guard batch.scannedThrough > cursor else { break }
            cursor = try await store.acknowledge(consumer: Self.consumer, cursor: batch.scannedThrough, at: core.clock.now())
            if batch.events.isEmpty && batch.scannedThrough == cursor { break }
        }
    }

    /// The events the intake reads: those that open tickets, the case changes that may move a
    /// linked ticket's deadline, and refund requests (a forced one decides a held case).
    static let watched: Set<AfterSaleDomain.EventType> = [.refundNeedsAttention, .caseCreated, .timerReminder, .caseApproved, .caseRejected,
                                          .caseWithdrawn, .returnShipped, .returnPickupRequested, .returnReceived,
                                          .replacementShipped, .caseCompleted, .caseClosed, .trackingUpdated, .refundRequested]

    /// A case moved: its open tickets take the deadline of the wait it is in now (none when no
    /// timer runs), so no ticket's resolution target ends after the marketplace would act.
    func refreshDeadlines(for stored: StoredEvent) async throws {
        guard let event = try? AfterSaleProto.Event(serializedBytes: stored.payload),
              let number = try? CaseNumber(parsing: event.caseNumber) else { return }
        let open = try await core.store.listTickets(TicketQuery(scope: .all, statuses: [.new, .assigned, .pending], caseNumber: number,
                                                                pageSize: 50)).tickets
        guard !open.isEmpty else { return }
        let deadline = try await core.store.caseTimer(of: number)?.dueAt(pauses: [])
        for ticket in open where ticket.caseDeadline != deadline {
            var moved = ticket
            moved.caseDeadline = deadline
            moved.version += 1
            do {
                try await core.store.commitDesk(DeskWrite(tickets: [TicketWrite(ticket: moved, expectedVersion: ticket.version,
                                                                                 wakeAt: core.wakeAt(moved, now: core.clock.now()))]))
            } catch DomainError.versionConflict {
                continue   // the ticket moved meanwhile; the next case event refreshes it again
            }
        }
        try await settleManualReview(of: number, open: open)
    }

    /// A refund was requested: when it was forced (it carries the ruling as its note), a held
    /// case may have been approved by it, and its manual-review ticket is settled.
    func settleAfterForcedRefund(_ stored: StoredEvent) async throws {
        guard let event = try? AfterSaleProto.Event(serializedBytes: stored.payload), !event.note.isEmpty,
              let number = try? CaseNumber(parsing: event.caseNumber) else { return }
        let open = try await core.store.listTickets(TicketQuery(scope: .all, statuses: [.new, .assigned, .pending], caseNumber: number,
                                                                pageSize: 50)).tickets
        try await settleManualReview(of: number, open: open)
    }

    /// A refund-only case abuse control held was decided (approved by ForceRefund, refused,
    /// withdrawn): its manual-review ticket (``ManualReview``), still open, is solved by the desk.
    func settleManualReview(of number: CaseNumber, open: [AfterSaleDomain.Ticket]) async throws {
        let id = ManualReview.ticketID(of: number)
        guard open.contains(where: { $0.id == id }), let afterSale = try await core.store.afterSale(number),
              !ManualReview.isHeld(afterSale) else { return }
        do {
            _ = try await core.act(on: id, by: AfterSaleDomain.Ticket.desk) { ticket, now in
                try ticket.solve(by: AfterSaleDomain.Ticket.desk, at: now, note: "the held case was decided: it is \(afterSale.status.rawValue) now")
            }
        } catch DomainError.stateConflict {
            return   // solved or closed meanwhile (by its agent, or another replica)
        }
    }

    func openTicket(for stored: StoredEvent) async throws {
        guard let event = try? AfterSaleProto.Event(serializedBytes: stored.payload),
              let number = try? CaseNumber(parsing: event.caseNumber),
              let afterSale = try await core.store.afterSale(number) else { return }
        let origin: TicketOrigin
        let subject: String
        var priority = AfterSaleDomain.TicketPriority.normal
        switch stored.type {
        case .refundNeedsAttention:
            origin = .refundNeedsAttention
            subject = "Refund of case \(number) needs an agent"
            priority = .high
        case .caseCreated:
            guard core.settings.selfOperatedShops.contains(afterSale.shop.id) else { return }
            origin = .platformReview
            subject = "Review case \(number) for self-operated shop \(afterSale.shop.id)"
        case .timerReminder:
            guard let rule = core.settings.escalatedTimerRules.first(where: { event.note.hasPrefix($0.rawValue + ":") }) else { return }
            origin = .timerEscalation
            subject = "Case \(number): \(rule.rawValue) runs out soon"
            priority = .high
        default:
            return
        }
        let at = Timestamp(millisecondsSinceEpoch: max(event.occurredAtUnixMs, 0))
        let timer = try await core.store.caseTimer(of: number)
        let ticket = try Ticket.open(Ticket.Opening(
            id: "TKEV\(stored.cursor)", origin: origin, subject: subject, text: event.note, caseNumber: number, orderID: afterSale.orderID,
            requester: Ticket.desk, buyerID: afterSale.buyerID, shopID: afterSale.shop.id, priority: priority,
            requirement: SkillRequirement.derived(from: afterSale), caseDeadline: timer?.dueAt(pauses: []), at: max(at, core.clock.now())))
        do {
            try await core.open(ticket)
        } catch DomainError.duplicate {
            return
        }
    }
}
