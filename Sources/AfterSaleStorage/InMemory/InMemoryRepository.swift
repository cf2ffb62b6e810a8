import AfterSaleDomain
import Synchronization

/// Every storage port in memory, behind one lock: the reference semantics the other backends are
/// held to (the conformance suite runs against all of them), and a store for service tests that
/// need no files or sockets.
///
/// Each call is one atomic step, as one transaction is on a database: it checks everything first
/// and changes nothing when it throws. Nothing survives the value.
public final class InMemoryRepository: AfterSaleRepository {
    private struct IdempotencyKey: Hashable {
        let role: ActorRole
        let id: String
        let key: String

        init(_ record: IdempotencyRecord) {
            role = record.principal.role
            id = record.principal.id
            key = record.key
        }
    }

    private struct StoredCase {
        var afterSale: AfterSaleCase
        var traces: [TraceRecord]
    }

    private struct State {
        var orders: [String: OrderSnapshot] = [:]
        var cases: [CaseNumber: StoredCase] = [:]
        var casesByOrder: [String: [CaseNumber]] = [:]
        var idempotency: [IdempotencyKey: StoredIdempotencyKey] = [:]
        var messages: [CaseNumber: [CaseMessage]] = [:]
        var messagesByID: [Int64: CaseMessage] = [:]
        var lastMessageID: Int64 = 0
        var reasons: [String: StoredReason] = [:]
        var refunds: [String: RefundOrder] = [:]
        var refundByCase: [CaseNumber: String] = [:]
        var refusedReports: [RefusedRefundReport] = []
        var events: [StoredEvent] = []
        var consumers: [String: Int64] = [:]
        var tracking: [TrackingKey: Set<CaseNumber>] = [:]
        var timers: [CaseNumber: CaseTimer] = [:]
        var overrides: [String: [TimerOverride]] = [:]
        var pauses: [String: [TimerPause]] = [:]
        var ratings: [RatingSubject: Rating] = [:]
        var statistics: [StatisticsBlockKey: StatisticsSummary] = [:]
        var disputes: [String: Dispute] = [:]
        var personalDataKeys: [String: [PersonalDataKeyRecord]] = [:]
        var articles: [String: KnowledgeArticle] = [:]
        var articleRevisions: [String: [ArticleRevision]] = [:]
        var articleVotes: [String: [String: HelpfulVote]] = [:]
        var knowledgeIndex: [String: ArticleIndex] = [:]
        var agents: [String: Agent] = [:]
        var tickets: [String: (ticket: Ticket, wakeAt: Timestamp?)] = [:]
        var audit: [AuditEntry] = []
        var auditCheckpoints: [Int64: AuditCheckpoint] = [:]
    }

    private let state: Mutex<State>
    private let sequences = CaseNumberSequences()
    private let feedSignal = EventFeedSignal()

    /// An empty store with the platform's standard reason catalog (as a new database starts), stored at `instant`.
    public init(reasonsStoredAt instant: Timestamp = Timestamp(millisecondsSinceEpoch: 0)) {
        var initial = State()
        for reason in ReasonCatalog.standard.reasons(for: nil, includeInactive: true) {
            initial.reasons[reason.code] = StoredReason(reason: reason, version: 1, updatedAt: instant)
        }
        state = Mutex(initial)
    }

    /// Refused refund reports recorded so far, oldest first (the back office's log).
    public var refusedReports: [RefusedRefundReport] { state.withLock { $0.refusedReports } }

    // MARK: - Orders

    @discardableResult
    public func saveOrder(_ order: OrderSnapshot) async throws -> OrderSaveOutcome {
        state.withLock { state in
            if let stored = state.orders[order.id] {
                guard stored.version < order.version else { return .ignored(storedVersion: stored.version) }
                state.orders[order.id] = order
                return .updated(previousVersion: stored.version)
            }
            state.orders[order.id] = order
            return .inserted
        }
    }

    public func order(_ id: String) async throws -> OrderSnapshot? {
        state.withLock { $0.orders[id] }
    }

    // MARK: - Cases

    public func nextCaseNumber(at instant: Timestamp) async throws -> CaseNumber {
        let first = try CaseNumber(at: instant, sequence: 0)
        let day = Self.day(of: first)
        if let sequence = try sequences.reserve(day: day, seed: nil) { return try CaseNumber(at: instant, sequence: sequence) }
        let largest = state.withLock { state in
            state.cases.keys.filter { Self.day(of: $0) == day }.map(Self.sequence(of:)).max() ?? 0
        }
        guard let sequence = try sequences.reserve(day: day, seed: largest) else {
            throw RepositoryError.sequenceExhausted(day: String(day))
        }
        return try CaseNumber(at: instant, sequence: sequence)
    }

    public func creationContext(orderID: String, idempotency: IdempotencyRecord) async throws -> CreationContext {
        try state.withLock { state throws(RepositoryError) in
            if let replay = try Self.replay(of: idempotency, in: state) {
                return CreationContext(replay: replay, order: nil, existingCases: [])
            }
            // As the SQLite backend reads them for eligibility: the cases without their timelines.
            let existing = Self.cases(ofOrder: orderID, in: state).map { Self.withoutTimeline($0) }
            return CreationContext(replay: nil, order: state.orders[orderID], existingCases: existing)
        }
    }

