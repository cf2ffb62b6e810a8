import AfterSaleServices
import Foundation
import Testing

@Suite("docs/PROTOCOL.md says what the code says")
struct ProtocolDocumentTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/PROTOCOL.md")

    @Test("every generated table (state machines, method × role, refusal codes, refund defaults) matches the code")
    func generatedTablesAreFresh() throws {
        let document = try String(contentsOf: Self.path, encoding: .utf8)
        let (text, missing) = ProtocolTables.apply(to: document)
        #expect(missing.isEmpty, "PROTOCOL.md lacks the generated sections \(missing)")
        if text != document {
            let old = document.split(separator: "\n", omittingEmptySubsequences: false)
            let new = text.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
            Issue.record("PROTOCOL.md is stale from line \(line + 1): run `swift run aftersale-docs`\n- \(line < old.count ? old[line] : "")\n+ \(line < new.count ? new[line] : "")")
        }
    }
}
