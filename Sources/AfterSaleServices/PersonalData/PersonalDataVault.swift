import AfterSaleDomain
import AfterSaleProto
import ProtoRuntime
import SignedTokens
import Synchronization

/// Keeps buyers' personal data (个人信息) encrypted at rest: each personal field is sealed with
/// AES-256-GCM under the buyer's own data key before it is stored, and opened only on its way
/// into a response. Data keys are stored wrapped by the master key (a file outside the database),
/// so the database alone reveals nothing; destroying a buyer's keys (``erase(buyerID:)``) makes
/// everything they sealed unreadable for good (crypto-shredding) while cases and money records
/// stay as they are.
///
/// What is sealed: an address's contact name, phone and street wherever a buyer's address is
/// stored (orders' delivery addresses, cases' pickup addresses, the feed events that carry them),
/// and the stored responses that idempotent retries replay. A sealed field is the text
/// `pdk1.<generation>.<base64url(nonce ‖ ciphertext ‖ tag)>`, bound to the buyer and generation as
/// associated data. A field whose key was destroyed opens as the empty string.
///
/// Unwrapped keys are cached for ``cacheLifetime``; an erasure on another replica takes effect
/// here when the entry expires (the store no longer holds the key, so nothing can bring it back).
public final class PersonalDataVault: Sendable {
    /// How long personal data is kept after a buyer's last case finished, unless configured:
    /// 180 days, beyond the windows for disputes and guarantee claims on a finished case.
    public static let defaultRetention: Duration = .seconds(180 * 86_400)

    /// The prefix of a sealed field.
    static let fieldPrefix = "pdk1."
    /// The first bytes of a sealed stored response.
    static let responseMagic: [UInt8] = Array("PDK1".utf8)
    /// The key-check record's buyer id (no buyer has an empty id).
    static let keyCheckBuyer = ""

    let masterKey: MasterKey
    let keys: any PersonalDataKeyRepository
    let clock: any WallClock
    /// How long an unwrapped key ring is reused before it is read again.
    let cacheLifetime: Duration
    private let cache = Mutex<[String: (ring: BuyerKeyRing, loadedAt: Timestamp)]>([:])

    /// A vault over `keys` under `masterKey`.
    public init(masterKey: MasterKey, keys: any PersonalDataKeyRepository, clock: any WallClock,
                cacheLifetime: Duration = .seconds(10)) {
        self.masterKey = masterKey
        self.keys = keys
        self.clock = clock
        self.cacheLifetime = cacheLifetime
    }

    // MARK: Start-up

    /// Checks that the master key is the one the store's keys were wrapped with (the first server
    /// to start on a store records a key check wrapped by its master key); refuses otherwise, so a
    /// replica started with the wrong key file cannot write data no other replica can read.
    /// - Throws: ``PersonalDataVaultError`` naming the mismatch.
    public func verifyMasterKey() async throws {
        let check = try masterKey.wrap(try SecureRandom.bytes(AESGCM.keyByteCount), context: Self.context(Self.keyCheckBuyer, 1))
        let stored = try await keys.insertPersonalDataKey(PersonalDataKeyRecord(buyerID: Self.keyCheckBuyer, generation: 1,
                                                                                wrappedKey: check, createdAt: clock.now()))
        guard let wrapped = stored.wrappedKey, try masterKey.unwrap(wrapped, context: Self.context(Self.keyCheckBuyer, 1)) != nil else {
            throw PersonalDataVaultError(message: "the master key is not the one this store's personal data was sealed with "
                                         + "(every replica must read the same --master-key-file)")
        }
    }

    // MARK: Cases, orders, events

    /// `afterSale` with the buyer's personal fields sealed (those sealed already are left alone).
    func sealed(_ afterSale: AfterSaleDomain.AfterSaleCase) async throws -> AfterSaleDomain.AfterSaleCase {
        guard afterSale.buyerAddresses.contains(where: { $0.containsPersonalField(where: Self.needsSealing) }) else { return afterSale }
        let ring = try await ring(of: afterSale.buyerID, forSealing: true)
        return try afterSale.mappingBuyerAddresses { try ring.seal($0) }
    }

    /// `afterSale` with the buyer's personal fields opened (empty where their key was destroyed).
    func opened(_ afterSale: AfterSaleDomain.AfterSaleCase) async throws -> AfterSaleDomain.AfterSaleCase {
        guard afterSale.buyerAddresses.contains(where: { $0.containsPersonalField(where: Self.isSealed) }) else { return afterSale }
        let ring = try await ring(of: afterSale.buyerID, forSealing: false)
        return afterSale.mappingBuyerAddresses { ring.open($0) }
    }

