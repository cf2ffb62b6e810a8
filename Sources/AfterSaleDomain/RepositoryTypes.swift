/// What saving an order snapshot did.
public enum OrderSaveOutcome: Sendable, Hashable {
    /// The order was not known; the snapshot is stored.
    case inserted
    /// The snapshot replaced an older one, stored at `previousVersion`.
    case updated(previousVersion: Int64)
    /// The stored snapshot is as new or newer (`storedVersion`); nothing changed.
    case ignored(storedVersion: Int64)
}

/// An idempotency key as a caller sent it: retries with the same key get the first result.
///
/// Keys are scoped to the principal's role and id: two callers never collide on a key.
public struct IdempotencyRecord: Sendable, Hashable {
    /// The key the caller chose ("idempotency-key" metadata).
    public var key: String
    /// Who sent it (the role and id count; a merchant's shop does not).
    public var principal: Principal
    /// A digest of the request, computed by the caller; the same key with another fingerprint is refused.
    public var fingerprint: String

    /// Creates an idempotency record.
    public init(key: String, principal: Principal, fingerprint: String) {
        self.key = key
        self.principal = principal
        self.fingerprint = fingerprint
    }
}

/// What an eligibility decision read: the order's version and the versions of the cases on it.
///
/// ``CaseRepository/createCase(_:)`` refuses to store a case whose basis is out of date, so two
/// concurrent applications can never both claim the last unit of a line.
public struct EligibilityBasis: Sendable, Hashable {
    /// The order the decision was about.
    public var orderID: String
    /// The version of the order snapshot it read.
    public var orderVersion: Int64
    /// Every case on the order it counted, with the version it read.
    public var caseVersions: [CaseNumber: Int64]

    /// Creates a basis from its parts.
    public init(orderID: String, orderVersion: Int64, caseVersions: [CaseNumber: Int64]) {
        self.orderID = orderID
        self.orderVersion = orderVersion
        self.caseVersions = caseVersions
    }

    /// The basis of a decision that read `order` and `existingCases`.
    public init(order: OrderSnapshot, existingCases: [AfterSaleCase]) {
        orderID = order.id
        orderVersion = order.version
        caseVersions = Dictionary(existingCases.filter { $0.orderID == order.id }.map { ($0.number, $0.version) },
                                  uniquingKeysWith: { first, _ in first })
    }
}

/// What ``CaseRepository/creationContext(orderID:idempotency:)`` read.
public struct CreationContext: Sendable, Hashable {
    /// The case an earlier call with the same key and fingerprint created; when set, nothing else was read.
    public var replay: CreatedCase?
    /// The order, nil when after-sales does not know it.
    public var order: OrderSnapshot?
    /// The cases already on the order. A repository may leave their timelines empty: deciding a
    /// new case reads their lines, amounts, status and versions, never their history.
    public var existingCases: [AfterSaleCase]

    /// Creates a context.
    public init(replay: CreatedCase?, order: OrderSnapshot?, existingCases: [AfterSaleCase]) {
        self.replay = replay
        self.order = order
        self.existingCases = existingCases
    }

    /// The basis to store the decided case with (nil when the order is unknown).
    public var basis: EligibilityBasis? { order.map { EligibilityBasis(order: $0, existingCases: existingCases) } }
}

/// A new case to store: the creation transition, the caller's idempotency key, what eligibility read.
public struct CaseCreation: Sendable, Hashable {
    /// What ``AfterSaleCase/open(_:number:order:existingCases:catalog:policy:by:at:)`` returned.
    public var transition: Transition
    /// The caller's key, principal and request fingerprint.
    public var idempotency: IdempotencyRecord
    /// What the eligibility decision read; nil stores without checking (seeding, imports).
    public var basis: EligibilityBasis?
    /// The refund order a refund-only case creates with itself.
    public var refund: RefundOrder?
    /// The feed events the creation appends.
    public var events: [OutboxEvent]

    /// Creates a case creation.
    public init(transition: Transition, idempotency: IdempotencyRecord, basis: EligibilityBasis?,
                refund: RefundOrder? = nil, events: [OutboxEvent] = []) {
        self.transition = transition
        self.idempotency = idempotency
        self.basis = basis
        self.refund = refund
        self.events = events
    }
}

/// The result of ``CaseRepository/createCase(_:)``.
public struct CreatedCase: Sendable, Hashable {
    /// The case's number.
    public var number: CaseNumber
    /// True when an earlier call with the same key created the case and nothing was written now.
    public var replayed: Bool

    /// Creates a result.
    public init(number: CaseNumber, replayed: Bool) {
        self.number = number
        self.replayed = replayed
    }
}

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

/// A message to add to a case's conversation.
public struct NewMessage: Sendable, Hashable {
    /// The case.
    public var caseNumber: CaseNumber
    /// Who sends it.
    public var sender: Principal
    /// The text.
    public var text: String
    /// Attached files.
    public var attachments: [EvidenceRef]
    /// When it was sent.
    public var sentAt: Timestamp

    /// Creates a message to add.
    public init(caseNumber: CaseNumber, sender: Principal, text: String, attachments: [EvidenceRef] = [], sentAt: Timestamp) {
        self.caseNumber = caseNumber
        self.sender = sender
        self.text = text
        self.attachments = attachments
        self.sentAt = sentAt
    }
}

/// A stored message of a case's conversation.
public struct CaseMessage: Sendable, Hashable {
    /// The storage's identifier, increasing in the order messages were stored.
    public var id: Int64
    /// The case.
    public var caseNumber: CaseNumber
    /// Who sent it.
    public var sender: Principal
    /// The text.
    public var text: String
    /// Attached files.
    public var attachments: [EvidenceRef]
    /// When it was sent.
    public var sentAt: Timestamp

    /// Creates a stored message.
    public init(id: Int64, caseNumber: CaseNumber, sender: Principal, text: String, attachments: [EvidenceRef], sentAt: Timestamp) {
        self.id = id
        self.caseNumber = caseNumber
        self.sender = sender
        self.text = text
        self.attachments = attachments
        self.sentAt = sentAt
    }
}

/// The result of ``MessageRepository/appendMessage(_:idempotency:)``.
public struct AppendedMessage: Sendable, Hashable {
    /// The stored message.
    public var message: CaseMessage
    /// True when an earlier call with the same key stored it and nothing was written now.
    public var replayed: Bool

    /// Creates a result.
    public init(message: CaseMessage, replayed: Bool) {
        self.message = message
        self.replayed = replayed
    }
}

/// One page of a conversation.
public struct MessagePage: Sendable, Hashable {
    /// The messages, oldest first.
    public var messages: [CaseMessage]
    /// The id to pass as `after` for the next page; nil when there are no more messages.
    public var next: Int64?

    /// Creates a page.
    public init(messages: [CaseMessage], next: Int64?) {
        self.messages = messages
        self.next = next
    }
}

/// A catalog reason with its storage version.
public struct StoredReason: Sendable, Hashable {
    /// The reason.
    public var reason: Reason
    /// Starts at 1, grows by 1 with every change.
    public var version: Int64
    /// When it last changed.
    public var updatedAt: Timestamp

    /// Creates a stored reason.
    public init(reason: Reason, version: Int64, updatedAt: Timestamp) {
        self.reason = reason
        self.version = version
        self.updatedAt = updatedAt
    }
}
