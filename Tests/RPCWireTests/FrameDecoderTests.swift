import RPCWire
import Testing

/// A frame is a 4-byte big-endian length and that many bytes of `aftersale.v1.Envelope`. TCP
/// delivers it in whatever pieces it likes; these tests feed the decoder those pieces.
@Suite("FrameDecoder: reassembling envelopes from a byte stream")
struct FrameDecoderTests {
    // MARK: Fixtures

    /// A request that exercises every field the client sends, large enough to span many reads.
    static let request = Envelope.request(
        41, method: "/aftersale.v1.AfterSaleService/CreateAfterSale",
        metadata: ["x-caller-role": "buyer", "x-caller-id": "b-1", "x-trace-id": "trace-é"],
        timeoutMicros: 2_000_000, payload: (0..<600).map { UInt8(truncatingIfNeeded: $0 * 7) })

    static func frame(_ envelope: Envelope) -> [UInt8] { FrameEncoder().frame(envelope) }

    /// A frame with the given length prefix and body, written by hand.
    static func rawFrame(length: UInt32, body: [UInt8]) -> [UInt8] {
        [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + body
    }

    /// Takes envelopes until the decoder asks for more bytes.
    static func drain(_ decoder: inout FrameDecoder) throws -> [Envelope] {
        var out: [Envelope] = []
        while let envelope = try decoder.next() { out.append(envelope) }
        return out
    }

    // MARK: Split and joined reads

    @Test("a frame fed one byte at a time comes out once, on its last byte")
    func byteByByte() throws {
        let bytes = Self.frame(Self.request)
        var decoder = FrameDecoder()
        for (i, byte) in bytes.enumerated() {
            decoder.append([byte])
            let envelope = try decoder.next()
            if i < bytes.count - 1 {
                #expect(envelope == nil, "an envelope came out after \(i + 1) of \(bytes.count) bytes")
            } else {
                #expect(envelope == Self.request)
            }
        }
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("a frame split in two at any point, even inside the length prefix, comes out whole")
    func splitInTwo() throws {
        let bytes = Self.frame(Self.request)
        for cut in 1..<bytes.count {
            var decoder = FrameDecoder()
            decoder.append(Array(bytes[..<cut]))
            #expect(try decoder.next() == nil, "an envelope came out after the first \(cut) bytes")
            decoder.append(Array(bytes[cut...]))
            #expect(try Self.drain(&decoder) == [Self.request], "split after \(cut) bytes")
        }
    }

    @Test("many frames in one read come out in order, then the decoder asks for more")
    func manyFramesInOneRead() throws {
        let envelopes = (1...200).map { id in
            id % 3 == 0
                ? Envelope.response(UInt64(id), status: RPCStatus(code: .notFound, message: "case \(id) not found"))
                : Envelope.request(UInt64(id), method: "/aftersale.v1.Health/Check", payload: Array(repeating: UInt8(id), count: id % 11))
        }
        let encoder = FrameEncoder()
        var stream: [UInt8] = []
        for envelope in envelopes { encoder.append(envelope, to: &stream) }

        var decoder = FrameDecoder()
        decoder.append(stream)
        #expect(try Self.drain(&decoder) == envelopes)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("a read that ends mid-frame yields the complete frames before it and keeps the rest")
    func completeFramesThenAPartialOne() throws {
        let first = Envelope(kind: .ping, callID: 1)
        let second = Self.request
        let bytes = Self.frame(first) + Self.frame(second)
        var decoder = FrameDecoder()
        decoder.append(Array(bytes.dropLast(10)))
        #expect(try Self.drain(&decoder) == [first])
        #expect(decoder.bufferedByteCount == Self.frame(second).count - 10)
        decoder.append(Array(bytes.suffix(10)))
        #expect(try Self.drain(&decoder) == [second])
    }

    // MARK: Truncation

    @Test("a truncated frame yields nil, however often it is asked, until its last byte arrives")
    func truncatedFrame() throws {
        let bytes = Self.frame(Self.request)
        var decoder = FrameDecoder()
        decoder.append(Array(bytes.dropLast()))
        for _ in 0..<3 { #expect(try decoder.next() == nil) }
        #expect(decoder.bufferedByteCount == bytes.count - 1)

        decoder.append([bytes.last!])
        #expect(try decoder.next() == Self.request)
        #expect(try decoder.next() == nil)
    }

    @Test("a partial length prefix yields nil", arguments: [0, 1, 2, 3])
    func partialPrefix(_ prefixBytes: Int) throws {
        var decoder = FrameDecoder()
        decoder.append(Array(Self.frame(Self.request).prefix(prefixBytes)))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == prefixBytes)
    }

    // MARK: Limits

    @Test("a length prefix over the limit is refused from the prefix alone, with RESOURCE_EXHAUSTED",
          arguments: [UInt32(4 * 1024 * 1024 + 1), 0x7fff_ffff, 0xffff_ffff])
    func lengthOverTheLimit(_ length: UInt32) throws {
        var decoder = FrameDecoder()
        decoder.append(Self.rawFrame(length: length, body: []))  // only the 4 prefix bytes: no body was ever sent
        let error = #expect(throws: FrameError.self) { try decoder.next() }
        #expect(error == .frameTooLarge(length: Int(length), limit: 4 * 1024 * 1024))
        #expect(error?.rpcError.code == .resourceExhausted)
        #expect(decoder.bufferedByteCount == 4, "nothing but the prefix was buffered")
    }

    @Test("the default limit is 4 MiB, and a frame of exactly the limit is accepted")
    func exactlyTheLimit() throws {
        #expect(WireLimits().maxFrameBytes == 4_194_304)

        // A small configured limit makes the boundary cheap to test: 16 bytes pass, 17 do not.
        // 16 bytes: kind (08 01), call id (10 01), method "/a/b" (1a 04 ...), a payload of 4 (32 04 ...).
        let limits = WireLimits(maxFrameBytes: 16)
        let sixteen = Envelope.request(1, method: "/a/b", payload: [9, 9, 9, 9])
        let sixteenFrame = Self.frame(sixteen)
        try #require(sixteenFrame.count == 4 + 16)
        var accepted = FrameDecoder(limits: limits)
        accepted.append(sixteenFrame)
        #expect(try accepted.next() == sixteen)

        let seventeen = Envelope.request(1, method: "/a/b", payload: [9, 9, 9, 9, 9])
        var refused = FrameDecoder(limits: limits)
        refused.append(Self.frame(seventeen))
        #expect(throws: FrameError.frameTooLarge(length: 17, limit: 16)) { try refused.next() }
    }

    // MARK: Malformed bodies

    @Test("a body that is not an Envelope is refused with INVALID_ARGUMENT", arguments: [
        [0xff, 0xff, 0xff, 0xff, 0xff],          // a tag varint that never ends
        [0x1a, 0x05, 0x61],                      // method: 5 bytes announced, 1 present
        [0x18, 0x01],                            // method (a string) sent as a varint: wrong wire type
        [0x3a, 0x02, 0xff, 0xff],                // status: a sub-message that is itself garbage
        [0x0f],                                  // wire type 7 does not exist
    ] as [[UInt8]])
    func garbageBody(_ body: [UInt8]) throws {
        var decoder = FrameDecoder()
        decoder.append(Self.rawFrame(length: UInt32(body.count), body: body))
        let error = #expect(throws: FrameError.self) { try decoder.next() }
        #expect(error == .malformedEnvelope(length: body.count))
        #expect(error?.rpcError.code == .invalidArgument)
    }

    @Test("a zero-length frame is an envelope with every field at its default, and an unknown kind")
    func zeroLengthFrame() throws {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 0])
        let envelope = try #require(try decoder.next())
        #expect(envelope.kind == nil)
        #expect(envelope == Envelope(kind: nil, callID: 0))
        #expect(envelope.status == nil)
        #expect(decoder.bufferedByteCount == 0)
    }

    // MARK: Long streams

    @Test("over 64 KiB of small frames in odd-sized chunks all come out, in order")
    func interleavingWithCompaction() throws {
        // Enough frames that the consumed prefix of the buffer passes 64 KiB several times over,
        // so the decoder compacts its buffer while a partial frame is waiting in it.
        let envelopes = (1...6000).map { (id: Int) -> Envelope in
            let payload: [UInt8] = (0..<(id % 37)).map { UInt8(truncatingIfNeeded: id &+ $0) }
            let kind: FrameKind = id % 2 == 0 ? .streamMessage : .request
            let method = id % 5 == 0 ? "/aftersale.v1.Health/Watch" : ""
            return Envelope(kind: kind, callID: UInt64(id) * 1_000_003, method: method, payload: payload)
        }
        let encoder = FrameEncoder()
        var stream: [UInt8] = []
        for envelope in envelopes { encoder.append(envelope, to: &stream) }
        #expect(stream.count > 3 * 65536)

        let chunkSizes = [1, 7, 13, 251, 4093, 3, 65_537, 31, 9_999]
        var decoder = FrameDecoder()
        var received: [Envelope] = []
        var offset = 0
        var round = 0
        while offset < stream.count {
            let size = min(chunkSizes[round % chunkSizes.count], stream.count - offset)
            decoder.append(Array(stream[offset..<(offset + size)]))
            offset += size
            round += 1
            // Drain after most reads, but sometimes let two reads pile up first.
            if round % 4 != 0 { received += try Self.drain(&decoder) }
        }
        received += try Self.drain(&decoder)

        #expect(received.count == envelopes.count)
        for (i, (got, sent)) in zip(received, envelopes).enumerated() where got != sent {
            Issue.record("frame \(i) came out as call \(got.callID), expected call \(sent.callID)")
            break
        }
        #expect(decoder.bufferedByteCount == 0)
    }
}
