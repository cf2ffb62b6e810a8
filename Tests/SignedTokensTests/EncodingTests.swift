import Foundation
import SignedTokens
import Testing

@Suite("Base64url and RFC 3339, the encodings inside a token")
struct EncodingTests {
    @Test("base64url encodes without padding as RFC 4648 section 10 shows, with the url-safe alphabet")
    func base64Encodes() {
        let cases = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test("base64url decoding refuses padding, other alphabets, stray characters and non-canonical endings",
          arguments: ["Zg==", "Zm8=", "+/8", "Zm 9v", "Z", "Zh", "Zm9", "Zm\n9v", "é"])
    func base64Refuses(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("RFC 3339 parses UTC, offsets and fractions to the same instant")
    func rfc3339Parses() throws {
        let utc = try #require(RFC3339.parse("2026-11-05T10:00:00Z"))
        #expect(utc.timeIntervalSince1970 == 1_793_872_800)
        #expect(RFC3339.parse("2026-11-05T18:00:00+08:00") == utc)
        #expect(RFC3339.parse("2026-11-05t09:30:00-00:30") == utc)
        #expect(RFC3339.parse("2026-11-05T10:00:00.250Z") == utc.addingTimeInterval(0.25))
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        #expect(RFC3339.format(utc) == "2026-11-05T10:00:00+00:00")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00+00:00")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59+00:00")
        let vectorExp = try #require(RFC3339.parse("2022-01-01T00:00:00+00:00"))
        #expect(RFC3339.format(vectorExp) == "2022-01-01T00:00:00+00:00")
    }

    @Test("RFC 3339 refuses impossible and sloppy date-times", arguments: [
        "", "2026-11-05", "2026-11-05T10:00:00", "2026-11-05 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-05T24:00:00Z", "2026-11-05T10:60:00Z",
        "2026-11-05T10:00:00+0800", "2026-11-05T10:00:00.Z", "2026-11-05T10:00:00Zjunk", "+2026-11-05T10:00:00Z",
    ])
    func rfc3339Refuses(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test("claims serialize and parse back unchanged")
    func claimsRoundTrip() throws {
        let claims = TokenClaims(issuer: "identity", subject: "user/42", audience: "aftersale",
                                 issuedAt: Date(timeIntervalSince1970: 1_793_872_800.9),
                                 notBefore: Date(timeIntervalSince1970: 1_793_872_800), expiresAt: Date(timeIntervalSince1970: 1_793_873_100),
                                 role: "buyer", shop: "店铺-7", team: "t\"3", tokenID: "abc")
        #expect(try TokenClaims(jsonBytes: claims.jsonBytes()) == claims)
        #expect(claims.issuedAt.timeIntervalSince1970 == 1_793_872_800)
    }
}
