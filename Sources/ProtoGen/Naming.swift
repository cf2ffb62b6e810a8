/// Name conversions shared by the generators.
enum Naming {
    /// protoc-c's CamelToLower: an underscore before an upper-case letter that follows a lower-case one.
    static func cLower(_ name: String) -> String {
        var out = ""
        var wasUpper = true
        for ch in name {
            if ch.isUppercase {
                if !wasUpper { out.append("_") }
                out.append(contentsOf: ch.lowercased())
                wasUpper = true
            } else {
                out.append(ch)
                wasUpper = false
            }
        }
        return out
    }

    /// protoc-c's name for a fully qualified type: "aftersale.v1.HealthCheckRequest" → "aftersale__v1__health_check_request".
    static func cSymbolBase(_ fullName: String) -> String {
        fullName.split(separator: ".").map { cLower(String($0)) }.joined(separator: "__")
    }

    /// "AFTER_SALE_KIND_REFUND_ONLY" in enum AfterSaleKind → "refundOnly".
    static func enumCaseName(_ valueName: String, enumName: String) -> String {
        let prefix = upperSnake(enumName) + "_"
        var rest = valueName.hasPrefix(prefix) ? String(valueName.dropFirst(prefix.count)) : valueName
        if rest.isEmpty { rest = valueName }
        var name = lowerCamel(rest.lowercased())
        if let first = name.first, first.isNumber { name = "_" + name }
        return escape(name)
    }

    /// "AfterSaleKind" → "AFTER_SALE_KIND".
    static func upperSnake(_ camel: String) -> String { cLower(camel).uppercased() }

    /// "create_after_sale" → "createAfterSale"; "CreateAfterSale" → "createAfterSale".
    static func lowerCamel(_ name: String) -> String {
        var out = ""
        var upperNext = false
        for (i, ch) in name.enumerated() {
            if ch == "_" { upperNext = true; continue }
            if i == 0 { out.append(contentsOf: ch.lowercased()); continue }
            if upperNext { out.append(contentsOf: ch.uppercased()); upperNext = false } else { out.append(ch) }
        }
        return out
    }

    /// Backticks for Swift keywords used as identifiers.
    static func escape(_ name: String) -> String {
        keywords.contains(name) ? "`\(name)`" : name
    }

    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else", "fallthrough",
        "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "Any", "catch", "false",
        "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Type", "Protocol", "some", "any",
    ]
}
