import CProtobufC

// JSON → C message

/// Fills C messages allocated from an arena from parsed JSON.
struct JSONToProto {
    let arena: ProtoArena

    /// Sets the fields named by `members` on the initialised C message at `base`.
    func fill(
        _ base: UnsafeMutableRawPointer, _ descriptor: MessageDescriptor,
        _ members: [JSONMember], path: String
    ) throws(ProtoJSONError) {
        var seen: [Int: String] = [:]
        for member in members {
            let key = member.key, value = member.value
            guard let index = Self.fieldIndex(descriptor, key) else {
                throw .at(path, "unknown field \(JSONValue.quoted(key)) in \(ProtoJSON.typeName(descriptor))")
            }
            if let earlier = seen[index] {
                throw .at(path, earlier == key
                    ? "field \(JSONValue.quoted(key)) is given twice"
                    : "field \(JSONValue.quoted(key)) is given twice (also as \(JSONValue.quoted(earlier)))")
            }
            seen[index] = key
            if case .null = value { continue }  // null means "default": leave the field as initialised
            let field = descriptor.field(at: index)
            let fieldPath = path.isEmpty ? key : "\(path).\(key)"
            if field.pointee.label == PROTOBUF_C_LABEL_REPEATED {
                try fillRepeated(field, value, base, path: fieldPath)
            } else {
                try fillSingular(field, value, base, descriptor, path: fieldPath)
            }
        }
    }

    /// The index of the field a JSON key names: its JSON (lowerCamelCase) name or its proto name.
    static func fieldIndex(_ descriptor: MessageDescriptor, _ key: String) -> Int? {
        let fields = descriptor.fieldList
        for i in fields.indices where String(cString: fields[i].name) == key { return i }
        for i in fields.indices where ProtoJSON.jsonName(String(cString: fields[i].name)) == key { return i }
        return nil
    }

    /// Stores a singular value and records its presence the way the field's label asks for.
    private func fillSingular(
        _ field: FieldDescriptor, _ value: JSONValue, _ base: UnsafeMutableRawPointer,
        _ descriptor: MessageDescriptor, path: String
    ) throws(ProtoJSONError) {
        let f = field.pointee
        let quantifier = base + Int(f.quantifier_offset)
        if field.isOneofMember {
            let current = quantifier.loadUnaligned(as: UInt32.self)
            if current != 0 && current != f.id {
                let other = descriptor.fieldList.first { $0.id == current }.map { String(cString: $0.name) } ?? "#\(current)"
                throw .at(path, "another member of the same oneof is already set (\(other))")
            }
            try store(value, field, at: base + Int(f.offset), path: path)
            quantifier.storeBytes(of: f.id, as: UInt32.self)
        } else {
            try store(value, field, at: base + Int(f.offset), path: path)
            if f.label == PROTOBUF_C_LABEL_OPTIONAL && f.type != PROTOBUF_C_TYPE_STRING && f.type != PROTOBUF_C_TYPE_MESSAGE {
                quantifier.storeBytes(of: protobuf_c_boolean(1), as: protobuf_c_boolean.self)
            }
        }
    }

    /// Stores an array (or, for a map field, an object) as a counted C array.
    private func fillRepeated(
        _ field: FieldDescriptor, _ value: JSONValue, _ base: UnsafeMutableRawPointer, path: String
    ) throws(ProtoJSONError) {
        let f = field.pointee
        let size = field.valueSize
        let items: UnsafeMutableRawPointer
        let count: Int
        if field.isMap {
            guard case .object(let entries) = value else {
                throw .at(path, "expected a JSON object for a map field, got \(value.summary)")
            }
            count = entries.count
            guard count > 0 else { return }
            items = arena.allocate(count * size)
            let entryDescriptor = field.messageDescriptor
            var seenKeys = Set<String>()
            for (i, entry) in entries.enumerated() {
                let entryPath = "\(path)[\(JSONValue.quoted(entry.key))]"
                guard seenKeys.insert(entry.key).inserted else { throw .at(entryPath, "map key is given twice") }
                if case .null = entry.value { throw .at(entryPath, "map values cannot be null") }
                let message = ProtoWriter.allocateMessage(entryDescriptor, arena: arena)
                let keyField = entryDescriptor.field(at: 0)
                let keyValue: JSONValue
                if keyField.pointee.type == PROTOBUF_C_TYPE_BOOL {
                    guard entry.key == "true" || entry.key == "false" else {
                        throw .at(entryPath, "expected a bool map key (\"true\" or \"false\")")
                    }
                    keyValue = .bool(entry.key == "true")
                } else {
                    keyValue = .string(entry.key)
                }
                try fillSingular(keyField, keyValue, message, entryDescriptor, path: entryPath)
                try fillSingular(entryDescriptor.field(at: 1), entry.value, message, entryDescriptor, path: entryPath)
                (items + i * size).storeBytes(of: UnsafeMutableRawPointer?(message), as: UnsafeMutableRawPointer?.self)
            }
        } else {
            guard case .array(let elements) = value else {
                throw .at(path, "expected a JSON array for a repeated field, got \(value.summary)")
            }
            count = elements.count
            guard count > 0 else { return }
            items = arena.allocate(count * size)
            for (i, element) in elements.enumerated() {
                let elementPath = "\(path)[\(i)]"
                if case .null = element { throw .at(elementPath, "null is not allowed in a repeated field") }
                try store(element, field, at: items + i * size, path: elementPath)
            }
        }
        (base + Int(f.quantifier_offset)).storeBytes(of: count, as: Int.self)
        (base + Int(f.offset)).storeBytes(of: UnsafeMutableRawPointer?(items), as: UnsafeMutableRawPointer?.self)
    }

