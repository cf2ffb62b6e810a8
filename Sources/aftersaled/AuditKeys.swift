import Foundation
import ServiceKit
import SignedTokens

/// Why aftersaled cannot start with the audit checkpoint key it was given.
struct AuditKeyError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "cannot load the audit checkpoint key: \(reason)" }
}

extension AuditSettings {
    /// The development checkpoint key's file name (in the development key directory).
    static let developmentKeyFileName = "audit-checkpoint-key.pem"
    /// The file beside it holding its verifier key, for `aftersalectl audit verify`.
    static let developmentVerifierKeyFileName = "audit-checkpoint.vkey"

    /// The signer of audit checkpoints: the configured key file, or the development key (made on
    /// first start, its verifier key written beside it) when none is configured.
    /// - Throws: ``AuditKeyError`` when the key cannot be read or made.
    func signer(logger: Logger) throws(AuditKeyError) -> NoteSigner {
        do {
            let key: Ed25519PrivateKey
            if let keyPath {
                key = try Ed25519PrivateKey.read(pemFile: keyPath)
            } else {
                let path = developmentKeyDirectory + "/" + Self.developmentKeyFileName
                if FileManager.default.fileExists(atPath: path) {
                    key = try Ed25519PrivateKey.read(pemFile: path)
                } else {
                    try FileManager.default.createDirectory(atPath: developmentKeyDirectory, withIntermediateDirectories: true)
                    let made = try Ed25519PrivateKey.generate()
                    // Another process may make one at the same moment: whoever loses reads the winner's.
                    key = try made.write(pemFile: path, replacing: false) ? made : Ed25519PrivateKey.read(pemFile: path)
                }
                logger.log(.warning, "signing audit checkpoints with the development key; give --audit-key in production",
                           ["key": path])
            }
            let signer = try NoteSigner(name: origin, privateKey: key)
            if keyPath == nil {
                let vkeyPath = developmentKeyDirectory + "/" + Self.developmentVerifierKeyFileName
                try Data((signer.verifierKey + "\n").utf8).write(to: URL(fileURLWithPath: vkeyPath), options: .atomic)
            }
            logger.log(.info, "audit checkpoints are signed", ["origin": origin, "verifier_key": signer.verifierKey])
            return signer
        } catch let error as KeyFileError {
            throw AuditKeyError(reason: error.description)
        } catch let error as KeyError {
            throw AuditKeyError(reason: error.reason)
        } catch let error as NoteError {
            throw AuditKeyError(reason: error.reason)
        } catch {
            throw AuditKeyError(reason: "\(error)")
        }
    }
}
