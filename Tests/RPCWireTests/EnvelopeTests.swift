import ProtoRuntime
import RPCWire
import Testing

/// `aftersale.v1.Envelope` is mapped by hand (it is on every call's path), so these tests pin it
/// down field by field and against the bytes `docs/PROTOCOL.md` promises to other implementers.
@Suite("Envelope: the hand-mapped aftersale.v1.Envelope")
struct EnvelopeTests {
    // MARK: Helpers

    /// "00 00 00 0a 08 02" or "0000000a0802" → bytes.
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter(\.isHexDigit))
        precondition(digits.count % 2 == 0, "odd number of hex digits in \(text)")
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    /// The envelope bytes alone, without the length prefix.
    static func encode(_ envelope: Envelope) -> [UInt8] {
        var out: [UInt8] = []
        let arena = ProtoArena()
        envelope.encode(into: &out, arena: arena)
        return out
    }

    static func decode(_ bytes: [UInt8]) -> Envelope? {
        bytes.withUnsafeBytes { Envelope(decoding: $0) }
    }

    /// Decodes exactly one frame from `bytes`, requiring nothing left over.
    static func decodeFrame(_ bytes: [UInt8]) throws -> Envelope {
        var decoder = FrameDecoder()
        decoder.append(bytes)
        let envelope = try #require(try decoder.next())
        #expect(decoder.bufferedByteCount == 0)
        return envelope
    }

    // MARK: Round trips

    @Test("every field survives a round trip through the wire")
    func everyFieldRoundTrips() throws {
        var metadata = Metadata()
        metadata.add("x-caller-role", "buyer")
        metadata.add("x-tag", "first")
        metadata.add("x-tag", "second")  // keys may repeat; order is kept
        metadata.add("x-note", "售后 · Rückgabe ✓ 🚚")
        metadata.add("x-empty", "")
        let envelope = Envelope(
            kind: .response, callID: .max, method: "/aftersale.v1.AfterSaleService/CreateAfterSale",
            metadata: metadata, timeoutMicros: .max - 1, payload: [0, 0, 1, 0, 0xff, 0],
            status: RPCStatus(code: .failedPrecondition, message: "état invalide: 退款已完成", details: [
                StatusDetail(type: "aftersale.v1.FieldViolation", value: [0, 7, 0]),
                StatusDetail(type: "aftersale.v1.Empty", value: []),
            ]))

        let decoded = try Self.decodeFrame(FrameEncoder().frame(envelope))
        #expect(decoded == envelope)
        #expect(decoded.callID == UInt64.max)
        #expect(decoded.metadata.entries.map(\.key) == ["x-caller-role", "x-tag", "x-tag", "x-note", "x-empty"])
        #expect(decoded.metadata["x-tag"] == "first")
        #expect(decoded.payload == [0, 0, 1, 0, 0xff, 0])
        #expect(decoded.status?.details.count == 2)
    }

    @Test("every frame kind round trips", arguments: [
        FrameKind.request, .response, .streamMessage, .cancel, .ping, .pong, .goAway,
    ])
    func everyKindRoundTrips(_ kind: FrameKind) throws {
        let envelope = Envelope(kind: kind, callID: 7)
        #expect(Self.decode(Self.encode(envelope)) == envelope)
        #expect(Self.encode(envelope).prefix(2) == [0x08, UInt8(kind.rawValue)])
    }

    @Test("a status code this build does not know survives a round trip")
    func unknownStatusCodeRoundTrips() throws {
        let envelope = Envelope.response(3, status: RPCStatus(code: StatusCode(rawValue: 99), message: "from the future"))
        let decoded = try #require(Self.decode(Self.encode(envelope)))
        #expect(decoded.status?.code.rawValue == 99)
        #expect(decoded.status?.code.name == "CODE_99")
    }

    @Test("an OK status is present on the wire as an empty sub-message, and no status means none")
    func statusPresence() throws {
        let ok = Envelope.response(1, status: .ok)
        #expect(Self.encode(ok) == [0x08, 0x02, 0x10, 0x01, 0x3a, 0x00])
        #expect(Self.decode(Self.encode(ok))?.status == .ok)

        let noStatus = Envelope(kind: .response, callID: 1)
        #expect(Self.encode(noStatus) == [0x08, 0x02, 0x10, 0x01])
        let decoded = try #require(Self.decode(Self.encode(noStatus)))
        #expect(decoded.status == nil)
    }

    @Test("a frame encoder reused for large and small envelopes produces the same bytes as a fresh one")
    func encoderReuse() throws {
        // Metadata larger than the encoder's 4 KiB scratch chunk forces it to grow and then reset.
        var big = Metadata()
        for i in 0..<200 { big.add("x-key-\(i)", String(repeating: "v", count: 40) + "\(i)") }
        let envelopes = [
            Envelope.request(1, method: "/aftersale.v1.Health/Check", metadata: big, payload: Array(repeating: 1, count: 9000)),
            Envelope.request(2, method: "/aftersale.v1.Health/Check", payload: []),
            Envelope.response(1, status: RPCStatus(code: .aborted, message: String(repeating: "m", count: 5000),
                                                   details: [StatusDetail(type: "t", value: [0])])),
            Envelope.request(3, method: "/aftersale.v1.Health/Check", metadata: big, payload: [0]),
        ]
        let shared = FrameEncoder()
        var stream: [UInt8] = []
        for envelope in envelopes {
            let fresh = FrameEncoder().frame(envelope)
            #expect(shared.frame(envelope) == fresh)
            shared.append(envelope, to: &stream)
        }
        var decoder = FrameDecoder()
        decoder.append(stream)
        var received: [Envelope] = []
        while let envelope = try decoder.next() { received.append(envelope) }
        #expect(received == envelopes)
    }

    // MARK: Decoding what other implementations send

    @Test("an unknown kind number decodes as kind nil, keeping the other fields")
    func unknownKind() throws {
        // kind 99, call id 5
        let decoded = try #require(Self.decode([0x08, 0x63, 0x10, 0x05]))
        #expect(decoded.kind == nil)
        #expect(decoded.callID == 5)

        // kind 0, FRAME_KIND_UNSPECIFIED, written explicitly
        #expect(Self.decode([0x08, 0x00, 0x10, 0x05])?.kind == nil)
    }

    @Test("fields in any order decode the same")
    func fieldsInAnyOrder() throws {
        // status, call id, kind: the reverse of the order our encoder writes
        let decoded = Self.decode([0x3a, 0x02, 0x08, 0x05, 0x10, 0x09, 0x08, 0x02])
        #expect(decoded == Envelope.response(9, status: RPCStatus(code: .notFound)))
    }

    @Test("unknown fields are ignored, leaving room for additive evolution")
    func unknownFieldsIgnored() throws {
        let known = Self.encode(Envelope(kind: .ping, callID: 42))
        // field 15 varint 1, field 16 length-delimited "hi", field 20 fixed32
        let withUnknown = known + [0x78, 0x01, 0x82, 0x01, 0x02, 0x68, 0x69, 0xa5, 0x01, 1, 2, 3, 4]
        #expect(Self.decode(withUnknown) == Envelope(kind: .ping, callID: 42))
    }

    @Test("empty bytes decode as an envelope with every field at its default")
    func emptyBytes() {
        #expect(Self.decode([]) == Envelope(kind: nil, callID: 0))
    }

    @Test("a metadata value containing U+0000 from another implementation is refused, never cut short")
    func metadataWithNUL() throws {
        // REQUEST, call 1, metadata { key: "idempotency-key" value: "k\0first" }: two different keys
        // from a Go or Java client must not collapse into one.
        let entry: [UInt8] = [0x0a, 0x0f] + Array("idempotency-key".utf8) + [0x12, 0x07] + Array("k\u{0}first".utf8)
        let bytes: [UInt8] = [0x08, 0x01, 0x10, 0x01, 0x22, UInt8(entry.count)] + entry
        #expect(Self.decode(bytes) == nil, "an envelope with U+0000 in a string is refused as malformed")
    }

    // MARK: The worked example of docs/PROTOCOL.md §15

    static let docRequestFrame = hex("""
        00000033080110011a1a2f616674657273616c652e76312e4865616c74682f436865636b22110a0a782d74726163652d69641203742d31
        """)
    static let docResponseFrame = hex("00 00 00 0a 08 02 10 01 32 02 08 01 3a 00")

    @Test("the REQUEST frame of the worked example decodes to what the document says")
    func documentedRequestDecodes() throws {
        #expect(Self.docRequestFrame.count == 55)
        let envelope = try Self.decodeFrame(Self.docRequestFrame)
        #expect(envelope.kind == .request)
        #expect(envelope.callID == 1)
        #expect(envelope.method == "/aftersale.v1.Health/Check")
        #expect(envelope.metadata == ["x-trace-id": "t-1"])
        #expect(envelope.timeoutMicros == 0)
        #expect(envelope.payload == [])  // HealthCheckRequest{service: ""} encodes to zero bytes
        #expect(envelope.status == nil)
    }

    @Test("our encoder writes the worked example's REQUEST frame byte for byte")
    func documentedRequestEncodes() {
        let envelope = Envelope.request(1, method: "/aftersale.v1.Health/Check", metadata: ["x-trace-id": "t-1"], payload: [])
        #expect(FrameEncoder().frame(envelope) == Self.docRequestFrame)
    }

    @Test("a 2 s deadline adds 28 80 89 7a after the metadata and grows the prefix to 00 00 00 37")
    func documentedRequestWithDeadline() throws {
        var expected = Self.docRequestFrame
        expected.replaceSubrange(0..<4, with: [0, 0, 0, 0x37])
        expected += [0x28, 0x80, 0x89, 0x7a]
        let envelope = Envelope.request(1, method: "/aftersale.v1.Health/Check", metadata: ["x-trace-id": "t-1"],
                                        timeoutMicros: 2_000_000, payload: [])
        #expect(FrameEncoder().frame(envelope) == expected)
        #expect(try Self.decodeFrame(expected) == envelope)
    }

    @Test("the RESPONSE frame of the worked example decodes to what the document says")
    func documentedResponseDecodes() throws {
        #expect(Self.docResponseFrame.count == 14)
        let envelope = try Self.decodeFrame(Self.docResponseFrame)
        #expect(envelope.kind == .response)
        #expect(envelope.callID == 1)
        #expect(envelope.payload == [0x08, 0x01])  // HealthCheckResponse{status: SERVING}
        #expect(envelope.status == .ok)
        #expect(envelope.method == "")
        #expect(envelope.metadata.isEmpty)
    }

    @Test("our encoder writes the worked example's RESPONSE frame byte for byte")
    func documentedResponseEncodes() {
        let envelope = Envelope.response(1, status: .ok, payload: [0x08, 0x01])
        #expect(FrameEncoder().frame(envelope) == Self.docResponseFrame)
    }

    /// The table of §15.3: each frame as the document spells it, and the envelope it stands for.
    static let documentedFrames: [(String, Envelope)] = [
        ("00 00 00 02 08 05", Envelope(kind: .ping, callID: 0)),
        ("00 00 00 02 08 06", Envelope(kind: .pong, callID: 0)),
        ("00 00 00 04 08 05 10 2a", Envelope(kind: .ping, callID: 42)),
        ("00 00 00 04 08 06 10 2a", Envelope(kind: .pong, callID: 42)),
        ("00 00 00 04 08 04 10 01", Envelope(kind: .cancel, callID: 1)),
        ("00 00 00 08 08 03 10 09 32 02 08 01", Envelope(kind: .streamMessage, callID: 9, payload: [0x08, 0x01])),
        ("00 00 00 06 08 02 10 09 3a 00", Envelope.response(9, status: .ok)),
        ("00 00 00 1d 08 02 10 07 3a 17 08 0c 12 13 75 6e 6b 6e 6f 77 6e 20 6d 65 74 68 6f 64 20 2f 78 2f 79",
         Envelope.response(7, status: RPCStatus(code: .unimplemented, message: "unknown method /x/y"))),
        ("00 00 00 1f 08 07 3a 1b 08 0e 12 17 73 65 72 76 65 72 20 69 73 20 73 68 75 74 74 69 6e 67 20 64 6f 77 6e",
         Envelope(kind: .goAway, callID: 0, status: RPCStatus(code: .unavailable, message: "server is shutting down"))),
    ]

    @Test("the other frames of the document's reference table decode and encode exactly",
          arguments: documentedFrames.map(\.0))
    func documentedReferenceFrames(_ text: String) throws {
        let envelope = try #require(Self.documentedFrames.first { $0.0 == text }).1
        let bytes = Self.hex(text)
        #expect(try Self.decodeFrame(bytes) == envelope, "decoding \(text)")
        #expect(FrameEncoder().frame(envelope) == bytes, "encoding \(envelope)")
    }
}
