import Foundation

/// A log checkpoint in the C2SP tlog-checkpoint layout (https://c2sp.org/tlog-checkpoint): the
/// note text `<origin>\n<size>\n<base64 hash>\n`, signed as a ``SignedNote``. For a hash chain the
/// hash is the head: the hash of the link at position `size` (32 zero bytes for an empty chain).
public struct Checkpoint: Sendable, Hashable {
    /// Who keeps the log (a schema-less URL-like name, also the signing key's name).
    public var origin: String
    /// How many records the log held.
    public var size: Int64
    /// The hash of its last record.
    public var hash: [UInt8]

    /// A checkpoint from its parts.
    public init(origin: String, size: Int64, hash: [UInt8]) {
        self.origin = origin
        self.size = size
        self.hash = hash
    }

    /// The note text: three lines, each ending in a newline.
    public var text: String { "\(origin)\n\(size)\n\(Data(hash).base64EncodedString())\n" }

    /// Parses a note text (extension lines after the third are ignored).
    /// - Throws: `NoteError` when the text is not a checkpoint.
    public init(text: String) throws(NoteError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, text.hasSuffix("\n"), !lines[0].isEmpty,
              let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
              let hash = Data(base64Encoded: String(lines[2])).map(Array.init), hash.count == SHA256.byteCount else {
            throw NoteError("not a checkpoint: expected <origin>\\n<size>\\n<base64 of a 32-byte hash>\\n")
        }
        self.init(origin: String(lines[0]), size: size, hash: hash)
    }

    /// Opens `note` with `verifier` and parses its text.
    /// - Throws: `NoteError` when the signature does not verify or the text is not a checkpoint.
    public init(note: String, verifier: NoteVerifier) throws(NoteError) {
        try self.init(text: try verifier.open(note))
    }
}