    public func createCase(_ creation: CaseCreation) async throws -> CreatedCase {
        try StorageContract.check(creation)
        let transition = creation.transition
        let afterSale = transition.afterSale
        let (created, last) = try state.withLock { state throws -> (CreatedCase, Int64?) in
            if let replay = try Self.replay(of: creation.idempotency, in: state) { return (replay, nil) }
            if let basis = creation.basis { try Self.check(basis, in: state) }
            guard state.cases[afterSale.number] == nil else { throw RepositoryError.caseNumberTaken(afterSale.number) }
            if let refund = creation.refund { try Self.checkNew(refund, in: state) }
            let link = try Self.link(transition.trace, in: state)
            state.cases[afterSale.number] = StoredCase(afterSale: afterSale, traces: [transition.trace])
            state.audit.append(link)
            state.casesByOrder[afterSale.orderID, default: []].append(afterSale.number)
            state.idempotency[IdempotencyKey(creation.idempotency)] = StoredIdempotencyKey(
                operation: IdempotentOperation.createCase.rawValue, fingerprint: creation.idempotency.fingerprint,
                result: afterSale.number.rawValue)
            if let refund = creation.refund { Self.insert(refund, in: &state) }
            if let timer = creation.timer { state.timers[afterSale.number] = timer }
            let last = Self.append(creation.events, in: &state)
            return (CreatedCase(number: afterSale.number, replayed: false), last)
        }
        if let last { feedSignal.advance(to: last) }
        return created
    }

    public func afterSale(_ number: CaseNumber) async throws -> AfterSaleCase? {
        state.withLock { $0.cases[number]?.afterSale }
    }

    @discardableResult
    public func applyTransition(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) async throws -> ChangeOutcome {
        try StorageContract.check(transition, expectedVersion: expectedVersion, effects: effects)
        let afterSale = transition.afterSale
        let (outcome, last) = try state.withLock { state throws -> (ChangeOutcome, Int64?) in
            if let response = effects.response, let stored = try Self.storedResponse(for: response.call, in: state) {
                return (.replayed(stored), nil)
            }
            if let basis = effects.basis { try Self.check(basis, in: state) }
            guard let stored = state.cases[afterSale.number] else { throw RepositoryError.caseNotFound(afterSale.number) }
            guard stored.afterSale.version == expectedVersion else {
                throw DomainError.versionConflict(expected: expectedVersion, actual: stored.afterSale.version)
            }
            if let refund = effects.newRefund { try Self.checkNew(refund, in: state) }
            if let update = effects.refundUpdate { try Self.checkUpdate(update, in: state) }
            let link = try Self.link(transition.trace, in: state)
            state.cases[afterSale.number] = StoredCase(afterSale: afterSale, traces: stored.traces + [transition.trace])
            state.audit.append(link)
            if let refund = effects.newRefund { Self.insert(refund, in: &state) }
            if let update = effects.refundUpdate { state.refunds[update.refund.id] = update.refund }
            for key in effects.trackingKeys where !key.trackingNumber.isEmpty {
                state.tracking[key, default: []].insert(afterSale.number)
            }
            if let response = effects.response { Self.store(response, in: &state) }
            switch effects.timer {
            case .keep: break
            case .set(let timer): state.timers[afterSale.number] = timer
            case .clear: state.timers[afterSale.number] = nil
            }
            return (.applied, Self.append(effects.events, in: &state))
        }
        if let last { feedSignal.advance(to: last) }
        return outcome
    }

    public func storedResponse(for call: IdempotentCall) async throws -> [UInt8]? {
        try state.withLock { state throws(RepositoryError) in try Self.storedResponse(for: call, in: state) }
    }

    public func caseNumber(shippingWith key: TrackingKey) async throws -> CaseNumber? {
        state.withLock { $0.tracking[key]?.max { $0.rawValue < $1.rawValue } }
    }

    public func recordTrace(_ record: TraceRecord) async throws {
        try state.withLock { state throws(RepositoryError) in
            guard state.cases[record.caseNumber] != nil else { throw .caseNotFound(record.caseNumber) }
            let link = try Self.link(record, in: state)
            state.cases[record.caseNumber]?.traces.append(record)
            state.audit.append(link)
        }
    }

    public func listCases(_ query: CaseQuery) async throws -> CasePage {
        guard (1...1000).contains(query.pageSize) else {
            throw RepositoryError.invalidRequest("page size must be between 1 and 1000, got \(query.pageSize)")
        }
        let rows = state.withLock { state in
            state.cases.values.map(\.afterSale).filter { Self.matches($0, query) }.map(CaseSummary.init)
                .sorted { ($0.appliedAt, $0.number.rawValue) > ($1.appliedAt, $1.number.rawValue) }
                .prefix(query.pageSize + 1)
        }
        let (page, last) = KeysetPage.split(Array(rows), pageSize: query.pageSize)
        return CasePage(rows: page, next: last?.cursor)
    }

    public func cases(ofOrder orderID: String) async throws -> [AfterSaleCase] {
        state.withLock { Self.cases(ofOrder: orderID, in: $0) }
    }

    public func traceRecords(of number: CaseNumber) async throws -> [TraceRecord] {
        state.withLock { $0.cases[number]?.traces ?? [] }
    }

