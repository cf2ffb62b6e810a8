import AfterSaleDomain
import Testing

@Suite("Pro-rata refunds of a line")
struct ProRataTests {
    func claim(paid: Int64, purchased: Int, claimedQuantity: Int = 0, claimedAmount: Int64 = 0, quantity: Int) throws -> Int64 {
        try ProRata.claim(lineID: "l", paid: .cny(paid), purchasedQuantity: purchased, claimedQuantity: claimedQuantity,
                          claimedAmount: .cny(claimedAmount), quantity: quantity).minorUnits
    }

    @Test("unit by unit, the last unit takes the remainder")
    func unitByUnit() throws {
        #expect(try claim(paid: 100, purchased: 3, quantity: 1) == 33)
        #expect(try claim(paid: 100, purchased: 3, claimedQuantity: 1, claimedAmount: 33, quantity: 1) == 33)
        #expect(try claim(paid: 100, purchased: 3, claimedQuantity: 2, claimedAmount: 66, quantity: 1) == 34)
    }

    @Test("the whole line at once is exactly what was paid")
    func wholeLine() throws {
        #expect(try claim(paid: 2_971, purchased: 3, quantity: 3) == 2_971)
        #expect(try claim(paid: 2_971, purchased: 3, claimedQuantity: 1, claimedAmount: 990, quantity: 2) == 1_981)
    }

    @Test("after a released claim, later claims still never exceed what was paid")
    func releasedClaims() throws {
        // Two units claimed for 66, one for 34; the first case is withdrawn, leaving 34 held for one unit.
        let second = try claim(paid: 100, purchased: 3, claimedQuantity: 1, claimedAmount: 34, quantity: 1)
        #expect(second == 32)
        let third = try claim(paid: 100, purchased: 3, claimedQuantity: 2, claimedAmount: 34 + second, quantity: 1)
        #expect(third == 34)
        #expect(34 + second + third == 100)
    }

    @Test("a claim is never negative")
    func neverNegative() throws {
        #expect(try claim(paid: 10, purchased: 10, claimedQuantity: 1, claimedAmount: 9, quantity: 1) == 0)
    }

    @Test("asking for more units than are left is refused")
    func tooMany() {
        #expect(throws: DomainError.quantityExceedsRefundable(lineID: "l", requested: 2, available: 1)) {
            try claim(paid: 100, purchased: 3, claimedQuantity: 2, claimedAmount: 66, quantity: 2)
        }
        #expect(throws: DomainError.self) { try claim(paid: 100, purchased: 3, quantity: 0) }
        #expect(throws: DomainError.self) { try claim(paid: 100, purchased: 3, claimedAmount: 101, quantity: 1) }
    }

    @Test("large amounts do not overflow")
    func large() throws {
        #expect(try claim(paid: .max, purchased: 2, quantity: 1) == .max / 2)
        #expect(try claim(paid: .max, purchased: 7, claimedQuantity: 6, claimedAmount: try claim(paid: .max, purchased: 7, quantity: 6), quantity: 1) > 0)
        #expect(try claim(paid: .max, purchased: 7, quantity: 7) == .max)
    }
}
