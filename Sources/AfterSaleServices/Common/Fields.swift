import AfterSaleDomain

/// Request fields every service reads the same way: case numbers, page sizes, time ranges.
/// Each check names the wire field in its INVALID_ARGUMENT.
enum Fields {
    /// The case number in `text`.
    /// - Throws: INVALID_ARGUMENT when it is empty or not a case number.
    static func caseNumber(_ text: String, field: String = "case_number") throws(DomainError) -> CaseNumber {
        guard !text.isEmpty else { throw .invalidArgument(field: field, message: "must not be empty") }
        do {
            return try CaseNumber(parsing: text)
        } catch {
            throw .invalidArgument(field: field, message: "is not a case number: \"\(text.prefix(64))\"")
        }
    }

    /// A page size as the caller asked for it: 0 means `paging.defaultSize`, anything above
    /// `paging.maximumSize` is clamped to it.
    /// - Throws: INVALID_ARGUMENT when it is negative.
    static func pageSize(_ requested: Int32, _ paging: Paging, field: String = "page_size") throws(DomainError) -> Int {
        guard requested >= 0 else {
            throw .invalidArgument(field: field, message: "must not be negative, got \(requested)")
        }
        return requested == 0 ? paging.defaultSize : min(Int(requested), paging.maximumSize)
    }

    /// An optional instant in Unix milliseconds: 0 means unset.
    /// - Throws: INVALID_ARGUMENT when it is negative.
    static func instant(_ unixMs: Int64, field: String) throws(DomainError) -> Timestamp? {
        guard unixMs >= 0 else { throw .invalidArgument(field: field, message: "must not be negative") }
        return unixMs == 0 ? nil : Timestamp(millisecondsSinceEpoch: unixMs)
    }

    /// A text field that may be empty, meaning "no filter".
    static func filter(_ text: String) -> String? { text.isEmpty ? nil : text }
}

/// How many rows a list returns when the caller does not say, and the most it returns.
struct Paging: Sendable {
    /// Rows when the request says 0.
    let defaultSize: Int
    /// The most rows one page holds.
    let maximumSize: Int
}
