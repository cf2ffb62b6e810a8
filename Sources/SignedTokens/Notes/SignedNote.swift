import Foundation

/// Why a signed note or a key for notes was refused.
public struct NoteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words that say what to change.
    public let reason: String

    /// Makes an error with `reason`.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }
}

/// The C2SP signed-note format (https://c2sp.org/signed-note) with Ed25519 keys: a text that ends
/// in a newline, a blank line, then one line per signature, `— <key name> <base64(key hash ‖ signature)>`.
///
/// The key hash is the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key); a
/// verifier key is written `<name>+<key hash, 8 hex digits>+<base64(0x01 ‖ public key)>` and a
/// signer key `PRIVATE+KEY+<name>+<key hash>+<base64(0x01 ‖ seed)>`, as Go's `sumdb/note` does.
public enum SignedNote {
    /// The algorithm byte of Ed25519 keys.
    static let ed25519: UInt8 = 0x01
    /// What starts a signature line: an em dash and a space.
    static let signaturePrefix = "\u{2014} "

    /// The key hash of an Ed25519 key named `name`.
    static func keyHash(name: String, publicKey: Ed25519PublicKey) throws(NoteError) -> UInt32 {
        let digest: [UInt8]
        do { digest = try SHA256.hash(Array(name.utf8) + [0x0A, ed25519] + publicKey.rawRepresentation) } catch {
            throw NoteError(error.reason)
        }
        return digest.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Whether `name` may name a key: not empty, no spaces, no `+`, no control characters.
    static func checkName(_ name: String) throws(NoteError) {
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { throw NoteError("a key name must be non-empty, without spaces, '+' or control characters: \"\(name)\"") }
    }

    /// Splits `<name>+<hex>+<base64>` into its parts (the base64 may itself hold `+`).
    static func splitKey(_ key: String) throws(NoteError) -> (name: String, hash: UInt32, material: [UInt8]) {
        let parts = key.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let hash = UInt32(parts[1], radix: 16),
              let material = Data(base64Encoded: String(parts[2])).map(Array.init), material.first == ed25519 else {
            throw NoteError("not a note key of the form <name>+<8 hex digits>+<base64 of 0x01 and the key>")
        }
        try checkName(String(parts[0]))
        return (String(parts[0]), hash, Array(material.dropFirst()))
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Whether `text` may be signed: UTF-8 lines, each ending in a newline, without other control characters.
    static func checkText(_ text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw NoteError("a note's text must end with a newline") }
        guard !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F }) else {
            throw NoteError("a note's text must not contain control characters other than newlines")
        }
    }
}

/// Signs notes with one Ed25519 key.
public struct NoteSigner: Sendable {
    /// The key's name (for a checkpoint: the log's origin).
    public let name: String
    /// The signing key.
    public let privateKey: Ed25519PrivateKey
    /// The first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
    public let keyHash: UInt32

    /// A signer named `name` with `privateKey`.
    /// - Throws: `NoteError` when the name is not a valid key name.
    public init(name: String, privateKey: Ed25519PrivateKey) throws(NoteError) {
        try SignedNote.checkName(name)
        self.name = name
        self.privateKey = privateKey
        self.keyHash = try SignedNote.keyHash(name: name, publicKey: privateKey.publicKey)
    }

    /// A signer from a signer key `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
    /// - Throws: `NoteError` when the key is malformed or its hash does not match.
    public init(signerKey: String) throws(NoteError) {
        guard signerKey.hasPrefix("PRIVATE+KEY+") else { throw NoteError("a signer key starts with PRIVATE+KEY+") }
        let (name, hash, seed) = try SignedNote.splitKey(String(signerKey.dropFirst("PRIVATE+KEY+".count)))
        let key: Ed25519PrivateKey
        do { key = try Ed25519PrivateKey(rawRepresentation: seed) } catch { throw NoteError(error.reason) }
        try self.init(name: name, privateKey: key)
        guard keyHash == hash else { throw NoteError("the signer key's hash does not match its name and key") }
    }

