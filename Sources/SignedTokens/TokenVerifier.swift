import Foundation
import Synchronization

/// Authenticates callers by their v4.public tokens: picks the key by the footer's key id, checks
/// the signature with the audience as implicit assertion, then the claims, the times and whether
/// the issuer may assert the role. Verified tokens are cached until they expire.
///
/// Thread-safe: one verifier serves every connection. `reloadKeySet()` (on SIGHUP) swaps the key
/// set and empties the cache in one step; a verification under way finishes with the keys it
/// started with and does not cache its result.
public final class TokenVerifier: Sendable {
    /// The service tokens must be for; bound as the implicit assertion and compared with `aud`.
    public let audience: String
    /// Leeway for clocks that disagree, applied to `exp`, `nbf`, `iat` and key validity windows.
    public let clockSkew: TimeInterval
    /// Tokens longer than this many bytes are refused before any parsing.
    public let maxTokenLength: Int
    /// Footers longer than this many bytes are refused before parsing their JSON.
    public static let maxFooterLength = 512

    private struct State: ~Copyable {
        var keySet: KeySet
        var generation: UInt64
        var cache: VerifiedTokenCache
    }

    private let state: Mutex<State>
    private let audienceBytes: [UInt8]

    /// Makes a verifier.
    /// - Parameters:
    ///   - keySet: the trusted keys.
    ///   - audience: this service's name, e.g. `"aftersale"`.
    ///   - clockSkew: seconds of leeway on every time check.
    ///   - cacheCapacity: verified tokens kept; 0 turns the cache off.
    ///   - maxTokenLength: bytes; longer tokens are refused unread.
    public init(keySet: KeySet, audience: String, clockSkew: TimeInterval = 30,
                cacheCapacity: Int = 10_000, maxTokenLength: Int = 4096) {
        self.audience = audience
        self.audienceBytes = Array(audience.utf8)
        self.clockSkew = max(0, clockSkew)
        self.maxTokenLength = maxTokenLength
        self.state = Mutex(State(keySet: keySet, generation: 0, cache: VerifiedTokenCache(capacity: cacheCapacity)))
    }

    /// The key set in force.
    public var keySet: KeySet { state.withLock { $0.keySet } }

    /// How many verified tokens are cached.
    public var cachedTokenCount: Int { state.withLock { $0.cache.count } }

    /// Puts `keySet` in force and empties the cache, atomically for concurrent verifications.
    public func replaceKeySet(_ keySet: KeySet) {
        state.withLock { state in
            state.keySet = keySet
            state.generation &+= 1
            state.cache.removeAll()
        }
    }

    /// Re-reads the key set from the file it was loaded from and puts it in force. On error the
    /// old set stays in force (a bad edit must not lock every caller out).
    /// - Returns: the new key set.
    /// - Throws: `KeyFileError` when the set has no source file or the file is unreadable or invalid.
    @discardableResult
    public func reloadKeySet() throws(KeyFileError) -> KeySet {
        guard let path = keySet.sourcePath else {
            throw KeyFileError(path: nil, reason: "the key set was not loaded from a file, so it cannot be reloaded")
        }
        let fresh = try KeySet.load(path: path)
        replaceKeySet(fresh)
        return fresh
    }

    /// Verifies a token: exact prefix, size bound, key id known locally, signature, claims, times,
    /// role, in that order.
    /// - Parameters:
    ///   - token: the text after `Bearer `.
    ///   - now: the current time (a parameter so tests can travel in time).
    /// - Throws: `TokenError`, one case per kind of refusal.
    public func verify(_ token: String, now: Date = Date()) throws(TokenError) -> VerifiedClaims {
        let skew = clockSkew
        let (cached, keySet, generation) = state.withLock { state in
            (state.cache.lookup(token, now: now, skew: skew), state.keySet, state.generation)
        }
        if let cached { return cached }

        guard token.utf8.count <= maxTokenLength else { throw .malformed("token longer than \(maxTokenLength) bytes") }
        let parts = try PASETOv4Public.parse(token)
        let keyID = try Self.keyID(fromFooter: parts.footer)
        guard let key = keySet[keyID], key.isLive(at: now, skew: skew) else { throw .unknownKey(keyID: keyID) }

        guard PASETOv4Public.isValid(parts, implicitAssertion: audienceBytes, key: key.publicKey) else {
            throw diagnoseBadSignature(parts, key: key)
        }
        let claims = try TokenClaims(jsonBytes: parts.message)
        guard claims.issuer == key.issuer else { throw .wrongIssuer(keyID: keyID, issuer: claims.issuer) }
        if let claimed = claims.audience, claimed != audience { throw .wrongAudience(claimed) }
        guard now.addingTimeInterval(-skew) < claims.expiresAt else { throw .expired }
        let validFrom = max(claims.notBefore ?? claims.issuedAt, claims.issuedAt)
        guard now.addingTimeInterval(skew) >= validFrom else { throw .notYetValid }
        if let role = claims.role, !key.allows(role: role) { throw .roleNotAllowed(role: role, issuer: key.issuer) }

        let verified = VerifiedClaims(claims: claims, keyID: keyID, allowedMethods: key.methods)
        let entry = VerifiedTokenCache.Entry(
            claims: verified,
            validFrom: max(validFrom, key.notBefore ?? validFrom),
            validUntil: min(claims.expiresAt, key.notAfter ?? claims.expiresAt))
        state.withLock { state in
            // A reload since we read the key set: this result may rest on a key now gone.
            if state.generation == generation { state.cache.insert(token, entry, now: now, skew: skew) }
        }
        return verified
    }

    /// The `kid` from a footer `{"kid":"…"}`. The footer is unauthenticated here: the id only picks
    /// a key from our own set, and the signature (which covers the footer) is checked next.
    static func keyID(fromFooter footer: [UInt8]) throws(TokenError) -> String {
        guard !footer.isEmpty else { throw .malformed("no footer, so no key id") }
        guard footer.count <= maxFooterLength else { throw .malformed("footer longer than \(maxFooterLength) bytes") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(footer))) as? [String: Any],
              let keyID = object["kid"] as? String, !keyID.isEmpty else {
            throw .malformed("footer is not a JSON object with a \"kid\" string")
        }
        return keyID
    }

    /// A signature that fails for our audience may be a genuine token for another service. Only
    /// when its `aud` claim names another audience and the signature verifies with that audience
    /// as implicit assertion do we say `wrongAudience`: a verified fact, not a guess from
    /// unauthenticated bytes. It costs a second verification, on failures only.
    private func diagnoseBadSignature(_ parts: PASETOv4Public.Parts, key: KeySet.Key) -> TokenError {
        guard let claimed = (try? TokenClaims(jsonBytes: parts.message))?.audience, claimed != audience,
              PASETOv4Public.isValid(parts, implicitAssertion: Array(claimed.utf8), key: key.publicKey) else {
            return .badSignature
        }
        return .wrongAudience(claimed)
    }
}
