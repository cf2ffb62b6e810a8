import AfterSaleDomain
import ServiceKit

// The process's clocks read as the domain's instants.

extension SystemClock: WallClock {
    /// The current instant.
    public func now() -> Timestamp { Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch()) }
}

extension ManualClock: WallClock {
    /// The instant the clock was moved to.
    public func now() -> Timestamp { Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch()) }
}
