import AfterSaleDomain
import AfterSaleStorage

// How domain values become column values and back, shared by the per-concept row files.

extension PostgresValue {
    /// Free text as its UTF-8 bytes, for a `bytea` column: PostgreSQL `text` cannot hold U+0000,
    /// which notes, messages and reasons may contain.
    static func utf8(_ text: String) -> PostgresValue { .bytes(Array(text.utf8)) }

    /// Free text as UTF-8 bytes, or NULL.
    static func utf8(_ text: String?) -> PostgresValue { text.map { .bytes(Array($0.utf8)) } ?? .null }

    /// An instant as Unix milliseconds.
    static func time(_ instant: Timestamp) -> PostgresValue { .int64(instant.millisecondsSinceEpoch) }

    /// An instant as Unix milliseconds, or NULL.
    static func time(_ instant: Timestamp?) -> PostgresValue { instant.map { .int64($0.millisecondsSinceEpoch) } ?? .null }

    /// An enum's raw name, or NULL.
    static func name<E: RawRepresentable>(_ value: E?) -> PostgresValue where E.RawValue == String {
        value.map { .text($0.rawValue) } ?? .null
    }
}

extension PostgresRow {
    /// A `bytea` column holding UTF-8 text.
    func utf8(_ column: Int) throws -> String { String(decoding: try bytes(column), as: UTF8.self) }

    /// A `bytea` column holding UTF-8 text, or nil for NULL.
    func optionalUTF8(_ column: Int) throws -> String? {
        isNull(column) ? nil : String(decoding: try bytes(column), as: UTF8.self)
    }

    /// A Unix-milliseconds column as an instant.
    func timestamp(_ column: Int) throws -> Timestamp { Timestamp(millisecondsSinceEpoch: try int64(column)) }

    /// A Unix-milliseconds column as an instant, or nil for NULL.
    func optionalTimestamp(_ column: Int) throws -> Timestamp? {
        try optionalInt64(column).map(Timestamp.init(millisecondsSinceEpoch:))
    }

    /// A text column holding one of the domain's enum names.
    func name<E: RawRepresentable>(_ column: Int, as type: E.Type) throws -> E where E.RawValue == String {
        try decodeEnum(try string(column), as: type)
    }

    /// A text column holding one of the domain's enum names, or nil for NULL.
    func optionalName<E: RawRepresentable>(_ column: Int, as type: E.Type) throws -> E? where E.RawValue == String {
        try optionalString(column).map { try decodeEnum($0, as: type) }
    }

    /// A principal from its role, id and shop columns.
    func principal(_ column: Int) throws -> Principal {
        Principal(role: try name(column, as: ActorRole.self), id: try string(column + 1), shopID: try optionalString(column + 2))
    }
}

extension PostgresConnection {
    /// Runs `sql`, throwing `conflict` instead of a unique violation: what a duplicate key means in
    /// the domain's terms (a taken case number, a second refund order).
    func execute(_ sql: String, parameters: [PostgresValue], onUniqueViolation conflict: @autoclosure () -> any Error) throws {
        // Result rather than do/catch with a typed pattern: that form crashes the Swift 6.3 compiler.
        switch Result(catching: { () throws(PostgresError) -> Int in try execute(sql, parameters: parameters) }) {
        case .success: return
        case .failure(let error) where error.kind == .uniqueViolation: throw conflict()
        case .failure(let error): throw error
        }
    }
}

/// SQL text with numbered parameters, built piece by piece: `sql.parameter(value)` appends the value
/// and returns its placeholder (`$3`).
struct StatementBuilder {
    /// The parameters, `$1` first.
    private(set) var parameters: [PostgresValue] = []

    /// Adds `value` and returns its placeholder.
    mutating func parameter(_ value: PostgresValue) -> String {
        parameters.append(value)
        return "$\(parameters.count)"
    }

    /// `VALUES (…), (…)` for `rows`, each value cast to the column type in `types` (needed where the
    /// server cannot infer a parameter's type, and harmless elsewhere).
    mutating func values(_ rows: [[PostgresValue]], types: [String]) -> String {
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        for row in rows {
            var placeholders: [String] = []
            for (value, type) in zip(row, types) {
                placeholders.append("\(parameter(value))::\(type)")
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        return tuples.joined(separator: ", ")
    }
}

/// Sums of `bigint` columns come back as `numeric`, which may exceed Int64: this wraps them modulo
/// 2⁶⁴ as the reference backend's wrapping additions do.
enum WrappingSum {
    /// The decimal text of an integer `numeric`, wrapped into Int64.
    static func parse(_ text: String) throws -> Int64 {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        if let point = digits.firstIndex(of: ".") { digits = digits[..<point] }  // numeric sums of integers have no fraction
        guard !digits.isEmpty else { throw CorruptDocument(message: "sum \"\(text)\" is not an integer") }
        var value: UInt64 = 0
        for character in digits {
            guard let digit = character.wholeNumberValue, character.isASCII else {
                throw CorruptDocument(message: "sum \"\(text)\" is not an integer")
            }
            value = value &* 10 &+ UInt64(digit)
        }
        return Int64(bitPattern: negative ? 0 &- value : value)
    }
}
