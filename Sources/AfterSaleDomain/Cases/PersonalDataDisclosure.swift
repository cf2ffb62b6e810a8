/// How much of a buyer's personal data (the return pickup address: contact name, phone, street) a
/// viewer of a case sees, by role:
/// - the buyer of the case, the platform and internal systems: everything;
/// - a merchant: the contact's name and phone masked (`李*`, `138****1234`); the street only while
///   the return shipment is open (``openReturnStatuses``), otherwise district level;
/// - an agent: the contact masked and the address at district level, unless they reveal it through
///   the audited reveal call.
///
/// The merchant's own return address (where goods are sent back) is the shop's business address and
/// is shown as stored to everyone who may see the case.
public enum PersonalDataDisclosure: Sendable, Hashable {
    /// Everything as stored.
    case full
    /// Contact masked; the street kept.
    case maskedContact
    /// Contact masked; the address cut to district level.
    case districtLevel

    /// The statuses in which a return shipment is under way and the merchant (and its courier) may
    /// need the full pickup address.
    public static let openReturnStatuses: Set<CaseStatus> = [.awaitingReturn, .returnShipped, .awaitingReceipt]

    /// What `viewer` sees of the buyer's personal data on `afterSale`.
    public static func of(_ afterSale: AfterSaleCase, for viewer: Principal) -> PersonalDataDisclosure {
        switch viewer.role {
        case .platform, .system:
            return .full
        case .buyer:
            return viewer.id == afterSale.buyerID ? .full : .districtLevel
        case .merchant:
            let shipmentOpen = afterSale.returnShipment != nil && openReturnStatuses.contains(afterSale.status)
            return shipmentOpen ? .maskedContact : .districtLevel
        case .agent:
            return .districtLevel
        }
    }

    /// `address` as this disclosure shows it.
    public func apply(_ address: Address) -> Address {
        switch self {
        case .full: address
        case .maskedContact: PersonalDataMask.maskedContact(address)
        case .districtLevel: PersonalDataMask.districtLevel(address)
        }
    }
}
