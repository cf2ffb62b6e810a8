import AfterSaleDomain

/// The integer key SQL backends store a case under: its number's digits (`AS20261121000123` →
/// 20261121000123), so keys sort as numbers do and a day's cases are one key range.
public enum CaseKey {
    /// The key of `number`.
    public static func id(of number: CaseNumber) -> Int64 {
        // CaseNumber guarantees 14 digits, so the fallback is never taken.
        Int64(number.rawValue.dropFirst(2)) ?? 0
    }

    /// The number keyed `id`.
    /// - Throws: ``CorruptDocument`` when `id` is not a case number's digits.
    public static func number(of id: Int64) throws -> CaseNumber {
        let digits = String(id)
        return try decoding { try CaseNumber(parsing: "AS" + String(repeating: "0", count: max(0, 14 - digits.count)) + digits) }
    }

    /// The UTC day (yyyyMMdd) of `number`.
    public static func day(of number: CaseNumber) -> Int64 { id(of: number) / 1_000_000 }
}

/// What a SQL backend stores for a case besides its timeline: the key, the list row's columns and
/// the document, computed once per write on the caller's task (so a writer thread only binds bytes).
public struct EncodedCase: Sendable {
    /// The row's key (``CaseKey``).
    public let id: Int64
    /// The case as decided.
    public let afterSale: AfterSaleCase
    /// The columns the list filters, sorts and shows.
    public let summary: CaseSummary
    /// ``CaseDocument``: every field but the timeline.
    public let document: [UInt8]

    /// Encodes `afterSale`.
    public init(_ afterSale: AfterSaleCase) {
        id = CaseKey.id(of: afterSale.number)
        self.afterSale = afterSale
        summary = CaseSummary(afterSale)
        document = CaseDocument.encode(afterSale)
    }
}

extension RefundOrder {
    /// When a payment worker may claim it, in Unix milliseconds: at creation while pending, at the
    /// next attempt while a retry is scheduled, when the lease expires while claimed; nil once
    /// succeeded or waiting for an agent. SQL backends index it to find claimable refunds.
    public var claimableAtMilliseconds: Int64? {
        switch status {
        case .pending: createdAt.millisecondsSinceEpoch
        case .retryScheduled: nextAttemptAt?.millisecondsSinceEpoch ?? updatedAt.millisecondsSinceEpoch
        case .claimed: lease?.expiresAt.millisecondsSinceEpoch ?? updatedAt.millisecondsSinceEpoch
        case .succeeded, .needsAttention: nil
        }
    }
}