    // MARK: - Messages

    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?) async throws -> AppendedMessage {
        try await appendMessage(message, idempotency: idempotency, events: { _ in [] })
    }

    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?,
                              events: @escaping @Sendable (CaseMessage) -> [OutboxEvent]) async throws -> AppendedMessage {
        let (appended, last) = try state.withLock { state throws -> (AppendedMessage, Int64?) in
            if let idempotency, let result = try IdempotencyReplay.result(
                of: idempotency, for: .addMessage, stored: state.idempotency[IdempotencyKey(idempotency)]) {
                guard let id = Int64(result), let stored = state.messagesByID[id] else {
                    throw RepositoryError.idempotencyKeyReused(key: idempotency.key)
                }
                return (AppendedMessage(message: stored, replayed: true), nil)
            }
            guard state.cases[message.caseNumber] != nil else { throw RepositoryError.caseNotFound(message.caseNumber) }
            state.lastMessageID += 1
            let stored = CaseMessage(id: state.lastMessageID, caseNumber: message.caseNumber, sender: message.sender,
                                     text: message.text, attachments: message.attachments, sentAt: message.sentAt)
            state.messages[message.caseNumber, default: []].append(stored)
            state.messagesByID[stored.id] = stored
            if let idempotency {
                state.idempotency[IdempotencyKey(idempotency)] = StoredIdempotencyKey(
                    operation: IdempotentOperation.addMessage.rawValue, fingerprint: idempotency.fingerprint,
                    result: String(stored.id))
            }
            return (AppendedMessage(message: stored, replayed: false), Self.append(events(stored), in: &state))
        }
        if let last { feedSignal.advance(to: last) }
        return appended
    }

    public func messages(of number: CaseNumber, after: Int64?, limit: Int) async throws -> MessagePage {
        try StorageContract.checkMessagePage(limit: limit)
        let rows = state.withLock { state in
            Array((state.messages[number] ?? []).filter { $0.id > (after ?? 0) }.prefix(limit + 1))
        }
        let (page, last) = KeysetPage.split(rows, pageSize: limit)
        return MessagePage(messages: page, next: last?.id)
    }

    // MARK: - Reasons

    public func storedReasons() async throws -> [StoredReason] {
        state.withLock { state in
            state.reasons.values.sorted { ($0.reason.sortOrder, $0.reason.code) < ($1.reason.sortOrder, $1.reason.code) }
        }
    }

    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp) async throws -> StoredReason {
        try state.withLock { state throws(DomainError) in try Self.upsert(reason, expectedVersion: expectedVersion, at: instant, in: &state) }
    }

    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp, call: IdempotentCall,
                             respond: @escaping @Sendable (StoredReason) -> [UInt8]) async throws -> [UInt8] {
        try state.withLock { state throws -> [UInt8] in
            if let stored = try Self.storedResponse(for: call, in: state) { return stored }
            let response = respond(try Self.upsert(reason, expectedVersion: expectedVersion, at: instant, in: &state))
            Self.store(IdempotentResponse(call: call, response: response), in: &state)
            return response
        }
    }

    private static func upsert(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp,
                               in state: inout State) throws(DomainError) -> StoredReason {
        let current = state.reasons[reason.code]?.version ?? 0
        if let expectedVersion, expectedVersion != current {
            throw .versionConflict(expected: expectedVersion, actual: current)
        }
        let stored = StoredReason(reason: reason, version: current + 1, updatedAt: instant)
        state.reasons[reason.code] = stored
        return stored
    }

    // MARK: - Refunds

    public func refund(_ id: String) async throws -> RefundOrder? {
        state.withLock { $0.refunds[id] }
    }

    public func refund(of number: CaseNumber) async throws -> RefundOrder? {
        state.withLock { state in state.refundByCase[number].flatMap { state.refunds[$0] } }
    }

    public func claimRefunds(_ claim: RefundClaim) async throws -> [RefundOrder] {
        try state.withLock { state in try Self.claim(claim, in: &state) }
    }

    public func claimRefunds(_ claim: RefundClaim, call: IdempotentCall,
                             respond: @escaping @Sendable ([RefundOrder]) -> [UInt8]) async throws -> [UInt8] {
        try state.withLock { state throws -> [UInt8] in
            if let stored = try Self.storedResponse(for: call, in: state) { return stored }
            let response = respond(try Self.claim(claim, in: &state))
            Self.store(IdempotentResponse(call: call, response: response), in: &state)
            return response
        }
    }

    private static func claim(_ claim: RefundClaim, in state: inout State) throws -> [RefundOrder] {
        // Work on a copy: a claim that throws halfway leaves nothing behind, as a rolled-back transaction.
        var working = state
        let claimed = try RefundClaimWindow.claim(claim, candidates: { limit in
            Self.claimable(at: claim.at, limit: limit, in: working)
        }, store: { next, prior in
            try Self.checkUpdate(RefundUpdate(refund: next, expectedVersion: prior.version), in: working)
            working.refunds[next.id] = next
        })
        state = working
        return claimed
    }

    @discardableResult
    public func updateRefund(_ update: RefundUpdate, trace: TraceRecord?, events: [OutboxEvent],
                             response: IdempotentResponse?) async throws -> ChangeOutcome {
        let (outcome, last) = try state.withLock { state throws -> (ChangeOutcome, Int64?) in
            if let response, let stored = try Self.storedResponse(for: response.call, in: state) { return (.replayed(stored), nil) }
            try Self.checkUpdate(update, in: state)
            let link = try trace.flatMap { state.cases[$0.caseNumber] == nil ? nil : try Self.link($0, in: state) }
            state.refunds[update.refund.id] = update.refund
            if let trace, let link {
                state.cases[trace.caseNumber]?.traces.append(trace)
                state.audit.append(link)
            }
            if let response { Self.store(response, in: &state) }
            return (.applied, Self.append(events, in: &state))
        }
        if let last { feedSignal.advance(to: last) }
        return outcome
    }

    public func recordRefusedReport(_ refused: RefusedRefundReport) async throws {
        try state.withLock { state throws(RepositoryError) in
            let link = state.cases[refused.trace.caseNumber] == nil ? nil : try Self.link(refused.trace, in: state)
            state.refusedReports.append(refused)
            if let link {
                state.cases[refused.trace.caseNumber]?.traces.append(refused.trace)
                state.audit.append(link)
            }
        }
    }

    public func listRefunds(_ query: RefundQuery) async throws -> RefundPage {
        state.withLock { state in
            let matching = state.refunds.values.filter { Self.matches($0, query) }
            let rows = matching.sorted { (Self.time($0, query.basis), $0.id) > (Self.time($1, query.basis), $1.id) }
                .filter { refund in query.after.map { (Self.time(refund, query.basis), refund.id) < ($0.at, $0.refundID) } ?? true }
                .prefix(query.pageSize + 1)
            let (page, last) = KeysetPage.split(Array(rows), pageSize: query.pageSize)
            var totals: [String: RefundTotal] = [:]
            for refund in matching {
                let key = "\(refund.status.rawValue)|\(refund.amount.currency.code)"
                var total = totals[key] ?? RefundTotal(status: refund.status, count: 0, amount: .zero(refund.amount.currency),
                                                       refunded: .zero(refund.amount.currency))
                total.count += 1
                total.amount = Money(minorUnits: total.amount.minorUnits &+ refund.amount.minorUnits, currency: refund.amount.currency)
                total.refunded = Money(minorUnits: total.refunded.minorUnits &+ refund.refundedAmount.minorUnits,
                                       currency: refund.amount.currency)
                totals[key] = total
            }
            let next = last.map { RefundCursor(at: Self.time($0, query.basis), refundID: $0.id) }
            return RefundPage(rows: page, next: next, totals: totals.keys.sorted().compactMap { totals[$0] })
        }
    }

    // MARK: - Event feed

    public func events(after cursor: Int64, types: Set<EventType>?, limit: Int, scanLimit: Int) async throws -> EventBatch {
        state.withLock { state in
            let head = Int64(state.events.count)
            let (reach, overflow) = cursor.addingReportingOverflow(Int64(max(1, scanLimit)))
            let ceiling = min(head, overflow ? Int64.max : reach)
            guard ceiling > cursor else { return EventBatch(events: [], scannedThrough: max(cursor, head)) }
            var events: [StoredEvent] = []
            var scanned = cursor
            for event in state.events[Int(max(0, cursor))..<Int(ceiling)] {
                scanned = event.cursor
                if let types, !types.contains(event.type) { continue }
                events.append(event)
                if events.count >= max(1, limit) { break }
            }
            if events.count < max(1, limit) { scanned = ceiling }
            return EventBatch(events: events, scannedThrough: scanned)
        }
    }

    public func eventFeedHead() async throws -> Int64 {
        state.withLock { Int64($0.events.count) }
    }

    public func consumerCursor(_ consumer: String) async throws -> Int64? {
        state.withLock { $0.consumers[consumer] }
    }

    public func acknowledge(consumer: String, cursor: Int64, at instant: Timestamp) async throws -> Int64 {
        try state.withLock { state throws(DomainError) in
            let head = Int64(state.events.count)
            guard cursor <= head else {
                throw .invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)")
            }
            let stored = max(state.consumers[consumer] ?? cursor, cursor)
            state.consumers[consumer] = stored
            return stored
        }
    }

    public func waitForEvents(after cursor: Int64, timeout: Duration) async {
        await feedSignal.wait(after: cursor, timeout: timeout)
    }

    // MARK: - Timers

    public func caseTimer(of number: CaseNumber) async throws -> CaseTimer? {
        state.withLock { $0.timers[number] }
    }

    public func caseTimers(of numbers: [CaseNumber]) async throws -> [CaseNumber: CaseTimer] {
        state.withLock { state in
            Dictionary(numbers.compactMap { number in state.timers[number].map { (number, $0) } }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func dueTimers(at now: Timestamp, limit: Int) async throws -> [CaseTimer] {
        try StorageContract.checkDueTimers(limit: limit)
        return state.withLock { state in
            Array(state.timers.values.filter { $0.nextAt <= now }
                .sorted { ($0.nextAt, CaseKey.id(of: $0.caseNumber)) < ($1.nextAt, CaseKey.id(of: $1.caseNumber)) }
                .prefix(limit))
        }
    }

    public func updateTimer(_ timer: CaseTimer, expectedNextAt: Timestamp, events: [OutboxEvent]) async throws -> Bool {
        let (updated, last) = state.withLock { state -> (Bool, Int64?) in
            guard let stored = state.timers[timer.caseNumber], stored.rule == timer.rule, stored.startedAt == timer.startedAt,
                  stored.nextAt == expectedNextAt else { return (false, nil) }
            state.timers[timer.caseNumber] = timer
            return (true, Self.append(events, in: &state))
        }
        if let last { feedSignal.advance(to: last) }
        return updated
    }

    public func rewindPausedTimers() async throws -> Int {
        state.withLock { state in
            var moved = 0
            for (number, timer) in state.timers where timer.nextAt > timer.unpausedNextAt {
                state.timers[number]?.nextAt = timer.unpausedNextAt
                moved += 1
            }
            return moved
        }
    }

    public func overdueTimerCount(at now: Timestamp) async throws -> Int {
        state.withLock { state in state.timers.values.count { $0.nextAt <= now } }
    }

    public func timerSettings() async throws -> TimerSettings {
        state.withLock { state in
            TimerSettings(overrides: state.overrides.values.compactMap(\.last), pauses: state.pauses.values.compactMap(\.last))
        }
    }

    public func saveTimerOverride(_ override: TimerOverride) async throws {
        try StorageContract.checkVersion(override.version)
        try state.withLock { state throws in
            let key = override.scope.description
            let latest = state.overrides[key]?.last?.version ?? 0
            guard override.version == latest + 1 else { throw DomainError.versionConflict(expected: override.version - 1, actual: latest) }
            state.overrides[key, default: []].append(override)
        }
    }

    public func saveTimerPause(_ pause: TimerPause) async throws {
        try StorageContract.checkVersion(pause.version)
        try state.withLock { state throws in
            let latest = state.pauses[pause.id]?.last?.version ?? 0
            guard pause.version == latest + 1 else { throw DomainError.versionConflict(expected: pause.version - 1, actual: latest) }
            state.pauses[pause.id, default: []].append(pause)
        }
    }

    // MARK: - Service desk

    public func agent(_ id: String) async throws -> Agent? {
        state.withLock { $0.agents[id] }
    }

    public func agents(team: String?) async throws -> [Agent] {
        state.withLock { state in state.agents.values.filter { team == nil || $0.team == team }.sorted { $0.id < $1.id } }
    }

    public func ticket(_ id: String) async throws -> Ticket? {
        state.withLock { $0.tickets[id]?.ticket }
    }

    public func listTickets(_ query: TicketQuery) async throws -> TicketPage {
        try StorageContract.checkTicketPage(query)
        let rows = state.withLock { state in
            state.tickets.values.map(\.ticket).filter(query.matches)
                .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(query.pageSize + 1)
        }
        let (page, last) = KeysetPage.split(Array(rows), pageSize: query.pageSize)
        return TicketPage(tickets: page, next: last.map { TicketCursor(createdAt: $0.createdAt, ticketID: $0.id) })
    }

    public func queuedTickets(limit: Int) async throws -> [Ticket] {
        try StorageContract.checkDeskBatch(limit: limit)
        return state.withLock { state in
            Array(state.tickets.values.map(\.ticket).filter { $0.status == .new }
                .sorted { ($0.queuedAt, $0.id) < ($1.queuedAt, $1.id) }.prefix(limit))
        }
    }

    public func ticketsToWake(at now: Timestamp, limit: Int) async throws -> [Ticket] {
        try StorageContract.checkDeskBatch(limit: limit)
        return state.withLock { state in
            Array(state.tickets.values.compactMap { entry in entry.wakeAt.flatMap { $0 <= now ? (entry.ticket, $0) : nil } }
                .sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }.prefix(limit).map(\.0))
        }
    }

    public func commitDesk(_ write: DeskWrite) async throws {
        try StorageContract.check(write)
        let last = try state.withLock { state throws -> Int64? in
            for w in write.tickets {
                let stored = state.tickets[w.ticket.id]?.ticket.version ?? 0
                if w.expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "ticket \(w.ticket.id) exists") }
                guard stored == w.expectedVersion else { throw DomainError.versionConflict(expected: w.expectedVersion, actual: stored) }
            }
            for w in write.agents {
                let stored = state.agents[w.agent.id]?.version ?? 0
                if w.expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "agent \(w.agent.id) exists") }
                guard stored == w.expectedVersion else { throw DomainError.versionConflict(expected: w.expectedVersion, actual: stored) }
            }
            for w in write.tickets { state.tickets[w.ticket.id] = (w.ticket, w.wakeAt) }
            for w in write.agents { state.agents[w.agent.id] = w.agent }
            return Self.append(write.events, in: &state)
        }
        if let last { feedSignal.advance(to: last) }
    }

    // MARK: - Feedback

    public func businessGauges(overdueBefore: Timestamp) async throws -> BusinessGauges {
        state.withLock { state in
            var gauges = BusinessGauges()
            for stored in state.cases.values where !stored.afterSale.status.isTerminal {
                gauges.openCases[stored.afterSale.status, default: 0] += 1
            }
            for (ticket, _) in state.tickets.values where ticket.status.isOpen { gauges.openTickets[ticket.status, default: 0] += 1 }
            gauges.overdueTimers = state.timers.values.filter { $0.nextAt < overdueBefore }.count
            return gauges
        }
    }

    public func personalDataKeys(of buyerID: String) async throws -> [PersonalDataKeyRecord] {
        state.withLock { $0.personalDataKeys[buyerID] ?? [] }
    }

    public func insertPersonalDataKey(_ record: PersonalDataKeyRecord) async throws -> PersonalDataKeyRecord {
        try StorageContract.check(record)
        return state.withLock { state in
            if let stored = state.personalDataKeys[record.buyerID]?.first(where: { $0.generation == record.generation }) { return stored }
            state.personalDataKeys[record.buyerID, default: []].append(record)
            state.personalDataKeys[record.buyerID]?.sort { $0.generation < $1.generation }
            return record
        }
    }

    public func erasePersonalDataKeys(of buyerID: String, at: Timestamp) async throws -> Int {
        state.withLock { state in
            var erased = 0
            for index in (state.personalDataKeys[buyerID] ?? []).indices where state.personalDataKeys[buyerID]?[index].wrappedKey != nil {
                state.personalDataKeys[buyerID]?[index].wrappedKey = nil
                state.personalDataKeys[buyerID]?[index].erasedAt = at
                erased += 1
            }
            return erased
        }
    }

    // MARK: - Disputes

    public func dispute(_ id: String) async throws -> Dispute? {
        state.withLock { $0.disputes[id] }
    }

    public func disputes(ofOrder orderID: String) async throws -> [Dispute] {
        state.withLock { state in
            state.disputes.values.filter { $0.orderID == orderID }.sorted { ($0.openedAt, $0.id) < ($1.openedAt, $1.id) }
        }
    }

    public func listDisputes(_ query: DisputeQuery) async throws -> DisputePage {
        try StorageContract.check(query)
        let rows = state.withLock { state in
            state.disputes.values.filter(query.matches).sorted { ($0.openedAt, $0.id) > ($1.openedAt, $1.id) }.prefix(query.pageSize + 1)
        }
        let (page, last) = KeysetPage.split(Array(rows), pageSize: query.pageSize)
        return DisputePage(disputes: page, next: last.map { DisputeCursor(openedAt: $0.openedAt, id: $0.id) })
    }

    public func disputesDue(at now: Timestamp, limit: Int) async throws -> [Dispute] {
        state.withLock { state in
            Array(state.disputes.values.compactMap { d in d.nextAt.map { (d, $0) } }.filter { $0.1 <= now }
                .sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }.prefix(max(0, limit)).map(\.0))
        }
    }

    public func saveDispute(_ dispute: Dispute, expectedVersion: Int64, events: [OutboxEvent], basis: EligibilityBasis?) async throws {
        try StorageContract.check(dispute, expectedVersion: expectedVersion)
        let last = try state.withLock { state throws -> Int64? in
            let stored = state.disputes[dispute.id]?.version ?? 0
            if expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "dispute \(dispute.id) exists") }
            guard stored == expectedVersion else { throw DomainError.versionConflict(expected: expectedVersion, actual: stored) }
            if let basis { try Self.check(basis, in: state, saving: dispute.id) }
            state.disputes[dispute.id] = dispute
            return Self.append(events, in: &state)
        }
        if let last { feedSignal.advance(to: last) }
    }

    public func rating(of subject: RatingSubject) async throws -> Rating? {
        state.withLock { $0.ratings[subject] }
    }

    public func saveRating(_ rating: Rating, expectedVersion: Int64, events: [OutboxEvent]) async throws {
        try StorageContract.check(rating, expectedVersion: expectedVersion)
        let last = try state.withLock { state throws -> Int64? in
            let stored = state.ratings[rating.subject]?.version ?? 0
            if expectedVersion == 0, stored != 0 { throw DomainError.duplicate(message: "\(rating.subject) is rated already") }
            guard stored == expectedVersion else { throw DomainError.versionConflict(expected: expectedVersion, actual: stored) }
            state.ratings[rating.subject] = rating
            return Self.append(events, in: &state)
        }
        if let last { feedSignal.advance(to: last) }
    }

    // MARK: - Statistics

    public func projectStatistics(_ increments: StatisticsIncrements, projector: String, expectedCursor: Int64, cursor: Int64) async throws {
        try StorageContract.checkProjection(expectedCursor: expectedCursor, cursor: cursor)
        try state.withLock { state throws in
            let head = Int64(state.events.count)
            guard cursor <= head else { throw DomainError.invalidArgument(field: "cursor", message: "\(cursor) is beyond the feed's head \(head)") }
            let stored = state.consumers[projector] ?? 0
            guard stored == expectedCursor else { throw DomainError.versionConflict(expected: expectedCursor, actual: stored) }
            for (key, delta) in increments.blockDeltas() {
                var summary = state.statistics[key] ?? StatisticsSummary()
                summary.merge(delta)
                state.statistics[key] = summary.isEmpty ? nil : summary
            }
            state.consumers[projector] = cursor
        }
    }

    public func statisticsBlocks(_ query: StatisticsBlockQuery) async throws -> [StatisticsBlock] {
        try StorageContract.check(query)
        return state.withLock { state in
            state.statistics.compactMap { key, summary in
                key.scope == query.scope && key.grouping == query.grouping
                    && query.runs.contains { $0.span == key.span && ($0.firstStart...$0.lastStart).contains(key.firstDay) }
                    ? StatisticsBlock(group: key.group, span: key.span, firstDay: key.firstDay, body: summary.encoded()) : nil
            }
        }
    }

    public func ratings(_ query: RatingQuery) async throws -> RatingPage {
        try StorageContract.check(query)
        let rows = state.withLock { state in
            state.ratings.values.filter(query.matches)
                .sorted { ($0.ratedAt, $0.subject.description) > ($1.ratedAt, $1.subject.description) }.prefix(query.pageSize + 1)
        }
        let (page, last) = KeysetPage.split(Array(rows), pageSize: query.pageSize)
        return RatingPage(ratings: page, next: last.map { RatingCursor(ratedAt: $0.ratedAt, subject: $0.subject.description) })
    }

    // MARK: - Knowledge

    public func article(_ id: String) async throws -> KnowledgeArticle? {
        state.withLock { $0.articles[id] }
    }

    public func articleRevision(_ id: String, revision: Int64) async throws -> ArticleRevision? {
        state.withLock { $0.articleRevisions[id]?.first { $0.revision == revision } }
    }

    public func articleRevisions(_ id: String, before: Int64?, limit: Int) async throws -> [ArticleRevision] {
        try StorageContract.checkKnowledgePage(limit)
        return state.withLock { state in
            Array((state.articleRevisions[id] ?? []).filter { $0.revision < (before ?? .max) }.sorted { $0.revision > $1.revision }.prefix(limit))
        }
    }

    public func saveArticle(_ article: KnowledgeArticle, revision: ArticleRevision?, expectedVersion: Int64) async throws {
        try StorageContract.check(article, revision: revision, expectedVersion: expectedVersion)
        try state.withLock { state throws in
            let stored = state.articles[article.id]
            if expectedVersion == 0, stored != nil { throw DomainError.duplicate(message: "article \(article.id) exists already") }
            guard (stored?.version ?? 0) == expectedVersion else {
                throw DomainError.versionConflict(expected: expectedVersion, actual: stored?.version ?? 0)
            }
            var saved = article
            saved.helpfulVotes = stored?.helpfulVotes ?? 0
            saved.notHelpfulVotes = stored?.notHelpfulVotes ?? 0
            state.articles[article.id] = saved
            if let revision { state.articleRevisions[article.id, default: []].append(revision) }
            state.knowledgeIndex[article.id] = article.status == .published ? article.published.map(ArticleIndex.of) : nil
        }
    }

    public func articles(_ query: ArticleQuery) async throws -> ArticlePage {
        try StorageContract.checkKnowledgePage(query.pageSize)
        let rows = state.withLock { state in
            state.articles.values.filter(query.matches).sorted { $0.id > $1.id }.prefix(query.pageSize + 1)
        }
        let (page, last) = KeysetPage.split(Array(rows), pageSize: query.pageSize)
        return ArticlePage(articles: page, next: last?.id)
    }

    public func knowledgeIndex(terms: Set<String>) async throws -> KnowledgeIndexSlice {
        try StorageContract.checkKnowledgeTerms(terms)
        return state.withLock { state in
            var corpus = KnowledgeCorpus(documents: 0, titleLength: 0, tagsLength: 0, bodyLength: 0)
            var postings: [KnowledgePosting] = []
            var articles: [IndexedArticle] = []
            for (id, index) in state.knowledgeIndex {
                corpus.documents += 1
                corpus.titleLength += Int64(index.titleLength)
                corpus.tagsLength += Int64(index.tagsLength)
                corpus.bodyLength += Int64(index.bodyLength)
                let found = index.terms.filter { terms.contains($0.term) }
                guard !found.isEmpty, let article = state.articles[id], let published = article.published else { continue }
                postings += found.map { KnowledgePosting(term: $0.term, articleID: id, field: $0.field, count: $0.count) }
                articles.append(IndexedArticle(articleID: id, audience: published.audience, titleLength: index.titleLength,
                                               tagsLength: index.tagsLength, bodyLength: index.bodyLength,
                                               helpfulVotes: article.helpfulVotes, notHelpfulVotes: article.notHelpfulVotes))
            }
            return KnowledgeIndexSlice(corpus: corpus, postings: postings, articles: articles)
        }
    }

    public func castVote(_ vote: HelpfulVote?, on articleID: String, by voter: String, at now: Timestamp) async throws -> ArticleVotes {
        try state.withLock { state throws in
            guard var article = state.articles[articleID] else { throw RepositoryError.articleNotFound(articleID) }
            let previous = state.articleVotes[articleID]?[voter]
            state.articleVotes[articleID, default: [:]][voter] = vote
            article.helpfulVotes += (vote == .helpful ? 1 : 0) - (previous == .helpful ? 1 : 0)
            article.notHelpfulVotes += (vote == .notHelpful ? 1 : 0) - (previous == .notHelpful ? 1 : 0)
            state.articles[articleID] = article
            return ArticleVotes(helpful: article.helpfulVotes, notHelpful: article.notHelpfulVotes)
        }
    }

    public func articleVote(on articleID: String, by voter: String) async throws -> HelpfulVote? {
        state.withLock { $0.articleVotes[articleID]?[voter] }
    }

    // MARK: - Health

    /// Memory is always there.
    public func checkHealth() async throws {}

    // MARK: - Rules inside one step

    private static func day(of number: CaseNumber) -> Int64 {
        Int64(number.rawValue.dropFirst(2).prefix(8)) ?? 0
    }

    private static func sequence(of number: CaseNumber) -> Int {
        Int(number.rawValue.suffix(6)) ?? 0
    }

    private static func replay(of idempotency: IdempotencyRecord, in state: State) throws(RepositoryError) -> CreatedCase? {
        guard let result = try IdempotencyReplay.result(of: idempotency, for: .createCase,
                                                         stored: state.idempotency[IdempotencyKey(idempotency)]) else { return nil }
        guard let number = try? CaseNumber(parsing: result) else { throw .idempotencyKeyReused(key: idempotency.key) }
        return CreatedCase(number: number, replayed: true)
    }

    private static func storedResponse(for call: IdempotentCall, in state: State) throws(RepositoryError) -> [UInt8]? {
        try IdempotencyReplay.response(of: call, stored: state.idempotency[IdempotencyKey(call.record)])
    }

    private static func store(_ response: IdempotentResponse, in state: inout State) {
        state.idempotency[IdempotencyKey(response.call.record)] = StoredIdempotencyKey(response)
    }

    private static func cases(ofOrder orderID: String, in state: State) -> [AfterSaleCase] {
        (state.casesByOrder[orderID] ?? []).sorted { $0.rawValue < $1.rawValue }.compactMap { state.cases[$0]?.afterSale }
    }

    private static func withoutTimeline(_ afterSale: AfterSaleCase) -> AfterSaleCase {
        AfterSaleCase(number: afterSale.number, orderID: afterSale.orderID, buyerID: afterSale.buyerID, shop: afterSale.shop,
                      kind: afterSale.kind, reasonCode: afterSale.reasonCode, reasonTitle: afterSale.reasonTitle,
                      buyerNote: afterSale.buyerNote, evidence: afterSale.evidence, lines: afterSale.lines,
                      coversWholeOrder: afterSale.coversWholeOrder, amounts: afterSale.amounts, status: afterSale.status,
                      rejectionReason: afterSale.rejectionReason, returnAddress: afterSale.returnAddress,
                      returnShipment: afterSale.returnShipment, outboundShipment: afterSale.outboundShipment,
                      receipt: afterSale.receipt, timeline: [], version: afterSale.version, createdAt: afterSale.createdAt,
                      updatedAt: afterSale.updatedAt, finishedAt: afterSale.finishedAt)
    }

    /// Fails unless the order, its cases and its open disputes (other than `dispute`, being saved)
    /// are exactly as the decision read them.
    private static func check(_ basis: EligibilityBasis, in state: State, saving dispute: String? = nil) throws(RepositoryError) {
        let stored = Dictionary(uniqueKeysWithValues: cases(ofOrder: basis.orderID, in: state).map { ($0.number, $0.version) })
        let open = state.disputes.values.filter { $0.orderID == basis.orderID && $0.status.isOpen }.map(\.id)
        guard state.orders[basis.orderID]?.version == basis.orderVersion, stored == basis.caseVersions,
              basis.openDisputesMatch(open, saving: dispute) else {
            throw .eligibilityChanged(orderID: basis.orderID)
        }
    }

    /// A case has at most one refund order, and ids are unique.
    private static func checkNew(_ refund: RefundOrder, in state: State) throws(RepositoryError) {
        guard state.refunds[refund.id] == nil, state.refundByCase[refund.caseNumber] == nil else {
            throw .storageFailure("case \(refund.caseNumber) already has a refund order")
        }
    }

    private static func checkUpdate(_ update: RefundUpdate, in state: State) throws {
        guard let stored = state.refunds[update.refund.id] else { throw RepositoryError.refundNotFound(update.refund.id) }
        guard stored.version == update.expectedVersion else {
            throw DomainError.versionConflict(expected: update.expectedVersion, actual: stored.version)
        }
    }

    private static func insert(_ refund: RefundOrder, in state: inout State) {
        state.refunds[refund.id] = refund
        state.refundByCase[refund.caseNumber] = refund.id
    }

    /// Appends `events` with the next cursors; the last cursor, nil when there were none.
    private static func append(_ events: [OutboxEvent], in state: inout State) -> Int64? {
        for event in events {
            state.events.append(StoredEvent(cursor: Int64(state.events.count + 1), type: event.type, payload: event.payload))
        }
        return events.isEmpty ? nil : Int64(state.events.count)
    }

    private static func matches(_ afterSale: AfterSaleCase, _ query: CaseQuery) -> Bool {
        if let search = query.search, !search.isEmpty, afterSale.number.rawValue != search, afterSale.orderID != search { return false }
        if let numbers = query.caseNumbers, !numbers.contains(afterSale.number) { return false }
        if let buyer = query.buyerID, afterSale.buyerID != buyer { return false }
        if let shop = query.shopID, afterSale.shop.id != shop { return false }
        if let kind = query.kind, afterSale.kind != kind { return false }
        if !query.statuses.isEmpty, !query.statuses.contains(afterSale.status) { return false }
        if let from = query.appliedFrom, afterSale.createdAt < from { return false }
        if let before = query.appliedBefore, afterSale.createdAt >= before { return false }
        if let after = query.after, (afterSale.createdAt, afterSale.number.rawValue) >= (after.appliedAt, after.caseNumber.rawValue) {
            return false
        }
        return true
    }

    /// When a worker may claim `refund`, or nil when no worker may (as the SQLite backend's index).
    private static func availableAt(_ refund: RefundOrder) -> Timestamp? {
        switch refund.status {
        case .pending: refund.createdAt
        case .retryScheduled: refund.nextAttemptAt ?? refund.updatedAt
        case .claimed: refund.lease?.expiresAt ?? refund.updatedAt
        case .succeeded, .needsAttention: nil
        }
    }

    private static func claimable(at now: Timestamp, limit: Int, in state: State) -> [RefundOrder] {
        state.refunds.values.compactMap { refund in availableAt(refund).flatMap { $0 <= now ? ($0, refund) : nil } }
            .sorted { ($0.0, $0.1.id) < ($1.0, $1.1.id) }.prefix(limit).map(\.1)
    }

    private static func time(_ refund: RefundOrder, _ basis: RefundTimeBasis) -> Int64 {
        switch basis {
        case .created: refund.createdAt.millisecondsSinceEpoch
        case .updated: refund.updatedAt.millisecondsSinceEpoch
        case .succeeded: refund.succeededAt?.millisecondsSinceEpoch ?? 0
        }
    }

    private static func matches(_ refund: RefundOrder, _ query: RefundQuery) -> Bool {
        if !query.statuses.isEmpty, !query.statuses.contains(refund.status) { return false }
        if query.basis == .succeeded, refund.succeededAt == nil { return false }
        let at = time(refund, query.basis)
        if let from = query.from, at < from.millisecondsSinceEpoch { return false }
        if let before = query.before, at >= before.millisecondsSinceEpoch { return false }
        if let shop = query.shopID, refund.shopID != shop { return false }
        if let number = query.caseNumber, refund.caseNumber != number { return false }
        if let numbers = query.caseNumbers, !numbers.contains(refund.caseNumber) { return false }
        return true
    }
}

