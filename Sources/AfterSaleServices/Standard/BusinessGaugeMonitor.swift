import AfterSaleDomain
import ServiceKit
import Synchronization

/// The business gauges of the metrics endpoint: open cases by status, the ticket backlog by
/// status, and overdue case timers. Counted by the store every `interval` (not per scrape, so a
/// scrape never waits on the database and several scrapers cost one count), and rendered as
/// Prometheus gauges with the age of the count.
public final class BusinessGaugeMonitor: Service, Sendable {
    public let name = "business-gauges"
    private let store: any BusinessGaugeRepository
    private let clock: any WallClock
    private let interval: Duration
    private let overdueAfter: Duration
    private let logger: Logger
    private let loop = RepeatingTask()
    private let latest = Mutex<(gauges: BusinessGauges, at: Timestamp)?>(nil)

    /// A monitor counting `store` every `interval`; a timer counts as overdue once its next look is
    /// `overdueAfter` in the past (the timer worker's backlog threshold).
    public init(store: any BusinessGaugeRepository, clock: any WallClock = SystemClock(), interval: Duration = .seconds(15),
                overdueAfter: Duration = .seconds(5), logger: Logger = .disabled) {
        self.store = store
        self.clock = clock
        self.interval = interval
        self.overdueAfter = overdueAfter
        self.logger = logger
    }

    public func start() async throws {
        loop.start { [self] in
            await self.count()
            return self.interval
        }
    }

    public func shutdown() async {
        await loop.stop()
    }

    /// Counts once now (the loop's round; tests call it directly).
    public func count() async {
        let now = clock.now()
        let overdueMs = overdueAfter.components.seconds * 1000 + overdueAfter.components.attoseconds / 1_000_000_000_000_000
        do {
            let gauges = try await store.businessGauges(overdueBefore: now.adding(milliseconds: -overdueMs))
            latest.withLock { $0 = (gauges, now) }
        } catch {
            logger.log(.warning, "business gauges not counted", ["error": String(describing: error)])
        }
    }

    /// The Prometheus exposition text of the last count (empty before the first).
    public func render() -> String {
        guard let (gauges, at) = latest.withLock({ $0 }) else { return "" }
        var out = "# HELP aftersale_open_cases Cases not in a terminal status, by status.\n# TYPE aftersale_open_cases gauge\n"
        for status in CaseStatus.allCases where !status.isTerminal {
            out += "aftersale_open_cases{status=\"\(status.rawValue)\"} \(gauges.openCases[status] ?? 0)\n"
        }
        out += "# HELP aftersale_ticket_backlog Tickets not solved or closed, by status.\n# TYPE aftersale_ticket_backlog gauge\n"
        for status in TicketStatus.allCases where status.isOpen {
            out += "aftersale_ticket_backlog{status=\"\(status.rawValue)\"} \(gauges.openTickets[status] ?? 0)\n"
        }
        out += "# HELP aftersale_overdue_timers Case timers that should have acted and have not.\n# TYPE aftersale_overdue_timers gauge\n"
        out += "aftersale_overdue_timers \(gauges.overdueTimers)\n"
        let age = Double(max(0, clock.now().millisecondsSinceEpoch - at.millisecondsSinceEpoch)) / 1000
        out += "# HELP aftersale_business_gauges_age_seconds How old the business gauges above are.\n"
        out += "# TYPE aftersale_business_gauges_age_seconds gauge\naftersale_business_gauges_age_seconds \(age)\n"
        return out
    }
}
