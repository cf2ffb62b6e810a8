import AfterSaleDomain
import AfterSaleProto
import ServiceKit

/// Keeps the statistics rollups up to date from the event feed, in every replica: each round reads
/// a batch of events after its cursor, turns them into rollup increments (``StatisticsRecorder``)
/// and stores the increments with the new cursor in one transaction, compare-and-set on the cursor
/// (``StatisticsRepository/projectStatistics(_:projector:expectedCursor:cursor:)``). Replicas race
/// for each batch; the loser's transaction writes nothing and it reads on from the winner's cursor,
/// so every event is counted exactly once.
///
/// What an event counts is in docs/STATISTICS.md. Case facts take their dimensions (shop, kind,
/// reason, category) and application time from the case (read once per case per batch); ticket
/// solves and reopens read the ticket's entries (replies before the solve, pending spans); the
/// rest comes from the event.
public final class StatisticsProjector: Service, Sendable {
    public let name = "statistics-projector"
    /// The projector's name in consumer_cursors.
    public static let consumer = "aftersale-statistics"
    /// The feed events that count toward some metric.
    public static let watched: Set<AfterSaleDomain.EventType> = [
        .caseCreated, .caseApproved, .caseRejected, .caseWithdrawn, .returnReceived, .refundSucceeded, .caseCompleted, .caseClosed,
        .ticketOpened, .ticketAssigned, .ticketUpdated, .ratingSubmitted, .ratingEdited, .disputeOpened, .disputeRuled,
    ]

    let store: any AfterSaleRepository
    let sla: SLAPolicy
    let batchSize: Int
    let idleWait: Duration
    let logger: Logger
    private let loop = RepeatingTask()

    /// A projector over `store`, with the SLA targets and business calendar of `sla`.
    /// - Parameters:
    ///   - batchSize: events per transaction.
    ///   - idleWait: how long a caught-up projector waits for new events before looking again.
    public init(store: any AfterSaleRepository, sla: SLAPolicy, batchSize: Int = 500, idleWait: Duration = .seconds(1),
                logger: Logger = .disabled) {
        self.store = store
        self.sla = sla
        self.batchSize = max(1, batchSize)
        self.idleWait = idleWait
        self.logger = logger
    }

    public func start() async throws {
        loop.start { [self] in
            do {
                let cursor = try await self.catchUp()
                await self.store.waitForEvents(after: cursor, timeout: self.idleWait)
                return .zero
            } catch {
                self.logger.log(.warning, "statistics projection failed; retrying", ["error": String(describing: error)])
                return .seconds(1)
            }
        }
    }

    public func shutdown() async {
        await loop.stop()
    }

    /// Projects batches until the feed's head (or `maxBatches`).
    /// - Returns: the projector's cursor after.
    @discardableResult
    public func catchUp(maxBatches: Int = 10_000) async throws -> Int64 {
        var cursor = try await store.consumerCursor(Self.consumer) ?? 0
        for _ in 0..<maxBatches {
            guard let next = try await projectBatch(after: cursor) else { break }
            cursor = next
        }
        return try await store.consumerCursor(Self.consumer) ?? cursor
    }

    /// Projects one batch after `cursor`; nil when there was nothing after it.
    /// - Returns: the cursor after the batch (the other replica's when it won the race).
    func projectBatch(after cursor: Int64) async throws -> Int64? {
        let batch = try await store.events(after: cursor, types: Self.watched, limit: batchSize, scanLimit: batchSize * 20)
        guard batch.scannedThrough > cursor else { return nil }
        var recorder = StatisticsRecorder(sla: sla)
        var lookups = Lookups(store: store)
        for stored in batch.events {
            guard let event = try? AfterSaleProto.Event(serializedBytes: stored.payload) else { continue }
            try await record(stored.type, event, into: &recorder, lookups: &lookups)
        }
        do {
            try await store.projectStatistics(recorder.increments, projector: Self.consumer, expectedCursor: cursor,
                                              cursor: batch.scannedThrough)
            return batch.scannedThrough
        } catch DomainError.versionConflict(_, let actual) {
            return actual   // another replica projected these events: read on from its cursor
        }
    }

