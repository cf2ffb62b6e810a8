import AfterSaleDomain
import Testing

@Suite("Case numbers")
struct CaseNumberTests {
    func number(_ ms: Int64, _ sequence: Int) throws -> String {
        try CaseNumber(at: Timestamp(millisecondsSinceEpoch: ms), sequence: sequence).rawValue
    }

    @Test("format AS + yyyyMMdd in UTC + six-digit sequence")
    func format() throws {
        #expect(try number(1_795_219_200_000, 123) == "AS20261121000123")
        #expect(try number(1_795_219_200_000 + 86_399_999, 999_999) == "AS20261121999999")
        #expect(try number(1_795_219_200_000 + 86_400_000, 0) == "AS20261122000000")
    }

    static let calendarExamples: [(Int64, String)] = [
        (0, "AS19700101000001"),
        (-1, "AS19691231000001"),
        (-86_400_000, "AS19691231000001"),
        (1_709_164_800_000, "AS20240229000001"),
        (951_868_800_000, "AS20000301000001"),
        (951_868_800_000 - 1, "AS20000229000001"),
        (4_107_369_600_000, "AS21000227000001"),
        (4_107_456_000_000, "AS21000228000001"),
        (4_107_542_400_000, "AS21000301000001"),
    ]

    @Test("dates around the epoch, leap days and century rules", arguments: calendarExamples)
    func calendar(ms: Int64, expected: String) throws {
        #expect(try number(ms, 1) == expected)
    }

    @Test("sequences outside 0…999999 are refused")
    func sequenceRange() {
        #expect(throws: DomainError.self) { try number(0, -1) }
        #expect(throws: DomainError.self) { try number(0, 1_000_000) }
    }

    @Test("parsing accepts well-formed numbers and refuses the rest")
    func parsing() throws {
        let parsed = try CaseNumber(parsing: "AS20261121000123")
        #expect(parsed.sequence == 123)
        #expect(parsed.datePart == "20261121")
        #expect(parsed == (try CaseNumber(at: Fixture.epochOfStory, sequence: 123)))
        for bad in ["", "AS2026112100012", "XS20261121000123", "AS2026112100012a", "AS20261321000123", "AS20261100000123"] {
            #expect(throws: DomainError.self, "\(bad)") { try CaseNumber(parsing: bad) }
        }
    }

    @Test("numbers sort by day then sequence")
    func ordering() throws {
        let a = try CaseNumber(at: Fixture.epochOfStory, sequence: 2)
        let b = try CaseNumber(at: Fixture.epochOfStory.adding(days: 1), sequence: 1)
        #expect(a < b)
    }
}
