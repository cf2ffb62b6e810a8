/// Text with the parts that matched a query marked.
public struct HighlightedText: Sendable, Hashable {
    /// The text (a snippet may start or end with `…`).
    public var text: String
    /// The matched spans, in Unicode scalars from the start of `text`, sorted and disjoint.
    public var spans: [Range<Int>]

    /// Creates one.
    public init(text: String, spans: [Range<Int>]) {
        self.text = text
        self.spans = spans
    }

    /// The text with each span wrapped in `open` and `close` (for display: 【退款】 by default).
    public func marked(open: String = KnowledgeHighlight.open, close: String = KnowledgeHighlight.close) -> String {
        var out = ""
        var offset = 0
        var spans = self.spans[...]
        for scalar in text.unicodeScalars {
            if let span = spans.first, span.lowerBound == offset { out += open }
            out.unicodeScalars.append(scalar)
            offset += 1
            if let span = spans.first, span.upperBound == offset {
                out += close
                spans = spans.dropFirst()
            }
        }
        return out
    }
}

/// Marks where a query's terms occur in an article's title and body, with the tokenizer the index
/// uses (so 退款 is marked in 退款流程, and "refunds" in "Refunds take 3 days" for the query "refund").
public enum KnowledgeHighlight {
    /// What ``HighlightedText/marked(open:close:)`` opens a span with.
    public static let open = "【"
    /// What it closes a span with.
    public static let close = "】"

    /// The spans of `text` whose tokens are among `terms`, merged where they touch or overlap.
    public static func spans(in text: String, terms: Set<String>) -> [Range<Int>] {
        let hits = KnowledgeText.indexTokens(text).filter { terms.contains($0.term) }.map { $0.start..<$0.end }
            .sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
        var merged: [Range<Int>] = []
        for hit in hits {
            if let last = merged.last, hit.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, hit.upperBound)
            } else {
                merged.append(hit)
            }
        }
        return merged
    }

    /// All of `text` (a title), marked.
    public static func whole(_ text: String, terms: Set<String>) -> HighlightedText {
        HighlightedText(text: text, spans: spans(in: text, terms: terms))
    }

    /// At most `length` scalars of `text` (a body) around its densest matches, on one line, with
    /// `…` where it was cut; the start of the text when nothing matched.
    public static func snippet(_ text: String, terms: Set<String>, length: Int = 120) -> HighlightedText {
        let scalars = Array(text.unicodeScalars).map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 }
        let all = spans(in: text, terms: terms)
        guard scalars.count > length, length > 0 else {
            return HighlightedText(text: String(String.UnicodeScalarView(scalars)), spans: all)
        }
        // The window start that covers the most matched scalars, a little before a match.
        let lead = length / 5
        var start = 0
        var best = -1
        for candidate in all.prefix(200).map({ max(0, min($0.lowerBound - lead, scalars.count - length)) }) {
            let covered = all.reduce(0) { $0 + max(0, min($1.upperBound, candidate + length) - max($1.lowerBound, candidate)) }
            if covered > best {
                best = covered
                start = candidate
            }
        }
        let end = min(scalars.count, start + length)
        let prefix = start > 0 ? 1 : 0
        var view = String.UnicodeScalarView()
        if prefix == 1 { view.append("…") }
        view.append(contentsOf: scalars[start..<end])
        if end < scalars.count { view.append("…") }
        let clipped = all.compactMap { span -> Range<Int>? in
            let lower = max(span.lowerBound, start), upper = min(span.upperBound, end)
            return lower < upper ? (lower - start + prefix)..<(upper - start + prefix) : nil
        }
        return HighlightedText(text: String(view), spans: clipped)
    }
}
