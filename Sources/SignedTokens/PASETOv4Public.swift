/// PASETO version 4, purpose `public`: Ed25519 signatures over the pre-authentication encoding
/// (PAE) of the header, the message, the footer and an implicit assertion.
///
/// This is the bare protocol from the PASETO specification (`docs/Protocol-Versions/Version4.md`);
/// `TokenMinter` and `TokenVerifier` add claims, key ids and policy on top.
public enum PASETOv4Public {
    /// The header every v4.public token starts with.
    public static let header = "v4.public."
    static let headerBytes: [UInt8] = Array(header.utf8)

    /// A token split into its parts, nothing verified yet.
    public struct Parts: Sendable, Equatable {
        /// The signed message (the claims JSON for our tokens).
        public let message: [UInt8]
        /// The 64-byte signature.
        public let signature: [UInt8]
        /// The footer, empty when the token has none. Unauthenticated until the signature verifies.
        public let footer: [UInt8]
    }

    /// Signs `message` and returns the token.
    /// - Parameters:
    ///   - footer: travels in clear after the signature, authenticated; empty for none.
    ///   - implicitAssertion: authenticated but not carried; the verifier must supply the same bytes.
    /// - Throws: `KeyError` when OpenSSL cannot sign.
    public static func sign(
        message: [UInt8], footer: [UInt8] = [], implicitAssertion: [UInt8] = [], with key: Ed25519PrivateKey
    ) throws(KeyError) -> String {
        let signature = try key.signature(for: pae([headerBytes, message, footer, implicitAssertion]))
        var token = header + Base64URL.encode(message + signature)
        if !footer.isEmpty { token += "." + Base64URL.encode(footer) }
        return token
    }

    /// Splits a token into message, signature and footer without verifying anything.
    /// - Throws: `TokenError.malformed` when it is not `v4.public.<base64url>[.<base64url>]` with a
    ///   payload of at least 64 bytes.
    public static func parse(_ token: String) throws(TokenError) -> Parts {
        let bytes = Array(token.utf8)
        guard bytes.count > headerBytes.count, bytes.starts(with: headerBytes) else {
            throw .malformed("not a v4.public token")
        }
        let body = bytes[headerBytes.count...]
        let pieces = body.split(separator: UInt8(ascii: "."), maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { throw .malformed("too many '.' separators") }
        guard let payload = Base64URL.decode(utf8: pieces[0]) else { throw .malformed("payload is not base64url") }
        guard payload.count >= Ed25519PublicKey.signatureByteCount else { throw .malformed("payload shorter than a signature") }
        var footer: [UInt8] = []
        if pieces.count == 2 {
            guard !pieces[1].isEmpty, let decoded = Base64URL.decode(utf8: pieces[1]) else {
                throw .malformed("footer is not base64url")
            }
            footer = decoded
        }
        let split = payload.count - Ed25519PublicKey.signatureByteCount
        return Parts(message: Array(payload[..<split]), signature: Array(payload[split...]), footer: footer)
    }

    /// Whether `parts` carry a valid signature by `key` for `implicitAssertion`.
    public static func isValid(_ parts: Parts, implicitAssertion: [UInt8] = [], key: Ed25519PublicKey) -> Bool {
        key.isValidSignature(parts.signature, for: pae([headerBytes, parts.message, parts.footer, implicitAssertion]))
    }

    /// Verifies a token and returns its message and footer.
    /// - Parameters:
    ///   - expectedFooter: when not nil, the token's footer must equal it (compared in constant time).
    ///   - implicitAssertion: the same bytes the signer used.
    /// - Throws: `TokenError.malformed` or `.badSignature`.
    public static func verify(
        _ token: String, expectedFooter: [UInt8]? = nil, implicitAssertion: [UInt8] = [], key: Ed25519PublicKey
    ) throws(TokenError) -> (message: [UInt8], footer: [UInt8]) {
        let parts = try parse(token)
        if let expectedFooter, !constantTimeEqual(expectedFooter, parts.footer) {
            throw .malformed("footer differs from the expected one")
        }
        guard isValid(parts, implicitAssertion: implicitAssertion, key: key) else { throw .badSignature }
        return (parts.message, parts.footer)
    }

    /// PAE: the number of pieces, then each piece's length and bytes; every count is a 64-bit
    /// little-endian integer with the top bit cleared.
    public static func pae(_ pieces: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + pieces.reduce(0) { $0 + 8 + $1.count })
        appendLE64(UInt64(pieces.count), to: &out)
        for piece in pieces {
            appendLE64(UInt64(piece.count), to: &out)
            out.append(contentsOf: piece)
        }
        return out
    }

    private static func appendLE64(_ value: UInt64, to out: inout [UInt8]) {
        let cleared = value & 0x7FFF_FFFF_FFFF_FFFF
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: cleared >> UInt64(shift))) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
