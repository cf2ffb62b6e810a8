/// The shop that sold an order and how a buyer reaches it.
public struct ShopInfo: Sendable, Hashable {
    /// The shop's identifier.
    public var id: String
    /// The shop's display name.
    public var name: String
    /// Customer-service phone or handle.
    public var contact: String

    /// Creates shop information.
    public init(id: String, name: String = "", contact: String = "") {
        self.id = id
        self.name = name
        self.contact = contact
    }
}

/// A postal address (delivery, return or pickup), masked as the order system sends it.
public struct Address: Sendable, Hashable {
    /// The contact person's name.
    public var contactName: String
    /// The contact phone number.
    public var phone: String
    /// Province or state.
    public var province: String
    /// City.
    public var city: String
    /// District or county.
    public var district: String
    /// Street, building and room.
    public var street: String
    /// Postal code.
    public var postalCode: String

    /// Creates an address.
    public init(contactName: String, phone: String, province: String = "", city: String = "",
                district: String = "", street: String, postalCode: String = "") {
        self.contactName = contactName
        self.phone = phone
        self.province = province
        self.city = city
        self.district = district
        self.street = street
        self.postalCode = postalCode
    }
}