    /// The verifier key others check this signer's notes with.
    public var verifierKey: String {
        NoteVerifier(name: name, publicKey: privateKey.publicKey, keyHash: keyHash).verifierKey
    }

    /// The matching verifier.
    public var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: privateKey.publicKey, keyHash: keyHash) }

    /// The signed note: `text`, a blank line and this key's signature line.
    /// - Throws: `NoteError` when `text` does not end in a newline or holds control characters, or
    ///   the signature fails.
    public func sign(_ text: String) throws(NoteError) -> String {
        try SignedNote.checkText(text)
        let signature: [UInt8]
        do { signature = try privateKey.signature(for: Array(text.utf8)) } catch { throw NoteError(error.reason) }
        let hashBytes = (0..<4).map { UInt8(truncatingIfNeeded: keyHash >> UInt32(24 - 8 * $0)) }
        return text + "\n" + SignedNote.signaturePrefix + name + " " + Data(hashBytes + signature).base64EncodedString() + "\n"
    }
}

/// Checks notes signed by one Ed25519 key.
public struct NoteVerifier: Sendable, Equatable {
    /// The key's name.
    public let name: String
    /// The public key.
    public let publicKey: Ed25519PublicKey
    /// The key hash signature lines carry.
    public let keyHash: UInt32

    init(name: String, publicKey: Ed25519PublicKey, keyHash: UInt32) {
        self.name = name
        self.publicKey = publicKey
        self.keyHash = keyHash
    }

    /// A verifier from a verifier key `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    /// - Throws: `NoteError` when the key is malformed or its hash does not match its name and key.
    public init(verifierKey: String) throws(NoteError) {
        let (name, hash, raw) = try SignedNote.splitKey(verifierKey.trimmingCharacters(in: .whitespacesAndNewlines))
        let key: Ed25519PublicKey
        do { key = try Ed25519PublicKey(rawRepresentation: raw) } catch { throw NoteError(error.reason) }
        guard try SignedNote.keyHash(name: name, publicKey: key) == hash else {
            throw NoteError("the verifier key's hash does not match its name and key")
        }
        self.init(name: name, publicKey: key, keyHash: hash)
    }

    /// The verifier key as text.
    public var verifierKey: String {
        name + "+" + SignedNote.hex(keyHash) + "+" + Data([SignedNote.ed25519] + publicKey.rawRepresentation).base64EncodedString()
    }

    /// The text of `note` when one of its signatures is this key's and verifies.
    /// - Throws: `NoteError` when the note is malformed, carries no signature by this key, or the
    ///   signature does not verify.
    public func open(_ note: String) throws(NoteError) -> String {
        guard note.utf8.count <= 1 << 20 else { throw NoteError("the note is larger than 1 MiB") }
        guard let split = note.range(of: "\n\n", options: .backwards) else { throw NoteError("the note has no signature block") }
        let text = String(note[note.startIndex..<split.lowerBound]) + "\n"
        let block = note[split.upperBound...]
        guard block.hasSuffix("\n") else { throw NoteError("the note's signature block must end with a newline") }
        try SignedNote.checkText(text)
        var sawName = false
        for line in block.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix(SignedNote.signaturePrefix) else { throw NoteError("a signature line must start with an em dash and a space") }
            let fields = line.dropFirst(SignedNote.signaturePrefix.count).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let blob = Data(base64Encoded: String(fields[1])).map(Array.init), blob.count >= 5 else {
                throw NoteError("a signature line must be \"— <name> <base64>\"")
            }
            guard String(fields[0]) == name else { continue }
            sawName = true
            let hash = blob.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard hash == keyHash else { continue }
            guard publicKey.isValidSignature(Array(blob.dropFirst(4)), for: Array(text.utf8)) else {
                throw NoteError("the signature of \(name) does not verify: the note was changed or signed by another key")
            }
            return text
        }
        throw NoteError(sawName ? "the note is signed by another key named \(name)" : "the note carries no signature by \(name)")
    }
}
