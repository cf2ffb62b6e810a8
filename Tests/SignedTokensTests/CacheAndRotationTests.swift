import Dispatch
import Foundation
import SignedTokens
import Synchronization
import Testing

@Suite("Caching verified tokens and rotating keys")
struct CacheAndRotationTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture() }

    func writeKeySet(_ keys: [KeySet.Key], to path: String) throws {
        try Data(KeySet(keys: keys).jsonBytes()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: Cache

    @Test("a second verification of the same token is a cache hit with the same claims")
    func cacheHit() throws {
        let verifier = fixture.verifier()
        let token = try fixture.buyerToken()
        let first = try verifier.verify(token, now: fixture.now)
        #expect(verifier.cachedTokenCount == 1)
        let second = try verifier.verify(token, now: fixture.now.addingTimeInterval(10))
        #expect(second == first)
        #expect(verifier.cachedTokenCount == 1)
    }

    @Test("a cached token is refused as expired once its exp has passed, and leaves the cache")
    func expiredCachedToken() throws {
        let verifier = fixture.verifier()
        let token = try fixture.buyerToken()
        _ = try verifier.verify(token, now: fixture.now)
        #expect(throws: TokenError.expired) { try verifier.verify(token, now: fixture.now.addingTimeInterval(331)) }
        #expect(verifier.cachedTokenCount == 0)
    }

    @Test("refused tokens are not cached")
    func refusalsAreNotCached() throws {
        let verifier = fixture.verifier()
        let token = try fixture.minter().mint(subject: "user-42", role: "platform", now: fixture.now)
        for _ in 0..<2 {
            #expect(throws: TokenError.roleNotAllowed(role: "platform", issuer: "identity")) {
                try verifier.verify(token, now: fixture.now)
            }
        }
        #expect(verifier.cachedTokenCount == 0)
    }

    @Test("the cache never holds more tokens than its capacity")
    func cacheIsBounded() throws {
        let verifier = fixture.verifier(cacheCapacity: 8)
        for index in 0..<50 {
            let token = try fixture.minter().mint(subject: "user-\(index)", role: "buyer", now: fixture.now)
            _ = try verifier.verify(token, now: fixture.now)
            #expect(verifier.cachedTokenCount <= 8)
        }
        #expect(verifier.cachedTokenCount >= 1)
    }

    @Test("a verifier with capacity zero caches nothing and still verifies")
    func cacheOff() throws {
        let verifier = fixture.verifier(cacheCapacity: 0)
        let token = try fixture.buyerToken()
        _ = try verifier.verify(token, now: fixture.now)
        _ = try verifier.verify(token, now: fixture.now)
        #expect(verifier.cachedTokenCount == 0)
    }

    // MARK: Rotation

    @Test("a token signed by the previous key verifies while it is listed and fails after its removal and a reload")
    func rotationRetiresPreviousKey() throws {
        let directory = try temporaryDirectory("rotation")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/keyset.json"
        let previous = try #require(fixture.keySet["2026-10"])
        let current = try #require(fixture.keySet["2026-11"])
        try writeKeySet([previous, current], to: path)

        let verifier = TokenVerifier(keySet: try KeySet.load(path: path), audience: Fixture.audience)
        let oldToken = try fixture.minter(keyID: "2026-10", key: fixture.previous)
            .mint(subject: "user-42", role: "buyer", now: fixture.now)
        let newToken = try fixture.buyerToken()
        #expect(try verifier.verify(oldToken, now: fixture.now).keyID == "2026-10")
        #expect(try verifier.verify(newToken, now: fixture.now).keyID == "2026-11")
        #expect(verifier.cachedTokenCount == 2)

        try writeKeySet([current], to: path)
        try verifier.reloadKeySet()
        #expect(verifier.cachedTokenCount == 0)
        #expect(throws: TokenError.unknownKey(keyID: "2026-10")) { try verifier.verify(oldToken, now: fixture.now) }
        #expect(try verifier.verify(newToken, now: fixture.now).keyID == "2026-11")
    }

    @Test("a next key listed ahead of time verifies its first tokens at once")
    func nextKeyIsLiveAhead() throws {
        let next = try Ed25519PrivateKey.generate()
        let keys = Array(fixture.keySet.keys.values) + [KeySet.Key(keyID: "2026-12", issuer: Fixture.issuer, publicKey: next.publicKey, roles: ["buyer"])]
        let verifier = TokenVerifier(keySet: try KeySet(keys: keys), audience: Fixture.audience)
        let token = try fixture.minter(keyID: "2026-12", key: next).mint(subject: "user-42", role: "buyer", now: fixture.now)
        #expect(try verifier.verify(token, now: fixture.now).keyID == "2026-12")
    }

    @Test("a reload that fails keeps the key set in force")
    func failedReloadKeepsKeys() throws {
        let directory = try temporaryDirectory("bad-reload")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/keyset.json"
        try writeKeySet(Array(fixture.keySet.keys.values), to: path)
        let verifier = TokenVerifier(keySet: try KeySet.load(path: path), audience: Fixture.audience)
        try Data("{\"keys\": {\"2026-11\": {\"issuer\": \"identity\"}}}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: KeyFileError.self) { try verifier.reloadKeySet() }
        #expect(try verifier.verify(try fixture.buyerToken(), now: fixture.now).keyID == "2026-11")
    }

    @Test("verifications on many threads during reloads all succeed")
    func concurrentVerifyAndReload() throws {
        let verifier = fixture.verifier(cacheCapacity: 16)
        let tokens = try (0..<32).map { try fixture.minter().mint(subject: "user-\($0)", role: "buyer", now: fixture.now) }
        let keySet = fixture.keySet
        let now = fixture.now
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for round in 0..<200 {
                if worker == 0 && round % 20 == 0 { verifier.replaceKeySet(keySet) }
                do { _ = try verifier.verify(tokens[(round * 7 + worker) % tokens.count], now: now) } catch { failures.add() }
            }
        }
        #expect(failures.count == 0)
    }
}

/// A thread-safe counter for the concurrency test.
final class Failures: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