    /// Converts one JSON value to the field's C representation at `slot`.
    private func store(
        _ value: JSONValue, _ field: FieldDescriptor, at slot: UnsafeMutableRawPointer, path: String
    ) throws(ProtoJSONError) {
        let type = field.pointee.type
        switch type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            slot.storeBytes(of: try Self.integer(value, Int32.self, field.typeDescription, path: path), as: Int32.self)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            slot.storeBytes(of: try Self.integer(value, Int64.self, field.typeDescription, path: path), as: Int64.self)
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            slot.storeBytes(of: try Self.integer(value, UInt32.self, field.typeDescription, path: path), as: UInt32.self)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            slot.storeBytes(of: try Self.integer(value, UInt64.self, field.typeDescription, path: path), as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT:
            slot.storeBytes(of: try Self.float(value, path: path), as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE:
            slot.storeBytes(of: try Self.double(value, path: path), as: Double.self)
        case PROTOBUF_C_TYPE_BOOL:
            guard case .bool(let flag) = value else { throw .at(path, "expected true or false, got \(value.summary)") }
            slot.storeBytes(of: protobuf_c_boolean(flag ? 1 : 0), as: protobuf_c_boolean.self)
        case PROTOBUF_C_TYPE_ENUM:
            slot.storeBytes(of: try Self.enumNumber(value, field.enumDescriptor, path: path), as: Int32.self)
        case PROTOBUF_C_TYPE_STRING:
            guard case .string(let text) = value else { throw .at(path, "expected a string, got \(value.summary)") }
            guard !text.utf8.contains(0) else { throw .at(path, "strings cannot contain U+0000") }
            slot.storeBytes(of: UnsafeMutablePointer<CChar>?(arena.cString(text)), as: UnsafeMutablePointer<CChar>?.self)
        case PROTOBUF_C_TYPE_BYTES:
            guard case .string(let text) = value, let bytes = Base64.decode(text) else {
                throw .at(path, "expected base64-encoded bytes, got \(value.summary)")
            }
            let data = ProtobufCBinaryData(len: bytes.count, data: bytes.isEmpty ? nil : arena.copy(bytes))
            slot.storeBytes(of: data, as: ProtobufCBinaryData.self)
        case PROTOBUF_C_TYPE_MESSAGE:
            let descriptor = field.messageDescriptor
            if let wrapped = descriptor.wrappedValueField {
                // A google.protobuf wrapper is its bare value ("3", true, "text"): the value goes
                // into the wrapper's one field, and the wrapper is present even when it is zero.
                if case .object = value {
                    throw .at(path, "\(ProtoJSON.typeName(descriptor)) is written as its bare value, not as an object "
                        + "(\(Self.wrapperExample(wrapped)), or null when absent)")
                }
                let child = ProtoWriter.allocateMessage(descriptor, arena: arena)
                try store(value, wrapped, at: child + Int(wrapped.pointee.offset), path: path)
                slot.storeBytes(of: UnsafeMutableRawPointer?(child), as: UnsafeMutableRawPointer?.self)
                return
            }
            guard case .object(let members) = value else {
                throw .at(path, "expected a JSON object for \(ProtoJSON.typeName(descriptor)), got \(value.summary)")
            }
            let child = ProtoWriter.allocateMessage(descriptor, arena: arena)
            try fill(child, descriptor, members, path: path)
            slot.storeBytes(of: UnsafeMutableRawPointer?(child), as: UnsafeMutableRawPointer?.self)
        default:
            throw .at(path, "unsupported field type \(type.rawValue)")
        }
    }

    /// What the bare JSON value of a wrapper looks like, for error messages.
    static func wrapperExample(_ wrapped: FieldDescriptor) -> String {
        switch wrapped.pointee.type {
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_UINT64: return #"e.g. "3""#
        case PROTOBUF_C_TYPE_BOOL: return "true or false"
        case PROTOBUF_C_TYPE_STRING: return #"e.g. "text""#
        case PROTOBUF_C_TYPE_BYTES: return #"base64, e.g. "AQI=""#
        default: return "e.g. 3"
        }
    }

    // MARK: Scalars

    /// An integer from a JSON number or a string holding one; exponents are fine when the value is integral.
    static func integer<T: FixedWidthInteger>(
        _ value: JSONValue, _: T.Type, _ typeName: String, path: String
    ) throws(ProtoJSONError) -> T {
        let literal: String
        switch value {
        case .number(let text): literal = text
        case .string(let text): literal = text
        default: throw .at(path, "expected an integer, got \(value.summary)")
        }
        switch DecimalLiteral.integer(literal) {
        case .invalid, .notIntegral:
            throw .at(path, "expected an integer, got \(value.summary)")
        case .outOfRange:
            throw .at(path, "\(literal) is out of range for \(typeName)")
        case .integer(let negative, let magnitude):
            if negative {
                guard T.isSigned, magnitude <= UInt64(T.max) + 1 else {
                    if magnitude == 0 { return 0 }
                    throw .at(path, "\(literal) is out of range for \(typeName)")
                }
                return T(truncatingIfNeeded: 0 &- magnitude)
            }
            guard magnitude <= UInt64(T.max) else { throw .at(path, "\(literal) is out of range for \(typeName)") }
            return T(magnitude)
        }
    }

    static func double(_ value: JSONValue, path: String) throws(ProtoJSONError) -> Double {
        let literal: String
        switch value {
        case .number(let text): literal = text
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let text) where JSONParser.isNumberLiteral(Array(text.utf8)): literal = text
        default: throw .at(path, "expected a number, got \(value.summary)")
        }
        guard let result = Double(literal), result.isFinite else { throw .at(path, "\(literal) is out of range for double") }
        return result
    }

