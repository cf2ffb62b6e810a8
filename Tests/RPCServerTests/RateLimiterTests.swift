import RPCServer
import Synchronization
import Testing

/// A clock the test moves by hand, in nanoseconds.
final class HandClock: Sendable {
    private let nanos = Atomic<UInt64>(1_000_000_000_000)
    var now: UInt64 { nanos.load(ordering: .relaxed) }
    func advance(milliseconds: UInt64) { nanos.add(milliseconds * 1_000_000, ordering: .relaxed) }
}

@Suite("The GCRA rate limiter")
struct RateLimiterTests {
    static func limiter(_ perSecond: Double, burst: Int, clock: HandClock, capacity: Int = 100_000) throws -> RateLimiter {
        let rate = try #require(Rate(perSecond: perSecond, burst: burst))
        return RateLimiter(rate: rate, capacity: capacity, clock: { clock.now })
    }

    @Test("a burst passes at once; the next event waits exactly one interval, and passes after it")
    func burstThenInterval() throws {
        let clock = HandClock()
        let limiter = try Self.limiter(10, burst: 3, clock: clock)
        for _ in 0..<3 { #expect(limiter.acquire("k") == nil) }
        #expect(limiter.acquire("k") == .milliseconds(100))
        clock.advance(milliseconds: 60)
        #expect(limiter.acquire("k") == .milliseconds(40), "a refusal takes nothing: the wait only shrinks")
        clock.advance(milliseconds: 40)
        #expect(limiter.acquire("k") == nil)
        #expect(limiter.acquire("k") == .milliseconds(100))
    }

    @Test("the average rate holds over time: one event per interval, never more")
    func averageRate() throws {
        let clock = HandClock()
        let limiter = try Self.limiter(20, burst: 1, clock: clock)
        var allowed = 0
        for _ in 0..<1_000 {  // 10 s in steps of 10 ms
            if limiter.acquire("k") == nil { allowed += 1 }
            clock.advance(milliseconds: 10)
        }
        #expect(allowed == 200)
    }

    @Test("keys are independent, and waitTime looks without taking")
    func keys() throws {
        let clock = HandClock()
        let limiter = try Self.limiter(1, burst: 2, clock: clock)
        #expect(limiter.acquire("a") == nil)
        #expect(limiter.waitTime("a") == nil)
        #expect(limiter.acquire("a") == nil)
        #expect(limiter.waitTime("a") == .seconds(1))
        #expect(limiter.waitTime("a") == .seconds(1))
        #expect(limiter.acquire("b") == nil)
        #expect(limiter.waitTime("never-seen") == nil)
    }

    @Test("the table stays bounded: keys back at a full burst are forgotten first")
    func bounded() throws {
        let clock = HandClock()
        let limiter = try Self.limiter(1_000, burst: 1, clock: clock, capacity: 64)
        for i in 0..<10_000 {
            _ = limiter.acquire("k-\(i)")
            if i % 50 == 0 { clock.advance(milliseconds: 5) }
        }
        #expect(limiter.trackedKeys <= 64)
        // A key still inside its interval is remembered: its next event is refused.
        #expect(limiter.acquire("hot") == nil)
        #expect(limiter.acquire("hot") != nil)
    }

    @Test("rates need a positive rate and a burst of at least one")
    func rates() {
        #expect(Rate(perSecond: 0, burst: 1) == nil)
        #expect(Rate(perSecond: 5, burst: 0) == nil)
        #expect(Rate(perSecond: .infinity, burst: 1) == nil)
        #expect(Rate(perSecond: 50, burst: 100)?.description == "50/s burst 100")
    }
}
