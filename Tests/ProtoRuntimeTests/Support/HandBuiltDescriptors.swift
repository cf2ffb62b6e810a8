import CProtobufC
import Glibc

/// Message descriptors built by hand, for tests that need shapes no `.proto` of ours has (every
/// scalar type, oneofs, optional fields, wrappers of every kind). They live for the whole process.
enum HandBuiltDescriptors {
    /// A C string that lives as long as the process.
    static func text(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }

    /// A field of `type` at `offset` (and its count or presence flag at `quantifier`).
    static func field(
        _ name: String, _ id: UInt32, _ label: ProtobufCLabel, _ type: ProtobufCType,
        quantifier: Int = 0, offset: Int, descriptor: UnsafeRawPointer? = nil, flags: UInt32 = 0
    ) -> ProtobufCFieldDescriptor {
        ProtobufCFieldDescriptor(
            name: text(name), id: id, label: label, type: type, quantifier_offset: UInt32(quantifier),
            offset: UInt32(offset), descriptor: descriptor, default_value: nil, flags: flags,
            reserved_flags: 0, reserved2: nil, reserved3: nil)
    }

    /// Message `test.<shortName>` of `size` bytes with `fields` numbered 1, 2, … in order (one range).
    /// `initialiser` zeroes a message and sets its descriptor (a C function: it cannot capture).
    static func message(
        _ shortName: String, size: Int, _ fields: [ProtobufCFieldDescriptor],
        initialiser: @escaping @convention(c) (UnsafeMutablePointer<ProtobufCMessage>?) -> Void
    ) -> UnsafePointer<ProtobufCMessageDescriptor> {
        let fieldArray = UnsafeMutablePointer<ProtobufCFieldDescriptor>.allocate(capacity: fields.count)
        fieldArray.initialize(from: fields, count: fields.count)
        let sorted = fields.indices.sorted { String(cString: fields[$0].name) < String(cString: fields[$1].name) }
        let byName = UnsafeMutablePointer<UInt32>.allocate(capacity: fields.count)
        byName.initialize(from: sorted.map { UInt32($0) }, count: fields.count)
        let ranges = UnsafeMutablePointer<ProtobufCIntRange>.allocate(capacity: 2)
        ranges.initialize(from: [ProtobufCIntRange(start_value: 1, orig_index: 0),
                                 ProtobufCIntRange(start_value: 0, orig_index: UInt32(fields.count))], count: 2)
        let descriptor = UnsafeMutablePointer<ProtobufCMessageDescriptor>.allocate(capacity: 1)
        descriptor.initialize(to: ProtobufCMessageDescriptor(
            magic: UInt32(PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC), name: text("test.\(shortName)"), short_name: text(shortName),
            c_name: text("Test__\(shortName)"), package_name: text("test"), sizeof_message: size,
            n_fields: UInt32(fields.count), fields: fieldArray, fields_sorted_by_name: byName,
            n_field_ranges: 1, field_ranges: ranges, message_init: initialiser,
            reserved1: nil, reserved2: nil, reserved3: nil))
        return UnsafePointer(descriptor)
    }
}
