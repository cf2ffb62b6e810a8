import AfterSaleDomain
import ServiceKit
import Synchronization

/// How the timer worker paces itself.
public struct TimerWorkerSettings: Sendable, Hashable {
    /// How often it looks for due timers when the last look found fewer than a batch.
    public var pollInterval: Duration
    /// Timers read per look.
    public var batchSize: Int
    /// The most timers it handles per second (reminders, firings, recounts): after downtime the
    /// backlog drains oldest first at this rate instead of all at once.
    public var maximumPerSecond: Int

    /// Creates settings.
    public init(pollInterval: Duration = .milliseconds(200), batchSize: Int = 100, maximumPerSecond: Int = 200) {
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        self.maximumPerSecond = maximumPerSecond
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
}

/// The timer worker (超时自动处理): in every replica, it reads the timers that are due (the
/// earliest first) and moves each on through ``TimerFiring``. Replicas may look at the same timer;
/// every effect is a compare-and-set, so each happens once. A timer fires within about
/// `pollInterval` of its time while the backlog is under `maximumPerSecond`.
public final class TimerWorker: Service, Sendable {
    public let name = "timer-worker"
    private let firing: TimerFiring
    private let clock: any WallClock
    private let settings: TimerWorkerSettings
    private let logger: Logger
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let pacing = Mutex<ContinuousClock.Instant?>(nil)

    /// A worker over `store`, arming follow-up timers from `timers`.
    public init(store: any AfterSaleRepository, timers: TimerPolicySource, clock: any WallClock = SystemClock(),
                policy: PolicyConfig = .standard, settings: TimerWorkerSettings = TimerWorkerSettings(), logger: Logger = .disabled) {
        let workflow = CaseWorkflow(cases: store, orders: store, idempotency: store, timers: timers, clock: clock, policy: policy,
                                    logger: logger)
        firing = TimerFiring(store: store, workflow: workflow, timers: timers, logger: logger)
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    public func start() async throws {
        let started = Task { [self] in
            while !Task.isCancelled {
                let sweep = await self.sweep()
                if sweep.failed > 0 {
                    try? await Task.sleep(for: .seconds(1))
                } else if sweep.total < settings.batchSize {
                    try? await Task.sleep(for: settings.pollInterval)
                }
            }
        }
        task.withLock { $0 = started }
    }

    public func shutdown() async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
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
        for timer in due {
            if Task.isCancelled { break }
            await pace()
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
        if sweep.fired + sweep.reminded > 0 {
            logger.log(.debug, "timers handled", ["fired": String(sweep.fired), "reminded": String(sweep.reminded),
                                                  "obsolete": String(sweep.obsolete)])
        }
        return sweep
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
