import Foundation
import SignedTokens
import Testing

/// The official PASETO v4 test vectors (paseto-standard/test-vectors, v4.json): the v4.public
/// cases and the cases that must fail, kept in Vectors/v4-public.json.
@Suite("PASETO v4.public against the official test vectors")
struct PASETOVectorTests {
    struct Vector: Sendable {
        let name: String
        let expectFail: Bool
        let publicKeyHex: String?
        let secretKeyHex: String?
        let seedHex: String?
        let secretKeyPEM: String?
        let publicKeyPEM: String?
        let token: String
        let payload: String?
        let footer: String
        let implicitAssertion: String
    }

    static let vectors: [Vector] = {
        guard let url = Bundle.module.url(forResource: "v4-public", withExtension: "json", subdirectory: "Vectors"),
              let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let tests = root["tests"] as? [[String: Any]] else { return [] }
        return tests.compactMap { test in
            guard let name = test["name"] as? String, let token = test["token"] as? String else { return nil }
            return Vector(name: name, expectFail: test["expect-fail"] as? Bool ?? false,
                          publicKeyHex: test["public-key"] as? String, secretKeyHex: test["secret-key"] as? String,
                          seedHex: test["secret-key-seed"] as? String, secretKeyPEM: test["secret-key-pem"] as? String,
                          publicKeyPEM: test["public-key-pem"] as? String, token: token,
                          payload: test["payload"] as? String, footer: test["footer"] as? String ?? "",
                          implicitAssertion: test["implicit-assertion"] as? String ?? "")
        }
    }()

    static var passing: [Vector] { vectors.filter { !$0.expectFail } }
    static var failing: [Vector] { vectors.filter(\.expectFail) }

    /// The vectors' one public key; failure cases without their own key are tried against it.
    static let vectorPublicKeyHex = "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2"

    @Test("the vector file holds three signing cases and four failure cases")
    func vectorFileIsComplete() {
        #expect(Self.passing.map(\.name) == ["4-S-1", "4-S-2", "4-S-3"])
        #expect(Self.failing.map(\.name) == ["4-F-1", "4-F-2", "4-F-3", "4-F-4"])
    }

    @Test("signing the vector's payload reproduces its token byte for byte", arguments: passing.map(\.name))
    func signReproducesToken(name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name })
        let seed = try #require(vector.seedHex.flatMap(hexBytes))
        let key = try Ed25519PrivateKey(rawRepresentation: seed)
        #expect(key.publicKey.rawRepresentation == vector.publicKeyHex.flatMap(hexBytes))
        #expect(try key.rawRepresentation() + key.publicKey.rawRepresentation == vector.secretKeyHex.flatMap(hexBytes))
        let payload = try #require(vector.payload)
        let token = try PASETOv4Public.sign(message: Array(payload.utf8), footer: Array(vector.footer.utf8),
                                            implicitAssertion: Array(vector.implicitAssertion.utf8), with: key)
        #expect(token == vector.token)
    }

    @Test("verifying the vector's token gives back its payload and footer", arguments: passing.map(\.name))
    func verifyAcceptsToken(name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name })
        let key = try Ed25519PublicKey(rawRepresentation: try #require(vector.publicKeyHex.flatMap(hexBytes)))
        let (message, footer) = try PASETOv4Public.verify(vector.token, expectedFooter: Array(vector.footer.utf8),
                                                          implicitAssertion: Array(vector.implicitAssertion.utf8), key: key)
        #expect(String(decoding: message, as: UTF8.self) == vector.payload)
        #expect(String(decoding: footer, as: UTF8.self) == vector.footer)
    }

    @Test("the vector's PEM keys read as the same keys and write back identically", arguments: passing.map(\.name))
    func pemMatchesVector(name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name })
        let secretPEM = try #require(vector.secretKeyPEM)
        let publicPEM = try #require(vector.publicKeyPEM)
        let privateKey = try Ed25519PrivateKey(pemRepresentation: secretPEM)
        #expect(try privateKey.rawRepresentation() == vector.seedHex.flatMap(hexBytes))
        let publicKey = try Ed25519PublicKey(pemRepresentation: publicPEM)
        #expect(publicKey.rawRepresentation == vector.publicKeyHex.flatMap(hexBytes))
        #expect(try privateKey.pemRepresentation().trimmingCharacters(in: .newlines) == secretPEM)
        #expect(try publicKey.pemRepresentation().trimmingCharacters(in: .newlines) == publicPEM)
    }

    @Test("a vector's token fails with another implicit assertion", arguments: passing.map(\.name))
    func otherImplicitAssertionFails(name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name })
        let key = try Ed25519PublicKey(rawRepresentation: try #require(vector.publicKeyHex.flatMap(hexBytes)))
        #expect(throws: TokenError.badSignature) {
            try PASETOv4Public.verify(vector.token, implicitAssertion: Array((vector.implicitAssertion + "x").utf8), key: key)
        }
    }

    @Test("every failure vector is refused", arguments: failing.map(\.name))
    func failureVectorIsRefused(name: String) throws {
        let vector = try #require(Self.vectors.first { $0.name == name })
        let key = try Ed25519PublicKey(rawRepresentation: try #require(hexBytes(vector.publicKeyHex ?? Self.vectorPublicKeyHex)))
        #expect(throws: TokenError.self) {
            try PASETOv4Public.verify(vector.token, expectedFooter: Array(vector.footer.utf8),
                                      implicitAssertion: Array(vector.implicitAssertion.utf8), key: key)
        }
    }

    @Test("PAE encodes counts and lengths as little-endian 64-bit integers, as the spec's examples show")
    func paeMatchesSpecExamples() {
        #expect(PASETOv4Public.pae([]) == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(PASETOv4Public.pae([[]]) == [1, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(PASETOv4Public.pae([Array("test".utf8)])
            == [1, 0, 0, 0, 0, 0, 0, 0] + [4, 0, 0, 0, 0, 0, 0, 0] + Array("test".utf8))
    }
}
