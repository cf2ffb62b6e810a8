import COpenSSL

/// AES-256-GCM through libcrypto: authenticated encryption of small values (a field, a key, a
/// stored response) under a 32-byte key.
///
/// A sealed box is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the nonce is random for
/// every seal (2⁻³² collision odds are reached only after about 2³² seals under one key, far more
/// than one buyer's key ever sees). The associated data is authenticated, not stored: opening
/// needs the same bytes, which binds a box to where it belongs (a buyer, a key generation).
public enum AESGCM {
    /// The key size.
    public static let keyByteCount = 32
    /// The nonce size.
    public static let nonceByteCount = 12
    /// The tag size.
    public static let tagByteCount = 16
    /// What a box adds to its plaintext.
    public static let overhead = nonceByteCount + tagByteCount

    /// `plaintext` sealed under `key` with `associatedData` authenticated.
    /// - Throws: `KeyError` for a key that is not 32 bytes, or when OpenSSL fails.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws(KeyError) -> [UInt8] {
        guard key.count == keyByteCount else { throw KeyError("an AES-256-GCM key has 32 bytes, not \(key.count)") }
        let nonce = try SecureRandom.bytes(nonceByteCount)
        guard let context = EVP_CIPHER_CTX_new() else { throw KeyError.openSSL("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
            throw KeyError.openSSL("AES-256-GCM initialisation failed")
        }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw KeyError.openSSL("AES-256-GCM associated data failed")
            }
        }
        var box = nonce + [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var written = 0
        if !plaintext.isEmpty {
            let ok = box.withUnsafeMutableBufferPointer { out in
                EVP_EncryptUpdate(context, out.baseAddress! + nonceByteCount, &length, plaintext, Int32(plaintext.count))
            }
            guard ok == 1 else { throw KeyError.openSSL("AES-256-GCM encryption failed") }
            written = Int(length)
        }
        let finished = box.withUnsafeMutableBufferPointer { out in
            EVP_EncryptFinal_ex(context, out.baseAddress! + nonceByteCount + written, &length)
        }
        guard finished == 1, written + Int(length) == plaintext.count else { throw KeyError.openSSL("AES-256-GCM encryption failed") }
        let tagged = box.withUnsafeMutableBufferPointer { out in
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), out.baseAddress! + nonceByteCount + plaintext.count)
        }
        guard tagged == 1 else { throw KeyError.openSSL("AES-256-GCM tag failed") }
        return box
    }

    /// The plaintext of `box`, sealed under `key` with `associatedData`; nil when the box was
    /// sealed under another key or other associated data, or was altered.
    /// - Throws: `KeyError` for a key that is not 32 bytes, or when OpenSSL fails otherwise.
    public static func open(_ box: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws(KeyError) -> [UInt8]? {
        guard key.count == keyByteCount else { throw KeyError("an AES-256-GCM key has 32 bytes, not \(key.count)") }
        guard box.count >= overhead else { return nil }
        let cipherCount = box.count - overhead
        guard let context = EVP_CIPHER_CTX_new() else { throw KeyError.openSSL("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        let nonce = Array(box[0..<nonceByteCount])
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
            throw KeyError.openSSL("AES-256-GCM initialisation failed")
        }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw KeyError.openSSL("AES-256-GCM associated data failed")
            }
        }
        var plaintext = [UInt8](repeating: 0, count: cipherCount + 16)
        var written = 0
        if cipherCount > 0 {
            let ciphertext = Array(box[nonceByteCount..<(nonceByteCount + cipherCount)])
            guard EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(cipherCount)) == 1 else {
                ERR_clear_error()
                return nil
            }
            written = Int(length)
        }
        var tag = Array(box[(nonceByteCount + cipherCount)...])
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), &tag) == 1 else {
            throw KeyError.openSSL("AES-256-GCM tag failed")
        }
        let finished = plaintext.withUnsafeMutableBufferPointer { out in
            EVP_DecryptFinal_ex(context, out.baseAddress! + written, &length)
        }
        guard finished == 1 else {
            ERR_clear_error()
            return nil
        }
        return Array(plaintext[0..<(written + Int(length))])
    }
}

/// Random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    /// `count` random bytes.
    /// - Throws: `KeyError` when the generator cannot deliver (it is not seeded).
    public static func bytes(_ count: Int) throws(KeyError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&bytes, Int32(count)) == 1 else { throw KeyError.openSSL("the random generator failed") }
        return bytes
    }
}
