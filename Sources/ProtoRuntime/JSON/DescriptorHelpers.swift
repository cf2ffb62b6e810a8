import CProtobufC

// Descriptor helpers

typealias FieldDescriptor = UnsafePointer<ProtobufCFieldDescriptor>
typealias MessageDescriptor = UnsafePointer<ProtobufCMessageDescriptor>
typealias EnumDescriptor = UnsafePointer<ProtobufCEnumDescriptor>

extension UnsafePointer where Pointee == ProtobufCFieldDescriptor {
    var protoName: String { String(cString: pointee.name) }

    var isOneofMember: Bool { pointee.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0 }

    var messageDescriptor: MessageDescriptor {
        pointee.descriptor.unsafelyUnwrapped.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
    }

    var enumDescriptor: EnumDescriptor {
        pointee.descriptor.unsafelyUnwrapped.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
    }

    /// The size of one value in the C structure (or of one array element for repeated fields).
    var valueSize: Int {
        switch pointee.type {
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64,
             PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            return 8
        case PROTOBUF_C_TYPE_DOUBLE: return 8
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_MESSAGE: return MemoryLayout<UnsafeRawPointer?>.stride
        case PROTOBUF_C_TYPE_BYTES: return MemoryLayout<ProtobufCBinaryData>.stride
        default: return 4  // int32 family, float, bool (protobuf_c_boolean), enums (int-sized)
        }
    }

    /// The type as a .proto file spells it, for error messages.
    var typeDescription: String {
        switch pointee.type {
        case PROTOBUF_C_TYPE_INT32: return "int32"
        case PROTOBUF_C_TYPE_SINT32: return "sint32"
        case PROTOBUF_C_TYPE_SFIXED32: return "sfixed32"
        case PROTOBUF_C_TYPE_INT64: return "int64"
        case PROTOBUF_C_TYPE_SINT64: return "sint64"
        case PROTOBUF_C_TYPE_SFIXED64: return "sfixed64"
        case PROTOBUF_C_TYPE_UINT32: return "uint32"
        case PROTOBUF_C_TYPE_FIXED32: return "fixed32"
        case PROTOBUF_C_TYPE_UINT64: return "uint64"
        case PROTOBUF_C_TYPE_FIXED64: return "fixed64"
        case PROTOBUF_C_TYPE_FLOAT: return "float"
        case PROTOBUF_C_TYPE_DOUBLE: return "double"
        case PROTOBUF_C_TYPE_BOOL: return "bool"
        case PROTOBUF_C_TYPE_STRING: return "string"
        case PROTOBUF_C_TYPE_BYTES: return "bytes"
        case PROTOBUF_C_TYPE_ENUM: return "enum"
        case PROTOBUF_C_TYPE_MESSAGE: return "message"
        default: return "unknown type"
        }
    }

    /// True for a map field: protoc turns `map<K, V> some_name` into `repeated SomeNameEntry some_name`
    /// where the entry has exactly `key = 1` and `value = 2`; protobuf-c keeps no other trace of it.
    var isMap: Bool {
        guard pointee.label == PROTOBUF_C_LABEL_REPEATED, pointee.type == PROTOBUF_C_TYPE_MESSAGE else { return false }
        let entry = messageDescriptor.pointee
        guard entry.n_fields == 2, let fields = entry.fields, let shortName = entry.short_name else { return false }
        guard fields[0].id == 1, fields[1].id == 2,
              String(cString: fields[0].name) == "key", String(cString: fields[1].name) == "value" else { return false }
        return String(cString: shortName) == Self.mapEntryName(protoName)
    }

    /// protoc's name for the entry message of a map field: "some_name" → "SomeNameEntry".
    static func mapEntryName(_ fieldName: String) -> String {
        var result = ""
        var capitalizeNext = true
        for scalar in fieldName.unicodeScalars {
            if scalar == "_" {
                capitalizeNext = true
            } else if capitalizeNext {
                result.unicodeScalars.append(("a"..."z").contains(scalar) ? Unicode.Scalar(scalar.value - 32)! : scalar)
                capitalizeNext = false
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "Entry"
    }
}

extension UnsafePointer where Pointee == ProtobufCMessageDescriptor {
    var fieldList: UnsafeBufferPointer<ProtobufCFieldDescriptor> {
        UnsafeBufferPointer(start: pointee.fields, count: Int(pointee.n_fields))
    }

    /// The names of the wrapper messages of google/protobuf/wrappers.proto.
    static let wellKnownWrappers: Set<String> = [
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
    ]

    /// The `value` field of a google.protobuf wrapper message (`Int64Value`, `StringValue`, ...),
    /// which the JSON mapping writes as that bare value; nil for any other message type.
    var wrappedValueField: FieldDescriptor? {
        guard pointee.n_fields == 1, let fields = pointee.fields, let name = pointee.name,
              fields[0].id == 1, fields[0].label != PROTOBUF_C_LABEL_REPEATED,
              fields[0].type != PROTOBUF_C_TYPE_MESSAGE, fields[0].type != PROTOBUF_C_TYPE_ENUM,
              Self.wellKnownWrappers.contains(String(cString: name)) else { return nil }
        return fields
    }

    func field(at index: Int) -> FieldDescriptor {
        pointee.fields.unsafelyUnwrapped + index
    }
}
