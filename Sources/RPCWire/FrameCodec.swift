import ProtoRuntime

/// Limits the wire format itself enforces.
public struct WireLimits: Sendable, Equatable {
    /// The largest frame body accepted, in bytes. A larger length prefix is refused before any of
    /// the body is read or allocated.
    public var maxFrameBytes: Int = 4 * 1024 * 1024
    /// The most bytes of metadata keys and values a call may carry.
    public var maxMetadataBytes: Int = 8 * 1024

    public init(maxFrameBytes: Int = 4 * 1024 * 1024, maxMetadataBytes: Int = 8 * 1024) {
        self.maxFrameBytes = maxFrameBytes
        self.maxMetadataBytes = maxMetadataBytes
    }
}

/// Why the byte stream of a connection cannot go on: each is fatal for the connection.
public enum FrameError: Error, Equatable, CustomStringConvertible {
    /// The length prefix announces more than the limit allows.
    case frameTooLarge(length: Int, limit: Int)
    /// The frame body is not a valid Envelope.
    case malformedEnvelope(length: Int)

    /// The status the peer is told before the connection closes.
    public var rpcError: RPCError {
        switch self {
        case let .frameTooLarge(length, limit):
            RPCError(.resourceExhausted, "frame of \(length) bytes exceeds the limit of \(limit) bytes")
        case let .malformedEnvelope(length):
            RPCError(.invalidArgument, "frame of \(length) bytes is not a valid aftersale.v1.Envelope")
        }
    }

    public var description: String { rpcError.description }
}

/// Splits a byte stream into envelopes: a 4-byte big-endian length, then that many bytes.
///
/// Feed it whatever a read returned; take envelopes until it answers nil. Works the same whether a
/// frame arrives split across many reads or many frames arrive in one.
public struct FrameDecoder {
    public let limits: WireLimits
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limits: WireLimits = WireLimits()) { self.limits = limits }

    /// Bytes received but not yet part of a decoded frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends bytes from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete envelope, or nil when more bytes are needed.
    public mutating func next() throws(FrameError) -> Envelope? {
        let available = buffer.count - start
        guard available >= 4 else { return nil }
        let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length <= limits.maxFrameBytes else { throw .frameTooLarge(length: length, limit: limits.maxFrameBytes) }
        guard available >= 4 + length else { return nil }
        let bodyStart = start + 4
        let envelope = buffer.withUnsafeBytes { raw in
            Envelope(decoding: UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + length)]))
        }
        guard let envelope else { throw .malformedEnvelope(length: length) }
        start = bodyStart + length
        return envelope
    }
}

/// Encodes envelopes as frames, reusing its scratch memory between frames. Not thread-safe: one
/// per connection side, used under that side's lock.
public final class FrameEncoder {
    private let arena = ProtoArena()

    public init() {}

    /// Appends one frame (length prefix and envelope) to `buffer`.
    public func append(_ envelope: Envelope, to buffer: inout [UInt8]) {
        let lengthAt = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0])
        envelope.encode(into: &buffer, arena: arena)
        arena.reset()
        let length = UInt32(buffer.count - lengthAt - 4)
        buffer[lengthAt] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[lengthAt + 1] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[lengthAt + 2] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[lengthAt + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// One frame as fresh bytes.
    public func frame(_ envelope: Envelope) -> [UInt8] {
        var out: [UInt8] = []
        append(envelope, to: &out)
        return out
    }
}
