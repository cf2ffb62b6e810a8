import AfterSaleDomain
import Testing

@Suite("Personal data masks")
struct PersonalDataMaskTests {
    @Test("an 11-digit phone keeps its first 3 and last 4 digits")
    func mobile() {
        #expect(PersonalDataMask.phone("13812341234") == "138****1234")
        #expect(PersonalDataMask.phone(" 13912345678 ") == "139****5678")
    }

    @Test("phones of other lengths hide everything but a few edge characters")
    func otherLengths() {
        #expect(PersonalDataMask.phone("") == "")
        #expect(PersonalDataMask.phone("7") == "*")
        #expect(PersonalDataMask.phone("12") == "**")
        #expect(PersonalDataMask.phone("95511") == "***11")
        #expect(PersonalDataMask.phone("1234567") == "*****67")
        #expect(PersonalDataMask.phone("12345678") == "123*5678")
        #expect(PersonalDataMask.phone("010-12345678") == "010*****5678")
        #expect(PersonalDataMask.phone("+8613812341234") == "+86*******1234")
    }

    @Test("a name keeps its first character and one mask")
    func names() {
        #expect(PersonalDataMask.name("李四") == "李*")
        #expect(PersonalDataMask.name("王小明") == "王*")
        #expect(PersonalDataMask.name("欧阳娜娜") == "欧*")
        #expect(PersonalDataMask.name("Alice Smith") == "A*")
        #expect(PersonalDataMask.name("李") == "*")
        #expect(PersonalDataMask.name("") == "")
        #expect(PersonalDataMask.name("   ") == "")
    }

    @Test("district level keeps province, city and district and masks the contact")
    func district() {
        let address = Address(contactName: "张三", phone: "13912345678", province: "浙江省", city: "杭州市",
                              district: "西湖区", street: "文三路 100 号 3 单元 502", postalCode: "310012")
        let cut = PersonalDataMask.districtLevel(address)
        #expect(cut == Address(contactName: "张*", phone: "139****5678", province: "浙江省", city: "杭州市",
                               district: "西湖区", street: "", postalCode: ""))
        let masked = PersonalDataMask.maskedContact(address)
        #expect(masked.street == address.street)
        #expect(masked.contactName == "张*" && masked.phone == "139****5678")
    }
}

@Suite("Who sees a buyer's personal data")
struct PersonalDataDisclosureTests {
    static let pickup = Address(contactName: "张三", phone: "13912345678", city: "Hangzhou", district: "Xihu", street: "100 Wensan Road")

    func booking() throws -> Transition {
        try Fixture.open(.returnAndRefund, [("l-1", 1)])
            .then(Fixture.approve(), by: Fixture.merchant)
            .then(.bookPickup(carrier: "", address: Self.pickup, window: nil), by: Fixture.buyer)
    }

    func booked() throws -> AfterSaleCase { try booking().afterSale }

    @Test("the buyer of the case, the platform and systems see everything")
    func full() throws {
        let afterSale = try booked()
        for viewer in [Fixture.buyer, Fixture.platform, Fixture.payments] {
            #expect(PersonalDataDisclosure.of(afterSale, for: viewer) == .full)
        }
        #expect(PersonalDataDisclosure.of(afterSale, for: Fixture.otherBuyer) == .districtLevel)
        #expect(PersonalDataDisclosure.full.apply(Self.pickup) == Self.pickup)
    }

    @Test("a merchant sees the street only while the return shipment is open")
    func merchant() throws {
        let booking = try booking()
        let afterSale = booking.afterSale
        #expect(afterSale.status == .returnShipped)
        #expect(PersonalDataDisclosure.of(afterSale, for: Fixture.merchant) == .maskedContact)
        let shown = PersonalDataDisclosure.of(afterSale, for: Fixture.merchant).apply(Self.pickup)
        #expect(shown.street == "100 Wensan Road" && shown.phone == "139****5678" && shown.contactName == "张*")
        let received = try booking.then(
            .confirmReturnReceived(condition: .intact, note: "", evidence: []), by: Fixture.merchant).afterSale
        #expect(!PersonalDataDisclosure.openReturnStatuses.contains(received.status))
        #expect(PersonalDataDisclosure.of(received, for: Fixture.merchant) == .districtLevel)
    }

    @Test("an agent sees district level")
    func agent() throws {
        let shown = PersonalDataDisclosure.of(try booked(), for: Fixture.agent).apply(Self.pickup)
        #expect(shown.street.isEmpty && shown.phone == "139****5678" && shown.district == "Xihu")
    }
}

@Suite("Personal data: where it sits, and when it may be erased")
struct PersonalDataRetentionTests {
    static func finished(_ sequence: Int, at: Timestamp?) throws -> AfterSaleCase {
        let opened = try Fixture.open(.returnAndRefund, [("l-1", 1)], sequence: sequence).afterSale
        let withdrawn = try decide(opened, .withdraw(note: "no"), by: Fixture.buyer, at: Fixture.now, expectedVersion: nil,
                                   policy: .standard).afterSale
        return at == nil ? opened : withdrawn
    }

    @Test("erasable only when every case finished at least the retention period ago")
    func retention() throws {
        let open = try Self.finished(1, at: nil)
        let done = try Self.finished(2, at: Fixture.now)
        let day: Duration = .seconds(86_400)
        #expect(throws: DomainError.self) { try PersonalDataRetention.checkErasable([done, open], retention: .zero, now: Fixture.now) }
        #expect(throws: DomainError.self) {
            try PersonalDataRetention.checkErasable([done], retention: day, now: Fixture.now.adding(milliseconds: 86_399_999))
        }
        try PersonalDataRetention.checkErasable([done], retention: day, now: Fixture.now.adding(milliseconds: 86_400_000))
        try PersonalDataRetention.checkErasable([], retention: day, now: Fixture.now)
        #expect(throws: DomainError.self) { try PersonalDataRetention.checkErasable([done], retention: .seconds(Int64.max), now: Fixture.now) }
    }

    @Test("an address's personal fields are its contact name, phone and street")
    func personalFields() {
        let address = Address(contactName: "李四", phone: "13812341234", province: "浙江省", city: "杭州市", district: "西湖区",
                              street: "文三路 1 号", postalCode: "310012")
        let mapped = address.mappingPersonalFields { "<\($0)>" }
        #expect(mapped == Address(contactName: "<李四>", phone: "<13812341234>", province: "浙江省", city: "杭州市", district: "西湖区",
                                  street: "<文三路 1 号>", postalCode: "310012"))
        #expect(address.containsPersonalField { $0.hasPrefix("138") })
        #expect(!address.containsPersonalField { $0 == "浙江省" })
    }
}
