import Foundation
import SignedTokens
import Testing

@Suite("Verifying caller tokens: claims, refusals, tampering")
struct TokenVerifierTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture() }

    /// Re-signs `claims` with the current key: a genuine token with whatever claims a test needs.
    func token(_ claims: TokenClaims, keyID: String = "2026-11", audience: String = Fixture.audience) throws -> String {
        try fixture.minter(keyID: keyID, audience: audience).mint(claims)
    }

    func claims(issuer: String = Fixture.issuer, audience: String? = Fixture.audience, role: String? = "buyer") -> TokenClaims {
        TokenClaims(issuer: issuer, subject: "user-42", audience: audience, issuedAt: fixture.now,
                    expiresAt: fixture.now.addingTimeInterval(300), role: role)
    }

    // MARK: Acceptance

    @Test("a minted token verifies and gives back every claim")
    func mintThenVerify() throws {
        let verified = try fixture.verifier().verify(try fixture.buyerToken(), now: fixture.now)
        #expect(verified.keyID == "2026-11")
        #expect(verified.issuer == "identity")
        #expect(verified.subject == "user-42")
        #expect(verified.role == "buyer")
        #expect(verified.shop == "shop-7")
        #expect(verified.team == "team-3")
        #expect(verified.claims.audience == "aftersale")
        #expect(verified.claims.issuedAt == fixture.now)
        #expect(verified.expiresAt == fixture.now.addingTimeInterval(300))
        #expect(verified.claims.tokenID?.count == 22)
    }

    @Test("a token without aud still verifies, the implicit assertion binding the audience")
    func audienceClaimIsOptional() throws {
        let verified = try fixture.verifier().verify(try token(claims(audience: nil)), now: fixture.now)
        #expect(verified.claims.audience == nil)
    }

    @Test("a token without a role verifies without a role check")
    func roleIsOptional() throws {
        #expect(try fixture.verifier().verify(try token(claims(role: nil)), now: fixture.now).role == nil)
    }

    @Test("clocks that disagree by less than the skew are tolerated at both ends")
    func clockSkewIsTolerated() throws {
        let token = try fixture.buyerToken()
        let verifier = fixture.verifier(cacheCapacity: 0)
        _ = try verifier.verify(token, now: fixture.now.addingTimeInterval(-29))
        _ = try verifier.verify(token, now: fixture.now.addingTimeInterval(300 + 29))
    }

    // MARK: Each refusal

    @Test("a key id missing from the key set is refused as unknownKey")
    func unknownKeyID() throws {
        let token = try fixture.minter(keyID: "2027-01").mint(subject: "user-42", now: fixture.now)
        #expect(throws: TokenError.unknownKey(keyID: "2027-01")) { try fixture.verifier().verify(token, now: fixture.now) }
    }

    @Test("a key outside its validity window is refused as unknownKey")
    func keyOutsideWindow() throws {
        let token = try fixture.minter(keyID: "ops", key: fixture.stranger, issuer: "ops-console")
            .mint(subject: "agent-1", role: "agent", now: fixture.now)
        #expect(throws: TokenError.unknownKey(keyID: "ops")) { try fixture.verifier().verify(token, now: fixture.now) }
        // Inside the key's window the same token gets past the key check (and is then too early).
        #expect(throws: TokenError.notYetValid) {
            try fixture.verifier().verify(token, now: Date(timeIntervalSince1970: 1_792_000_000))
        }
    }

    @Test("a token signed by another key under a known key id is refused as badSignature")
    func forgedSignature() throws {
        let token = try fixture.minter(key: fixture.stranger).mint(subject: "user-42", role: "buyer", now: fixture.now)
        #expect(throws: TokenError.badSignature) { try fixture.verifier().verify(token, now: fixture.now) }
    }

    @Test("a token past exp and the skew is refused as expired")
    func expiredToken() throws {
        let token = try fixture.buyerToken()
        #expect(throws: TokenError.expired) {
            try fixture.verifier().verify(token, now: fixture.now.addingTimeInterval(300 + 31))
        }
    }

    @Test("a token before nbf (or iat) and the skew is refused as notYetValid")
    func notYetValidToken() throws {
        let token = try fixture.buyerToken()
        #expect(throws: TokenError.notYetValid) {
            try fixture.verifier().verify(token, now: fixture.now.addingTimeInterval(-31))
        }
        var later = claims()
        later.notBefore = fixture.now.addingTimeInterval(120)
        #expect(throws: TokenError.notYetValid) { try fixture.verifier().verify(try self.token(later), now: fixture.now) }
    }

    @Test("a genuine token for another service is refused as wrongAudience")
    func tokenForAnotherService() throws {
        let token = try fixture.minter(audience: "billing").mint(subject: "user-42", role: "buyer", now: fixture.now)
        #expect(throws: TokenError.wrongAudience("billing")) { try fixture.verifier().verify(token, now: fixture.now) }
    }

    @Test("an aud claim contradicting the implicit assertion is refused as wrongAudience")
    func audienceClaimContradicts() throws {
        let token = try token(claims(audience: "billing"))
        #expect(throws: TokenError.wrongAudience("billing")) { try fixture.verifier().verify(token, now: fixture.now) }
    }

    @Test("a token bound to another implicit assertion without saying so in aud fails as badSignature")
    func silentOtherImplicitAssertion() throws {
        let token = try token(claims(audience: nil), audience: "billing")
        #expect(throws: TokenError.badSignature) { try fixture.verifier().verify(token, now: fixture.now) }
    }

    @Test("a role the issuer may not assert is refused as roleNotAllowed, a permission refusal")
    func roleBeyondIssuer() throws {
        let token = try fixture.minter().mint(subject: "user-42", role: "platform", now: fixture.now)
        let error = #expect(throws: TokenError.self) { try fixture.verifier().verify(token, now: fixture.now) }
        #expect(error == .roleNotAllowed(role: "platform", issuer: "identity"))
        #expect(error?.isAuthenticationFailure == false)
    }

    @Test("an iss other than the key's issuer is refused as wrongIssuer")
    func issuerDoesNotMatchKey() throws {
        let token = try token(claims(issuer: "ops-console"))
        #expect(throws: TokenError.wrongIssuer(keyID: "2026-11", issuer: "ops-console")) {
            try fixture.verifier().verify(token, now: fixture.now)
        }
    }

    @Test("malformed tokens are refused as malformed, whatever is wrong with them",
          arguments: [
              "", "Bearer x", "v4.local.AAAA", "v3.public.AAAA", "v4.public.", "v4.public.!!!!",
              "v4.public.AAAA", "v4.public.AAAA.AAAA.AAAA", "V4.PUBLIC.AAAA",
              "v4.public." + String(repeating: "A", count: 5000),
          ])
    func malformedToken(text: String) throws {
        let error = #expect(throws: TokenError.self) { try fixture.verifier().verify(text, now: fixture.now) }
        guard case .malformed = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
    }

    @Test("footers without a usable key id are refused as malformed")
    func footerWithoutKeyID() throws {
        let message = claims().jsonBytes()
        for footer in ["", "not json", "{\"key\":\"2026-11\"}", "{\"kid\":7}", "{\"kid\":\"\"}", "[\"2026-11\"]"] {
            let token = try PASETOv4Public.sign(message: message, footer: Array(footer.utf8),
                                                implicitAssertion: Array("aftersale".utf8), with: fixture.current)
            let error = #expect(throws: TokenError.self) { try fixture.verifier().verify(token, now: fixture.now) }
            guard case .malformed = error else {
                Issue.record("footer \(footer): expected malformed, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test("genuinely signed but malformed claims are refused as malformed, never a crash")
    func malformedClaims() throws {
        let payloads = [
            "not json", "[]", "\"string\"", "{}", "{\"iss\":\"identity\"}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:00:00Z\"}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:00:00Z\",\"exp\":\"tomorrow\"}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:00:00Z\",\"exp\":\"2026-02-30T10:00:00Z\"}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:00:00Z\",\"exp\":1793873100}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:00:00Z\",\"exp\":\"2026-11-05T10:05:00Z\",\"role\":7}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:00:00Z\",\"exp\":\"2026-11-05T10:05:00Z\",\"shop\":null}",
            "{\"iss\":\"identity\",\"sub\":\"u\",\"iat\":\"2026-11-05T10:05:00Z\",\"exp\":\"2026-11-05T10:00:00Z\"}",
        ]
        for payload in payloads {
            let token = try PASETOv4Public.sign(message: Array(payload.utf8), footer: Array("{\"kid\":\"2026-11\"}".utf8),
                                                implicitAssertion: Array("aftersale".utf8), with: fixture.current)
            let error = #expect(throws: TokenError.self) { try fixture.verifier().verify(token, now: fixture.now) }
            guard case .malformed = error else {
                Issue.record("payload \(payload): expected malformed, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test("every refusal but roleNotAllowed counts as an authentication failure")
    func refusalClasses() {
        let unauthenticated: [TokenError] = [
            .malformed("x"), .unknownKey(keyID: "k"), .badSignature, .expired, .notYetValid, .wrongAudience("a"),
            .wrongIssuer(keyID: "k", issuer: "i"),
        ]
        #expect(unauthenticated.allSatisfy { $0.isAuthenticationFailure })
        #expect(!TokenError.roleNotAllowed(role: "r", issuer: "i").isAuthenticationFailure)
    }

    // MARK: Tampering

    @Test("changing any one byte of the signed payload breaks the signature")
    func tamperedPayloadByte() throws {
        let token = try fixture.buyerToken()
        let body = token.dropFirst("v4.public.".count).split(separator: ".")
        let payload = try #require(Base64URL.decode(String(body[0])))
        let verifier = fixture.verifier(cacheCapacity: 0)
        // Every byte of the message and of the signature, one at a time.
        for index in payload.indices {
            var tampered = payload
            tampered[index] ^= 0x01
            let forged = "v4.public." + Base64URL.encode(tampered) + "." + body[1]
            let error = #expect(throws: TokenError.self) { try verifier.verify(forged, now: fixture.now) }
            #expect(error == .badSignature, "byte \(index) of \(payload.count)")
        }
    }

    @Test("changing the footer's key id to another known key breaks the signature")
    func tamperedFooter() throws {
        let token = try fixture.buyerToken()
        let parts = token.split(separator: ".")
        let otherFooter = Base64URL.encode(Array("{\"kid\":\"2026-10\"}".utf8))
        let swapped = parts[0...2].joined(separator: ".") + "." + otherFooter
        #expect(throws: TokenError.badSignature) { try fixture.verifier().verify(swapped, now: fixture.now) }
    }

    @Test("a token re-spelled with non-canonical base64url is refused")
    func nonCanonicalEncoding() throws {
        let token = try fixture.buyerToken()
        let parts = token.split(separator: ".")
        // The last character of the footer carries unused low bits; setting one re-spells the same bytes.
        var footer = Array(parts[3].utf8)
        let last = try #require(footer.last)
        footer[footer.count - 1] = last == UInt8(ascii: "9") ? UInt8(ascii: "-") : last + 1
        let respelled = parts[0...2].joined(separator: ".") + "." + String(decoding: footer, as: UTF8.self)
        #expect(throws: TokenError.self) { try fixture.verifier().verify(respelled, now: fixture.now) }
    }
}
