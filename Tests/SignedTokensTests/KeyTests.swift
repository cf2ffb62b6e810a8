import Dispatch
import Foundation
import SignedTokens
import Synchronization
import Testing

@Suite("Ed25519 keys, key-set files and development keys")
struct KeyTests {
    static let x25519PEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VuBCIEICg3hXtkcmQc7jCsLhiEfUaGb4hnaPUSSBNbkrdf1rN5
        -----END PRIVATE KEY-----
        """
    static let encryptedPEM = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjPMnjp58VuCgICCAAw
        DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEFp18MGh94G0oCymdtpxRToEQGyg
        uYermgaYqTWK3Ax/wRTiDhbjaB7a2KnscuXVMVrzPp5lkkP98fEiqz9JuN5kWDcD
        o/vQvDemZKWJdIDEcao=
        -----END ENCRYPTED PRIVATE KEY-----
        """

    // MARK: Keys

    @Test("a private key written as PEM reads back as the same key, and so does its public key")
    func pemRoundTrip() throws {
        let key = try Ed25519PrivateKey.generate()
        let privatePEM = try key.pemRepresentation()
        #expect(privatePEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let reread = try Ed25519PrivateKey(pemRepresentation: privatePEM)
        #expect(try reread.rawRepresentation() == key.rawRepresentation())
        #expect(reread.publicKey == key.publicKey)

        let publicPEM = try key.publicKey.pemRepresentation()
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(try Ed25519PublicKey(pemRepresentation: publicPEM) == key.publicKey)
    }

