/// Why a token was refused. Every case is a distinct refusal the caller can act on.
///
/// All cases but `roleNotAllowed` mean "we do not know who you are" (gRPC `UNAUTHENTICATED`);
/// `roleNotAllowed` means "we know who signed this, and they may not say that"
/// (gRPC `PERMISSION_DENIED`). `isAuthenticationFailure` says which.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a well-formed v4.public token of ours, or its claims are not well-formed.
    case malformed(String)
    /// The footer names a key id that is not in the key set, or whose validity window excludes now.
    case unknownKey(keyID: String)
    /// The signature does not verify with the named key (tampered, forged, or bound to another
    /// implicit assertion without saying so in `aud`).
    case badSignature
    /// `exp` is past (beyond the clock skew).
    case expired
    /// `nbf` or `iat` is in the future (beyond the clock skew).
    case notYetValid
    /// The token is genuinely signed, but for another audience (another service).
    case wrongAudience(String)
    /// The token's `iss` is not the issuer the key set lists for the key that signed it.
    case wrongIssuer(keyID: String, issuer: String)
    /// The issuer may not assert this role.
    case roleNotAllowed(role: String, issuer: String)

    /// True for refusals meaning "unauthenticated"; false for `roleNotAllowed` ("permission denied").
    public var isAuthenticationFailure: Bool {
        if case .roleNotAllowed = self { return false }
        return true
    }

    /// A message for logs and for the caller; never includes key material or the token itself.
    public var description: String {
        switch self {
        case .malformed(let reason): "malformed token: \(reason)"
        case .unknownKey(let keyID): "unknown or retired signing key \(Self.quoted(keyID))"
        case .badSignature: "the token's signature does not verify"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .wrongAudience(let audience): "the token is for audience \(Self.quoted(audience))"
        case .wrongIssuer(let keyID, let issuer):
            "key \(Self.quoted(keyID)) does not sign for issuer \(Self.quoted(issuer))"
        case .roleNotAllowed(let role, let issuer):
            "issuer \(Self.quoted(issuer)) may not assert role \(Self.quoted(role))"
        }
    }

    /// Quotes text that came from a token, cut short so a hostile token cannot flood a log line.
    static func quoted(_ text: String) -> String {
        let limit = 64
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return "\"" + shown.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined() + "\""
    }
}
