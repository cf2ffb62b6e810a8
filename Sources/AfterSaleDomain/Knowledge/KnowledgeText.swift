/// One term of the knowledge index, and where it stands in the text it came from.
public struct KnowledgeToken: Sendable, Hashable {
    /// The normalized term: a Han bigram or unigram, or a folded Latin/digit word.
    public var term: String
    /// The first Unicode scalar of the token in the text (offsets count scalars, not bytes).
    public var start: Int
    /// One past the last scalar of the token.
    public var end: Int

    /// Creates a token.
    public init(term: String, start: Int, end: Int) {
        self.term = term
        self.start = start
        self.end = end
    }
}

/// How the knowledge base cuts text into terms, the same for every storage backend (so that search
/// ranks identically on all of them), in Swift rather than in a database's tokenizer.
///
/// - A run of Han characters gives its overlapping character bigrams (退款流程 → 退款, 款流, 流程):
///   a two-character query such as 退款 or 三包 is then an exact term, which SQLite's trigram
///   tokenizer cannot find and its default tokenizer (one token per Han run) finds only as the
///   whole run. Indexed text also gives every character alone (unigrams), so that a one-character
///   query finds something; a query uses unigrams only for a one-character run.
/// - A run of letters or digits (any script but Han) is one word, folded: ASCII and full-width
///   forms to lower-case ASCII, other letters by their one-scalar lower-case mapping. English
///   plurals lose their `s` (refunds → refund, deliveries → delivery), and a few English stop words
///   (the, a, to, how, ...) are dropped. Words longer than 32 scalars are cut to 32.
/// - Everything else (spaces, punctuation, symbols, 【】) separates tokens.
public enum KnowledgeText {
    /// Longest word kept, in scalars; longer ones are cut.
    public static let maximumWordLength = 32

    /// English words that carry no meaning for search.
    public static let stopWords: Set<String> = [
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "is", "are", "be", "do", "does", "did", "how", "what",
        "when", "where", "why", "my", "i", "me", "it", "its", "can", "with", "by", "at", "from", "you", "your", "if", "as",
        "this", "that", "will", "was", "am", "we", "our", "there", "about",
    ]

    enum Class { case han, word, separator }

    static func classify(_ scalar: Unicode.Scalar) -> Class {
        let properties = scalar.properties
        if properties.isIdeographic { return .han }
        if properties.isAlphabetic || properties.numericType != nil { return .word }
        return .separator
    }

    /// `scalar` folded for matching: full-width ASCII to ASCII, then lower case (one scalar kept).
    static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        var s = scalar
        if (0xFF01...0xFF5E).contains(s.value), let ascii = Unicode.Scalar(s.value - 0xFEE0) { s = ascii }
        if s.isASCII {
            if (65...90).contains(s.value), let lower = Unicode.Scalar(s.value + 32) { return lower }
            return s
        }
        let lower = s.properties.lowercaseMapping.unicodeScalars
        if lower.count == 1, let first = lower.first { return first }
        return s
    }

    /// A folded word as a term: plural `s` removed from ASCII words; nil for a stop word.
    static func wordTerm(_ scalars: ArraySlice<Unicode.Scalar>) -> String? {
        var word = String(String.UnicodeScalarView(scalars.prefix(maximumWordLength)))
        if stopWords.contains(word) { return nil }
        if word.utf8.allSatisfy({ $0 < 0x80 && !(48...57).contains($0) }) {
            if word.count > 4, word.hasSuffix("ies") {
                word = String(word.dropLast(3)) + "y"
            } else if word.count > 3, word.hasSuffix("s"), !word.hasSuffix("ss"), !word.hasSuffix("us"), !word.hasSuffix("is") {
                word = String(word.dropLast())
            }
        }
        return word
    }

    /// Runs of one class in `text`: (class, folded scalars, start offset).
    static func runs(_ text: String) -> [(Class, [Unicode.Scalar], Int)] {
        var runs: [(Class, [Unicode.Scalar], Int)] = []
        var current: [Unicode.Scalar] = []
        var currentClass = Class.separator
        var start = 0
        var offset = 0
        for scalar in text.unicodeScalars {
            let kind = classify(fold(scalar))
            if kind != currentClass {
                if currentClass != .separator, !current.isEmpty { runs.append((currentClass, current, start)) }
                current = []
                currentClass = kind
                start = offset
            }
            if kind != .separator { current.append(fold(scalar)) }
            offset += 1
        }
        if currentClass != .separator, !current.isEmpty { runs.append((currentClass, current, start)) }
        return runs
    }

    /// The tokens of indexed text, in order: Han bigrams and unigrams, words.
    public static func indexTokens(_ text: String) -> [KnowledgeToken] {
        var tokens: [KnowledgeToken] = []
        for (kind, scalars, start) in runs(text) {
            switch kind {
            case .han:
                for i in scalars.indices {
                    tokens.append(KnowledgeToken(term: String(Character(scalars[i])), start: start + i, end: start + i + 1))
                    if i + 1 < scalars.count {
                        var pair = String.UnicodeScalarView()
                        pair.append(scalars[i])
                        pair.append(scalars[i + 1])
                        tokens.append(KnowledgeToken(term: String(pair), start: start + i, end: start + i + 2))
                    }
                }
            case .word:
                if let term = wordTerm(scalars[...]) {
                    tokens.append(KnowledgeToken(term: term, start: start, end: start + scalars.count))
                }
            case .separator:
                break
            }
        }
        return tokens
    }

    /// The distinct terms of a query, in order of first appearance: Han bigrams (a one-character run
    /// gives that character), words.
    public static func queryTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var seen: Set<String> = []
        func add(_ term: String) { if seen.insert(term).inserted { terms.append(term) } }
        for (kind, scalars, _) in runs(text) {
            switch kind {
            case .han:
                if scalars.count == 1 { add(String(Character(scalars[0]))); continue }
                for i in 0..<(scalars.count - 1) {
                    var pair = String.UnicodeScalarView()
                    pair.append(scalars[i])
                    pair.append(scalars[i + 1])
                    add(String(pair))
                }
            case .word:
                if let term = wordTerm(scalars[...]) { add(term) }
            case .separator:
                break
            }
        }
        return terms
    }

    /// The facet term of a product category (`cat:手机`): trimmed and folded.
    public static func categoryFacet(_ category: String) -> String {
        "cat:" + String(String.UnicodeScalarView(category.trimmingSpaces.unicodeScalars.map(fold)))
    }

    /// The facet term of a case kind (`kind:refund_only`).
    public static func kindFacet(_ kind: AfterSaleKind) -> String { "kind:" + kind.rawValue }

    /// The facet term of a catalog reason (`reason:quality_fault`).
    public static func reasonFacet(_ code: String) -> String { "reason:" + code }
}

extension String {
    /// The text without leading and trailing white space.
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
