import AfterSaleDomain
import Testing

@Suite("Largest-remainder allocation")
struct AllocationTests {
    @Test("splits evenly divisible amounts exactly")
    func exact() throws {
        #expect(try Allocation.largestRemainder(total: 1_000, weights: [5_000, 3_000, 2_000]) == [500, 300, 200])
    }

    @Test("hands leftover units to the largest remainders")
    func remainders() throws {
        // 100 × 1/3 = 33.33…, 100 × 2/3 = 66.66…: the larger remainder takes the leftover unit.
        #expect(try Allocation.largestRemainder(total: 100, weights: [1, 2]) == [33, 67])
        // 3000 over 299900, 9980, 3000: exact 2875.55, 95.69, 28.76 → the two largest remainders get one each.
        #expect(try Allocation.largestRemainder(total: 3_000, weights: [299_900, 9_980, 3_000]) == [2_875, 96, 29])
    }

    @Test("breaks ties by line index")
    func ties() throws {
        #expect(try Allocation.largestRemainder(total: 100, weights: [1, 1, 1]) == [34, 33, 33])
        #expect(try Allocation.largestRemainder(total: 2, weights: [1, 1, 1]) == [1, 1, 0])
        #expect(try Allocation.largestRemainder(total: 1, weights: [0, 5, 5]) == [0, 1, 0])
    }

    @Test("zero weights get nothing; zero over zero is zero")
    func zeros() throws {
        #expect(try Allocation.largestRemainder(total: 7, weights: [0, 3, 0, 4]) == [0, 3, 0, 4])
        #expect(try Allocation.largestRemainder(total: 0, weights: [0, 0]) == [0, 0])
        #expect(try Allocation.largestRemainder(total: 0, weights: []) == [])
        #expect(throws: DomainError.self) { try Allocation.largestRemainder(total: 1, weights: [0, 0]) }
    }

    @Test("refuses negative inputs and overflowing weights")
    func refusals() {
        #expect(throws: DomainError.self) { try Allocation.largestRemainder(total: -1, weights: [1]) }
        #expect(throws: DomainError.self) { try Allocation.largestRemainder(total: 1, weights: [1, -1]) }
        #expect(throws: DomainError.self) { try Allocation.largestRemainder(total: 1, weights: [.max, 1]) }
    }

    @Test("huge amounts do not overflow the intermediate product")
    func huge() throws {
        let shares = try Allocation.largestRemainder(total: .max / 2, weights: [.max / 4, .max / 4])
        #expect(shares.reduce(0, +) == .max / 2)
    }

    @Test("parts always sum to the total and never exceed their weights")
    func properties() throws {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2_000 {
            let weights = (0..<rng.int(in: 1...6)).map { _ in Int64(rng.int(in: 0...100_000)) }
            let sum = weights.reduce(0, +)
            let total = Int64(rng.int(in: 0...Int(sum)))
            let shares = try Allocation.largestRemainder(total: total, weights: weights)
            #expect(shares.reduce(0, +) == total)
            #expect(zip(shares, weights).allSatisfy { $0 >= 0 && $0 <= $1 })
            #expect(try Allocation.largestRemainder(total: total, weights: weights) == shares)
        }
    }

    @Test("an order discount is allocated over gross line amounts and may not exceed them")
    func discounts() throws {
        let shares = try Allocation.allocateDiscount(.cny(1_000), overGrossAmounts: [.cny(3_000), .cny(3_000), .cny(3_000)])
        #expect(shares == [.cny(334), .cny(333), .cny(333)])
        #expect(throws: DomainError.self) { try Allocation.allocateDiscount(.cny(9_001), overGrossAmounts: [.cny(9_000)]) }
        #expect(throws: DomainError.self) { try Allocation.allocateDiscount(.cny(-1), overGrossAmounts: [.cny(9_000)]) }
    }
}
