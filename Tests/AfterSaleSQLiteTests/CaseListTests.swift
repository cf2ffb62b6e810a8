import AfterSaleDomain
import StorageConformance
import Testing
@testable import AfterSaleSQLite
import AfterSaleStorage

@Suite("Listing cases (SQLite only)")
struct CaseListTests {
    @Test("no list query scans the cases table or sorts all its matches")
    func queryPlans() async throws {
        try await StorageFixture.withRepository { repository, _ async throws in
            let cursor = CaseCursor(appliedAt: StorageFixture.now, caseNumber: CaseListChecks.Filter.number7)
            var queries = CaseListChecks.Filter.allCases.map(\.query)
            queries += [
                CaseQuery(shopID: "s-1", kind: .exchange, statuses: [.completed], appliedFrom: CaseListChecks.Filter.from, appliedBefore: CaseListChecks.Filter.before),
                CaseQuery(shopID: "s-1", statuses: [.completed, .closed], appliedBefore: CaseListChecks.Filter.before),
                CaseQuery(kind: .repair, statuses: [.repairing]),
                CaseQuery(buyerID: "b-1", shopID: "s-1"),
                CaseQuery(appliedFrom: CaseListChecks.Filter.from),
            ]
            for var query in queries {
                for after in [nil, cursor] {
                    query.after = after
                    let list = try CaseListQuery(query)
                    let plan = try await repository.read { connection in
                        try connection.query("EXPLAIN QUERY PLAN " + list.sql, bind: list.bind) { $0.string(3) }
                    }
                    let described = plan.joined(separator: " | ")
                    // "SCAN cases" alone reads the whole table; an ordered walk of a list index
                    // ("SCAN cases USING INDEX …", stopped by LIMIT) or a seek ("SEARCH …") does not.
                    #expect(!plan.contains("SCAN cases"), "full scan: \(described)")
                    if query.search == nil {
                        #expect(!described.contains("TEMP B-TREE"), "sorts every match: \(described)")
                        #expect(described.contains(list.index!), "walks \(described), not \(list.index!)")
                        if after != nil || query.appliedFrom != nil || query.appliedBefore != nil || query.buyerID != nil
                            || query.shopID != nil || query.statuses.count == 1 {
                            #expect(described.hasPrefix("SEARCH"), "no seek: \(described)")
                        }
                    }
                }
            }
        }
    }

}
