import AfterSaleDomain
import AfterSaleProto

// Money, addresses, shops, roles and evidence between the wire and the domain.
extension ProtoMapping {
    static func role(_ role: AfterSaleDomain.ActorRole) -> AfterSaleProto.ActorRole {
        switch role {
        case .buyer: .buyer
        case .merchant: .merchant
        case .agent: .agent
        case .platform: .platform
        case .system: .system
        }
    }

    static func role(_ role: AfterSaleProto.ActorRole) -> AfterSaleDomain.ActorRole? {
        AfterSaleDomain.ActorRole.allCases.first { self.role($0) == role }
    }

    static func money(_ money: AfterSaleDomain.Money) -> AfterSaleProto.Money {
        var m = AfterSaleProto.Money()
        m.amountMinor = money.minorUnits
        m.currency = money.currency.code
        return m
    }

    /// A wire amount; an empty currency means `defaultCurrency`.
    static func money(_ money: AfterSaleProto.Money, field: String, defaultCurrency: CurrencyCode = .cny) throws(DomainError) -> AfterSaleDomain.Money {
        let currency: CurrencyCode
        if money.currency.isEmpty {
            currency = defaultCurrency
        } else {
            do { currency = try CurrencyCode(money.currency) } catch {
                throw .invalidArgument(field: "\(field).currency", message: "must be an ISO 4217 code, got \"\(money.currency)\"")
            }
        }
        return AfterSaleDomain.Money(minorUnits: money.amountMinor, currency: currency)
    }

    static func address(_ address: AfterSaleDomain.Address) -> AfterSaleProto.Address {
        var a = AfterSaleProto.Address()
        a.contactName = address.contactName
        a.phone = address.phone
        a.province = address.province
        a.city = address.city
        a.district = address.district
        a.street = address.street
        a.postalCode = address.postalCode
        return a
    }

    static func address(_ address: AfterSaleProto.Address) -> AfterSaleDomain.Address {
        AfterSaleDomain.Address(contactName: address.contactName, phone: address.phone, province: address.province, city: address.city,
                  district: address.district, street: address.street, postalCode: address.postalCode)
    }

    static func shop(_ shop: AfterSaleDomain.ShopInfo) -> AfterSaleProto.ShopInfo {
        var s = AfterSaleProto.ShopInfo()
        s.shopId = shop.id
        s.name = shop.name
        s.contact = shop.contact
        return s
    }

    static func shop(_ shop: AfterSaleProto.ShopInfo) -> AfterSaleDomain.ShopInfo { AfterSaleDomain.ShopInfo(id: shop.shopId, name: shop.name, contact: shop.contact) }

    static func evidence(_ evidence: AfterSaleDomain.EvidenceRef) -> AfterSaleProto.EvidenceRef {
        var e = AfterSaleProto.EvidenceRef()
        switch evidence.location {
        case .url(let url): e.url = url
        case .objectKey(let key): e.objectKey = key
        }
        e.contentType = evidence.contentType
        e.sizeBytes = evidence.sizeBytes
        return e
    }

    static func evidence(_ evidence: AfterSaleProto.EvidenceRef, field: String) throws(DomainError) -> AfterSaleDomain.EvidenceRef {
        let location: EvidenceLocation
        switch (evidence.url.isEmpty, evidence.objectKey.isEmpty) {
        case (false, true): location = .url(evidence.url)
        case (true, false): location = .objectKey(evidence.objectKey)
        case (true, true): throw .invalidArgument(field: field, message: "must set url or object_key")
        case (false, false): throw .invalidArgument(field: field, message: "must set url or object_key, not both")
        }
        return AfterSaleDomain.EvidenceRef(location: location, contentType: evidence.contentType, sizeBytes: evidence.sizeBytes)
    }

    static func evidence(_ list: [AfterSaleProto.EvidenceRef], field: String) throws(DomainError) -> [AfterSaleDomain.EvidenceRef] {
        var result: [AfterSaleDomain.EvidenceRef] = []
        for (index, item) in list.enumerated() { result.append(try evidence(item, field: "\(field)[\(index)]")) }
        return result
    }
}
