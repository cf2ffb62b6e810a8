import Foundation
import Glibc
import ServiceKit
import SignedTokens
import Synchronization

/// Why aftersaled cannot start with the token keys it was given.
struct TokenKeysError: Error, CustomStringConvertible {
    let underlying: KeyFileError
    var description: String { "cannot load the token keys: \(underlying)" }
}

extension AuthenticationSettings {
    /// The verifier of caller tokens over the configured key set: the key-set file, or the
    /// development key set (made on first start) when none is configured.
    /// - Returns: the verifier and where its keys came from, for the log.
    /// - Throws: ``TokenKeysError`` when the file is unreadable or invalid, or the development keys
    ///   cannot be made.
    func verifier(logger: Logger) throws(TokenKeysError) -> (TokenVerifier, String) {
        do throws(KeyFileError) {
            let keySet: KeySet
            if let keySetPath {
                keySet = try KeySet.load(path: keySetPath)
            } else {
                let development = try DevelopmentKeys.loadOrCreate(in: developmentKeyDirectory)
                keySet = development.keySet
                logger.log(.warning, "trusting the development token key: anyone who can read its directory can mint tokens; "
                           + "give --token-keys in production", ["key_set": development.keySetPath])
            }
            let verifier = TokenVerifier(keySet: keySet, audience: audience, clockSkew: clockSkew)
            return (verifier, keySet.sourcePath ?? "")
        } catch {
            throw TokenKeysError(underlying: error)
        }
    }
}

/// Re-reads the key set on SIGHUP: rotation (add the next key, retire the previous one) without a
/// restart. A file that does not load leaves the keys in force and is logged as an error.
final class KeySetReloader: Service {
    let name = "token-keys"
    private let verifier: TokenVerifier
    private let logger: Logger
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(verifier: TokenVerifier, logger: Logger) {
        self.verifier = verifier
        self.logger = logger
    }

    func start() async throws {
        // The signal's default action (terminate) is replaced here, before the server announces itself.
        let signals = UnixSignals.stream([SIGHUP])
        let verifier = verifier
        let logger = logger
        task.withLock { $0 = Task {
            for await _ in signals {
                do throws(KeyFileError) {
                    let keySet = try verifier.reloadKeySet()
                    logger.log(.info, "token keys reloaded", ["key_set": keySet.sourcePath ?? "",
                                                              "key_ids": keySet.keys.keys.sorted().joined(separator: ",")])
                } catch {
                    logger.log(.error, "token keys not reloaded; the previous keys stay in force", ["error": error.description])
                }
            }
        } }
    }

    func shutdown() async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
