/// The human-friendly unique number of a case (售后单号): `AS` + yyyyMMdd (UTC) + 6-digit sequence.
///
/// Example: `AS20261121000123`. The sequence comes from storage (one counter per day); the date is
/// computed here from epoch milliseconds with the civil-from-days algorithm, without Foundation.
public struct CaseNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number as text, e.g. `AS20261121000123`.
    public let rawValue: String

    /// The largest sequence number a day can have.
    public static let maximumSequence = 999_999

    /// Formats the number of the `sequence`-th case of the UTC day containing `instant`.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` when `sequence` is outside 0…999999
    ///   or the date is outside years 0…9999.
    public init(at instant: Timestamp, sequence: Int) throws(DomainError) {
        guard sequence >= 0, sequence <= Self.maximumSequence else {
            throw .invalidArgument(field: "sequence", message: "must be between 0 and \(Self.maximumSequence), got \(sequence)")
        }
        let date = CivilDate(instant)
        guard date.year >= 0, date.year <= 9999 else {
            throw .invalidArgument(field: "created_at", message: "year \(date.year) cannot be written with four digits")
        }
        rawValue = "AS" + Self.digits(date.year, 4) + Self.digits(date.month, 2) + Self.digits(date.day, 2)
            + Self.digits(Int64(sequence), 6)
    }

    /// Parses and validates a case number given by a caller.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming `case_number` when malformed.
    public init(parsing text: String) throws(DomainError) {
        let bytes = Array(text.utf8)
        let wellFormed = bytes.count == 16 && bytes[0] == UInt8(ascii: "A") && bytes[1] == UInt8(ascii: "S")
            && bytes[2...].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard wellFormed else {
            throw .invalidArgument(field: "case_number", message: "must be AS + yyyyMMdd + 6 digits, got \"\(text)\"")
        }
        let number = { (range: Range<Int>) in bytes[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } }
        let month = number(6..<8), day = number(8..<10)
        guard (1...12).contains(month), (1...31).contains(day) else {
            throw .invalidArgument(field: "case_number", message: "has no valid date in \"\(text)\"")
        }
        rawValue = text
    }

    /// The yyyyMMdd part of the number.
    public var datePart: Substring { rawValue.dropFirst(2).prefix(8) }
    /// The sequence part of the number.
    public var sequence: Int { Int(rawValue.suffix(6)) ?? 0 }

    /// Orders numbers by date, then sequence (the text order).
    public static func < (lhs: CaseNumber, rhs: CaseNumber) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The number as text.
    public var description: String { rawValue }

    private static func digits(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// A proleptic Gregorian calendar date in UTC, computed from epoch milliseconds.
public struct CivilDate: Sendable, Hashable {
    /// The year, e.g. 2026.
    public let year: Int64
    /// The month, 1…12.
    public let month: Int64
    /// The day of the month, 1…31.
    public let day: Int64

    /// The UTC date that contains `instant` (Howard Hinnant's civil_from_days).
    public init(_ instant: Timestamp) {
        let ms = instant.millisecondsSinceEpoch
        var days = ms / Timestamp.millisecondsPerDay
        if ms % Timestamp.millisecondsPerDay < 0 { days -= 1 }  // floor division for instants before 1970
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}
