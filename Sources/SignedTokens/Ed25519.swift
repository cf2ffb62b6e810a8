import COpenSSL

/// Why a key could not be made, read, written or used.
public struct KeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in words that say what to change.
    public let reason: String

    /// Makes an error with `reason`.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { reason }

    /// Builds an error and empties OpenSSL's per-thread error queue, so a failure here does not
    /// surface later as somebody else's error.
    static func openSSL(_ reason: String) -> KeyError {
        let code = ERR_peek_last_error()
        ERR_clear_error()
        if code == 0 { return KeyError(reason) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return KeyError("\(reason) (\(detail))")
    }
}

/// Owns one `EVP_PKEY` and frees it when the last reference goes.
///
/// OpenSSL allows one key to be used by many threads at once as long as nobody modifies it;
/// nothing here modifies a key after it is made, hence `@unchecked Sendable`.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    var isEd25519: Bool { aftersale_evp_pkey_id(pointer) == aftersale_evp_pkey_ed25519() }

    /// The 32 raw public key bytes.
    func rawPublicKey() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Ed25519PublicKey.byteCount)
        var length = bytes.count
        if EVP_PKEY_get_raw_public_key(pointer, &bytes, &length) != 1 || length != bytes.count {
            ERR_clear_error()
            return []
        }
        return bytes
    }

    /// Writes the key as PEM with `write` and returns the text.
    func pem(_ write: (OpaquePointer) -> Int32) throws(KeyError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw KeyError.openSSL("cannot allocate a memory BIO") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw KeyError.openSSL("cannot write the key as PEM") }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = aftersale_bio_mem_data(bio, &data)
        guard length > 0, let data else { throw KeyError.openSSL("the PEM writer produced nothing") }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// Reads a key from PEM text with `read`.
    static func fromPEM(_ text: String, what: String, _ read: (OpaquePointer) -> OpaquePointer?) throws(KeyError) -> EVPKey {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 * 1024 else { throw KeyError("the \(what) PEM is empty or too long") }
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let key else { throw KeyError.openSSL("cannot read the \(what) PEM") }
        let owned = EVPKey(taking: key)
        guard owned.isEd25519 else { throw KeyError("the \(what) PEM holds a key that is not Ed25519") }
        return owned
    }
}

/// An Ed25519 public key: verifies signatures.
public struct Ed25519PublicKey: Sendable, Equatable, CustomStringConvertible {
    /// The size of a raw public key.
    public static let byteCount = 32
    /// The size of a signature.
    public static let signatureByteCount = 64

    let key: EVPKey

    /// The 32 raw key bytes (RFC 8032 encoding).
    public let rawRepresentation: [UInt8]

    init(key: EVPKey) {
        self.key = key
        self.rawRepresentation = key.rawPublicKey()
    }

    /// Makes a key from its 32 raw bytes.
    /// - Throws: `KeyError` when `rawRepresentation` is not 32 bytes or OpenSSL rejects it.
    public init<Bytes: Collection>(rawRepresentation: Bytes) throws(KeyError) where Bytes.Element == UInt8 {
        let bytes = Array(rawRepresentation)
        guard bytes.count == Self.byteCount else {
            throw KeyError("an Ed25519 public key is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        guard let pointer = EVP_PKEY_new_raw_public_key(aftersale_evp_pkey_ed25519(), nil, bytes, bytes.count) else {
            throw KeyError.openSSL("OpenSSL rejected the raw Ed25519 public key")
        }
        self.init(key: EVPKey(taking: pointer))
    }

    /// Reads a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
    /// - Throws: `KeyError` when the text is not such a PEM or holds another kind of key.
    public init(pemRepresentation: String) throws(KeyError) {
        self.init(key: try EVPKey.fromPEM(pemRepresentation, what: "public key") { aftersale_pem_read_public_key($0) })
    }

    /// The key as a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
    public func pemRepresentation() throws(KeyError) -> String {
        try key.pem { PEM_write_bio_PUBKEY($0, key.pointer) }
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == Self.signatureByteCount else { return false }
        guard let context = EVP_MD_CTX_new() else { ERR_clear_error(); return false }
        defer { EVP_MD_CTX_free(context) }
        // Ed25519 hashes internally (PureEdDSA): the digest must be NULL.
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key.pointer) == 1 else { ERR_clear_error(); return false }
        let result = EVP_DigestVerify(context, signature, signature.count, message, message.count)
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// Keys are equal when their raw bytes are.
    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }

