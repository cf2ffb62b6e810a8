import CAfterSaleProto
import CProtobufC

/// Looks message and enum types up in the generated C descriptor index (the contracts and the
/// well-known wrappers they import, "google.protobuf.Int64Value" included).
public enum DescriptorIndex {
    /// The descriptor of a fully qualified message name.
    public static func message(named name: String) -> UnsafePointer<ProtobufCMessageDescriptor>? {
        for i in 0..<aftersale_message_count() {
            if let d = aftersale_message_at(i), String(cString: d.pointee.name) == name { return d }
        }
        return nil
    }

    /// Every message type name, in schema order.
    public static var messageNames: [String] {
        (0..<aftersale_message_count()).compactMap { aftersale_message_at($0).map { String(cString: $0.pointee.name) } }
    }

    /// The descriptor of a fully qualified enum name, "aftersale.v1.OrderStatus".
    public static func enumeration(named name: String) -> UnsafePointer<ProtobufCEnumDescriptor>? {
        for i in 0..<aftersale_enum_count() {
            if let d = aftersale_enum_at(i), String(cString: d.pointee.name) == name { return d }
        }
        return nil
    }

    /// Every enum type name, in schema order.
    public static var enumNames: [String] {
        (0..<aftersale_enum_count()).compactMap { aftersale_enum_at($0).map { String(cString: $0.pointee.name) } }
    }

    /// The values of an enum type, by number (as libprotobuf-c keeps them).
    public static func values(of d: UnsafePointer<ProtobufCEnumDescriptor>) -> [EnumValue] {
        guard let values = d.pointee.values else { return [] }
        return (0..<Int(d.pointee.n_values)).map { i in
            EnumValue(name: values[i].name.map { String(cString: $0) } ?? "", number: values[i].value)
        }
    }

    /// One value of an enum type.
    public struct EnumValue: Sendable, Equatable {
        /// The value's name as declared, "ORDER_STATUS_PAID".
        public var name: String
        /// Its number.
        public var number: Int32

        public init(name: String, number: Int32) {
            self.name = name
            self.number = number
        }
    }

    /// The fields of a message type, by field number.
    public static func fields(of d: UnsafePointer<ProtobufCMessageDescriptor>) -> [FieldInfo] {
        (0..<Int(d.pointee.n_fields)).map { i in
            let f = d.pointee.fields[i]
            var info = FieldInfo()
            info.name = String(cString: f.name)
            info.jsonName = jsonName(info.name)
            info.number = Int32(f.id)
            info.repeated = f.label == PROTOBUF_C_LABEL_REPEATED
            info.type = typeName(f.type)
            if f.type == PROTOBUF_C_TYPE_MESSAGE, let sub = f.descriptor {
                info.typeName = String(cString: sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee.name)
            } else if f.type == PROTOBUF_C_TYPE_ENUM, let sub = f.descriptor {
                info.typeName = String(cString: sub.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee.name)
            }
            return info
        }
    }

    public static func jsonName(_ name: String) -> String {
        var out = ""
        var upper = false
        for ch in name {
            if ch == "_" { upper = true; continue }
            out += upper ? ch.uppercased() : String(ch)
            upper = false
        }
        return out
    }

    public static func typeName(_ t: ProtobufCType) -> String {
        switch t {
        case PROTOBUF_C_TYPE_INT32: "int32"
        case PROTOBUF_C_TYPE_SINT32: "sint32"
        case PROTOBUF_C_TYPE_SFIXED32: "sfixed32"
        case PROTOBUF_C_TYPE_INT64: "int64"
        case PROTOBUF_C_TYPE_SINT64: "sint64"
        case PROTOBUF_C_TYPE_SFIXED64: "sfixed64"
        case PROTOBUF_C_TYPE_UINT32: "uint32"
        case PROTOBUF_C_TYPE_FIXED32: "fixed32"
        case PROTOBUF_C_TYPE_UINT64: "uint64"
        case PROTOBUF_C_TYPE_FIXED64: "fixed64"
        case PROTOBUF_C_TYPE_FLOAT: "float"
        case PROTOBUF_C_TYPE_DOUBLE: "double"
        case PROTOBUF_C_TYPE_BOOL: "bool"
        case PROTOBUF_C_TYPE_ENUM: "enum"
        case PROTOBUF_C_TYPE_STRING: "string"
        case PROTOBUF_C_TYPE_BYTES: "bytes"
        case PROTOBUF_C_TYPE_MESSAGE: "message"
        default: "unknown"
        }
    }
}
