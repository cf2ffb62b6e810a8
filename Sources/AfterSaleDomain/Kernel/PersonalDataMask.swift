/// The masks for personal data (个人信息保护法 Art. 51; the common GB/T 35273 forms): pure functions
/// that responses apply by the viewer's role (``PersonalDataDisclosure``).
public enum PersonalDataMask {
    /// The mask character.
    public static let maskCharacter: Character = "*"

    /// A phone number with its middle hidden: 11 characters or more keep the first 3 and last 4
    /// (`13812341234` → `138****1234`); 3…7 characters keep only the last 2 (`95511` → `***11`);
    /// 1…2 characters are all masks; empty stays empty. One mask replaces each hidden character,
    /// and surrounding whitespace is dropped first.
    public static func phone(_ phone: String) -> String {
        let characters = Array(phone.trimmingWhitespace)
        let count = characters.count
        switch count {
        case 0:
            return ""
        case 1...2:
            return String(repeating: maskCharacter, count: count)
        case 3...7:
            return String(repeating: maskCharacter, count: count - 2) + String(characters.suffix(2))
        default:
            return String(characters.prefix(3)) + String(repeating: maskCharacter, count: count - 7) + String(characters.suffix(4))
        }
    }

    /// A person's name as its first character and one mask (`李四` → `李*`, `欧阳娜娜` → `欧*`,
    /// `Alice` → `A*`); a one-character name becomes `*`; empty stays empty. Compound surnames
    /// are not recognised: only the first character is kept.
    public static func name(_ name: String) -> String {
        let trimmed = name.trimmingWhitespace
        guard let first = trimmed.first else { return "" }
        guard trimmed.count > 1 else { return String(maskCharacter) }
        return String(first) + String(maskCharacter)
    }

    /// An address at district level: province, city and district kept; the street and postal code
    /// dropped; the contact's name and phone masked.
    public static func districtLevel(_ address: Address) -> Address {
        Address(contactName: name(address.contactName), phone: phone(address.phone), province: address.province,
                city: address.city, district: address.district, street: "", postalCode: "")
    }

    /// An address in full but with the contact's name and phone masked.
    public static func maskedContact(_ address: Address) -> Address {
        var masked = address
        masked.contactName = name(address.contactName)
        masked.phone = phone(address.phone)
        return masked
    }
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return slice
    }
}
