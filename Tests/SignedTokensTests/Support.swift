import Foundation
import SignedTokens
import Testing

/// Shared keys, key set and clock for the verifier tests.
struct Fixture {
    static let audience = "aftersale"
    static let issuer = "identity"

    let previous: Ed25519PrivateKey
    let current: Ed25519PrivateKey
    let stranger: Ed25519PrivateKey
    let keySet: KeySet
    /// 2026-11-05T10:00:00Z.
    let now = Date(timeIntervalSince1970: 1_793_872_800)

    init() throws {
        previous = try Ed25519PrivateKey.generate()
        current = try Ed25519PrivateKey.generate()
        stranger = try Ed25519PrivateKey.generate()
        keySet = try KeySet(keys: [
            KeySet.Key(keyID: "2026-10", issuer: Self.issuer, publicKey: previous.publicKey, roles: ["buyer", "merchant"]),
            KeySet.Key(keyID: "2026-11", issuer: Self.issuer, publicKey: current.publicKey, roles: ["buyer", "merchant"]),
            KeySet.Key(keyID: "ops", issuer: "ops-console", publicKey: stranger.publicKey, roles: ["*"],
                       notBefore: Date(timeIntervalSince1970: 1_790_000_000), notAfter: Date(timeIntervalSince1970: 1_793_000_000)),
        ])
    }

    func minter(keyID: String = "2026-11", key: Ed25519PrivateKey? = nil, issuer: String = Fixture.issuer,
                audience: String = Fixture.audience) -> TokenMinter {
        TokenMinter(keyID: keyID, issuer: issuer, privateKey: key ?? current, audience: audience)
    }

    func verifier(cacheCapacity: Int = 100) -> TokenVerifier {
        TokenVerifier(keySet: keySet, audience: Self.audience, clockSkew: 30, cacheCapacity: cacheCapacity)
    }

    /// A buyer token from the current key, valid for five minutes from `now`.
    func buyerToken() throws -> String {
        try minter().mint(subject: "user-42", role: "buyer", shop: "shop-7", team: "team-3", lifetime: 300, now: now)
    }
}

/// "0a1b…" → bytes; nil on an odd count or a non-hex digit.
func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
        out.append(byte)
    }
    return out
}

/// A fresh empty directory under the system's temporary directory.
func temporaryDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "signed-tokens-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
