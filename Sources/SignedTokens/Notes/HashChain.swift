/// A hash chain over records made of text fields: each link's hash covers a domain-separation
/// prefix, the link's position, the previous link's hash and the record's fields, each
/// length-prefixed, so no two different inputs encode to the same bytes.
///
/// The hashed message, all integers unsigned 64-bit big-endian:
///
/// ```
/// len(domain) ‖ domain (UTF-8)
/// position                      (1 for the first link)
/// 32 ‖ previous hash            (32 zero bytes before the first link)
/// number of fields
/// per field: 0x00                       when absent
///            0x01 ‖ len(value) ‖ value  when present (UTF-8)
/// ```
///
/// and the link's hash is SHA-256 of that message.
public enum HashChain {
    /// The size of a link's hash.
    public static let hashByteCount = SHA256.byteCount
    /// The "previous hash" of the first link: 32 zero bytes.
    public static let genesis = [UInt8](repeating: 0, count: hashByteCount)

    /// The message hashed for the link at `position` (see the type's documentation).
    public static func message(domain: String, position: Int64, previous: [UInt8], fields: [String?]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + fields.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 9 })
        appendLengthPrefixed(Array(domain.utf8), to: &bytes)
        appendUInt64(UInt64(bitPattern: position), to: &bytes)
        appendLengthPrefixed(previous, to: &bytes)
        appendUInt64(UInt64(fields.count), to: &bytes)
        for field in fields {
            if let field {
                bytes.append(1)
                appendLengthPrefixed(Array(field.utf8), to: &bytes)
            } else {
                bytes.append(0)
            }
        }
        return bytes
    }

    /// The hash of the link at `position` after the link whose hash is `previous`.
    /// - Throws: `KeyError` when SHA-256 fails.
    public static func link(domain: String, position: Int64, previous: [UInt8], fields: [String?]) throws(KeyError) -> [UInt8] {
        try SHA256.hash(message(domain: domain, position: position, previous: previous, fields: fields))
    }

    static func appendUInt64(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func appendLengthPrefixed(_ value: [UInt8], to bytes: inout [UInt8]) {
        appendUInt64(UInt64(value.count), to: &bytes)
        bytes.append(contentsOf: value)
    }
}
