import Foundation
import SignedTokens
import Testing

@Suite("AES-256-GCM sealing and the master key")
struct SealingTests {
    static let key = [UInt8](repeating: 7, count: 32)

    @Test("a box opens with its key and associated data, and with nothing else")
    func roundTrip() throws {
        let plaintext = Array("13912345678 李小龙".utf8)
        let box = try AESGCM.seal(plaintext, key: Self.key, associatedData: Array("b-1|1".utf8))
        #expect(box.count == plaintext.count + AESGCM.overhead)
        #expect(try AESGCM.open(box, key: Self.key, associatedData: Array("b-1|1".utf8)) == plaintext)
        #expect(try AESGCM.open(box, key: [UInt8](repeating: 8, count: 32), associatedData: Array("b-1|1".utf8)) == nil, "another key")
        #expect(try AESGCM.open(box, key: Self.key, associatedData: Array("b-2|1".utf8)) == nil, "another buyer")
        for index in [0, 12, box.count - 1] {
            var altered = box
            altered[index] ^= 1
            #expect(try AESGCM.open(altered, key: Self.key, associatedData: Array("b-1|1".utf8)) == nil, "byte \(index) altered")
        }
        #expect(try AESGCM.open(Array(box.prefix(27)), key: Self.key) == nil, "shorter than nonce and tag")
        #expect(try AESGCM.seal(plaintext, key: Self.key) != AESGCM.seal(plaintext, key: Self.key), "a fresh nonce each time")
        #expect(try AESGCM.open(try AESGCM.seal([], key: Self.key), key: Self.key) == [], "the empty plaintext")
        #expect(throws: KeyError.self) { try AESGCM.seal(plaintext, key: [1, 2, 3]) }
    }

    @Test("the master key file is made once, owner-only, and read back; bad files are refused with the path")
    func masterKeyFile() throws {
        let directory = try temporaryDirectory("master")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/nested/master.key"
        let made = try MasterKey.loadOrCreate(file: path)
        let again = try MasterKey.loadOrCreate(file: path)
        let wrapped = try made.wrap(Self.key, context: "b-1|1")
        #expect(try again.unwrap(wrapped, context: "b-1|1") == Self.key, "the same key is read back")
        #expect(try again.unwrap(wrapped, context: "b-2|1") == nil)
        #expect(try MasterKey.ephemeral().unwrap(wrapped, context: "b-1|1") == nil, "another master key")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.count == 65 && text.hasSuffix("\n"))

        try "not a key\n".write(toFile: directory + "/bad.key", atomically: true, encoding: .utf8)
        #expect(throws: KeyFileError.self) { try MasterKey.read(file: directory + "/bad.key") }
        #expect(throws: KeyFileError.self) { try MasterKey.read(file: directory + "/missing.key") }
    }
}