    /// `order` with its delivery address's personal fields sealed.
    func sealed(_ order: AfterSaleDomain.OrderSnapshot) async throws -> AfterSaleDomain.OrderSnapshot {
        guard let address = order.deliveryAddress, address.containsPersonalField(where: Self.needsSealing) else { return order }
        let ring = try await ring(of: order.buyerID, forSealing: true)
        return try order.mappingBuyerAddresses { try ring.seal($0) }
    }

    /// `order` with its delivery address's personal fields opened.
    func opened(_ order: AfterSaleDomain.OrderSnapshot) async throws -> AfterSaleDomain.OrderSnapshot {
        guard let address = order.deliveryAddress, address.containsPersonalField(where: Self.isSealed) else { return order }
        let ring = try await ring(of: order.buyerID, forSealing: false)
        return order.mappingBuyerAddresses { ring.open($0) }
    }

    /// A stored feed payload with the buyer's addresses opened (a payload without sealed fields is
    /// returned as it is, without decoding it).
    func openedEventPayload(_ payload: [UInt8]) async throws -> [UInt8] {
        guard Self.containsSealedField(payload) else { return payload }
        var event: AfterSaleProto.Event
        do { event = try AfterSaleProto.Event(serializedBytes: payload) } catch {
            throw RepositoryError.storageFailure("a stored feed event is not a valid aftersale.v1.Event")
        }
        let ring = try await ring(of: event.buyerId, forSealing: false)
        if let address = event.pickup?.pickupAddress { event.pickup?.pickupAddress = ring.open(address) }
        if let address = event.shipment?.fromAddress { event.shipment?.fromAddress = ring.open(address) }
        return event.serializedBytes()
    }

    // MARK: Stored responses

    /// `response` sealed under `buyerID`'s key, as an idempotency key stores it.
    func sealedResponse(_ response: [UInt8], buyerID: String) async throws -> [UInt8] {
        let ring = try await ring(of: buyerID, forSealing: true)
        return try ring.sealResponse(response)
    }

    /// The response `stored` holds (a response stored before sealing existed is returned as it is).
    /// - Throws: ``DomainError/stateConflict(message:)`` when the buyer's data was erased since.
    func openedResponse(_ stored: [UInt8], buyerID: String) async throws -> [UInt8] {
        guard stored.starts(with: Self.responseMagic) else { return stored }
        let ring = try await ring(of: buyerID, forSealing: false)
        guard let response = ring.openResponse(stored) else {
            throw DomainError.stateConflict(message: "the response this idempotency key replays was erased with the buyer's personal data")
        }
        return response
    }

    // MARK: Erasure

    /// Destroys every key of `buyerID`; returns how many were live.
    func erase(buyerID: String) async throws -> Int {
        let erased = try await keys.erasePersonalDataKeys(of: buyerID, at: clock.now())
        cache.withLock { _ = $0.removeValue(forKey: buyerID) }
        return erased
    }

    // MARK: Keys

    /// `buyerID`'s keys, from the cache while fresh; with `forSealing`, a live current key is made
    /// first when the buyer has none (a first key, or a new generation after an erasure).
    func ring(of buyerID: String, forSealing: Bool) async throws -> BuyerKeyRing {
        let now = clock.now()
        let lifetimeMs = cacheLifetime.components.seconds * 1000
        if let cached = cache.withLock({ $0[buyerID] }), now.millisecondsSinceEpoch - cached.loadedAt.millisecondsSinceEpoch < lifetimeMs,
           !forSealing || cached.ring.current != nil {
            return cached.ring
        }
        var records = try await keys.personalDataKeys(of: buyerID)
        if forSealing, records.last?.wrappedKey == nil {
            let generation = (records.last?.generation ?? 0) + 1
            let dataKey = try SecureRandom.bytes(AESGCM.keyByteCount)
            let wrapped = try masterKey.wrap(dataKey, context: Self.context(buyerID, generation))
            _ = try await keys.insertPersonalDataKey(PersonalDataKeyRecord(buyerID: buyerID, generation: generation,
                                                                           wrappedKey: wrapped, createdAt: now))
            records = try await keys.personalDataKeys(of: buyerID)
        }
        var live: [Int: [UInt8]] = [:]
        for record in records {
            guard let wrapped = record.wrappedKey else { continue }
            guard let key = try masterKey.unwrap(wrapped, context: Self.context(buyerID, record.generation)) else {
                throw PersonalDataVaultError(message: "the data key of a buyer (generation \(record.generation)) does not open "
                                             + "with this master key")
            }
            live[record.generation] = key
        }
        let current = records.last.flatMap { record in live[record.generation].map { (record.generation, $0) } }
        let ring = BuyerKeyRing(buyerID: buyerID, keys: live, current: current)
        if forSealing, ring.current == nil {
            throw RepositoryError.storageFailure("no live data key could be made for a buyer; retry")
        }
        cache.withLock { $0[buyerID] = (ring, now) }
        return ring
    }