    @Test("raw keys round trip, and a signature verifies only for its own message and key")
    func rawRoundTripAndSignatures() throws {
        let key = try Ed25519PrivateKey.generate()
        let copy = try Ed25519PrivateKey(rawRepresentation: try key.rawRepresentation())
        #expect(copy.publicKey == key.publicKey)
        let message = Array("hello".utf8)
        let signature = try key.signature(for: message)
        #expect(signature == (try copy.signature(for: message)))
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("hellO".utf8)))
        #expect(!(try Ed25519PrivateKey.generate()).publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: message))
    }

    @Test("keys of the wrong size, garbage PEM, other key types and encrypted PEM are refused as errors")
    func badKeysAreErrors() {
        #expect(throws: KeyError.self) { try Ed25519PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: KeyError.self) { try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 64)) }
        #expect(throws: KeyError.self) { try Ed25519PublicKey(pemRepresentation: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") }
        #expect(throws: KeyError.self) { try Ed25519PrivateKey(pemRepresentation: "") }
        #expect(throws: KeyError.self) { try Ed25519PrivateKey(pemRepresentation: Self.x25519PEM) }
        #expect(throws: KeyError.self) { try Ed25519PrivateKey(pemRepresentation: Self.encryptedPEM) }
    }

    @Test("the private key's description shows only the public key")
    func descriptionHidesSecret() throws {
        let key = try Ed25519PrivateKey.generate()
        #expect(String(describing: key) == "Ed25519PrivateKey(public: \(Base64URL.encode(key.publicKey.rawRepresentation)))")
    }

    // MARK: Key sets

    @Test("a key-set file accepts raw base64url and PEM public keys, roles and a validity window")
    func keySetParses() throws {
        let a = try Ed25519PrivateKey.generate()
        let b = try Ed25519PrivateKey.generate()
        let pem = try b.publicKey.pemRepresentation().replacingOccurrences(of: "\n", with: "\\n")
        let json = """
            {"keys": {
              "a": {"issuer": "identity", "public_key": "\(Base64URL.encode(a.publicKey.rawRepresentation))", "roles": ["buyer"]},
              "b": {"issuer": "ops", "public_key": "\(pem)", "roles": ["*"],
                    "not_before": "2026-11-01T00:00:00Z", "not_after": "2027-02-01T00:00:00+08:00"}
            }}
            """
        let set = try KeySet.parse(json: Array(json.utf8))
        let keyA = try #require(set["a"])
        let keyB = try #require(set["b"])
        #expect(keyA.publicKey == a.publicKey && keyA.issuer == "identity" && keyA.allows(role: "buyer") && !keyA.allows(role: "agent"))
        #expect(keyB.publicKey == b.publicKey && keyB.allows(role: "anything"))
        #expect(keyB.notBefore == RFC3339.parse("2026-11-01T00:00:00Z"))
        #expect(keyB.notAfter == RFC3339.parse("2027-01-31T16:00:00Z"))
        #expect(try KeySet.parse(json: set.jsonBytes())["b"] == keyB)
    }

    @Test("key-set files with a mistake are refused with a reason", arguments: [
        "", "[]", "{}", "{\"keys\": []}", "{\"keys\": {}, \"extra\": 1}",
        "{\"keys\": {\"a\": {\"issuer\": \"i\", \"public_key\": \"AAAA\", \"roles\": []}}}",
        "{\"keys\": {\"a\": {\"issuer\": \"\", \"public_key\": \"Hrnbu7wEfAP9cGBOAHHwmH4Wsot1ciXBHwBBXQ4gsaI\", \"roles\": []}}}",
        "{\"keys\": {\"a\": {\"issuer\": \"i\", \"public_key\": \"Hrnbu7wEfAP9cGBOAHHwmH4Wsot1ciXBHwBBXQ4gsaI\", \"roles\": [1]}}}",
        "{\"keys\": {\"a\": {\"issuer\": \"i\", \"public_key\": \"Hrnbu7wEfAP9cGBOAHHwmH4Wsot1ciXBHwBBXQ4gsaI\", \"role\": [\"x\"]}}}",
        "{\"keys\": {\"a\": {\"issuer\": \"i\", \"public_key\": \"Hrnbu7wEfAP9cGBOAHHwmH4Wsot1ciXBHwBBXQ4gsaI\", \"roles\": [], \"not_after\": \"soon\"}}}",
    ])
    func keySetMistakes(json: String) {
        #expect(throws: KeyFileError.self) { try KeySet.parse(json: Array(json.utf8)) }
    }

    @Test("an empty key-set file parses, so every token is refused as unknownKey")
    func emptyKeySet() throws {
        let set = try KeySet.parse(json: Array("{\"keys\": {}}".utf8))
        #expect(set.keys.isEmpty)
    }

    // MARK: Development keys

    @Test("creating the development key pair is idempotent and the private key is owner-only")
    func developmentKeysAreIdempotent() throws {
        let directory = try temporaryDirectory("dev") + "/nested/keys"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try DevelopmentKeys.loadOrCreate(in: directory)
        let mode = try FileManager.default.attributesOfItem(atPath: first.privateKeyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let keySetText = try String(contentsOfFile: first.keySetPath, encoding: .utf8)

        let second = try DevelopmentKeys.loadOrCreate(in: directory)
        #expect(second.privateKey.publicKey == first.privateKey.publicKey)
        #expect(try String(contentsOfFile: second.keySetPath, encoding: .utf8) == keySetText)

        let dev = try #require(second.keySet["dev"])
        #expect(dev.issuer == "aftersale-dev" && dev.allows(role: "platform") && dev.notAfter == nil)

        // A lost key set is derived again from the private key.
        try FileManager.default.removeItem(atPath: first.keySetPath)
        let third = try DevelopmentKeys.loadOrCreate(in: directory)
        #expect(third.keySet["dev"]?.publicKey == first.privateKey.publicKey)
    }

    @Test("threads creating the development key pair at once all end up with the same key")
    func developmentKeysRace() throws {
        let directory = try temporaryDirectory("dev-race")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = Mutex<[[UInt8]]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            if let made = try? DevelopmentKeys.loadOrCreate(in: directory) {
                keys.withLock { $0.append(made.privateKey.publicKey.rawRepresentation) }
            }
        }
        let made = keys.withLock { $0 }
        #expect(made.count == 4)
        #expect(Set(made).count == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a development token verifies against the development key set")
    func developmentTokenVerifies() throws {
        let directory = try temporaryDirectory("dev-token")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try DevelopmentKeys.loadOrCreate(in: directory)
        let token = try keys.minter(audience: "aftersale").mint(subject: "agent-1", role: "platform", team: "t1")
        let verifier = TokenVerifier(keySet: keys.keySet, audience: "aftersale")
        let verified = try verifier.verify(token)
        #expect(verified.issuer == "aftersale-dev" && verified.keyID == "dev" && verified.role == "platform")
        #expect(try verifier.reloadKeySet()["dev"] != nil)
    }

    @Test("a development key set that does not match the private key is an error, not a silent mismatch")
    func developmentMismatch() throws {
        let directory = try temporaryDirectory("dev-mismatch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try DevelopmentKeys.loadOrCreate(in: directory)
        try FileManager.default.removeItem(atPath: keys.privateKeyPath)
        try (try Ed25519PrivateKey.generate()).write(pemFile: keys.privateKeyPath)
        #expect(throws: KeyFileError.self) { try DevelopmentKeys.loadOrCreate(in: directory) }
    }
}
