import Glibc

/// A bump allocator for the C structures built while encoding one message.
///
/// Encoding copies a Swift value into a tree of C structures (strings, arrays, sub-messages) that
/// live only until `protobuf_c_message_pack` has run. Allocating them from a few large chunks and
/// freeing the chunks at once is much cheaper than one `malloc` per string.
public final class ProtoArena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private static let chunkSize = 4096

    public init() {}

    /// Uninitialised memory of `size` bytes, 16-byte aligned, valid until `reset()` or `release()`.
    public func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = max(16, (size + 15) & ~15)
        if rounded > remaining {
            let chunkBytes = max(Self.chunkSize, rounded)
            guard let chunk = malloc(chunkBytes) else { preconditionFailure("out of memory") }
            chunks.append(chunk)
            cursor = chunk
            remaining = chunkBytes
        }
        let result = cursor.unsafelyUnwrapped
        cursor = result + rounded
        remaining -= rounded
        return result
    }

    /// A NUL-terminated copy of `string` (protobuf-c strings are C strings).
    public func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let raw = allocate(utf8.count + 1)
            if let source = utf8.baseAddress { raw.copyMemory(from: source, byteCount: utf8.count) }
            raw.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return raw.assumingMemoryBound(to: CChar.self)
        }
    }

    /// A copy of `bytes`.
    public func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<UInt8> {
        let raw = allocate(bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { raw.copyMemory(from: base, byteCount: bytes.count) }
        }
        return raw.assumingMemoryBound(to: UInt8.self)
    }

    /// Makes every byte reusable, keeping the first chunk; nothing allocated before may be used afterwards.
    public func reset() {
        guard let first = chunks.first else { return }
        for chunk in chunks.dropFirst() { free(chunk) }
        chunks.removeSubrange(1...)
        cursor = first
        remaining = Self.chunkSize
    }

    /// Frees every chunk; nothing allocated before may be used afterwards.
    public func release() {
        for chunk in chunks { free(chunk) }
        chunks.removeAll(keepingCapacity: true)
        cursor = nil
        remaining = 0
    }

    deinit { release() }
}