    static func float(_ value: JSONValue, path: String) throws(ProtoJSONError) -> Float {
        let literal: String
        switch value {
        case .number(let text): literal = text
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let text) where JSONParser.isNumberLiteral(Array(text.utf8)): literal = text
        default: throw .at(path, "expected a number, got \(value.summary)")
        }
        guard let result = Float(literal), result.isFinite else { throw .at(path, "\(literal) is out of range for float") }
        return result
    }

    static func enumNumber(_ value: JSONValue, _ descriptor: EnumDescriptor, path: String) throws(ProtoJSONError) -> Int32 {
        let enumName = descriptor.pointee.name.map { String(cString: $0) } ?? "enum"
        switch value {
        case .string(let name):
            guard !name.utf8.contains(0), let found = protobuf_c_enum_descriptor_get_value_by_name(descriptor, name) else {
                throw .at(path, "unknown value \(JSONValue.quoted(name)) for enum \(enumName)")
            }
            return Int32(found.pointee.value)
        case .number:
            return try integer(value, Int32.self, "enum \(enumName)", path: path)
        default:
            throw .at(path, "expected a value name of enum \(enumName) or a number, got \(value.summary)")
        }
    }
}

/// Exact reading of JSON number literals as integers, without going through Double.
enum DecimalLiteral {
    enum Integer: Equatable {
        case integer(negative: Bool, magnitude: UInt64)
        case notIntegral
        case outOfRange
        case invalid
    }

    static func integer(_ literal: String) -> Integer {
        let bytes = Array(literal.utf8)
        guard JSONParser.isNumberLiteral(bytes) else { return .invalid }
        var i = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { i += 1 }
        var digits: [UInt8] = []
        while i < bytes.count, isDigit(bytes[i]) { digits.append(bytes[i]); i += 1 }
        var exponent = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, isDigit(bytes[i]) { digits.append(bytes[i]); exponent -= 1; i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var exponentNegative = false
            if bytes[i] == UInt8(ascii: "-") { exponentNegative = true; i += 1 } else if bytes[i] == UInt8(ascii: "+") { i += 1 }
            var written = 0
            while i < bytes.count, isDigit(bytes[i]) {
                written = min(written * 10 + Int(bytes[i] - UInt8(ascii: "0")), 1_000_000)
                i += 1
            }
            exponent += exponentNegative ? -written : written
        }
        guard let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) else {
            return .integer(negative: negative, magnitude: 0)
        }
        digits.removeFirst(first)
        while digits.last == UInt8(ascii: "0") { digits.removeLast(); exponent += 1 }
        if exponent < 0 { return .notIntegral }
        if digits.count + exponent > 20 { return .outOfRange }
        var magnitude: UInt64 = 0
        for digit in digits + Array(repeating: UInt8(ascii: "0"), count: exponent) {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if o1 || o2 { return .outOfRange }
            magnitude = sum
        }
        return .integer(negative: negative, magnitude: magnitude)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
