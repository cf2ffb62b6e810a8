import COpenSSL

/// SHA-256 through libcrypto.
public enum SHA256 {
    /// The size of a digest.
    public static let byteCount = 32

    /// The SHA-256 digest of `bytes`.
    /// - Throws: `KeyError` when OpenSSL fails (in practice: out of memory).
    public static func hash<Bytes: Collection>(_ bytes: Bytes) throws(KeyError) -> [UInt8] where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        guard EVP_Digest(input, input.count, &digest, &length, EVP_sha256(), nil) == 1, Int(length) == byteCount else {
            throw KeyError.openSSL("SHA-256 failed")
        }
        return digest
    }
}
