import AfterSaleDomain
import AfterSaleStorage
import Testing

/// Buyers' ratings.
struct FeedbackChecks: Sendable {
    let repository: any AfterSaleRepository

    static func rating(_ subject: RatingSubject, at offset: Int64, shop: String = "s-1", agent: String? = nil) -> Rating {
        Rating(subject: subject, buyerID: "b-1", stars: 4, tags: ["快速", "polite"], comment: "退款很快 \u{0}", shopID: shop, agentID: agent,
               resolution: "completed", refunded: .cny(1_990), ratedAt: StorageFixture.now.adding(milliseconds: offset), editedAt: nil, version: 1)
    }

    func roundTripAndEdit() async throws {
        let number = try CaseNumber(at: StorageFixture.story, sequence: 1)
        let first = Self.rating(.afterSale(number), at: 0)
        try await repository.saveRating(first, expectedVersion: 0)
        #expect(try await repository.rating(of: .afterSale(number)) == first)
        #expect(try await repository.rating(of: .ticket("TK-none")) == nil)
        await #expect(throws: DomainError.duplicate(message: "case:\(number.rawValue) is rated already")) {
            try await repository.saveRating(first, expectedVersion: 0)
        }
        var edited = first
        edited.stars = 2
        edited.editedAt = StorageFixture.now.adding(milliseconds: 5)
        edited.version = 2
        try await repository.saveRating(edited, expectedVersion: 1)
        #expect(try await repository.rating(of: .afterSale(number)) == edited)
        await #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) { try await repository.saveRating(edited, expectedVersion: 1) }
    }

    func listed() async throws {
        let ratings = [
            Self.rating(.ticket("TK1"), at: 10, agent: "a-1"),
            Self.rating(.ticket("TK2"), at: 20, shop: "s-2", agent: "a-2"),
            Self.rating(.afterSale(try CaseNumber(at: StorageFixture.story, sequence: 3)), at: 30),
            Self.rating(.ticket("TK4"), at: 30, agent: "a-1"),
        ]
        for rating in ratings { try await repository.saveRating(rating, expectedVersion: 0) }
        func all(_ query: RatingQuery) async throws -> [String] {
            var q = query
            var out: [String] = []
            for _ in 0..<10 {
                let page = try await repository.ratings(q)
                out += page.ratings.map(\.subject.description)
                guard let next = page.next else { break }
                q.after = next
            }
            return out
        }
        let number3 = "case:" + (try CaseNumber(at: StorageFixture.story, sequence: 3)).rawValue
        #expect(try await all(RatingQuery(pageSize: 1)) == ["ticket:TK4", number3, "ticket:TK2", "ticket:TK1"])
        #expect(try await all(RatingQuery(shopID: "s-2")) == ["ticket:TK2"])
        #expect(try await all(RatingQuery(agentID: "a-1", pageSize: 1)) == ["ticket:TK4", "ticket:TK1"])
        #expect(try await all(RatingQuery(from: StorageFixture.now.adding(milliseconds: 20), before: StorageFixture.now.adding(milliseconds: 30)))
                == ["ticket:TK2"])
    }

    static let checks: [ConformanceCheck] = [
        ConformanceCheck("a rating loads back as given, a second one on its subject is refused, an edit is compare-and-set") {
            try await FeedbackChecks(repository: $0).roundTripAndEdit()
        },
        ConformanceCheck("ratings list newest first by shop, agent and time, across pages") { try await FeedbackChecks(repository: $0).listed() },
    ]
}
