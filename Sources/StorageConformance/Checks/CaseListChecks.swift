import AfterSaleDomain
import Testing
import AfterSaleStorage

/// Listing cases.
public struct CaseListChecks: Sendable {
    let repository: any AfterSaleRepository

    static let statuses: [CaseStatus] = [.pendingReview, .awaitingReturn, .completed, .rejected, .pendingRefund]


    /// Sixty cases over three buyers, four shops, four kinds, five statuses and ten orders; two
    /// cases share each applied time, so ties are broken by number.
    static func seed(_ repository: any AfterSaleRepository) async throws -> [CaseSummary] {
        let transitions = (1...60).map { i in
            StorageFixture.syntheticCase(sequence: i, buyerID: "b-\(i % 3)", shopID: "s-\(i % 4)",
                                         kind: AfterSaleKind.allCases[i % 4], status: statuses[i % 5],
                                         createdAt: StorageFixture.story.adding(milliseconds: Int64(i / 2) * 60_000),
                                         orderID: "o-\(i % 10)")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for transition in transitions { group.addTask { try await StorageFixture.store(repository, transition) } }
            try await group.waitForAll()
        }
        return transitions.map { CaseSummary($0.afterSale) }
    }


    /// Newest first: applied time, then number, both descending.
    static func newestFirst(_ a: CaseSummary, _ b: CaseSummary) -> Bool {
        (a.appliedAt, a.number) > (b.appliedAt, b.number)
    }


    /// Every page of `query`, `pageSize` rows at a time.
    static func everyPage(_ repository: any AfterSaleRepository, _ query: CaseQuery) async throws -> [CaseSummary] {
        var query = query
        var rows: [CaseSummary] = []
        while true {
            let page = try await repository.listCases(query)
            #expect(page.rows.count <= query.pageSize)
            rows += page.rows
            guard let next = page.next else { return rows }
            query.after = next
        }
    }


    public enum Filter: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case none, buyer, shop, kind, oneStatus, severalStatuses, timeRange, shopAndOneStatus, buyerKindStatuses,
             searchByCaseNumber, searchByOrder, searchWithFilters

        public var testDescription: String { rawValue }

        public static let from = StorageFixture.story.adding(milliseconds: 5 * 60_000)
        public static let before = StorageFixture.story.adding(milliseconds: 20 * 60_000)
        public static let number7 = try! CaseNumber(at: StorageFixture.story, sequence: 7)

        public var query: CaseQuery {
            switch self {
            case .none: CaseQuery(pageSize: 7)
            case .buyer: CaseQuery(buyerID: "b-1", pageSize: 7)
            case .shop: CaseQuery(shopID: "s-2", pageSize: 7)
            case .kind: CaseQuery(kind: .exchange, pageSize: 7)
            case .oneStatus: CaseQuery(statuses: [.completed], pageSize: 7)
            case .severalStatuses: CaseQuery(statuses: [.completed, .rejected], pageSize: 7)
            case .timeRange: CaseQuery(appliedFrom: Self.from, appliedBefore: Self.before, pageSize: 7)
            case .shopAndOneStatus: CaseQuery(shopID: "s-1", statuses: [.pendingReview], pageSize: 2)
            case .buyerKindStatuses: CaseQuery(buyerID: "b-2", kind: .returnAndRefund, statuses: [.pendingReview, .completed, .rejected],
                                               appliedFrom: Self.from, pageSize: 1)
            case .searchByCaseNumber: CaseQuery(search: Self.number7.rawValue, pageSize: 7)
            case .searchByOrder: CaseQuery(search: "o-3", pageSize: 2)
            case .searchWithFilters: CaseQuery(shopID: "s-3", search: "o-3", pageSize: 7)
            }
        }

