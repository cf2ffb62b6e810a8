import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import Foundation
import RPCServer
import RPCWire
import SignedTokens
import Testing

/// The identity interceptor of a server that trusts signed tokens: every refusal the issue lists,
/// through the same interceptor chain the server runs, without sockets.
@Suite("Authenticating callers by signed tokens")
struct TokenAuthenticationTests {
    static let audience = "aftersale"
    /// 2026-11-05T10:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_793_872_800)

    let gateway: Ed25519PrivateKey
    let portal: Ed25519PrivateKey
    let stranger: Ed25519PrivateKey
    let verifier: TokenVerifier

    init() throws {
        gateway = try Ed25519PrivateKey.generate()
        portal = try Ed25519PrivateKey.generate()
        stranger = try Ed25519PrivateKey.generate()
        verifier = TokenVerifier(keySet: try KeySet(keys: [
            KeySet.Key(keyID: "gw-1", issuer: "gateway", publicKey: gateway.publicKey, roles: ["*"]),
            // The merchant portal may speak for merchants only.
            KeySet.Key(keyID: "portal-1", issuer: "merchant-portal", publicKey: portal.publicKey, roles: ["merchant"]),
        ]), audience: Self.audience)
    }

    func interceptor(acceptStatedIdentity: Bool = false) -> IdentityInterceptor {
        var authenticators: [any Authenticator] = [TokenAuthenticator(verifier: verifier, now: { Self.now })]
        authenticators.append(acceptStatedIdentity ? MetadataAuthenticator() : StatedIdentityRefusal())
        return IdentityInterceptor(authenticators: authenticators, publicServices: ServiceHost.publicServices)
    }

    func gatewayMinter(audience: String = Self.audience) -> TokenMinter {
        TokenMinter(keyID: "gw-1", issuer: "gateway", privateKey: gateway, audience: audience)
    }

    func token(_ role: String?, _ subject: String = "b-1", shop: String? = nil, team: String? = nil,
               minter: TokenMinter? = nil, issuedAt: Date = Self.now, lifetime: TimeInterval = 300) throws -> String {
        try (minter ?? gatewayMinter()).mint(subject: subject, role: role, shop: shop, team: team, lifetime: lifetime, now: issuedAt)
    }

    func intercept(_ metadata: Metadata, acceptStatedIdentity: Bool = false,
                   method: RPCMethodInfo = AfterSaleService.getAfterSale.info) throws(RPCError) -> ServerContext {
        var context = ServerContext(method: method, callID: 1, metadata: metadata, deadlineNanos: nil, peer: "test")
        try interceptor(acceptStatedIdentity: acceptStatedIdentity).intercept(&context)
        return context
    }

    func bearer(_ token: String) -> Metadata { [CallerMetadata.authorization: "Bearer " + token] }

    /// The status a call with `metadata` is refused with; records an issue when it is accepted.
    func refusal(_ metadata: Metadata, acceptStatedIdentity: Bool = false) -> RPCError? {
        do {
            _ = try intercept(metadata, acceptStatedIdentity: acceptStatedIdentity)
            Issue.record("accepted \(metadata)")
            return nil
        } catch {
            return error
        }
    }

    @Test("a valid token becomes the principal; the agent's team and the signing key travel beside it")
    func accepted() throws {
        let context = try intercept(bearer(try token("agent", "a-7", team: "team-x")))
        #expect(try context.principal == Principal(role: .agent, id: "a-7"))
        let authentication = try #require(context[AuthenticationKey.self])
        #expect(authentication.team == "team-x")
        guard case .token(let issuer, let keyID, let tokenID) = authentication.source else {
            Issue.record("not a token: \(authentication.source)")
            return
        }
        #expect(issuer == "gateway" && keyID == "gw-1" && tokenID?.isEmpty == false)
    }

    @Test("a merchant acts for the token's shop; a shop acting as itself is the plain principal")
    func merchants() throws {
        let forShop = try intercept(bearer(try token("merchant", "m-1", shop: "s-9")))
        #expect(try forShop.principal == Principal(role: .merchant, id: "m-1", shopID: "s-9"))
        #expect(try forShop.principal.actingShopID == "s-9")
        let itself = try intercept(bearer(try token("merchant", "s-1", shop: "s-1")))
        #expect(try itself.principal == Principal.merchant("s-1"))
        let noShop = try intercept(bearer(try token("merchant", "s-2")))
        #expect(try noShop.principal.actingShopID == "s-2")
    }

    @Test("the scheme is case-insensitive and spaces after it are allowed")
    func scheme() throws {
        let t = try token("buyer")
        #expect(try intercept([CallerMetadata.authorization: "bearer  " + t]).principal == .buyer("b-1"))
    }

    @Test("a token whose key id is not in the key set is UNAUTHENTICATED")
    func unknownKey() throws {
        let minter = TokenMinter(keyID: "gw-9", issuer: "gateway", privateKey: gateway, audience: Self.audience)
        let error = refusal(bearer(try token("buyer", minter: minter)))
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == #"unknown or retired signing key "gw-9""#, "\(error?.message ?? "")")
    }