    /// What a wrapped key is bound to.
    static func context(_ buyerID: String, _ generation: Int) -> String { "aftersale.data-key.v1|\(buyerID)|\(generation)" }

    static func isSealed(_ text: String) -> Bool { text.hasPrefix(fieldPrefix) }

    static func needsSealing(_ text: String) -> Bool { !text.isEmpty && !isSealed(text) }

    /// Whether `bytes` hold a sealed field's prefix anywhere (a cheap test before decoding).
    static func containsSealedField(_ bytes: [UInt8]) -> Bool {
        let prefix = Array(fieldPrefix.utf8)
        guard bytes.count >= prefix.count else { return false }
        var index = 0
        let last = bytes.count - prefix.count
        while index <= last {
            if bytes[index] == prefix[0], bytes[index..<(index + prefix.count)].elementsEqual(prefix) { return true }
            index += 1
        }
        return false
    }
}

/// A vault that cannot work as configured (a master key that does not match the store's).
public struct PersonalDataVaultError: Error, CustomStringConvertible {
    /// What is wrong, and what to change.
    public let message: String
    public var description: String { message }
}

/// One buyer's unwrapped data keys: every live generation, and the current one (the newest, when live).
struct BuyerKeyRing: Sendable {
    let buyerID: String
    let keys: [Int: [UInt8]]
    let current: (generation: Int, key: [UInt8])?

    private func fieldContext(_ generation: Int) -> [UInt8] { Array("aftersale.personal-data.v1|\(buyerID)|\(generation)".utf8) }
    private func responseContext(_ generation: Int) -> [UInt8] { Array("aftersale.stored-response.v1|\(buyerID)|\(generation)".utf8) }

    /// `text` sealed under the current key; empty and already sealed texts are left alone.
    func seal(_ text: String) throws -> String {
        guard PersonalDataVault.needsSealing(text) else { return text }
        guard let current else { throw RepositoryError.storageFailure("no live data key to seal with") }
        let box = try AESGCM.seal(Array(text.utf8), key: current.key, associatedData: fieldContext(current.generation))
        return PersonalDataVault.fieldPrefix + "\(current.generation)." + Base64URL.encode(box)
    }

    /// The plaintext of `text` when sealed (empty when its key was destroyed or it does not open);
    /// any other text as it is.
    func open(_ text: String) -> String {
        guard PersonalDataVault.isSealed(text) else { return text }
        let body = text.dropFirst(PersonalDataVault.fieldPrefix.count)
        guard let dot = body.firstIndex(of: "."), let generation = Int(body[..<dot]), let key = keys[generation],
              let box = Base64URL.decode(String(body[body.index(after: dot)...])),
              let plaintext = try? AESGCM.open(box, key: key, associatedData: fieldContext(generation)) else { return "" }
        return String(decoding: plaintext, as: UTF8.self)
    }

    func seal(_ address: AfterSaleDomain.Address) throws -> AfterSaleDomain.Address { try address.mappingPersonalFields(seal) }

    func open(_ address: AfterSaleDomain.Address) -> AfterSaleDomain.Address { address.mappingPersonalFields(open) }

    func open(_ address: AfterSaleProto.Address) -> AfterSaleProto.Address {
        var opened = address
        opened.contactName = open(address.contactName)
        opened.phone = open(address.phone)
        opened.street = open(address.street)
        return opened
    }

    /// `response` sealed: the magic, the generation (4 bytes, big-endian), the box.
    func sealResponse(_ response: [UInt8]) throws -> [UInt8] {
        guard let current else { throw RepositoryError.storageFailure("no live data key to seal with") }
        let generation = UInt32(truncatingIfNeeded: current.generation)
        return PersonalDataVault.responseMagic + [UInt8(generation >> 24), UInt8((generation >> 16) & 0xFF), UInt8((generation >> 8) & 0xFF),
                                                   UInt8(generation & 0xFF)]
            + (try AESGCM.seal(response, key: current.key, associatedData: responseContext(current.generation)))
    }

    /// What ``sealResponse(_:)`` sealed; nil when its key was destroyed or it does not open.
    func openResponse(_ stored: [UInt8]) -> [UInt8]? {
        let header = PersonalDataVault.responseMagic.count + 4
        guard stored.count >= header else { return nil }
        let g = stored[(header - 4)..<header].reduce(0) { $0 << 8 | Int($1) }
        guard let key = keys[g] else { return nil }
        return try? AESGCM.open(Array(stored[header...]), key: key, associatedData: responseContext(g))
    }
}
