import AfterSaleDomain
import Foundation
import RPCServer
import RPCWire
import SignedTokens

/// Authenticates callers by the signed token in `authorization: Bearer <token>`: a PASETO
/// `v4.public` token verified by ``TokenVerifier`` (key id from the footer, this service's name as
/// the implicit assertion, times, the roles the issuer may assert), turned into a principal.
///
/// The claims become the principal this way: `role` is the ``ActorRole`` (required), `sub` the id,
/// and for a merchant `shop` the shop it acts for (`sub` when absent); `team` travels in the
/// ``Authentication`` beside the principal.
public struct TokenAuthenticator: Authenticator {
    /// The verifier, shared by every call (it holds the key set and the cache of verified tokens).
    public let verifier: TokenVerifier
    /// The clock the verifier's time checks use.
    private let now: @Sendable () -> Date

    /// An authenticator verifying with `verifier`; `now` is a parameter so tests can travel in time.
    public init(verifier: TokenVerifier, now: @escaping @Sendable () -> Date = { Date() }) {
        self.verifier = verifier
        self.now = now
    }

    public var missingCredentialsMessage: String {
        "\(CallerMetadata.authorization) metadata is required: Bearer <v4.public token>"
    }

    public func authenticate(_ context: ServerContext) throws(RPCError) -> Authentication? {
        // One pass, no arrays: this runs on every call.
        var header: String?
        var count = 0
        for entry in context.metadata where entry.key == CallerMetadata.authorization {
            if header == nil { header = entry.value }
            count += 1
        }
        guard let header else { return nil }
        guard count == 1 else {
            throw RPCError(.unauthenticated, "\(CallerMetadata.authorization) metadata must appear once, not \(count) times")
        }
        let token = try Self.bearerToken(header)
        let claims: VerifiedClaims
        do {
            claims = try verifier.verify(token, now: now())
        } catch {
            throw RPCError(error.isAuthenticationFailure ? .unauthenticated : .permissionDenied, error.description)
        }
        return try Self.authentication(from: claims)
    }

    /// The token of an `authorization` value: `Bearer` (any case), spaces, the token.
    /// - Throws: `UNAUTHENTICATED` for another scheme or an empty token.
    static func bearerToken(_ header: String) throws(RPCError) -> String {
        let utf8 = header.utf8
        let schemeEnd = utf8.firstIndex(of: UInt8(ascii: " ")) ?? utf8.endIndex
        let isBearer = utf8.distance(from: utf8.startIndex, to: schemeEnd) == 6
            && zip(utf8[..<schemeEnd], "bearer".utf8).allSatisfy { $0 | 0x20 == $1 }
        let token = header[schemeEnd...].drop { $0 == " " }
        guard isBearer, !token.isEmpty else {
            throw RPCError(.unauthenticated, "\(CallerMetadata.authorization) metadata must be \"Bearer <token>\"")
        }
        return String(token)
    }

    /// The principal and team the verified claims name.
    /// - Throws: `UNAUTHENTICATED` when the token has no role, a role this service does not know,
    ///   or a malformed subject or shop.
    static func authentication(from claims: VerifiedClaims) throws(RPCError) -> Authentication {
        guard let roleText = claims.role else {
            throw RPCError(.unauthenticated, "the token carries no role claim")
        }
        guard let role = ActorRole(rawValue: roleText) else {
            let allowed = ActorRole.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError(.unauthenticated, "the token's role must be one of \(allowed), got \"\(roleText.prefix(64))\"")
        }
        // A shop acting as itself is a principal without a separate shop, whichever way the token says it.
        let shop = role == .merchant && claims.shop != claims.subject ? claims.shop : nil
        let principal = Principal(role: role, id: claims.subject, shopID: shop)
        do {
            try principal.validate()
        } catch {
            guard case .invalidArgument(let field, let message) = error else { throw RPCError(.unauthenticated, "the token's claims are malformed") }
            throw RPCError(.unauthenticated, "the token's \(field == "principal.shop_id" ? "shop" : "sub") claim is malformed: \(message)")
        }
        return Authentication(principal: principal, team: claims.team,
                              source: .token(issuer: claims.issuer, keyID: claims.keyID, tokenID: claims.claims.tokenID),
                              allowedMethods: claims.allowedMethods)
    }
}
