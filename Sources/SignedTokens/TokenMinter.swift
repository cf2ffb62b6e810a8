import COpenSSL
import Foundation

/// Signs caller tokens: v4.public with the key id in the footer and the audience bound as the
/// implicit assertion (and repeated in `aud`, so a token sent to the wrong service is refused as
/// `wrongAudience` rather than as a bad signature).
public struct TokenMinter: Sendable {
    /// The id verifiers look the public key up by.
    public let keyID: String
    /// `iss` of every token minted.
    public let issuer: String
    /// The service the tokens are for.
    public let audience: String
    private let privateKey: Ed25519PrivateKey

    /// Makes a minter.
    public init(keyID: String, issuer: String, privateKey: Ed25519PrivateKey, audience: String) {
        self.keyID = keyID
        self.issuer = issuer
        self.privateKey = privateKey
        self.audience = audience
    }

    /// Mints a token for `subject`, valid from `now` for `lifetime` seconds, with a random `jti`.
    /// - Throws: `KeyError` when OpenSSL cannot sign or find randomness.
    public func mint(subject: String, role: String? = nil, shop: String? = nil, team: String? = nil,
                     lifetime: TimeInterval = 300, now: Date = Date()) throws(KeyError) -> String {
        var nonce = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&nonce, Int32(nonce.count)) == 1 else { throw KeyError.openSSL("no randomness for jti") }
        let claims = TokenClaims(issuer: issuer, subject: subject, audience: audience, issuedAt: now, notBefore: now,
                                 expiresAt: now.addingTimeInterval(lifetime), role: role, shop: shop, team: team,
                                 tokenID: Base64URL.encode(nonce))
        return try mint(claims)
    }

    /// Signs `claims` as they are (the caller chose issuer and audience claims; the implicit
    /// assertion is still this minter's audience).
    /// - Throws: `KeyError` when OpenSSL cannot sign.
    public func mint(_ claims: TokenClaims) throws(KeyError) -> String {
        try PASETOv4Public.sign(message: claims.jsonBytes(), footer: Self.footer(keyID: keyID),
                                implicitAssertion: Array(audience.utf8), with: privateKey)
    }

    /// `{"kid":"…"}` with the id JSON-escaped.
    static func footer(keyID: String) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: ["kid": keyID], options: [.withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }
}
