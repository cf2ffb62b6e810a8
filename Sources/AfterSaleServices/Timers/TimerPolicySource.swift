import AfterSaleDomain
import ServiceKit
import Synchronization

/// The timer rules in force: the platform's defaults (configuration) with the overrides and pauses
/// stored by any replica, read from storage at most once per `maximumAge` (one second by default)
/// and at once after a change made through this replica.
///
/// Another replica's change is therefore seen within `maximumAge`; PROTOCOL.md says so.
public final class TimerPolicySource: Sendable {
    /// The platform's defaults.
    public let platform: TimerPolicy
    /// Where timers and their settings are stored.
    public let repository: any TimerRepository
    private let clock: any WallClock
    private let maximumAgeMs: Int64
    private let cached = Mutex<(settings: TimerSettings, readAt: Timestamp)?>(nil)

    /// A source over `store` with the platform's `platform` defaults.
    public init(store: any TimerRepository, platform: TimerPolicy, clock: any WallClock = SystemClock(),
                maximumAge: Duration = .seconds(1)) {
        self.repository = store
        self.platform = platform
        self.clock = clock
        maximumAgeMs = maximumAge.components.seconds * 1_000 + maximumAge.components.attoseconds / 1_000_000_000_000_000
    }

    /// The stored overrides and pauses, at most `maximumAge` old.
    public func settings() async throws -> TimerSettings {
        let now = clock.now()
        if let fresh = cached.withLock({ cached in
            cached.flatMap { now.millisecondsSinceEpoch - $0.readAt.millisecondsSinceEpoch < maximumAgeMs ? $0.settings : nil }
        }) {
            return fresh
        }
        let settings = try await repository.timerSettings()
        cached.withLock { $0 = (settings, now) }
        return settings
    }

    /// The book new timers are armed from.
    public func book() async throws -> TimerBook {
        TimerBook(platform: platform, overrides: try await settings().overrides)
    }

    /// Forgets what was read, after a change through this replica.
    public func invalidate() {
        cached.withLock { $0 = nil }
    }
}