// MARK: - Audit

extension InMemoryRepository {
    /// The link `record` becomes at the end of the chain (appended by the caller with the record).
    private static func link(_ record: TraceRecord, in state: State) throws(RepositoryError) -> AuditEntry {
        let head = state.audit.last.map { AuditHead(size: $0.position, hash: $0.hash) } ?? .empty
        return try AuditChain.extend(head, with: [record]).entries[0]
    }

    public func auditEntries(after position: Int64, limit: Int) async throws -> [AuditEntry] {
        try StorageContract.checkAuditPage(after: position, limit: limit)
        return state.withLock { state in
            let start = Int(min(max(0, position), Int64(state.audit.count)))
            return Array(state.audit[start...].prefix(limit))
        }
    }

    public func auditHead() async throws -> AuditHead {
        state.withLock { state in state.audit.last.map { AuditHead(size: $0.position, hash: $0.hash) } ?? .empty }
    }

    public func saveAuditCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        try StorageContract.check(checkpoint)
        state.withLock { state in
            if state.auditCheckpoints[checkpoint.size] == nil { state.auditCheckpoints[checkpoint.size] = checkpoint }
        }
    }

    public func auditCheckpoints(after size: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try StorageContract.checkAuditPage(after: size, limit: limit)
        return state.withLock { state in
            Array(state.auditCheckpoints.values.filter { $0.size > size }.sorted { $0.size < $1.size }.prefix(limit))
        }
    }

    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        state.withLock { state in state.auditCheckpoints.values.max { $0.size < $1.size } }
    }
}
