import AfterSaleServices
import Foundation

// aftersale-docs: rewrites the generated tables of docs/PROTOCOL.md from the code's own tables.
//   swift run aftersale-docs [path/to/PROTOCOL.md]      (default: docs/PROTOCOL.md)
// A test fails when the committed document differs from what this writes.

let path = CommandLine.arguments.dropFirst().first ?? "docs/PROTOCOL.md"
do {
    let document = try String(contentsOfFile: path, encoding: .utf8)
    let (text, missing) = ProtocolTables.apply(to: document)
    if !missing.isEmpty {
        FileHandle.standardError.write(Data("aftersale-docs: \(path) lacks the generated sections \(missing.joined(separator: ", "))\n".utf8))
        exit(1)
    }
    if text != document { try text.write(toFile: path, atomically: true, encoding: .utf8) }
    print(text == document ? "\(path) is up to date" : "\(path) rewritten")
} catch {
    FileHandle.standardError.write(Data("aftersale-docs: \(error)\n".utf8))
    exit(1)
}
