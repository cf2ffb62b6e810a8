/// The response and resolution targets of a ticket (Zendesk's metrics): the first public reply,
/// the next reply after the customer's, and the resolution.
public enum SLAMetric: String, Sendable, Hashable, CaseIterable {
    case firstResponse = "first_response"
    case nextResponse = "next_response"
    case resolution
}

/// The targets of one priority, in business milliseconds.
public struct SLATargets: Sendable, Hashable {
    /// Created → first public agent reply.
    public var firstResponseMs: Int64
    /// Customer reply → the agent's next public reply.
    public var nextResponseMs: Int64
    /// Created → solved (waiting on the customer does not count).
    public var resolutionMs: Int64

    /// Creates targets.
    public init(firstResponseMs: Int64, nextResponseMs: Int64, resolutionMs: Int64) {
        self.firstResponseMs = firstResponseMs
        self.nextResponseMs = nextResponseMs
        self.resolutionMs = resolutionMs
    }

    /// The target of `metric`.
    public func target(_ metric: SLAMetric) -> Int64 {
        switch metric {
        case .firstResponse: firstResponseMs
        case .nextResponse: nextResponseMs
        case .resolution: resolutionMs
        }
    }
}

/// The service desk's targets per priority, the calendar they are counted in, and how long before
/// a breach the warning goes out.
public struct SLAPolicy: Sendable, Hashable {
    /// Targets by priority.
    public var targets: [TicketPriority: SLATargets]
    /// The working hours the targets count.
    public var calendar: BusinessCalendar
    /// How long (wall clock) before a breach its warning goes out.
    public var warningLeadMs: Int64

    /// Creates a policy.
    public init(targets: [TicketPriority: SLATargets], calendar: BusinessCalendar, warningLeadMs: Int64) {
        self.targets = targets
        self.calendar = calendar
        self.warningLeadMs = warningLeadMs
    }

    private static let hour: Int64 = 3_600_000

    /// Urgent 0.5/1/4 h, high 1/2/8 h, normal 4/8/24 h, low 8/24/72 h of office hours (Monday to
    /// Friday 09:00–18:00 China time); warnings 30 minutes before a breach.
    public static let standard = SLAPolicy(targets: [
        .urgent: SLATargets(firstResponseMs: hour / 2, nextResponseMs: hour, resolutionMs: 4 * hour),
        .high: SLATargets(firstResponseMs: hour, nextResponseMs: 2 * hour, resolutionMs: 8 * hour),
        .normal: SLATargets(firstResponseMs: 4 * hour, nextResponseMs: 8 * hour, resolutionMs: 24 * hour),
        .low: SLATargets(firstResponseMs: 8 * hour, nextResponseMs: 24 * hour, resolutionMs: 72 * hour),
    ], calendar: .chinaOfficeHours, warningLeadMs: hour / 2)

    /// The targets of `priority`.
    public func targets(for priority: TicketPriority) -> SLATargets {
        targets[priority] ?? SLATargets(firstResponseMs: 4 * Self.hour, nextResponseMs: 8 * Self.hour, resolutionMs: 24 * Self.hour)
    }
}

/// Where one metric of one ticket stands.
public enum SLAState: Sendable, Hashable {
    /// The clock runs; it breaches at `dueAt`.
    case running(dueAt: Timestamp)
    /// The clock stands still (waiting on the customer); `remainingMs` of business time are left.
    case paused(remainingMs: Int64)
    /// The target was met at `at`.
    case met(at: Timestamp)
    /// The target passed at `dueAt` (fulfilled late or not yet).
    case breached(dueAt: Timestamp)
    /// Nothing to measure (no customer reply awaits an answer).
    case inactive

    /// The due instant while running or breached.
    public var dueAt: Timestamp? {
        switch self {
        case .running(let due), .breached(let due): due
        case .paused, .met, .inactive: nil
        }
    }
}

extension Ticket {
    /// Where `metric` stands at `now` under `policy`. A ticket linked to a case never gets a
    /// resolution target later than that case's marketplace deadline.
    public func sla(_ metric: SLAMetric, policy: SLAPolicy, now: Timestamp) -> SLAState {
        let target = policy.targets(for: priority).target(metric)
        let calendar = policy.calendar
        let (start, stop): (Timestamp?, Timestamp?) = switch metric {
        case .firstResponse: (createdAt, firstRepliedAt)
        case .nextResponse: (awaitingReplySince, nil)
        case .resolution: (createdAt, solvedAt)
        }
        guard let start else { return .inactive }
        let pauses = metric == .firstResponse ? [] : pendingPeriods
        guard var due = calendar.instant(after: target, from: start, pauses: pauses.map { PausePeriod(from: $0.from, to: $0.to ?? now) })
        else { return .inactive }
        if metric == .resolution, let deadline = caseDeadline, deadline < due { due = deadline }
        if let stop { return stop <= due ? .met(at: stop) : .breached(dueAt: due) }
        if let open = pendingPeriods.last, open.to == nil, metric != .firstResponse {
            if due <= open.from { return .breached(dueAt: due) }
            let used = calendar.elapsed(from: start, to: open.from, pauses: pendingPeriods.dropLast())
            return .paused(remainingMs: max(0, target - used))
        }
        return now >= due ? .breached(dueAt: due) : .running(dueAt: due)
    }

    /// True once the metric's clock was stopped by what it measures.
    public func isFulfilled(_ metric: SLAMetric) -> Bool {
        switch metric {
        case .firstResponse: firstRepliedAt != nil
        case .nextResponse: awaitingReplySince == nil
        case .resolution: solvedAt != nil
        }
    }

    /// The earliest instant at which a warning or breach of a running metric is due and not yet
    /// announced; nil when none is. What the SLA worker scans by.
    public func nextSLAAlert(policy: SLAPolicy, now: Timestamp) -> (metric: SLAMetric, alert: SLAAlert, at: Timestamp)? {
        var best: (SLAMetric, SLAAlert, Timestamp)?
        for metric in SLAMetric.allCases {
            let due: Timestamp
            switch sla(metric, policy: policy, now: now) {
            case .running(let at): due = at
            case .breached(let at) where !isFulfilled(metric): due = at
            default: continue
            }
            for alert in SLAAlert.allCases where !announced.contains(SLAAnnouncement(metric: metric, alert: alert, dueAt: due)) {
                let at = alert == .warning ? due.adding(milliseconds: -policy.warningLeadMs) : due
                if best.map({ at < $0.2 }) ?? true { best = (metric, alert, at) }
            }
        }
        return best
    }
}

/// An SLA announcement: the warning before a breach, or the breach.
public enum SLAAlert: String, Sendable, Hashable, CaseIterable {
    case warning
    case breach
}

/// An announcement made for one due instant of one metric (a new due instant, e.g. the next
/// response's after another customer reply, gets its own).
public struct SLAAnnouncement: Sendable, Hashable {
    /// The metric.
    public var metric: SLAMetric
    /// Warning or breach.
    public var alert: SLAAlert
    /// The due instant announced.
    public var dueAt: Timestamp

    /// Creates an announcement.
    public init(metric: SLAMetric, alert: SLAAlert, dueAt: Timestamp) {
        self.metric = metric
        self.alert = alert
        self.dueAt = dueAt
    }
}
