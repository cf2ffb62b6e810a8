import AfterSaleDomain
import AfterSaleStorage

/// A value bound to a statement parameter.
enum SQLValue: Hashable {
    case integer(Int64)
    case text(String)

    func bind(to statement: Statement, at index: Int32) {
        switch self {
        case .integer(let value): statement.bind(index, value)
        case .text(let value): statement.bind(index, value)
        }
    }
}

/// The SQL of one page of the case list: one query per page, which walks one index named here
/// (see ``Schema`` for which index serves which filter).
///
/// The text depends only on which filters are present (and how many statuses), never on their
/// values, so each shape is prepared once per connection and reused from the statement cache.
struct CaseListQuery {
    /// The statement.
    let sql: String
    /// Its parameters, ?1, ?2, … in order.
    let parameters: [SQLValue]
    /// The index the statement walks (INDEXED BY), nil for a search, which looks rows up by key.
    let index: String?
    /// Rows asked for: one more than the page, to learn whether another page follows.
    let limit: Int

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
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        func parameter(_ value: SQLValue) -> String {
            parameters.append(value)
            return "?\(parameters.count)"
        }

        let index: String?
        let search = query.search.flatMap { $0.isEmpty ? nil : $0 }
        let statuses = query.statuses.map(\.rawValue).sorted()
        if let numbers = query.caseNumbers {
            // An agent's cases: a few, looked up by key.
            let ids = numbers.map(CaseKey.id(of:)).sorted()
            conditions.append(ids.isEmpty ? "0" : "id IN (\(ids.map { parameter(.integer($0)) }.joined(separator: ", ")))")
        }
        if query.caseNumbers != nil {
            index = nil
            if let search {
                if let number = try? CaseNumber(parsing: search) {
                    conditions.append("(id = \(parameter(.integer(CaseKey.id(of: number)))) OR order_id = \(parameter(.text(search))))")
                } else {
                    conditions.append("order_id = \(parameter(.text(search)))")
                }
            }
        } else if let search {
            // An exact search finds an order's few cases (or one case): look them up by key, then
            // sort that handful; no list index is walked.
            if let number = try? CaseNumber(parsing: search) {
                conditions.append("id IN (SELECT \(parameter(.integer(CaseKey.id(of: number)))) UNION SELECT id FROM cases INDEXED BY cases_by_order WHERE order_id = \(parameter(.text(search))))")
                index = nil
            } else {
                conditions.append("order_id = \(parameter(.text(search)))")
                index = "cases_by_order"
            }
        } else if query.buyerID != nil {
            index = "cases_by_buyer"  // a buyer has few cases: walk them all in order, filter the rest from the entry
        } else if query.shopID != nil {
            index = statuses.count == 1 ? "cases_by_shop_status" : "cases_by_shop"
        } else if statuses.count == 1 {
            index = "cases_by_status"
        } else {
            index = "cases_by_time"
        }

        if let buyerID = query.buyerID { conditions.append("buyer_id = \(parameter(.text(buyerID)))") }
        if let shopID = query.shopID { conditions.append("shop_id = \(parameter(.text(shopID)))") }
        if let kind = query.kind { conditions.append("kind = \(parameter(.text(kind.rawValue)))") }
        if statuses.count == 1 {
            conditions.append("status = \(parameter(.text(statuses[0])))")
        } else if !statuses.isEmpty {
            conditions.append("status IN (\(statuses.map { parameter(.text($0)) }.joined(separator: ", ")))")
        }
        if let from = query.appliedFrom { conditions.append("created_at >= \(parameter(.integer(from.millisecondsSinceEpoch)))") }
        if let before = query.appliedBefore { conditions.append("created_at < \(parameter(.integer(before.millisecondsSinceEpoch)))") }
        if let after = query.after {
            // The keyset: strictly after the last row returned, in (created_at, id) descending order.
            let at = parameter(.integer(after.appliedAt.millisecondsSinceEpoch))
            let id = parameter(.integer(CaseKey.id(of: after.caseNumber)))
            conditions.append("(created_at, id) < (\(at), \(id))")
        }
        let limit = query.pageSize + 1
        let limitParameter = parameter(.integer(Int64(limit)))

        var sql = "SELECT \(CaseRows.summaryColumns) FROM cases"
        if let index { sql += " INDEXED BY \(index)" }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY created_at DESC, id DESC LIMIT \(limitParameter)"
        self.sql = sql
        self.parameters = parameters
        self.index = index
        self.limit = limit
    }

    /// Binds the parameters to `statement`.
    func bind(_ statement: Statement) {
        for (offset, value) in parameters.enumerated() { value.bind(to: statement, at: Int32(offset + 1)) }
    }
}
