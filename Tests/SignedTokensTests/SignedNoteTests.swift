import Foundation
import SignedTokens
import Testing

@Suite("Signed notes, checkpoints and hash chains")
struct SignedNoteTests {
    // The example of Go's golang.org/x/mod/sumdb/note (and of C2SP signed-note implementations):
    // Ed25519 is deterministic, so signing the text with this key must give exactly this note.
    static let goSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goNote = goText + "\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test("signing the sumdb/note example reproduces Go's note byte for byte, and its verifier key")
    func goVector() throws {
        let signer = try NoteSigner(signerKey: Self.goSignerKey)
        #expect(try signer.sign(Self.goText) == Self.goNote)
        #expect(signer.verifierKey == Self.goVerifierKey)
        let verifier = try NoteVerifier(verifierKey: Self.goVerifierKey)
        #expect(try verifier.open(Self.goNote) == Self.goText)
    }

    @Test("a changed text, another key or a missing signature is refused")
    func refusals() throws {
        let verifier = try NoteVerifier(verifierKey: Self.goVerifierKey)
        #expect(throws: NoteError.self) { try verifier.open(Self.goNote.replacingOccurrences(of: "cryptography", with: "cryptographY")) }
        let other = try NoteSigner(name: "PeterNeumann", privateKey: Ed25519PrivateKey.generate())
        #expect(throws: NoteError.self) { try verifier.open(try other.sign(Self.goText)) }
        #expect(throws: NoteError.self) { try verifier.open(Self.goText) }
        #expect(throws: NoteError.self) { try NoteVerifier(verifierKey: Self.goVerifierKey.replacingOccurrences(of: "c74f20a3", with: "c74f20a4")) }
    }

    @Test("a checkpoint's text round-trips, and opening it checks the signature")
    func checkpoint() throws {
        let signer = try NoteSigner(name: "aftersale.example/audit", privateKey: Ed25519PrivateKey.generate())
        let checkpoint = Checkpoint(origin: signer.name, size: 42, hash: Array(repeating: 7, count: 32))
        #expect(checkpoint.text == "aftersale.example/audit\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n")
        let note = try signer.sign(checkpoint.text)
        #expect(try Checkpoint(note: note, verifier: signer.verifier) == checkpoint)
        let forged = note.replacingOccurrences(of: "\n42\n", with: "\n43\n")
        #expect(throws: NoteError.self) { try Checkpoint(note: forged, verifier: signer.verifier) }
    }

    @Test("the hashed message is the documented byte layout")
    func messageLayout() throws {
        let message = HashChain.message(domain: "d", position: 2, previous: [9, 9], fields: ["ab", nil, ""])
        let expected: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1, 0x64,
                                 0, 0, 0, 0, 0, 0, 0, 2,
                                 0, 0, 0, 0, 0, 0, 0, 2, 9, 9,
                                 0, 0, 0, 0, 0, 0, 0, 3,
                                 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x61, 0x62,
                                 0,
                                 1, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(message == expected)
        // SHA-256("abc"), FIPS 180-2.
        #expect(try SHA256.hash(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// A chain of `count` records with their stored hashes.
    func chain(_ count: Int) throws -> [(position: Int64, fields: [String?], hash: [UInt8])] {
        var previous = HashChain.genesis
        return try (1...count).map { index in
            let fields: [String?] = ["record \(index)", index % 2 == 0 ? nil : "odd"]
            let hash = try HashChain.link(domain: "test", position: Int64(index), previous: previous, fields: fields)
            previous = hash
            return (Int64(index), fields, hash)
        }
    }

    func verify(_ records: [(position: Int64, fields: [String?], hash: [UInt8])], head: (Int64, [UInt8]),
                checkpoints: [Checkpoint] = []) throws(ChainVerificationFailure) {
        var verifier = HashChainVerifier(domain: "test", checkpoints: checkpoints)
        for record in records { try verifier.append(position: record.position, fields: record.fields, storedHash: record.hash) }
        try verifier.finish(headSize: head.0, headHash: head.1)
    }

    @Test("the verifier accepts an intact chain and finds the first modified, deleted, inserted or reordered record")
    func verifier() throws {
        let records = try chain(6)
        let head = (Int64(6), records[5].hash)
        try verify(records, head: head, checkpoints: [Checkpoint(origin: "o", size: 3, hash: records[2].hash)])

        var modified = records
        modified[2].fields[0] = "changed"
        #expect { try verify(modified, head: head) } throws: { ($0 as? ChainVerificationFailure)?.position == 3 }

        var deleted = records
        deleted.remove(at: 3)
        #expect { try verify(deleted, head: head) } throws: { ($0 as? ChainVerificationFailure)?.position == 4 }

        var inserted = records
        inserted.insert((4, ["forged", nil], records[3].hash), at: 3)
        for index in 4..<inserted.count { inserted[index].position += 1 }
        #expect { try verify(inserted, head: (7, inserted[6].hash)) } throws: { ($0 as? ChainVerificationFailure)?.position == 4 }

        var reordered = records
        reordered.swapAt(1, 2)
        reordered[1].position = 2
        reordered[2].position = 3
        #expect { try verify(reordered, head: head) } throws: { ($0 as? ChainVerificationFailure)?.position == 2 }

        // The last record deleted: the head, or a checkpoint kept outside, still knows it.
        #expect { try verify(Array(records.dropLast()), head: head) } throws: { ($0 as? ChainVerificationFailure) != nil }
        #expect { try verify(Array(records.dropLast()), head: (5, records[4].hash),
                             checkpoints: [Checkpoint(origin: "o", size: 6, hash: records[5].hash)]) }
            throws: { ($0 as? ChainVerificationFailure)?.position == 6 }
    }

    @Test("a chain rewritten with fresh hashes still fails against an earlier checkpoint")
    func rewrittenChain() throws {
        let records = try chain(4)
        let checkpoint = Checkpoint(origin: "o", size: 4, hash: records[3].hash)
        var previous = HashChain.genesis
        let rewritten = try records.map { record -> (position: Int64, fields: [String?], hash: [UInt8]) in
            let fields = record.position == 2 ? ["rewritten", nil] : record.fields
            let hash = try HashChain.link(domain: "test", position: record.position, previous: previous, fields: fields)
            previous = hash
            return (record.position, fields, hash)
        }
        try verify(rewritten, head: (4, rewritten[3].hash))
        #expect { try verify(rewritten, head: (4, rewritten[3].hash), checkpoints: [checkpoint]) }
            throws: { ($0 as? ChainVerificationFailure)?.position == 4 }
    }
}
