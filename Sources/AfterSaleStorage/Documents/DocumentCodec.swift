import AfterSaleDomain

/// A stored document that does not decode into a domain value.
public struct CorruptDocument: Error, CustomStringConvertible {
    /// What is wrong with it.
    public let message: String
    /// Creates the error.
    public init(message: String) { self.message = message }
    public var description: String { "corrupt stored document: \(message)" }
}

/// Writes the compact binary form of stored documents.
///
/// The format is fixed field order, no names: integers as zigzag LEB128 varints, strings as a
/// varint byte count and UTF-8, optionals as a 0/1 byte then the value, lists as a varint count
/// then the items, enums as their raw (snake_case) names so reordering a Swift enum never changes
/// what is stored. A document starts with its format number; changing a layout means a new format
/// number that the reader still accepts, or a migration that rewrites the rows.
///
/// Hand-written instead of `JSONEncoder` with Codable mirrors: JSON coding was about 40% of the CPU
/// of a create, and this writer is a few appends per field.
struct DocumentWriter {
    private(set) var bytes: [UInt8] = []

    init(format: UInt8) {
        bytes.reserveCapacity(512)
        bytes.append(format)
    }

    mutating func unsigned(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func integer(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            unsigned(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optional<T>(_ value: T?, _ write: (inout DocumentWriter, T) -> Void) {
        if let value {
            bytes.append(1)
            write(&self, value)
        } else {
            bytes.append(0)
        }
    }

    mutating func list<T>(_ values: [T], _ write: (inout DocumentWriter, T) -> Void) {
        unsigned(UInt64(values.count))
        for value in values { write(&self, value) }
    }

    mutating func name<E: RawRepresentable>(_ value: E) where E.RawValue == String { string(value.rawValue) }
}

/// Reads what ``DocumentWriter`` wrote; every malformed byte is a ``CorruptDocument`` error.
struct DocumentReader {
    private let bytes: [UInt8]
    private var offset = 0

    /// Starts reading `bytes`, checking its format number.
    init(_ bytes: [UInt8], format: UInt8, kind: String) throws {
        guard let first = bytes.first else { throw CorruptDocument(message: "empty \(kind) document") }
        guard first == format else { throw CorruptDocument(message: "\(kind) document format \(first) is not known to this build") }
        self.bytes = bytes
        offset = 1
    }

    /// Fails unless every byte was read.
    func finish() throws {
        guard offset == bytes.count else { throw CorruptDocument(message: "\(bytes.count - offset) trailing bytes") }
    }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw CorruptDocument(message: "truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func unsigned() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try byte()
            guard shift < 64 else { throw CorruptDocument(message: "varint too long") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    mutating func integer() throws -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func int() throws -> Int {
        let value = try integer()
        guard let int = Int(exactly: value) else { throw CorruptDocument(message: "integer out of range") }
        return int
    }

    mutating func bool() throws -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        case let other: throw CorruptDocument(message: "bad boolean \(other)")
        }
    }

    mutating func string() throws -> String {
        let count = try unsigned()
        guard count <= UInt64(bytes.count - offset) else { throw CorruptDocument(message: "string runs past the end") }
        let end = offset + Int(count)
        defer { offset = end }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    mutating func optional<T>(_ read: (inout DocumentReader) throws -> T) throws -> T? {
        try bool() ? try read(&self) : nil
    }

    mutating func list<T>(_ read: (inout DocumentReader) throws -> T) throws -> [T] {
        let count = try unsigned()
        // Each item takes at least one byte: a larger count is corruption, not a reason to allocate.
        guard count <= UInt64(bytes.count - offset) else { throw CorruptDocument(message: "list longer than its document") }
        var values: [T] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count { values.append(try read(&self)) }
        return values
    }

    mutating func name<E: RawRepresentable>(_ type: E.Type) throws -> E where E.RawValue == String {
        try decodeEnum(try string(), as: type)
    }

    mutating func timestamp() throws -> Timestamp { Timestamp(millisecondsSinceEpoch: try integer()) }
}

/// Decodes a snake_case raw value into one of the domain's string enums.
public func decodeEnum<E: RawRepresentable>(_ raw: String, as type: E.Type) throws -> E where E.RawValue == String {
    guard let value = E(rawValue: raw) else { throw CorruptDocument(message: "unknown \(E.self) \"\(raw)\"") }
    return value
}

/// Rethrows a domain validation failure met while decoding (a bad currency, a bad case number) as
/// corruption: stored data is not the caller's argument.
public func decoding<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DomainError {
        throw CorruptDocument(message: error.message)
    }
}
