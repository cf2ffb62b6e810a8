import Foundation

/// The key that wraps every data key (key-encryption key): 32 random bytes kept in a file outside
/// the database, as 64 hexadecimal digits and a newline, readable by its owner only.
///
/// Data keys are stored wrapped (``wrap(_:context:)``: AES-256-GCM under this key, bound to a
/// context such as the buyer and generation they belong to), so a copy of the database alone
/// reveals nothing; destroying a wrapped data key makes what it sealed unreadable for good.
public struct MasterKey: Sendable {
    /// The key's bytes.
    let bytes: [UInt8]

    /// A master key of `bytes` (32 of them).
    /// - Throws: `KeyError` for another length.
    public init(bytes: [UInt8]) throws(KeyError) {
        guard bytes.count == AESGCM.keyByteCount else { throw KeyError("a master key has 32 bytes, not \(bytes.count)") }
        self.bytes = bytes
    }

    /// A new random master key.
    public static func generate() throws(KeyError) -> MasterKey { try MasterKey(bytes: SecureRandom.bytes(AESGCM.keyByteCount)) }

    /// A random key that lives only as long as the process (for tests and in-memory stores: what
    /// it seals is unreadable after a restart). From the system's cryptographic generator.
    public static func ephemeral() -> MasterKey {
        var generator = SystemRandomNumberGenerator()
        return MasterKey(unchecked: (0..<AESGCM.keyByteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Reads the key file at `path` (64 hex digits, surrounding whitespace ignored).
    /// - Throws: `KeyFileError` when the file is missing, unreadable or not a key.
    public static func read(file path: String) throws(KeyFileError) -> MasterKey {
        let text = String(decoding: try KeyFiles.readFile(path, limit: 4096), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.utf8.count == 64, let bytes = Hex.decode(text) else {
            throw KeyFileError(path: path, reason: "a master key file holds 64 hexadecimal digits (32 bytes)")
        }
        do throws(KeyError) { return try MasterKey(bytes: bytes) } catch { throw KeyFileError(path: path, reason: error.reason) }
    }

    /// Reads the key file at `path`, first creating it with a new key (mode 0600) when it does not
    /// exist. Two processes racing to create it end up with the same key: one file wins, both read it.
    /// - Throws: `KeyFileError` when it cannot be read or written.
    public static func loadOrCreate(file path: String) throws(KeyFileError) -> MasterKey {
        if !KeyFiles.exists(path) {
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                try KeyFiles.makeDirectory(String(path[..<slash]))
            }
            let key: MasterKey
            do { key = try generate() } catch { throw KeyFileError(path: path, reason: error.reason) }
            try KeyFiles.writeAtomically(Array((Hex.encode(key.bytes) + "\n").utf8), to: path, mode: 0o600, replacing: false)
        }
        return try read(file: path)
    }

    /// `dataKey` sealed under this key, bound to `context`.
    public func wrap(_ dataKey: [UInt8], context: String) throws(KeyError) -> [UInt8] {
        try AESGCM.seal(dataKey, key: bytes, associatedData: Array(context.utf8))
    }

    /// The data key `wrapped` holds; nil when it was wrapped by another master key or for another context.
    public func unwrap(_ wrapped: [UInt8], context: String) throws(KeyError) -> [UInt8]? {
        try AESGCM.open(wrapped, key: bytes, associatedData: Array(context.utf8))
    }
}

/// Lower-case hexadecimal.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
