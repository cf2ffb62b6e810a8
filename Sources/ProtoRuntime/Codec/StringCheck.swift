import CProtobufC

/// Finds U+0000 inside string fields of an encoded message before libprotobuf-c unpacks it.
///
/// libprotobuf-c hands strings over as C strings, so "a\0bcd" would silently arrive as "a", and
/// two different values could become one. Such bytes are refused instead: proto strings that
/// contain U+0000 are not accepted by this service (docs/PROTOCOL.md says so).
enum StringCheck {
    /// False when a string field, at any depth, holds a 0 byte. Malformed input returns true and
    /// is left for libprotobuf-c to refuse.
    static func stringsAreNULFree(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, _ bytes: UnsafeRawBufferPointer, depth: Int = 0) -> Bool {
        guard depth < 100, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        var i = 0
        let n = bytes.count
        func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while i < n && shift < 64 {
                let b = base[i]
                i += 1
                result |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return result }
                shift += 7
            }
            return nil
        }
        while i < n {
            guard let key = varint() else { return true }
            let wireType = key & 7
            let number = key >> 3
            switch wireType {
            case 0:
                guard varint() != nil else { return true }
            case 1:
                i += 8
            case 5:
                i += 4
            case 2:
                guard let length = varint(), length <= UInt64(n - i) else { return true }
                let start = i
                i += Int(length)
                guard number <= UInt64(UInt32.max),
                      let field = protobuf_c_message_descriptor_get_field(descriptor, UInt32(number)) else { continue }
                let value = UnsafeRawBufferPointer(start: base + start, count: Int(length))
                if field.pointee.type == PROTOBUF_C_TYPE_STRING {
                    if value.contains(0) { return false }
                } else if field.pointee.type == PROTOBUF_C_TYPE_MESSAGE, let sub = field.pointee.descriptor {
                    let subDescriptor = sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    if !stringsAreNULFree(subDescriptor, value, depth: depth + 1) { return false }
                }
            default:
                return true
            }
        }
        return true
    }
}
