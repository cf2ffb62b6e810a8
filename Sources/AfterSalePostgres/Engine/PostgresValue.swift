import CLibpq

/// A statement parameter (`$1`, `$2`, …): one of the few types the engine sends.
///
/// Literals convert: `execute("… WHERE id = $1 AND name = $2", 42, "name")`; `nil` is NULL. For a
/// Swift optional use the `init(_:)` that takes one (`PostgresValue(optionalName)`).
public enum PostgresValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A `bigint` (declared as `int8`).
    case int64(Int64)
    /// An `integer` (declared as `int4`).
    case int32(Int32)
    /// Text. Its type is left for the server to infer from the statement, so text also feeds
    /// `timestamptz`, `uuid`, `jsonb` or `numeric` columns. PostgreSQL text cannot hold U+0000.
    case text(String)
    /// A `boolean`.
    case bool(Bool)
    /// Bytes for a `bytea` (sent in binary, so zero bytes need no escaping).
    case bytes([UInt8])

    /// A `bigint`, or NULL.
    public init(_ value: Int64?) { self = value.map { .int64($0) } ?? .null }
    /// A `bigint` (Swift's `Int` is 64-bit here), or NULL.
    public init(_ value: Int?) { self = value.map { .int64(Int64($0)) } ?? .null }
    /// An `integer`, or NULL.
    public init(_ value: Int32?) { self = value.map { .int32($0) } ?? .null }
    /// Text, or NULL.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// A `boolean`, or NULL.
    public init(_ value: Bool?) { self = value.map { .bool($0) } ?? .null }
    /// A `bytea`, or NULL.
    public init(_ value: [UInt8]?) { self = value.map { .bytes($0) } ?? .null }

    /// The type declared to the server when a statement is prepared; 0 lets the server infer it.
    var declaredType: Oid {
        switch self {
        case .null, .text: 0
        case .int64: PostgresType.int8
        case .int32: PostgresType.int4
        case .bool: PostgresType.bool
        case .bytes: PostgresType.bytea
        }
    }
}

extension PostgresValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral {
    /// An integer literal becomes a `bigint`.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    /// A string literal becomes text.
    public init(stringLiteral value: String) { self = .text(value) }
    /// A boolean literal becomes a `boolean`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `nil` becomes NULL.
    public init(nilLiteral: ()) { self = .null }
}

/// The type OIDs the engine needs (fixed in PostgreSQL's catalog, `pg_type.dat`).
enum PostgresType {
    static let bool: Oid = 16
    static let bytea: Oid = 17
    static let int8: Oid = 20
    static let int2: Oid = 21
    static let int4: Oid = 23
    static let text: Oid = 25
    static let oid: Oid = 26
    static let xid8: Oid = 5069
}

/// The C buffers for one call's parameters, allocated before the call and freed after it returns.
///
/// libpq reads the parameter pointers during the call only, but they must stay valid for all of it:
/// pointers into Swift strings and arrays are valid only inside their `withUnsafe…` closures, and
/// taking one outside (as an old Swift wrapper did) hands libpq memory that may already be reused.
/// Owning the bytes here keeps every pointer alive until ``deallocate()``.
struct ParameterBuffers: ~Copyable {
    private(set) var values: [UnsafePointer<CChar>?] = []
    private(set) var lengths: [Int32] = []
    private(set) var formats: [Int32] = []
    private var allocations: [UnsafeMutablePointer<CChar>] = []

    /// Encodes `parameters`; `types` are the types the server settled on for a prepared statement
    /// (nil for a one-off statement, whose types are declared from the values themselves).
    init(_ parameters: [PostgresValue], types: [Oid]?) throws(PostgresError) {
        values.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            switch parameter {
            case .null:
                values.append(nil); lengths.append(0); formats.append(0)
            case .int64(let value):
                appendText(String(value))
            case .int32(let value):
                appendText(String(value))
            case .bool(let value):
                appendText(value ? "t" : "f")
            case .text(let value):
                // Text goes as a C string, and PostgreSQL text has no U+0000 either: rather than let
                // the string be cut short silently, refuse it.
                if value.utf8.contains(0) {
                    deallocate()
                    throw PostgresError(kind: .invalidUse,
                                        message: "parameter $\(index + 1) holds a NUL character, which PostgreSQL text cannot store")
                }
                appendText(value)
            case .bytes(let bytes):
                let parameterType = types.flatMap { index < $0.count ? $0[index] : nil } ?? PostgresType.bytea
                if parameterType == PostgresType.bytea {
                    appendBinary(bytes)
                } else {
                    // The statement was prepared with this parameter as another type (say text, when it
                    // was NULL the first time): bytea's hex text form is what the server's input expects.
                    appendText(Self.hexLiteral(bytes))
                }
            }
        }
    }

    private mutating func appendText(_ text: String) {
        let utf8 = Array(text.utf8)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        utf8.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress { buffer.initialize(from: base, count: chars.count) }
            }
        }
        buffer[utf8.count] = 0
        allocations.append(buffer)
        values.append(UnsafePointer(buffer)); lengths.append(Int32(utf8.count)); formats.append(0)
    }

    private mutating func appendBinary(_ bytes: [UInt8]) {
        // One byte at least, so an empty bytea still has a non-nil pointer (nil means NULL).
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
        bytes.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress { buffer.initialize(from: base, count: chars.count) }
            }
        }
        allocations.append(buffer)
        values.append(UnsafePointer(buffer)); lengths.append(Int32(bytes.count)); formats.append(1)
    }

    static func hexLiteral(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Frees the buffers; call once the libpq call has returned.
    mutating func deallocate() {
        for allocation in allocations { allocation.deallocate() }
        allocations.removeAll()
        values.removeAll()
    }
}