    @Test("a token signed by another key under a known key id is UNAUTHENTICATED")
    func badSignature() throws {
        let forged = TokenMinter(keyID: "gw-1", issuer: "gateway", privateKey: stranger, audience: Self.audience)
        let error = refusal(bearer(try token("platform", minter: forged)))
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == "the token's signature does not verify", "\(error?.message ?? "")")
    }

    @Test("an expired token is UNAUTHENTICATED")
    func expired() throws {
        let error = refusal(bearer(try token("buyer", issuedAt: Self.now.addingTimeInterval(-3_600), lifetime: 600)))
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == "the token has expired", "\(error?.message ?? "")")
    }

    @Test("a token not valid yet is UNAUTHENTICATED")
    func notYetValid() throws {
        let error = refusal(bearer(try token("buyer", issuedAt: Self.now.addingTimeInterval(600))))
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == "the token is not valid yet", "\(error?.message ?? "")")
    }

    @Test("a token for another service is UNAUTHENTICATED")
    func wrongAudience() throws {
        let error = refusal(bearer(try token("buyer", minter: gatewayMinter(audience: "billing"))))
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == #"the token is for audience "billing""#, "\(error?.message ?? "")")
    }

    @Test("malformed tokens and authorization values are UNAUTHENTICATED", arguments: [
        "Bearer v4.public.not-a-token",
        "Bearer v2.public.eyJzdWIiOiJ4In0",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "v4.public.eyJzdWIiOiJ4In0",
    ])
    func malformed(_ value: String) {
        let error = refusal([CallerMetadata.authorization: value])
        #expect(error?.code == .unauthenticated, "\(value): \(String(describing: error))")
    }

    @Test("two authorization values are UNAUTHENTICATED, whichever comes first")
    func twice() throws {
        var metadata = Metadata()
        metadata.add(CallerMetadata.authorization, "Bearer " + (try token("buyer")))
        metadata.add(CallerMetadata.authorization, "Bearer " + (try token("platform")))
        #expect(refusal(metadata)?.code == .unauthenticated)
    }

    @Test("a role its issuer may not assert is PERMISSION_DENIED")
    func roleNotAllowed() throws {
        let minter = TokenMinter(keyID: "portal-1", issuer: "merchant-portal", privateKey: portal, audience: Self.audience)
        #expect(try intercept(bearer(try token("merchant", "s-1", minter: minter))).principal == .merchant("s-1"))
        let error = refusal(bearer(try token("platform", "p-1", minter: minter)))
        #expect(error?.code == .permissionDenied)
        #expect(error?.message == #"issuer "merchant-portal" may not assert role "platform""#, "\(error?.message ?? "")")
    }

    @Test("a token without a role, or with a role this service does not know, is UNAUTHENTICATED")
    func roles() throws {
        #expect(refusal(bearer(try token(nil)))?.message == "the token carries no role claim")
        let unknown = refusal(bearer(try token("emperor")))
        #expect(unknown?.code == .unauthenticated)
        #expect(unknown?.message.hasPrefix("the token's role must be one of buyer, merchant") == true)
    }

    @Test("a verified token is cached: the second call with it costs no signature check")
    func cached() throws {
        let t = try token("buyer")
        _ = try intercept(bearer(t))
        #expect(verifier.cachedTokenCount == 1)
        _ = try intercept(bearer(t))
        #expect(verifier.cachedTokenCount == 1)
    }

    @Test("without --insecure-dev-principals a stated identity is refused, saying what to send")
    func statedRefused() {
        let error = refusal([CallerMetadata.role: "platform", CallerMetadata.id: "p-1"])
        #expect(error?.code == .unauthenticated)
        #expect(error?.message.contains("--insecure-dev-principals") == true)
        #expect(error?.message.contains("authorization: Bearer") == true)
    }

    @Test("with --insecure-dev-principals a stated identity is accepted, and a token still wins over it")
    func statedAccepted() throws {
        let stated = try intercept([CallerMetadata.role: "platform", CallerMetadata.id: "p-1"], acceptStatedIdentity: true)
        #expect(try stated.principal == .platform("p-1"))
        #expect(stated[AuthenticationKey.self]?.source == .statedMetadata)
        var both = bearer(try token("buyer", "b-3"))
        both.add(CallerMetadata.role, "platform")
        both.add(CallerMetadata.id, "p-1")
        #expect(try intercept(both, acceptStatedIdentity: true).principal == .buyer("b-3"))
    }

    @Test("a call without credentials is told to send a bearer token; public services need none")
    func missing() throws {
        let error = refusal(Metadata())
        #expect(error?.code == .unauthenticated)
        #expect(error?.message == "authorization metadata is required: Bearer <v4.public token>", "\(error?.message ?? "")")
        let health = try intercept(Metadata(), method: Health.check.info)
        #expect(health[PrincipalKey.self] == nil)
    }
}
