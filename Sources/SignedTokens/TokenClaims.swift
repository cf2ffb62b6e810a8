import Foundation

/// The claims a caller token carries: PASETO's registered claims plus who the caller is
/// (role, shop, team) as plain strings. The module gives them no business meaning.
public struct TokenClaims: Sendable, Equatable {
    /// `iss`: who signed the token; must be the issuer the key set lists for the signing key.
    public var issuer: String
    /// `sub`: the caller (a user, an agent, a system principal).
    public var subject: String
    /// `aud`: the service the token is for. Optional because the implicit assertion binds it
    /// anyway; when present it must equal the verifier's audience.
    public var audience: String?
    /// `iat`: when the token was issued.
    public var issuedAt: Date
    /// `nbf`: not valid before this instant; `issuedAt` when absent.
    public var notBefore: Date?
    /// `exp`: not valid from this instant on.
    public var expiresAt: Date
    /// The caller's role, checked against the roles the issuer may assert.
    public var role: String?
    /// The shop the caller acts for.
    public var shop: String?
    /// The team the caller belongs to.
    public var team: String?
    /// `jti`: a unique token id, for logs and revocation lists.
    public var tokenID: String?

    /// Makes claims; times are kept to whole seconds, as they travel.
    public init(
        issuer: String, subject: String, audience: String? = nil, issuedAt: Date, notBefore: Date? = nil,
        expiresAt: Date, role: String? = nil, shop: String? = nil, team: String? = nil, tokenID: String? = nil
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.issuedAt = Self.wholeSeconds(issuedAt)
        self.notBefore = notBefore.map(Self.wholeSeconds)
        self.expiresAt = Self.wholeSeconds(expiresAt)
        self.role = role
        self.shop = shop
        self.team = team
        self.tokenID = tokenID
    }

    /// The largest claims payload accepted, in bytes.
    public static let maxPayloadBytes = 4096

    /// The claims as the JSON object that is signed (keys sorted, so the same claims always give
    /// the same bytes).
    public func jsonBytes() -> [UInt8] {
        var object: [String: String] = [
            "iss": issuer, "sub": subject,
            "iat": RFC3339.format(issuedAt), "exp": RFC3339.format(expiresAt),
        ]
        object["aud"] = audience
        object["nbf"] = notBefore.map(RFC3339.format)
        object["role"] = role
        object["shop"] = shop
        object["team"] = team
        object["jti"] = tokenID
        // A [String: String] always serializes; the fallback only keeps this total.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }

    /// Parses a claims payload strictly: a JSON object; `iss`, `sub`, `iat`, `exp` present;
    /// every claim named here, when present, a string of the right form. Other claims are
    /// ignored, as PASETO allows.
    /// - Throws: `TokenError.malformed` saying which claim is wrong.
    public init(jsonBytes: [UInt8]) throws(TokenError) {
        guard jsonBytes.count <= Self.maxPayloadBytes else { throw .malformed("claims exceed \(Self.maxPayloadBytes) bytes") }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(jsonBytes)),
              let object = parsed as? [String: Any] else {
            throw .malformed("claims are not a JSON object")
        }
        func string(_ name: String, required: Bool) throws(TokenError) -> String? {
            guard let value = object[name] else {
                if required { throw .malformed("claim \(name) is missing") }
                return nil
            }
            guard let text = value as? String, !text.isEmpty, text.utf8.count <= 1024 else {
                throw .malformed("claim \(name) is not a non-empty string")
            }
            return text
        }
        func time(_ name: String, required: Bool) throws(TokenError) -> Date? {
            guard let text = try string(name, required: required) else { return nil }
            guard let date = RFC3339.parse(text) else { throw .malformed("claim \(name) is not an RFC 3339 date-time") }
            return date
        }
        // `required: true` makes these non-nil; the `?? ""` only satisfies the type checker.
        self.issuer = try string("iss", required: true) ?? ""
        self.subject = try string("sub", required: true) ?? ""
        self.audience = try string("aud", required: false)
        self.issuedAt = try time("iat", required: true) ?? Date(timeIntervalSince1970: 0)
        self.notBefore = try time("nbf", required: false)
        self.expiresAt = try time("exp", required: true) ?? Date(timeIntervalSince1970: 0)
        self.role = try string("role", required: false)
        self.shop = try string("shop", required: false)
        self.team = try string("team", required: false)
        self.tokenID = try string("jti", required: false)
        guard expiresAt > issuedAt else { throw .malformed("exp is not after iat") }
    }

    static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}

/// Claims whose token verified: the signature, the key, the audience, the times and the role.
public struct VerifiedClaims: Sendable, Equatable {
    /// The claims as signed.
    public let claims: TokenClaims
    /// The key id from the footer that picked the verifying key.
    public let keyID: String
    /// The methods the verifying key allows (nil: any the role may call).
    public let allowedMethods: Set<String>?

    /// Pairs claims with the key id that verified them and the methods that key allows.
    public init(claims: TokenClaims, keyID: String, allowedMethods: Set<String>? = nil) {
        self.claims = claims
        self.keyID = keyID
        self.allowedMethods = allowedMethods
    }

    /// Whether the verifying key lets these claims call the method at `path`.
    public func allows(method path: String) -> Bool { MethodPatterns.allow(allowedMethods, path) }

    /// `iss`.
    public var issuer: String { claims.issuer }
    /// `sub`.
    public var subject: String { claims.subject }
    /// The asserted role, if any.
    public var role: String? { claims.role }
    /// The shop, if any.
    public var shop: String? { claims.shop }
    /// The team, if any.
    public var team: String? { claims.team }
    /// `exp`.
    public var expiresAt: Date { claims.expiresAt }
}
