import Foundation
import SignedTokens
import Testing

/// Prints rough verification rates; asserts nothing about time (machines and build modes differ).
@Suite("Verification rate, printed for the record")
struct VerifyRateTests {
    @Test("prints verifications per second for a cache miss and a cache hit")
    func printRates() throws {
        let fixture = try Fixture()
        let token = try fixture.buyerToken()
        let cold = fixture.verifier(cacheCapacity: 0)
        let warm = fixture.verifier(cacheCapacity: 100)
        _ = try warm.verify(token, now: fixture.now)

        func rate(_ count: Int, _ verifier: TokenVerifier) throws -> Double {
            let clock = ContinuousClock()
            let elapsed = try clock.measure {
                for _ in 0..<count { _ = try verifier.verify(token, now: fixture.now) }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return Double(count) / seconds
        }
        let miss = try rate(2_000, cold)
        let hit = try rate(200_000, warm)
        print("SignedTokens verify rate (one thread): cache miss \(Int(miss))/s, cache hit \(Int(hit))/s")
        #expect(miss > 0 && hit > 0)
    }
}
