/// Checks on free text fields (notes, reasons, carriers, tracking numbers).
public enum TextRules {
    /// Longest note, reason or ruling accepted, in bytes.
    public static let maximumNoteBytes = 1000
    /// Longest carrier name or tracking number accepted, in bytes.
    public static let maximumCodeBytes = 64

    /// Requires non-blank text of at most `maximumBytes`.
    public static func required(_ text: String, field: String, maximumBytes: Int = maximumNoteBytes) throws(DomainError) {
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw .invalidArgument(field: field, message: "must not be empty")
        }
        try optional(text, field: field, maximumBytes: maximumBytes)
    }

    /// Allows empty text, but not more than `maximumBytes`.
    public static func optional(_ text: String, field: String, maximumBytes: Int = maximumNoteBytes) throws(DomainError) {
        guard text.utf8.count <= maximumBytes else {
            throw .invalidArgument(field: field, message: "must be at most \(maximumBytes) bytes, got \(text.utf8.count)")
        }
    }

    /// Requires a code-like token (carrier, tracking number): 1…64 bytes, no spaces or control characters.
    public static func code(_ text: String, field: String) throws(DomainError) {
        guard !text.isEmpty else { throw .invalidArgument(field: field, message: "must not be empty") }
        guard text.utf8.count <= maximumCodeBytes else {
            throw .invalidArgument(field: field, message: "must be at most \(maximumCodeBytes) bytes, got \(text.utf8.count)")
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw .invalidArgument(field: field, message: "must not contain spaces or control characters")
        }
    }
}
