import CProtobufC

// C message → JSON

/// Reads unpacked C messages into JSON values.
enum ProtoToJSON {
    static func message(_ base: UnsafeRawPointer, _ descriptor: MessageDescriptor) -> JSONValue {
        var members: [JSONMember] = []
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.field(at: index)
            let f = field.pointee
            let name = ProtoJSON.jsonName(field.protoName)
            if f.label == PROTOBUF_C_LABEL_REPEATED {
                let count = base.loadUnaligned(fromByteOffset: Int(f.quantifier_offset), as: Int.self)
                guard count > 0, let items = base.loadUnaligned(fromByteOffset: Int(f.offset), as: UnsafeRawPointer?.self) else {
                    continue
                }
                let size = field.valueSize
                if field.isMap {
                    members.append(JSONMember(name, mapObject(items, count, field.messageDescriptor)))
                } else {
                    var elements: [JSONValue] = []
                    elements.reserveCapacity(count)
                    for i in 0..<count { elements.append(value(items + i * size, field)) }
                    members.append(JSONMember(name, .array(elements)))
                }
            } else if isPresent(field, base) {
                members.append(JSONMember(name, value(base + Int(f.offset), field)))
            }
        }
        return .object(members)
    }

    private static func mapObject(_ items: UnsafeRawPointer, _ count: Int, _ entryDescriptor: MessageDescriptor) -> JSONValue {
        let keyField = entryDescriptor.field(at: 0)
        let valueField = entryDescriptor.field(at: 1)
        var members: [JSONMember] = []
        for i in 0..<count {
            guard let entry = items.loadUnaligned(fromByteOffset: i * MemoryLayout<UnsafeRawPointer?>.stride, as: UnsafeRawPointer?.self) else {
                continue
            }
            let key: String
            switch value(entry + Int(keyField.pointee.offset), keyField) {
            case .string(let text), .number(let text): key = text
            case .bool(let flag): key = flag ? "true" : "false"
            default: key = ""
            }
            members.append(JSONMember(key, value(entry + Int(valueField.pointee.offset), valueField)))
        }
        return .object(members)
    }

    /// Whether a singular field is set, by the same rules libprotobuf-c packs by.
    private static func isPresent(_ field: FieldDescriptor, _ base: UnsafeRawPointer) -> Bool {
        let f = field.pointee
        let slot = base + Int(f.offset)
        let isPointer = f.type == PROTOBUF_C_TYPE_STRING || f.type == PROTOBUF_C_TYPE_MESSAGE
        if field.isOneofMember {
            guard base.loadUnaligned(fromByteOffset: Int(f.quantifier_offset), as: UInt32.self) == f.id else { return false }
            return !isPointer || slot.loadUnaligned(as: UnsafeRawPointer?.self) != nil
        }
        switch f.label {
        case PROTOBUF_C_LABEL_REQUIRED:
            return !isPointer || slot.loadUnaligned(as: UnsafeRawPointer?.self) != nil
        case PROTOBUF_C_LABEL_OPTIONAL:
            if isPointer {
                guard let pointer = slot.loadUnaligned(as: UnsafeRawPointer?.self) else { return false }
                return pointer != f.default_value
            }
            return base.loadUnaligned(fromByteOffset: Int(f.quantifier_offset), as: protobuf_c_boolean.self) != 0
        default:  // PROTOBUF_C_LABEL_NONE: proto3 implicit presence, absent when at the default
            switch f.type {
            case PROTOBUF_C_TYPE_STRING:
                guard let chars = slot.loadUnaligned(as: UnsafePointer<CChar>?.self) else { return false }
                return chars.pointee != 0
            case PROTOBUF_C_TYPE_MESSAGE:
                return slot.loadUnaligned(as: UnsafeRawPointer?.self) != nil
            case PROTOBUF_C_TYPE_BYTES:
                return slot.loadUnaligned(as: ProtobufCBinaryData.self).len != 0
            case PROTOBUF_C_TYPE_FLOAT:
                return slot.loadUnaligned(as: Float.self) != 0
            case PROTOBUF_C_TYPE_DOUBLE:
                return slot.loadUnaligned(as: Double.self) != 0
            default:
                return field.valueSize == 8
                    ? slot.loadUnaligned(as: UInt64.self) != 0
                    : slot.loadUnaligned(as: UInt32.self) != 0
            }
        }
    }

    /// One value of the field's type at `slot`.
    private static func value(_ slot: UnsafeRawPointer, _ field: FieldDescriptor) -> JSONValue {
        switch field.pointee.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            return .number(String(slot.loadUnaligned(as: Int32.self)))
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            return .number(String(slot.loadUnaligned(as: UInt32.self)))
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            return .string(String(slot.loadUnaligned(as: Int64.self)))
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            return .string(String(slot.loadUnaligned(as: UInt64.self)))
        case PROTOBUF_C_TYPE_FLOAT:
            let number = slot.loadUnaligned(as: Float.self)
            return floating(number.isNaN, number.isInfinite, number.sign == .minus, number.description)
        case PROTOBUF_C_TYPE_DOUBLE:
            let number = slot.loadUnaligned(as: Double.self)
            return floating(number.isNaN, number.isInfinite, number.sign == .minus, number.description)
        case PROTOBUF_C_TYPE_BOOL:
            return .bool(slot.loadUnaligned(as: protobuf_c_boolean.self) != 0)
        case PROTOBUF_C_TYPE_ENUM:
            let number = slot.loadUnaligned(as: Int32.self)
            let descriptor = field.enumDescriptor
            if let known = protobuf_c_enum_descriptor_get_value(descriptor, Int32(number)), let name = known.pointee.name {
                return .string(String(cString: name))
            }
            return .number(String(number))
        case PROTOBUF_C_TYPE_STRING:
            guard let chars = slot.loadUnaligned(as: UnsafePointer<CChar>?.self) else { return .string("") }
            return .string(String(cString: chars))
        case PROTOBUF_C_TYPE_BYTES:
            let data = slot.loadUnaligned(as: ProtobufCBinaryData.self)
            guard data.len > 0, let start = data.data else { return .string("") }
            return .string(Base64.encode(UnsafeBufferPointer(start: start, count: data.len)))
        case PROTOBUF_C_TYPE_MESSAGE:
            guard let child = slot.loadUnaligned(as: UnsafeRawPointer?.self) else { return .object([]) }
            let descriptor = field.messageDescriptor
            if let wrapped = descriptor.wrappedValueField {
                // A google.protobuf wrapper is written as its bare value, zero included.
                return value(child + Int(wrapped.pointee.offset), wrapped)
            }
            return message(child, descriptor)
        default:
            return .null
        }
    }

    private static func floating(_ isNaN: Bool, _ isInfinite: Bool, _ isNegative: Bool, _ text: String) -> JSONValue {
        if isNaN { return .string("NaN") }
        if isInfinite { return .string(isNegative ? "-Infinity" : "Infinity") }
        // Swift prints the shortest text that reads back exactly ("0.1", "1e-07", "1e+20"), all valid
        // JSON numbers; only the ".0" of integral values is dropped.
        return .number(text.hasSuffix(".0") ? String(text.dropLast(2)) : text)
    }
}