        public func matches(_ row: CaseSummary) -> Bool {
            let query = self.query
            if let buyerID = query.buyerID, row.buyerID != buyerID { return false }
            if let shopID = query.shopID, row.shop.id != shopID { return false }
            if let kind = query.kind, row.kind != kind { return false }
            if !query.statuses.isEmpty, !query.statuses.contains(row.status) { return false }
            if let from = query.appliedFrom, row.appliedAt < from { return false }
            if let before = query.appliedBefore, row.appliedAt >= before { return false }
            if let search = query.search, row.number.rawValue != search, row.orderID != search { return false }
            return true
        }
    }


    func filters(_ filter: Filter) async throws {
        let all = try await Self.seed(repository)
        let expected = all.filter(filter.matches).sorted(by: Self.newestFirst)
        #expect(!expected.isEmpty)
        let listed = try await Self.everyPage(repository, filter.query)
        #expect(listed == expected)
    }

    func pagingUnderConcurrentInserts() async throws {
        let existing = try await Self.seed(repository)
        // A writer inserting all along: some cases newer than every page, some in the middle.
        let background = Task {
            for i in 0..<60 {
                let at = i % 2 == 0 ? StorageFixture.now.adding(milliseconds: Int64(i)) : StorageFixture.story.adding(milliseconds: Int64(i) * 30_000)
                try await StorageFixture.store(repository, StorageFixture.syntheticCase(sequence: 1_000 + i, createdAt: at))
            }
        }
        var seen: [CaseSummary] = []
        var query = CaseQuery(pageSize: 4)
        var inserted = 0
        while true {
            let page = try await repository.listCases(query)
            seen += page.rows
            guard let next = page.next else { break }
            // Right at the cursor: one a millisecond-tie ahead of it (must not appear) and one behind it (may).
            inserted += 1
            try await StorageFixture.store(repository, StorageFixture.syntheticCase(
                sequence: 500 + inserted, createdAt: next.appliedAt))
            query.after = next
        }
        try await background.value

        let numbers = seen.map(\.number)
        #expect(Set(numbers).count == numbers.count, "a row was repeated")
        #expect(Set(existing.map(\.number)).isSubset(of: Set(numbers)), "a row that existed was skipped")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { Self.newestFirst($0, $1) }, "rows out of order")
    }

    func pageSizeLimits() async throws {
        await #expect(throws: RepositoryError.self) { try await repository.listCases(CaseQuery(pageSize: 0)) }
        await #expect(throws: RepositoryError.self) { try await repository.listCases(CaseQuery(pageSize: 1001)) }
        #expect(try await repository.listCases(CaseQuery(pageSize: 1000)) == CasePage(rows: [], next: nil))
    }

    func tokens() async throws {
        let cursor = CaseCursor(appliedAt: StorageFixture.now, caseNumber: Filter.number7)
        #expect(try CaseCursor(token: cursor.token) == cursor)
        #expect(throws: DomainError.self) { try CaseCursor(token: "garbage") }
    }
}

extension CaseListChecks {
    func caseNumbers() async throws {
        var numbers: [CaseNumber] = []
        for i in 0..<6 {
            let transition = StorageFixture.syntheticCase(sequence: 2_000 + i, status: i % 2 == 0 ? .pendingReview : .closed,
                                                          createdAt: StorageFixture.story.adding(milliseconds: Int64(i)))
            try await StorageFixture.store(repository, transition)
            numbers.append(transition.afterSale.number)
        }
        var query = CaseQuery(pageSize: 2)
        query.caseNumbers = [numbers[0], numbers[3], numbers[4]]
        var seen: [CaseNumber] = []
        for _ in 0..<5 {
            let page = try await repository.listCases(query)
            seen += page.rows.map(\.number)
            guard let next = page.next else { break }
            query.after = next
        }
        #expect(seen == [numbers[4], numbers[3], numbers[0]])
        var filtered = CaseQuery(statuses: [.pendingReview])
        filtered.caseNumbers = [numbers[0], numbers[3], numbers[4]]
        #expect(try await repository.listCases(filtered).rows.map(\.number) == [numbers[4], numbers[0]])
        var none = CaseQuery()
        none.caseNumbers = []
        #expect(try await repository.listCases(none).rows.isEmpty)
        var searched = CaseQuery(search: numbers[3].rawValue)
        searched.caseNumbers = [numbers[0]]
        #expect(try await repository.listCases(searched).rows.isEmpty)
    }

    static let checks: [ConformanceCheck] = ([
        Filter.allCases.map { argument in ConformanceCheck("each list filter returns exactly its cases, newest first, across pages: \(argument)") { try await CaseListChecks(repository: $0).filters(argument) } },
        [ConformanceCheck("paging while cases are inserted never repeats a row nor skips one that existed") { try await CaseListChecks(repository: $0).pagingUnderConcurrentInserts() }],
        [ConformanceCheck("a page size outside 1…1000 is refused") { try await CaseListChecks(repository: $0).pageSizeLimits() }],
        [ConformanceCheck("a list limited to some cases (an agent's) returns only those, with the other filters, across pages") {
            try await CaseListChecks(repository: $0).caseNumbers()
        }],
        [ConformanceCheck("a page token survives the trip through text") { try await CaseListChecks(repository: $0).tokens() }],
    ] as [[ConformanceCheck]]).flatMap { $0 }
}
