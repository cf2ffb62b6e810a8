import CLibpq

/// The rows a statement returned (a `PGresult`), readable until the result is released.
///
/// Not thread-safe; it stays with the thread that ran the statement. Iterate it (`for row in result`)
/// or index it; rows and columns are 0-based.
public final class PostgresResult: RandomAccessCollection {
    let raw: OpaquePointer

    init(_ raw: OpaquePointer) { self.raw = raw }

    deinit { PQclear(raw) }

    /// The first row's index (0).
    public var startIndex: Int { 0 }
    /// One past the last row's index: the number of rows.
    public var endIndex: Int { Int(PQntuples(raw)) }

    /// The row at `index`.
    public subscript(index: Int) -> PostgresRow { PostgresRow(result: self, row: Int32(index)) }

    /// The number of columns.
    public var columnCount: Int { Int(PQnfields(raw)) }

    /// The index of the column named `name`, or nil when there is none.
    public func column(named name: String) -> Int? {
        let index = PQfnumber(raw, name)
        return index < 0 ? nil : Int(index)
    }

    /// The name of column `column`.
    public func columnName(_ column: Int) -> String {
        PQfname(raw, Int32(column)).map { String(cString: $0) } ?? ""
    }

    /// Rows inserted, updated, deleted, selected, moved or copied, from the command tag (0 when the
    /// command reports no count, as DDL does).
    public var rowsAffected: Int {
        guard let tuples = PQcmdTuples(raw) else { return 0 }
        return Int(String(cString: tuples)) ?? 0
    }

    /// The command tag (`INSERT 0 1`, `COMMIT`, `ROLLBACK`, …).
    public var commandTag: String {
        PQcmdStatus(raw).map { String(cString: $0) } ?? ""
    }
}

/// One row of a ``PostgresResult``, with typed accessors by column index.
///
/// Accessors throw a ``PostgresError/Kind/decoding`` error for NULL (use the `optional…` variant where
/// NULL is allowed) or for a value that is not of the asked type; they never trap on database content.
public struct PostgresRow {
    /// The result this row belongs to; kept so the row stays readable.
    public let result: PostgresResult
    let row: Int32

    /// True when the column is NULL.
    public func isNull(_ column: Int) -> Bool { PQgetisnull(result.raw, row, Int32(column)) != 0 }

    /// The column as a `bigint` (also `integer`, `smallint`, `oid`, `xid8`).
    public func int64(_ column: Int) throws(PostgresError) -> Int64 {
        let text = try self.text(column)
        guard let value = Int64(text) else { throw decodingError(column, "is not an integer") }
        return value
    }

    /// The column as an integer, or nil for NULL.
    public func optionalInt64(_ column: Int) throws(PostgresError) -> Int64? {
        isNull(column) ? nil : try int64(column)
    }

    /// The column as an `Int`.
    public func int(_ column: Int) throws(PostgresError) -> Int { Int(try int64(column)) }

    /// The column as an `Int`, or nil for NULL.
    public func optionalInt(_ column: Int) throws(PostgresError) -> Int? {
        isNull(column) ? nil : try int(column)
    }

    /// The column as a `UInt64` (for `xid8`, whose values go past `Int64.max` in principle).
    public func uint64(_ column: Int) throws(PostgresError) -> UInt64 {
        let text = try self.text(column)
        guard let value = UInt64(text) else { throw decodingError(column, "is not an unsigned integer") }
        return value
    }

    /// The column as a `double precision` (also `real`, `numeric`).
    public func double(_ column: Int) throws(PostgresError) -> Double {
        let text = try self.text(column)
        guard let value = Double(text) else { throw decodingError(column, "is not a number") }
        return value
    }

    /// The column as text: its text form, whatever its type.
    public func string(_ column: Int) throws(PostgresError) -> String { try text(column) }

    /// The column as text, or nil for NULL.
    public func optionalString(_ column: Int) throws(PostgresError) -> String? {
        isNull(column) ? nil : try text(column)
    }

    /// The column as a `boolean`.
    public func bool(_ column: Int) throws(PostgresError) -> Bool {
        switch try text(column) {
        case "t": return true
        case "f": return false
        default: throw decodingError(column, "is not a boolean")
        }
    }

    /// The column as a `boolean`, or nil for NULL.
    public func optionalBool(_ column: Int) throws(PostgresError) -> Bool? {
        isNull(column) ? nil : try bool(column)
    }

    /// The column's bytes: a `bytea` in binary or in hex text form (the engine sets `bytea_output = hex`).
    public func bytes(_ column: Int) throws(PostgresError) -> [UInt8] {
        let (pointer, count) = try raw(column)
        let buffer = UnsafeRawBufferPointer(start: pointer, count: count)
        if PQfformat(result.raw, Int32(column)) == 1 { return Array(buffer) }
        guard PQftype(result.raw, Int32(column)) == PostgresType.bytea else {
            // Not a bytea: its text form is its bytes.
            return Array(buffer)
        }
        guard count >= 2, buffer[0] == UInt8(ascii: "\\"), buffer[1] == UInt8(ascii: "x"), count % 2 == 0 else {
            throw decodingError(column, "is not bytea in hex form")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((count - 2) / 2)
        var index = 2
        while index < count {
            guard let high = Self.hexDigit(buffer[index]), let low = Self.hexDigit(buffer[index + 1]) else {
                throw decodingError(column, "is not bytea in hex form")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// The column's bytes, or nil for NULL.
    public func optionalBytes(_ column: Int) throws(PostgresError) -> [UInt8]? {
        isNull(column) ? nil : try bytes(column)
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private func raw(_ column: Int) throws(PostgresError) -> (UnsafeRawPointer?, Int) {
        guard column >= 0, column < result.columnCount, row >= 0, Int(row) < result.count else {
            throw PostgresError(kind: .decoding, message: "row \(row) column \(column) is out of range")
        }
        if isNull(column) { throw decodingError(column, "is NULL") }
        let pointer = PQgetvalue(result.raw, row, Int32(column))
        let count = Int(PQgetlength(result.raw, row, Int32(column)))
        return (pointer.map { UnsafeRawPointer($0) }, count)
    }

    private func text(_ column: Int) throws(PostgresError) -> String {
        let (pointer, count) = try raw(column)
        guard let pointer else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    private func decodingError(_ column: Int, _ problem: String) -> PostgresError {
        PostgresError(kind: .decoding, message: "column \(column) (\(result.columnName(column))) \(problem)")
    }
}
