import Foundation

/// A signing key pair for development: `dev-signing-key.pem` (private, mode 0600) and
/// `dev-keyset.json` (its public key as key id `dev`, issuer `aftersale-dev`, any role), made on
/// first use and reused after. Never for production: anyone who can read the directory can mint.
public struct DevelopmentKeys: Sendable {
    /// The key id of the development key.
    public static let keyID = "dev"
    /// The issuer the development key signs for.
    public static let issuer = "aftersale-dev"
    /// The private key's file name.
    public static let privateKeyFileName = "dev-signing-key.pem"
    /// The key set's file name.
    public static let keySetFileName = "dev-keyset.json"
    /// The folder of a data directory that holds the pair.
    public static let directoryName = "dev-keys"

    /// Where the pair of the data directory `dataDirectory` lives.
    public static func directory(inDataDirectory dataDirectory: String) -> String {
        (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + "/" + directoryName
    }

    /// The minter of the pair in `directory`, reading only the private key (for tools that mint
    /// tokens for a server that made the pair).
    /// - Throws: `KeyFileError` when the private key is missing or unreadable.
    public static func minter(in directory: String, audience: String) throws(KeyFileError) -> TokenMinter {
        let privateKey = try Ed25519PrivateKey.read(pemFile: directory + "/" + privateKeyFileName)
        return TokenMinter(keyID: keyID, issuer: issuer, privateKey: privateKey, audience: audience)
    }

    /// The signing key.
    public let privateKey: Ed25519PrivateKey
    /// The key set holding the matching public key (with `sourcePath` set, so it can be reloaded).
    public let keySet: KeySet
    /// Where the private key lives.
    public let privateKeyPath: String
    /// Where the key set lives.
    public let keySetPath: String

    /// Loads the pair from `directory`, creating the directory and whichever file is missing:
    /// a missing private key means a new key and a rewritten key set; a missing key set is
    /// derived from the existing private key. Calling it again changes nothing.
    /// - Throws: `KeyFileError` when a file cannot be read or written, or the key set on disk does
    ///   not list this private key's public key as `dev` (delete both files to start afresh).
    public static func loadOrCreate(in directory: String) throws(KeyFileError) -> DevelopmentKeys {
        try KeyFiles.makeDirectory(directory)
        let privateKeyPath = directory + "/" + privateKeyFileName
        let keySetPath = directory + "/" + keySetFileName

        var privateKey: Ed25519PrivateKey
        var writeKeySet = !KeyFiles.exists(keySetPath)
        if KeyFiles.exists(privateKeyPath) {
            privateKey = try Ed25519PrivateKey.read(pemFile: privateKeyPath)
        } else {
            do { privateKey = try Ed25519PrivateKey.generate() } catch {
                throw KeyFileError(path: privateKeyPath, reason: error.reason)
            }
            // Another process may create the key at the same moment: exactly one file wins, and
            // whoever lost adopts it, so both derive the same key set.
            if !(try privateKey.write(pemFile: privateKeyPath, replacing: false)) {
                privateKey = try Ed25519PrivateKey.read(pemFile: privateKeyPath)
            }
            writeKeySet = true
        }
        if writeKeySet {
            let set = try KeySet(keys: [KeySet.Key(keyID: keyID, issuer: issuer, publicKey: privateKey.publicKey, roles: ["*"])])
            try KeyFiles.writeAtomically(set.jsonBytes(), to: keySetPath, mode: 0o644)
        }
        let keySet = try KeySet.load(path: keySetPath)
        guard keySet[keyID]?.publicKey == privateKey.publicKey else {
            throw KeyFileError(path: keySetPath, reason: "does not list the public key of \(privateKeyFileName) as \"\(keyID)\"; delete both files to make a new pair")
        }
        return DevelopmentKeys(privateKey: privateKey, keySet: keySet, privateKeyPath: privateKeyPath, keySetPath: keySetPath)
    }

    /// A minter signing with the development key for `audience`.
    public func minter(audience: String) -> TokenMinter {
        TokenMinter(keyID: Self.keyID, issuer: Self.issuer, privateKey: privateKey, audience: audience)
    }
}