    /// The facts of one event.
    func record(_ type: AfterSaleDomain.EventType, _ event: AfterSaleProto.Event, into recorder: inout StatisticsRecorder,
                lookups: inout Lookups) async throws {
        let at = Timestamp(millisecondsSinceEpoch: event.occurredAtUnixMs)
        switch type {
        case .caseCreated, .caseApproved, .caseRejected, .caseWithdrawn, .returnReceived, .refundSucceeded, .caseCompleted, .caseClosed:
            guard let afterSale = try await lookups.afterSale(event.caseNumber) else { return }
            recordCase(type, event, afterSale, at: at, into: &recorder)
        case .ticketOpened, .ticketAssigned, .ticketUpdated:
            guard let ticket = event.ticket else { return }
            try await recordTicket(type, event, ticket, at: at, into: &recorder, lookups: &lookups)
        case .ratingSubmitted, .ratingEdited:
            guard let rating = event.rating else { return }
            var d = StatisticsDimensions(shop: rating.shopId)
            if !rating.agentId.isEmpty { d.team = try await lookups.team(of: rating.agentId) }
            if rating.subject.hasPrefix("case:"), let afterSale = try await lookups.afterSale(String(rating.subject.dropFirst(5))) {
                d = afterSale.dimensions
            }
            let ratedAt = Timestamp(millisecondsSinceEpoch: rating.ratedAtUnixMs)
            if type == .ratingEdited { recorder.rated(stars: Int(event.previousStars), ratedAt: ratedAt, d, sign: -1) }
            recorder.rated(stars: Int(rating.stars), ratedAt: ratedAt, d)
        case .disputeOpened:
            guard let afterSale = try await lookups.afterSale(event.caseNumber) else { return }
            recorder.disputeOpened(at: at, afterSale.dimensions)
        case .disputeRuled:
            // The first ruling decides who won; a ruling on appeal (final, moves no money) is not counted again.
            guard let dispute = event.dispute, let ruling = dispute.ruling, dispute.appealRuling == nil,
                  let afterSale = try await lookups.afterSale(event.caseNumber) else { return }
            recorder.disputeRuled(forBuyer: ruling.outcome == .forBuyer, at: at, afterSale.dimensions)
        default:
            return
        }
    }

    /// True when the event's actor is the timer (``TimerRule/actor``).
    static func byTimer(_ event: AfterSaleProto.Event) -> Bool {
        event.actorRole == .system && event.actorId == TimerRule.actor.id
    }

    func recordCase(_ type: AfterSaleDomain.EventType, _ event: AfterSaleProto.Event, _ afterSale: CaseFacts, at: Timestamp,
                    into recorder: inout StatisticsRecorder) {
        let d = afterSale.dimensions
        let timer = Self.byTimer(event)
        let byMerchant = event.actorRole == .merchant
        let from = (try? ProtoMapping.status(event.fromStatus, field: "from_status")) ?? nil
        switch type {
        case .caseCreated:
            recorder.caseApplied(d, at: at)
        case .caseApproved:
            if timer { recorder.timerActed(.merchantReview, at: at, d) }
            if timer || byMerchant { recorder.merchantWaitEnded(overdue: timer, at: at, d) }
        case .caseRejected:
            recorder.caseFinished(.rejected, createdAt: afterSale.createdAt, at: at, d)
            if byMerchant { recorder.merchantWaitEnded(overdue: false, at: at, d) }
        case .caseWithdrawn:
            recorder.caseFinished(.withdrawn, createdAt: afterSale.createdAt, at: at, d)
        case .returnReceived:
            if timer { recorder.timerActed(.receiptConfirmation, at: at, d) }
            if timer || byMerchant { recorder.merchantWaitEnded(overdue: timer, at: at, d) }
        case .refundSucceeded:
            if let amount = event.amount, let money = try? ProtoMapping.money(amount, field: "amount") { recorder.refundPaid(money, at: at, d) }
        case .caseCompleted:
            recorder.caseFinished(.completed, createdAt: afterSale.createdAt, at: at, d)
            if timer, let from, TimerRule(waitingIn: from) == .replacementConfirmation { recorder.timerActed(.replacementConfirmation, at: at, d) }
        case .caseClosed:
            recorder.caseFinished(.closed, createdAt: afterSale.createdAt, at: at, d)
            if timer, let from, let rule = TimerRule(waitingIn: from) { recorder.timerActed(rule, at: at, d) }
        default:
            break
        }
    }

