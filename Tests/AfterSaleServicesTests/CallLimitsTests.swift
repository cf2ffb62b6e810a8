import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import Foundation
import RPCServer
import RPCWire
import SignedTokens
import Synchronization
import Testing

/// A clock the test moves by hand, in nanoseconds.
final class TestNanos: Sendable {
    private let nanos = Atomic<UInt64>(5_000_000_000_000)
    var now: UInt64 { nanos.load(ordering: .relaxed) }
    func advance(seconds: UInt64) { nanos.add(seconds * 1_000_000_000, ordering: .relaxed) }
}

@Suite("Call limits: per principal, per address, and after failed authentications")
struct CallLimitsTests {
    let key: Ed25519PrivateKey
    let verifier: TokenVerifier
    let clock = TestNanos()

    init() throws {
        key = try Ed25519PrivateKey.generate()
        verifier = TokenVerifier(keySet: try KeySet(keys: [KeySet.Key(keyID: "k", issuer: "gw", publicKey: key.publicKey, roles: ["*"])]),
                                 audience: "aftersale")
    }

    func limiter(_ perSecond: Double, _ burst: Int) throws -> RateLimiter {
        let clock = clock
        return RateLimiter(rate: try #require(Rate(perSecond: perSecond, burst: burst)), clock: { clock.now })
    }

    func interceptor(principal: RateLimiter? = nil, address: RateLimiter? = nil, failures: RateLimiter? = nil) -> LimitedIdentityInterceptor {
        let identity = IdentityInterceptor(authenticators: ServiceHost.authenticators(verifier: verifier, acceptStatedIdentity: false),
                                           publicServices: ServiceHost.publicServices)
        return LimitedIdentityInterceptor(identity: identity, perPrincipal: principal, perAddress: address, authenticationFailures: failures)
    }

    func bearer(_ role: String, _ id: String) throws -> Metadata {
        let token = try TokenMinter(keyID: "k", issuer: "gw", privateKey: key, audience: "aftersale").mint(subject: id, role: role)
        return [CallerMetadata.authorization: "Bearer " + token]
    }

    /// The call's refusal, nil when it passed.
    func call(_ interceptor: LimitedIdentityInterceptor, _ metadata: Metadata, from peer: String = "10.0.0.1:40000") -> RPCError? {
        var context = ServerContext(method: AfterSaleService.listAfterSales.info, callID: 1, metadata: metadata, deadlineNanos: nil, peer: peer)
        do {
            try interceptor.intercept(&context)
            return nil
        } catch {
            return error
        }
    }

    @Test("past a principal's burst its calls are RESOURCE_EXHAUSTED with retry-after-ms; other principals go on")
    func perPrincipal() throws {
        let limits = interceptor(principal: try limiter(1, 2))
        let buyer = try bearer("buyer", "b-1")
        #expect(call(limits, buyer) == nil)
        #expect(call(limits, buyer, from: "10.0.0.2:1") == nil)
        let refused = try #require(call(limits, buyer))
        #expect(refused.code == .resourceExhausted)
        #expect(refused.metadata[CallLimits.retryAfterKey] == "1000", "\(refused.metadata)")
        #expect(refused.message.contains("buyer b-1"), "\(refused.message)")
        #expect(call(limits, try bearer("buyer", "b-2")) == nil)
        clock.advance(seconds: 1)
        #expect(call(limits, buyer) == nil)
    }

    @Test("past an address's burst every call from it is RESOURCE_EXHAUSTED, whoever calls; other addresses go on")
    func perAddress() throws {
        let limits = interceptor(address: try limiter(2, 3))
        for i in 0..<3 { #expect(call(limits, try bearer("buyer", "b-\(i)"), from: "192.168.1.9:\(5000 + i)") == nil) }
        let refused = try #require(call(limits, try bearer("agent", "a-1"), from: "192.168.1.9:6000"))
        #expect(refused.code == .resourceExhausted)
        #expect(refused.metadata[CallLimits.retryAfterKey] == "500")
        #expect(call(limits, try bearer("agent", "a-1"), from: "192.168.1.10:6000") == nil)
        #expect(call(limits, Metadata(), from: "192.168.1.9:7000")?.code == .resourceExhausted, "refused before authentication")
    }

    @Test("after repeated failed authentications an address is refused even with a good token, until the allowance recovers")
    func failures() throws {
        let limits = interceptor(failures: try limiter(1.0 / 60, 3))
        let good = try bearer("platform", "p-1")
        for _ in 0..<3 { #expect(call(limits, [CallerMetadata.authorization: "Bearer v4.public.forged"])?.code == .unauthenticated) }
        let refused = try #require(call(limits, good))
        #expect(refused.code == .resourceExhausted)
        #expect(refused.message.hasPrefix("too many failed authentications from 10.0.0.1"), "\(refused.message)")
        #expect(refused.metadata[CallLimits.retryAfterKey] == "60000")
        #expect(call(limits, good, from: "10.0.0.7:1") == nil, "another address is not affected")
        clock.advance(seconds: 60)
        #expect(call(limits, good) == nil)
        // One more failure is allowed per minute; the next one locks the address again.
        #expect(call(limits, Metadata())?.code == .unauthenticated)
        #expect(call(limits, good)?.code == .resourceExhausted)
    }

    @Test("a role the issuer may not assert is not counted as a failed authentication")
    func permissionDeniedIsNotAFailure() throws {
        let limited = try KeySet(keys: [KeySet.Key(keyID: "k", issuer: "gw", publicKey: key.publicKey, roles: ["buyer"])])
        verifier.replaceKeySet(limited)
        let limits = interceptor(failures: try limiter(1.0 / 60, 1))
        for _ in 0..<3 { #expect(call(limits, try bearer("platform", "p-1"))?.code == .permissionDenied) }
        #expect(call(limits, try bearer("buyer", "b-1")) == nil)
    }

    @Test("public services (health, reflection) are not limited")
    func scope() {
        #expect(!interceptor().applies(to: Health.check.info))
        #expect(interceptor().applies(to: AfterSaleService.listAfterSales.info))
    }
}
