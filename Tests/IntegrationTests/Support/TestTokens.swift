import AfterSaleClient
import AfterSaleServices
import Foundation
import SignedTokens
import Synchronization
import Testing

/// The signing key of the integration tests, as the platform's identity service would hold it:
/// a key set trusting it (in process, and as a file for `aftersaled --token-keys`) and tokens
/// minted for each caller the tests name.
enum TestTokens {
    static let audience = "aftersale"
    static let issuer = "aftersale-tests"
    static let keyID = "it-1"

    private struct Material: Sendable {
        let minter: TokenMinter
        let keySet: KeySet
        let keySetPath: String
        let auditSigner: NoteSigner
        let auditKeyPath: String
    }

    /// Made once per test process: a fresh key, its key set, and the file holding the set.
    private static let material: Result<Material, KeyFileError> = {
        do throws(KeyFileError) {
            let privateKey: Ed25519PrivateKey
            do { privateKey = try Ed25519PrivateKey.generate() } catch { throw KeyFileError(path: nil, reason: "\(error)") }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-it-keys-\(getpid())").path
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = directory + "/keyset.json"
            let keySet = try KeySet(keys: [KeySet.Key(keyID: keyID, issuer: issuer, publicKey: privateKey.publicKey, roles: ["*"])])
            do { try Data(keySet.jsonBytes()).write(to: URL(fileURLWithPath: path)) } catch {
                throw KeyFileError(path: path, reason: "\(error)")
            }
            // The audit checkpoint key of every aftersaled the tests start (--audit-key), so none
            // makes a development key in the working directory.
            let auditKeyPath = directory + "/audit-key.pem"
            let auditSigner: NoteSigner
            do {
                let auditKey = try Ed25519PrivateKey.generate()
                try auditKey.write(pemFile: auditKeyPath)
                auditSigner = try NoteSigner(name: "aftersale.local/audit", privateKey: auditKey)
            } catch {
                throw KeyFileError(path: auditKeyPath, reason: "\(error)")
            }
            return .success(Material(minter: TokenMinter(keyID: keyID, issuer: issuer, privateKey: privateKey, audience: audience),
                                     keySet: try KeySet.load(path: path), keySetPath: path, auditSigner: auditSigner,
                                     auditKeyPath: auditKeyPath))
        } catch {
            return .failure(error)
        }
    }()

    /// The test key's minter; records an issue and returns nil when the key could not be made.
    static var minter: TokenMinter? {
        switch material {
        case .success(let m): return m.minter
        case .failure(let error):
            Issue.record("no test signing key: \(error)")
            return nil
        }
    }

    /// The key-set file trusting the test key (empty when it could not be written).
    static var keySetPath: String { (try? material.get().keySetPath) ?? "" }

    /// The arguments that make `aftersaled` trust the test key.
    static var daemonArguments: [String] {
        ["--token-keys", keySetPath, "--audit-key", (try? material.get().auditKeyPath) ?? ""]
    }

    /// The verifier of the checkpoints every aftersaled the tests start signs.
    /// - Throws: when the test key could not be made.
    static func auditVerifier() throws -> AuditVerifier {
        AuditVerifier(key: try material.get().auditSigner.verifier)
    }

    /// A verifier trusting the test key, for servers started in process.
    /// - Throws: when the test key could not be made.
    static func verifier() throws -> TokenVerifier {
        TokenVerifier(keySet: try material.get().keySet, audience: audience)
    }

    /// The authenticators of an in-process server that trusts the test key (and, with
    /// `acceptStatedIdentity`, the stated metadata identity as `--insecure-dev-principals` does).
    static func authenticators(acceptStatedIdentity: Bool = false) throws -> [any Authenticator] {
        ServiceHost.authenticators(verifier: try verifier(), acceptStatedIdentity: acceptStatedIdentity)
    }

    private static let cache = Mutex<[CallerIdentity: (token: String, renewAt: Date)]>([:])

    /// A bearer token for `identity`, valid for an hour; the same token is reused for 45 minutes,
    /// as a real client reuses its token.
    static func token(_ identity: CallerIdentity) -> String {
        let now = Date()
        if let kept = cache.withLock({ $0[identity] }), now < kept.renewAt { return kept.token }
        guard let minter else { return "no-test-key" }
        do {
            let token = try minter.mint(subject: identity.id, role: identity.role, shop: identity.shop, team: identity.team,
                                        lifetime: 3_600, now: now)
            cache.withLock { $0[identity] = (token, now.addingTimeInterval(2_700)) }
            return token
        } catch {
            Issue.record("cannot mint a test token: \(error)")
            return "no-test-token"
        }
    }

    /// `Bearer <token>` for `identity`.
    static func bearer(_ identity: CallerIdentity) -> String { BearerAuthorization.value(token(identity)) }
}
