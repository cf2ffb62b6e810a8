import AfterSaleDomain
import StorageConformance
import Testing

@testable import AfterSaleStorage

@Suite("Stored documents")
struct DocumentCodecTests {
    @Test("a case document decodes to the case it encodes, timeline aside")
    func caseRoundTrip() throws {
        let afterSale = StorageFixture.everyField(number: try CaseNumber(at: StorageFixture.now, sequence: 1))
        let bytes = CaseDocument.encode(afterSale)
        #expect(try CaseDocument.decode(bytes, timeline: afterSale.timeline) == afterSale)
    }

    @Test("integers at the edges survive the varint encoding")
    func integerEdges() throws {
        var writer = DocumentWriter(format: 9)
        let values: [Int64] = [0, 1, -1, 63, -64, 64, Int64.max, Int64.min, 1_795_219_200_000]
        for value in values { writer.integer(value) }
        var reader = try DocumentReader(writer.bytes, format: 9, kind: "test")
        for value in values { #expect(try reader.integer() == value) }
        try reader.finish()
    }

    @Test("truncated, padded or foreign documents are reported as corrupt, not decoded")
    func corruption() throws {
        let bytes = OrderDocument.encode(StorageFixture.order())
        #expect(try OrderDocument.decode(bytes) == StorageFixture.order())
        #expect(throws: CorruptDocument.self) { try OrderDocument.decode(Array(bytes.dropLast())) }
        #expect(throws: CorruptDocument.self) { try OrderDocument.decode(bytes + [0]) }
        #expect(throws: CorruptDocument.self) { try OrderDocument.decode([2] + bytes.dropFirst()) }
        #expect(throws: CorruptDocument.self) { try OrderDocument.decode([]) }
    }
}
