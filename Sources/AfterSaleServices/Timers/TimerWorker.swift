import AfterSaleDomain
import ServiceKit
import Synchronization

/// How the timer worker paces itself.
public struct TimerWorkerSettings: Sendable, Hashable {
    /// How long it waits before looking again when the last look found nothing due.
    public var pollInterval: Duration
    /// Timers read per look.
    public var batchSize: Int
    /// The most backlog timers it handles per second (0: no limit): timers more than
    /// ``backlogAfterMs`` overdue (after downtime) drain oldest first at this rate instead of all at
    /// once; timers coming due in normal operation are handled as they come.
    public var maximumPerSecond: Int
    /// How overdue a timer must be to count as backlog.
    public var backlogAfterMs: Int64 = 5_000
    /// Timers of one batch handled at once (each is its own transaction on its own case).
    public var concurrency: Int

    /// Creates settings.
    public init(pollInterval: Duration = .milliseconds(200), batchSize: Int = 200, maximumPerSecond: Int = 1_000,
                concurrency: Int = 16) {
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        self.maximumPerSecond = maximumPerSecond
        self.concurrency = concurrency
    }
}

/// What one look at the due timers did, by outcome.
public struct TimerSweep: Sendable, Hashable {
    /// Reminders sent.
    public var reminded = 0
    /// Timers whose action was applied.
    public var fired = 0
    /// Timers recounted later because of a pause.
    public var rescheduled = 0
    /// Timers whose case had moved on.
    public var obsolete = 0
    /// Timers whose action the domain refused (put off).
    public var refused = 0
    /// Timers that failed with a storage error (tried again on a later look).
    public var failed = 0

    /// Timers looked at.
    public var total: Int { reminded + fired + rescheduled + obsolete + refused + failed }

    /// Adds `other`'s counts.
    mutating func add(_ other: TimerSweep) {
        reminded += other.reminded
        fired += other.fired
        rescheduled += other.rescheduled
        obsolete += other.obsolete
        refused += other.refused
        failed += other.failed
    }
}

/// The timer worker (超时自动处理): in every replica, it reads the timers that are due (the
/// earliest first) and moves each on through ``TimerFiring``, several at once. Replicas may look at
/// the same timer; every effect is a compare-and-set, so each happens once. A timer fires within
/// about `pollInterval` of its time in normal operation; a backlog (after downtime) drains at
/// `maximumPerSecond`.
public final class TimerWorker: Service, Sendable {
    public let name = "timer-worker"
    private let firing: TimerFiring
    private let clock: any WallClock
    private let settings: TimerWorkerSettings
    private let logger: Logger
    private let loop = RepeatingTask()
    private let pacing = Mutex<ContinuousClock.Instant?>(nil)

    /// A worker over `store`, arming follow-up timers from `timers`.
    public init(store: any AfterSaleRepository, timers: TimerPolicySource, clock: any WallClock = SystemClock(),
                policy: PolicyConfig = .standard, settings: TimerWorkerSettings = TimerWorkerSettings(),
                personalData: PersonalDataVault, logger: Logger = .disabled) {
        let workflow = CaseWorkflow(cases: store, orders: store, idempotency: store, timers: timers, clock: clock, policy: policy,
                                    logger: logger, personalData: personalData)
        firing = TimerFiring(store: store, workflow: workflow, timers: timers, logger: logger)
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    public func start() async throws {
        loop.start { [self] in
            let sweep = await self.sweep()
            // Nothing due: look again after the poll interval; after a look that did something, at once.
            if sweep.failed > 0 { return .seconds(1) }
            return sweep.total == 0 ? self.settings.pollInterval : nil
        }
    }

    public func shutdown() async {
        await loop.stop()
    }

    /// Looks once at the timers due now and handles each, at the configured rate.
    @discardableResult
    public func sweep() async -> TimerSweep {
        var sweep = TimerSweep()
        let due: [CaseTimer]
        do {
            due = try await firing.store.dueTimers(at: clock.now(), limit: settings.batchSize)
        } catch {
            logger.log(.warning, "could not read due timers", ["error": String(describing: error)])
            sweep.failed += 1
            return sweep
        }
        // Oldest first: each handler takes the next timer in due order (a backlog timer once a slot
        // of the rate is free).
        let next = NextIndex()
        let results = await withTaskGroup(of: TimerSweep.self) { group in
            for _ in 0..<max(1, min(settings.concurrency, due.count)) {
                group.addTask { [self] in
                    var part = TimerSweep()
                    while !Task.isCancelled {
                        let index = next.take()
                        guard index < due.count else { break }
                        let timer = due[index]
                        if clock.now().millisecondsSinceEpoch - timer.nextAt.millisecondsSinceEpoch > settings.backlogAfterMs {
                            await pace()
                        }
                        await handle(timer, into: &part)
                    }
                    return part
                }
            }
            var total = TimerSweep()
            for await part in group { total.add(part) }
            return total
        }
        sweep.add(results)
        if sweep.fired + sweep.reminded > 0 {
            logger.log(.debug, "timers handled", ["fired": String(sweep.fired), "reminded": String(sweep.reminded),
                                                  "obsolete": String(sweep.obsolete)])
        }
        return sweep
    }

    private func handle(_ timer: CaseTimer, into sweep: inout TimerSweep) async {
        do {
            switch try await firing.handle(timer, at: clock.now()) {
            case .reminded: sweep.reminded += 1
            case .fired: sweep.fired += 1
            case .rescheduled: sweep.rescheduled += 1
            case .obsolete: sweep.obsolete += 1
            case .refused: sweep.refused += 1
            }
        } catch {
            sweep.failed += 1
            logger.log(.warning, "a timer could not be handled; it stays due", [
                "case": timer.caseNumber.rawValue, "rule": timer.rule.rawValue, "error": String(describing: error),
            ])
        }
    }

    /// Waits for the next slot of `maximumPerSecond`.
    private func pace() async {
        guard settings.maximumPerSecond > 0 else { return }
        let interval = Duration.seconds(1) / settings.maximumPerSecond
        let now = ContinuousClock.now
        let slot = pacing.withLock { next -> ContinuousClock.Instant in
            let slot = max(next ?? now, now)
            next = slot + interval
            return slot
        }
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}

/// Hands out 0, 1, 2, … to the handlers of one batch.
private final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)

    /// The next index.
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