    /// The raw key in base64url, the form key-set files use.
    public var description: String { Base64URL.encode(rawRepresentation) }
}

/// An Ed25519 private key: signs. Its `description` never shows the secret.
public struct Ed25519PrivateKey: Sendable, CustomStringConvertible {
    /// The size of a raw private key (the RFC 8032 seed).
    public static let byteCount = 32

    let key: EVPKey

    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    init(key: EVPKey) throws(KeyError) {
        self.key = key
        let raw = key.rawPublicKey()
        guard raw.count == Ed25519PublicKey.byteCount,
              let pointer = EVP_PKEY_new_raw_public_key(aftersale_evp_pkey_ed25519(), nil, raw, raw.count) else {
            throw KeyError.openSSL("cannot derive the public key")
        }
        self.publicKey = Ed25519PublicKey(key: EVPKey(taking: pointer))
    }

    /// Generates a new random key from OpenSSL's CSPRNG.
    /// - Throws: `KeyError` when OpenSSL cannot generate one.
    public static func generate() throws(KeyError) -> Ed25519PrivateKey {
        guard let context = EVP_PKEY_CTX_new_id(aftersale_evp_pkey_ed25519(), nil) else {
            throw KeyError.openSSL("cannot make a key generation context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pointer: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &pointer) == 1, let pointer else {
            throw KeyError.openSSL("cannot generate an Ed25519 key")
        }
        return try Ed25519PrivateKey(key: EVPKey(taking: pointer))
    }

    /// Makes a key from its 32-byte seed (the RFC 8032 private key; PASETO's "secret key" is this
    /// seed followed by the public key).
    /// - Throws: `KeyError` when `rawRepresentation` is not 32 bytes or OpenSSL rejects it.
    public init<Bytes: Collection>(rawRepresentation: Bytes) throws(KeyError) where Bytes.Element == UInt8 {
        let bytes = Array(rawRepresentation)
        guard bytes.count == Self.byteCount else {
            throw KeyError("an Ed25519 private key (seed) is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        guard let pointer = EVP_PKEY_new_raw_private_key(aftersale_evp_pkey_ed25519(), nil, bytes, bytes.count) else {
            throw KeyError.openSSL("OpenSSL rejected the raw Ed25519 private key")
        }
        try self.init(key: EVPKey(taking: pointer))
    }

    /// Reads an unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). Encrypted keys are refused
    /// rather than prompting for a passphrase.
    /// - Throws: `KeyError` when the text is not such a PEM or holds another kind of key.
    public init(pemRepresentation: String) throws(KeyError) {
        try self.init(key: try EVPKey.fromPEM(pemRepresentation, what: "private key") { aftersale_pem_read_private_key($0) })
    }

    /// The 32-byte seed. Handle with care: it is the secret.
    public func rawRepresentation() throws(KeyError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        var length = bytes.count
        guard EVP_PKEY_get_raw_private_key(key.pointer, &bytes, &length) == 1, length == Self.byteCount else {
            throw KeyError.openSSL("cannot read the raw private key")
        }
        return bytes
    }

    /// The key as an unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
    public func pemRepresentation() throws(KeyError) -> String {
        try key.pem { aftersale_pem_write_private_key($0, key.pointer) }
    }

    /// Signs `message` (Ed25519 is deterministic: the same key and message give the same signature).
    /// - Throws: `KeyError` when OpenSSL fails, which in practice means it ran out of memory.
    public func signature(for message: [UInt8]) throws(KeyError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw KeyError.openSSL("cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, key.pointer) == 1 else {
            throw KeyError.openSSL("cannot start an Ed25519 signature")
        }
        var signature = [UInt8](repeating: 0, count: Ed25519PublicKey.signatureByteCount)
        var length = signature.count
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1,
              length == Ed25519PublicKey.signatureByteCount else {
            throw KeyError.openSSL("cannot sign")
        }
        return signature
    }

    /// Shows the public half only.
    public var description: String { "Ed25519PrivateKey(public: \(publicKey))" }
}
