/// A position in the case list: the last row a page returned, by applied time then case number.
///
/// The list is ordered by this pair, which is unique, so a page that starts after a cursor never
/// repeats a row and never skips one that existed when the first page was read.
public struct CaseCursor: Sendable, Hashable {
    /// The applied time of the last row returned.
    public var appliedAt: Timestamp
    /// The number of the last row returned.
    public var caseNumber: CaseNumber

    /// Creates a cursor after the row applied at `appliedAt` numbered `caseNumber`.
    public init(appliedAt: Timestamp, caseNumber: CaseNumber) {
        self.appliedAt = appliedAt
        self.caseNumber = caseNumber
    }

    /// The cursor as an opaque page token, e.g. `1763683200000.AS20261121000123`.
    public var token: String { "\(appliedAt.millisecondsSinceEpoch).\(caseNumber.rawValue)" }

    /// Parses a page token made by ``token``.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming `page_token`.
    public init(token: String) throws(DomainError) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = Int64(parts[0]),
              let number = try? CaseNumber(parsing: String(parts[1])) else {
            throw .invalidArgument(field: "page_token", message: "is not a token this service issued")
        }
        appliedAt = Timestamp(millisecondsSinceEpoch: milliseconds)
        caseNumber = number
    }
}

/// Which cases to list and which page: every filter given must match.
public struct CaseQuery: Sendable, Hashable {
    /// Only this buyer's cases.
    public var buyerID: String?
    /// Only this shop's cases.
    public var shopID: String?
    /// Only this kind.
    public var kind: AfterSaleKind?
    /// Only these statuses (empty: any).
    public var statuses: Set<CaseStatus>
    /// Applied at or after this instant.
    public var appliedFrom: Timestamp?
    /// Applied strictly before this instant.
    public var appliedBefore: Timestamp?
    /// A case number or an order number, matched exactly.
    public var search: String?
    /// The most rows a page holds (≥ 1).
    public var pageSize: Int
    /// Start after this row (nil: the first page).
    public var after: CaseCursor?
    /// Only these cases (an agent's: the cases of the tickets they may see); nil: no such limit.
    public var caseNumbers: Set<CaseNumber>?

    /// The most cases ``caseNumbers`` may name.
    public static let maximumCaseNumbers = 1_000

    /// Creates a query; with no filters it lists every case.
    public init(buyerID: String? = nil, shopID: String? = nil, kind: AfterSaleKind? = nil, statuses: Set<CaseStatus> = [],
                appliedFrom: Timestamp? = nil, appliedBefore: Timestamp? = nil, search: String? = nil,
                pageSize: Int = 20, after: CaseCursor? = nil) {
        self.buyerID = buyerID
        self.shopID = shopID
        self.kind = kind
        self.statuses = statuses
        self.appliedFrom = appliedFrom
        self.appliedBefore = appliedBefore
        self.search = search
        self.pageSize = pageSize
        self.after = after
    }
}

/// One row of the case list: what the list page shows without loading the case.
public struct CaseSummary: Sendable, Hashable {
    /// The case number.
    public var number: CaseNumber
    /// The order number.
    public var orderID: String
    /// The buyer.
    public var buyerID: String
    /// The shop.
    public var shop: ShopInfo
    /// The kind.
    public var kind: AfterSaleKind
    /// The status.
    public var status: CaseStatus
    /// The first line's product title.
    public var title: String
    /// The first line's specification.
    public var spec: String
    /// The first line's image.
    public var imageURL: String
    /// Units over all lines.
    public var quantity: Int
    /// Number of lines.
    public var lineCount: Int
    /// Approved if approved, else computed; nil for exchange and repair.
    public var refundAmount: Money?
    /// When the buyer applied.
    public var appliedAt: Timestamp
    /// When the case last changed.
    public var updatedAt: Timestamp
    /// The case version.
    public var version: Int64

    /// Creates a row.
    public init(number: CaseNumber, orderID: String, buyerID: String, shop: ShopInfo, kind: AfterSaleKind,
                status: CaseStatus, title: String, spec: String, imageURL: String, quantity: Int, lineCount: Int,
                refundAmount: Money?, appliedAt: Timestamp, updatedAt: Timestamp, version: Int64) {
        self.number = number
        self.orderID = orderID
        self.buyerID = buyerID
        self.shop = shop
        self.kind = kind
        self.status = status
        self.title = title
        self.spec = spec
        self.imageURL = imageURL
        self.quantity = quantity
        self.lineCount = lineCount
        self.refundAmount = refundAmount
        self.appliedAt = appliedAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// The row of `afterSale`.
    public init(_ afterSale: AfterSaleCase) {
        let first = afterSale.lines.first
        self.init(number: afterSale.number, orderID: afterSale.orderID, buyerID: afterSale.buyerID, shop: afterSale.shop,
                  kind: afterSale.kind, status: afterSale.status, title: first?.title ?? "", spec: first?.spec ?? "",
                  imageURL: first?.imageURL ?? "", quantity: afterSale.totalQuantity, lineCount: afterSale.lines.count,
                  refundAmount: afterSale.kind.refundsMoney ? afterSale.amounts.displayed : nil,
                  appliedAt: afterSale.createdAt, updatedAt: afterSale.updatedAt, version: afterSale.version)
    }

    /// The cursor that starts the page after this row.
    public var cursor: CaseCursor { CaseCursor(appliedAt: appliedAt, caseNumber: number) }
}

/// One page of the case list.
public struct CasePage: Sendable, Hashable {
    /// The rows, newest first.
    public var rows: [CaseSummary]
    /// Where the next page starts; nil when there are no more rows.
    public var next: CaseCursor?

    /// Creates a page.
    public init(rows: [CaseSummary], next: CaseCursor?) {
        self.rows = rows
        self.next = next
    }
}
