import AfterSaleDomain
import Testing

@Suite("Money in minor units")
struct MoneyTests {
    @Test("adds and subtracts within one currency")
    func arithmetic() throws {
        #expect(try Money.cny(1_999).adding(.cny(1)) == .cny(2_000))
        #expect(try Money.cny(1_999).subtracting(.cny(2_000)) == .cny(-1))
        #expect(try Money.cny(4_990).multiplied(by: 3) == .cny(14_970))
        #expect(try Money.sum([.cny(1), .cny(2), .cny(3)], currency: .cny) == .cny(6))
    }

    @Test("overflow is an error, not a trap")
    func overflow() {
        #expect(throws: DomainError.self) { try Money.cny(.max).adding(.cny(1)) }
        #expect(throws: DomainError.self) { try Money.cny(.min).subtracting(.cny(1)) }
        #expect(throws: DomainError.self) { try Money.cny(.max / 2 + 1).multiplied(by: 2) }
        let error = #expect(throws: DomainError.self) { try Money.sum([.cny(.max), .cny(.max)], currency: .cny) }
        guard case .arithmeticOverflow = error else {
            Issue.record("expected arithmeticOverflow, got \(String(describing: error))")
            return
        }
    }

    @Test("mixing currencies is refused")
    func currencies() throws {
        let usd = try CurrencyCode("USD")
        #expect(throws: DomainError.currencyMismatch(expected: .cny, actual: usd)) {
            try Money.cny(1).adding(Money(minorUnits: 1, currency: usd))
        }
        #expect(!Money.cny(1).isLessThanOrEqual(to: Money(minorUnits: 5, currency: usd)))
        #expect(Money.cny(1).isLessThanOrEqual(to: .cny(1)))
    }

    @Test("currency codes are three capital letters", arguments: ["cny", "CN", "CNYY", "C1Y", ""])
    func badCodes(code: String) {
        #expect(throws: DomainError.self) { try CurrencyCode(code) }
    }

    @Test("amounts print in minor units with their currency")
    func printing() {
        #expect(Money.cny(1_999).description == "1999 CNY")
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test("adding days and milliseconds saturates instead of overflowing")
    func saturation() {
        let t = Timestamp(millisecondsSinceEpoch: 0)
        #expect(t.adding(days: 1).millisecondsSinceEpoch == 86_400_000)
        #expect(t.adding(days: -1).millisecondsSinceEpoch == -86_400_000)
        #expect(Timestamp(millisecondsSinceEpoch: .max).adding(milliseconds: 1).millisecondsSinceEpoch == .max)
        #expect(t.adding(days: .max).millisecondsSinceEpoch == .max)
        #expect(t.adding(days: .min).millisecondsSinceEpoch == .min)
    }

    @Test("a fixed clock always reads the same instant")
    func fixedClock() {
        let clock: any WallClock = FixedClock(Fixture.now)
        #expect(clock.now() == Fixture.now)
    }
}
