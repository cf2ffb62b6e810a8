/// An indented text buffer for emitting source files.
struct CodeWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func line(_ s: String = "") {
        if s.isEmpty { text += "\n"; return }
        text += String(repeating: "    ", count: depth) + s + "\n"
    }

    mutating func block(_ opening: String, _ body: (inout CodeWriter) -> Void) {
        line(opening + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// Writes a comment as `///` lines, or `fallback` when the schema has none.
    mutating func doc(_ comment: String, fallback: String) {
        let text = comment.isEmpty ? fallback : comment
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = String(l).trimmingWhitespace()
            line(trimmed.isEmpty ? "///" : "/// " + trimmed)
        }
    }
}
