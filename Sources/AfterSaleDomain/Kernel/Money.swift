/// An ISO 4217 currency code such as `CNY`: exactly three ASCII capital letters.
public struct CurrencyCode: Sendable, Hashable, CustomStringConvertible {
    /// The three-letter code.
    public let code: String

    /// Validates and wraps a currency code.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming `currency` when the code is malformed.
    public init(_ code: String) throws(DomainError) {
        let bytes = Array(code.utf8)
        guard bytes.count == 3, bytes.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            throw .invalidArgument(field: "currency", message: "must be three capital letters (ISO 4217), got \"\(code)\"")
        }
        self.code = code
    }

    private init(unchecked code: String) { self.code = code }

    /// Renminbi, the platform's home currency (fen are its minor units).
    public static let cny = CurrencyCode(unchecked: "CNY")

    /// True when the code names a currency in circulation (ISO 4217's active list), not just
    /// something shaped like one (`XYZ`).
    public var isKnown: Bool { Self.known.contains(code) }

    /// ISO 4217 active currency codes.
    static let known: Set<String> = Set("""
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
        CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
        GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
        LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
        NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
        STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF
        XPF YER ZAR ZMW ZWL
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))

    /// The code itself.
    public var description: String { code }
}

/// An amount of money in integer minor units (fen for CNY) with its currency; never floating point.
///
/// Arithmetic is checked: overflow and mixed currencies are reported as ``DomainError`` values
/// instead of trapping, because amounts arrive from other systems and must not crash the service.
public struct Money: Sendable, Hashable, CustomStringConvertible {
    /// The amount in minor units, e.g. 1999 for 19.99 CNY.
    public let minorUnits: Int64
    /// The currency the amount is in.
    public let currency: CurrencyCode

    /// Creates an amount from minor units and a currency.
    public init(minorUnits: Int64, currency: CurrencyCode) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Zero in `currency`.
    public static func zero(_ currency: CurrencyCode) -> Money { Money(minorUnits: 0, currency: currency) }

    /// Shorthand for an amount in CNY fen, e.g. `.cny(1999)` for 19.99 元.
    public static func cny(_ fen: Int64) -> Money { Money(minorUnits: fen, currency: .cny) }

    /// True when the amount is zero.
    public var isZero: Bool { minorUnits == 0 }
    /// True when the amount is below zero.
    public var isNegative: Bool { minorUnits < 0 }

    /// `self + other`; fails on mixed currencies or overflow.
    public func adding(_ other: Money) throws(DomainError) -> Money {
        try requireSameCurrency(other)
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        if overflow { throw .arithmeticOverflow(operation: "\(self) + \(other)") }
        return Money(minorUnits: sum, currency: currency)
    }

    /// `self - other`; fails on mixed currencies or overflow.
    public func subtracting(_ other: Money) throws(DomainError) -> Money {
        try requireSameCurrency(other)
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        if overflow { throw .arithmeticOverflow(operation: "\(self) - \(other)") }
        return Money(minorUnits: difference, currency: currency)
    }

    /// `self × factor` (e.g. unit price × quantity); fails on overflow.
    public func multiplied(by factor: Int64) throws(DomainError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: factor)
        if overflow { throw .arithmeticOverflow(operation: "\(self) × \(factor)") }
        return Money(minorUnits: product, currency: currency)
    }

    /// The sum of `amounts`, all in `currency`; zero for an empty list.
    public static func sum(_ amounts: [Money], currency: CurrencyCode) throws(DomainError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts { total = try total.adding(amount) }
        return total
    }

    /// Fails with ``DomainError/currencyMismatch(expected:actual:)`` unless `other` is in this currency.
    public func requireSameCurrency(_ other: Money) throws(DomainError) {
        if other.currency != currency { throw .currencyMismatch(expected: currency, actual: other.currency) }
    }

    /// Compares amounts of one currency; amounts in different currencies are never ordered.
    public func isLessThanOrEqual(to other: Money) -> Bool {
        currency == other.currency && minorUnits <= other.minorUnits
    }

    /// The amount with its currency in minor units, e.g. `1999 CNY`.
    public var description: String { "\(minorUnits) \(currency)" }
}
