/// Where a buyer's personal data (个人信息) sits in the domain's values, so that one place can
/// transform all of it: seal it before it is stored, open it before it is shown.
///
/// Personal fields are an address's contact name, phone and street; province, city and district
/// stay as they are (what merchants and statistics may see). The merchant's return address is
/// the shop's business address and is not the buyer's.
extension Address {
    /// The address with `transform` applied to each personal field.
    public func mappingPersonalFields(_ transform: (String) throws -> String) rethrows -> Address {
        var mapped = self
        mapped.contactName = try transform(contactName)
        mapped.phone = try transform(phone)
        mapped.street = try transform(street)
        return mapped
    }

    /// Whether any personal field satisfies `predicate`.
    public func containsPersonalField(where predicate: (String) -> Bool) -> Bool {
        predicate(contactName) || predicate(phone) || predicate(street)
    }
}

extension AfterSaleCase {
    /// The buyer's addresses in the case: the return pickup address (the outbound shipment's too,
    /// should one carry an address).
    public var buyerAddresses: [Address] {
        [returnShipment?.pickupAddress, outboundShipment?.pickupAddress].compactMap { $0 }
    }

    /// The case with `transform` applied to each of the buyer's addresses.
    public func mappingBuyerAddresses(_ transform: (Address) throws -> Address) rethrows -> AfterSaleCase {
        var mapped = self
        if let address = returnShipment?.pickupAddress { mapped.returnShipment?.pickupAddress = try transform(address) }
        if let address = outboundShipment?.pickupAddress { mapped.outboundShipment?.pickupAddress = try transform(address) }
        return mapped
    }
}

extension OrderSnapshot {
    /// The order with `transform` applied to its delivery address.
    public func mappingBuyerAddresses(_ transform: (Address) throws -> Address) rethrows -> OrderSnapshot {
        var mapped = self
        mapped.deliveryAddress = try deliveryAddress.map(transform)
        return mapped
    }
}

/// When a buyer's personal data may be erased: once none of their cases is open, and the last
/// one finished at least the retention period ago (disputes, guarantee claims and reconciliation
/// may still need it until then). Cases and money records are kept; only the personal data goes.
public enum PersonalDataRetention {
    /// Refuses erasure while `cases` (all of the buyer's) hold it back at `now`.
    /// - Throws: ``DomainError/stateConflict(message:)`` naming the case that holds it back.
    public static func checkErasable(_ cases: [AfterSaleCase], retention: Duration, now: Timestamp) throws(DomainError) {
        let (seconds, tooLong) = retention.components.seconds.multipliedReportingOverflow(by: 1000)
        let retentionMs = tooLong ? Int64.max : seconds + retention.components.attoseconds / 1_000_000_000_000_000
        for afterSale in cases.sorted(by: { $0.number.rawValue < $1.number.rawValue }) {
            guard let finishedAt = afterSale.finishedAt else {
                throw .stateConflict(message: "case \(afterSale.number.rawValue) is still open (\(afterSale.status.rawValue)): "
                                          + "personal data is erased only after every case is finished")
            }
            let (until, overflow) = finishedAt.millisecondsSinceEpoch.addingReportingOverflow(retentionMs)
            if overflow || until > now.millisecondsSinceEpoch {
                throw .stateConflict(message: "case \(afterSale.number.rawValue) finished less than the retention period ago: "
                                          + (overflow ? "the retention period never ends" : "its personal data may be erased from unix ms \(until)"))
            }
        }
    }
}
