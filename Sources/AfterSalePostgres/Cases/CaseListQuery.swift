import AfterSaleDomain
import AfterSaleStorage

/// The SQL of one page of the case list, newest first by `(created_at, id)`, starting strictly
/// after the cursor (a row-value comparison the indexes serve as a range).
///
/// Which index serves which filter (the planner picks; the shapes are those of SQLite's schema):
/// buyer → `cases_by_buyer`; shop with one status → `cases_by_shop_status`; shop → `cases_by_shop`;
/// one status → `cases_by_status`; otherwise → `cases_by_time`; a search looks the case up by key
/// and the order's cases by `cases_by_order`. The text depends only on which filters are present,
/// never on their values, so each shape is prepared once per connection.
struct CaseListQuery {
    /// The statement.
    let sql: String
    /// Its parameters, `$1` first.
    let parameters: [PostgresValue]

    /// The largest page the storage serves (the service caps pages lower).
    static let maximumPageSize = 1000

    /// Builds the page query for `query`.
    /// - Throws: ``RepositoryError/invalidRequest(_:)`` for a page size outside 1…``maximumPageSize``.
    init(_ query: CaseQuery) throws {
        guard (1...Self.maximumPageSize).contains(query.pageSize) else {
            throw RepositoryError.invalidRequest("page size must be between 1 and \(Self.maximumPageSize), got \(query.pageSize)")
        }
        guard (query.caseNumbers?.count ?? 0) <= CaseQuery.maximumCaseNumbers else {
            throw RepositoryError.invalidRequest("at most \(CaseQuery.maximumCaseNumbers) case numbers")
        }
        var builder = StatementBuilder()
        var conditions: [String] = []
        if let numbers = query.caseNumbers {
            // An agent's cases: a few, looked up by key.
            let ids = numbers.map { String(CaseKey.id(of: $0)) }.sorted()
            conditions.append("id = ANY (\(builder.parameter(.text("{" + ids.joined(separator: ",") + "}")))::bigint[])")
        }
        if let search = query.search, !search.isEmpty {
            if let number = try? CaseNumber(parsing: search) {
                conditions.append("(id = \(builder.parameter(.int64(CaseKey.id(of: number))))::bigint "
                                  + "OR order_id = \(builder.parameter(.text(search)))::text)")
            } else {
                conditions.append("order_id = \(builder.parameter(.text(search)))::text")
            }
        }
        if let buyerID = query.buyerID { conditions.append("buyer_id = \(builder.parameter(.text(buyerID)))::text") }
        if let shopID = query.shopID { conditions.append("shop_id = \(builder.parameter(.text(shopID)))::text") }
        if let kind = query.kind { conditions.append("kind = \(builder.parameter(.text(kind.rawValue)))::text") }
        let statuses = query.statuses.map(\.rawValue).sorted()
        if statuses.count == 1 {
            conditions.append("status = \(builder.parameter(.text(statuses[0])))::text")
        } else if !statuses.isEmpty {
            // Status names are snake_case words: a comma never occurs in one.
            conditions.append("status = ANY (string_to_array(\(builder.parameter(.text(statuses.joined(separator: ","))))::text, ','))")
        }
        if let from = query.appliedFrom { conditions.append("created_at >= \(builder.parameter(.time(from)))::bigint") }
        if let before = query.appliedBefore { conditions.append("created_at < \(builder.parameter(.time(before)))::bigint") }
        if let after = query.after {
            let at = builder.parameter(.time(after.appliedAt))
            let id = builder.parameter(.int64(CaseKey.id(of: after.caseNumber)))
            conditions.append("(created_at, id) < (\(at)::bigint, \(id)::bigint)")
        }
        let limit = builder.parameter(.int64(Int64(query.pageSize + 1)))
        var sql = "SELECT \(CaseRows.summaryColumns) FROM cases"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY created_at DESC, id DESC LIMIT \(limit)::bigint"
        self.sql = sql
        parameters = builder.parameters
    }
}