    func recordTicket(_ type: AfterSaleDomain.EventType, _ event: AfterSaleProto.Event, _ t: AfterSaleProto.Ticket, at: Timestamp,
                      into recorder: inout StatisticsRecorder, lookups: inout Lookups) async throws {
        // A ticket's team: the team whose queue it is in, else the team of the agent holding (or last holding) it.
        var d = StatisticsDimensions(shop: t.shopId, team: t.team)
        let holder = t.assignee.isEmpty ? t.previousAssignee : t.assignee
        if d.team.isEmpty, !holder.isEmpty { d.team = try await lookups.team(of: holder) }
        let step = event.note.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        switch type {
        case .ticketOpened:
            recorder.ticketReceived(at: Timestamp(millisecondsSinceEpoch: t.createdAtUnixMs), d)
        case .ticketAssigned:
            recorder.agentWork(StatisticsMetric.agentAssigned, agent: t.assignee, team: try await lookups.team(of: t.assignee), at: at)
        default:
            switch step {
            case TicketStep.replied.rawValue where event.actorRole == .agent || event.actorRole == .platform:
                if event.actorRole == .agent { recorder.agentWork(StatisticsMetric.agentReplies, agent: event.actorId, team: try await lookups.team(of: event.actorId), at: at) }
                if t.firstRepliedAtUnixMs == event.occurredAtUnixMs {
                    recorder.ticketFirstReply(createdAt: Timestamp(millisecondsSinceEpoch: t.createdAtUnixMs), at: at, d)
                }
            case TicketStep.replied.rawValue where t.status == .new && t.solvedAtUnixMs == 0:
                // A customer's reply that may have reopened a solved ticket: its earlier solve is taken back.
                guard let ticket = try await lookups.ticket(t.ticketId), let reopened = ticket.entryIndex(of: .reopened, at: at) else { return }
                if let solved = ticket.entries[..<reopened].lastIndex(where: { $0.step == .solved }),
                   let resolution = ticket.resolution(at: solved, policy: sla) {
                    recorder.ticketResolved(resolution, d, sign: -1)
                }
                if ticket.entries[..<reopened].allSatisfy({ $0.step != .reopened }) { recorder.ticketReopened(at: at, d) }
            case TicketStep.solved.rawValue:
                guard let ticket = try await lookups.ticket(t.ticketId), let solved = ticket.entryIndex(of: .solved, at: at),
                      let resolution = ticket.resolution(at: solved, policy: sla) else { return }
                recorder.ticketResolved(resolution, d)
                if resolution.solver.role == .agent {
                    recorder.agentWork(StatisticsMetric.agentSolved, agent: resolution.solver.id, team: try await lookups.team(of: resolution.solver.id),
                                       at: at)
                }
            case TicketStep.closed.rawValue where t.solvedAtUnixMs == event.occurredAtUnixMs:
                // Closed without a solve since it was opened or reopened: the close resolves it.
                guard let ticket = try await lookups.ticket(t.ticketId), let closed = ticket.entryIndex(of: .closed, at: at) else { return }
                let last = ticket.entries[..<closed].last { $0.step == .solved || $0.step == .reopened }
                guard last?.step != .solved, let resolution = ticket.resolution(at: closed, policy: sla) else { return }
                recorder.ticketResolved(resolution, d)
            case TicketStep.transferred.rawValue where t.status == .assigned:
                recorder.agentWork(StatisticsMetric.agentAssigned, agent: t.assignee, team: try await lookups.team(of: t.assignee), at: at)
            default:
                return
            }
        }
    }
}

/// What the projector needs of a case: its dimensions and when it was applied for.
struct CaseFacts: Sendable {
    let dimensions: StatisticsDimensions
    let createdAt: Timestamp
}

/// Cases, tickets and agents' teams read during one batch, each once.
struct Lookups {
    let store: any AfterSaleRepository
    private var cases: [String: CaseFacts?] = [:]
    private var tickets: [String: AfterSaleDomain.Ticket?] = [:]
    private var teams: [String: String] = [:]

    init(store: any AfterSaleRepository) {
        self.store = store
    }

    mutating func afterSale(_ number: String) async throws -> CaseFacts? {
        if let known = cases[number] { return known }
        guard let parsed = try? CaseNumber(parsing: number) else { return nil }
        let facts = try await store.afterSale(parsed).map { CaseFacts(dimensions: StatisticsDimensions(of: $0), createdAt: $0.createdAt) }
        cases[number] = facts
        return facts
    }

    mutating func ticket(_ id: String) async throws -> AfterSaleDomain.Ticket? {
        if let known = tickets[id] { return known }
        let ticket = try await store.ticket(id)
        tickets[id] = ticket
        return ticket
    }

    mutating func team(of agent: String) async throws -> String {
        if let known = teams[agent] { return known }
        let team = try await store.agent(agent)?.team ?? ""
        teams[agent] = team
        return team
    }
}
