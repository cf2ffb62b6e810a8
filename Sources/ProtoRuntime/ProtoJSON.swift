import CProtobufC

/// Why JSON could not be turned into a message, or a message into JSON.
///
/// `message` starts with the path of the offending field when there is one, written with the keys
/// as the JSON spelled them: `lines[0].quantity: expected an integer, got "abc"`.
public struct ProtoJSONError: Error, Equatable, CustomStringConvertible {
    /// What went wrong, path first.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// An error about the value at `path` ("" for the message itself).
    static func at(_ path: String, _ message: String) -> ProtoJSONError {
        ProtoJSONError(path.isEmpty ? message : "\(path): \(message)")
    }
}

/// The proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) for any message type,
/// driven by libprotobuf-c's runtime descriptors rather than by generated code.
///
/// - Field names: lowerCamelCase on output; lowerCamelCase or the proto name on input.
/// - 64-bit integers are JSON strings on output; integers are accepted as numbers or strings.
/// - Enums are value names on output (the number when the value is unknown); name or number on input.
/// - bytes are standard base64 (URL-safe base64 and missing padding are accepted on input).
/// - float and double use "NaN", "Infinity" and "-Infinity" for the non-finite values.
/// - Fields at their default are left out of the output; `null` on input means "default".
/// - Map fields (repeated `XxxEntry` messages with `key` and `value`) are JSON objects.
///
/// The JSON is parsed by a small strict parser of its own (no Foundation): number literals are kept
/// as text so 64-bit values are exact, duplicate keys and trailing commas are rejected, and nesting
/// is limited to `maximumDepth`.
public enum ProtoJSON {
    /// How deeply arrays and objects may nest in JSON input.
    public static let maximumDepth = 64

    /// JSON text → protobuf bytes of the given message type.
    public static func encode(
        json: String, as descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(ProtoJSONError) -> [UInt8] {
        let value = try JSONParser.parse(json, maximumDepth: maximumDepth)
        guard case .object(let members) = value else {
            throw ProtoJSONError("expected a JSON object for \(typeName(descriptor)), got \(value.summary)")
        }
        let arena = ProtoArena()
        defer { arena.release() }
        let message = ProtoWriter.allocateMessage(descriptor, arena: arena)
        try JSONToProto(arena: arena).fill(message, descriptor, members, path: "")
        return ProtoPacking.pack(message: UnsafePointer(message.assumingMemoryBound(to: ProtobufCMessage.self)))
    }

    /// Protobuf bytes → JSON text, pretty-printed with two-space indentation, fields by field number.
    public static func decode(
        _ bytes: [UInt8], as descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(ProtoJSONError) -> String {
        let unpacked = bytes.withUnsafeBytes { ProtoPacking.unpack(descriptor, $0) }
        guard let unpacked else {
            throw ProtoJSONError("\(bytes.count) bytes are not a valid \(typeName(descriptor))")
        }
        defer { protobuf_c_message_free_unpacked(unpacked, nil) }
        let value = ProtoToJSON.message(UnsafeRawPointer(unpacked), descriptor)
        var out = ""
        value.render(into: &out, indent: 0)
        return out
    }

    /// The JSON name protoc derives from a field name: underscores dropped, the letter after each
    /// one upper-cased ("amount_minor" → "amountMinor").
    public static func jsonName(_ protoName: String) -> String {
        var result = ""
        result.reserveCapacity(protoName.utf8.count)
        var capitalizeNext = false
        for character in protoName {
            if character == "_" {
                capitalizeNext = true
            } else if capitalizeNext {
                result.append(contentsOf: character.uppercased())
                capitalizeNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func typeName(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> String {
        descriptor.pointee.name.map { String(cString: $0) } ?? "message"
    }
}

// MARK: - Descriptor helpers

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

    func field(at index: Int) -> FieldDescriptor {
        pointee.fields.unsafelyUnwrapped + index
    }
}

// MARK: - JSON → C message

/// Fills C messages allocated from an arena from parsed JSON.
struct JSONToProto {
    let arena: ProtoArena

    /// Sets the fields named by `members` on the initialised C message at `base`.
    func fill(
        _ base: UnsafeMutableRawPointer, _ descriptor: MessageDescriptor,
        _ members: [(key: String, value: JSONValue)], path: String
    ) throws(ProtoJSONError) {
        var seen: [Int: String] = [:]
        for (key, value) in members {
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

// MARK: - C message → JSON

/// Reads unpacked C messages into JSON values.
enum ProtoToJSON {
    static func message(_ base: UnsafeRawPointer, _ descriptor: MessageDescriptor) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
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
                    members.append((name, mapObject(items, count, field.messageDescriptor)))
                } else {
                    var elements: [JSONValue] = []
                    elements.reserveCapacity(count)
                    for i in 0..<count { elements.append(value(items + i * size, field)) }
                    members.append((name, .array(elements)))
                }
            } else if isPresent(field, base) {
                members.append((name, value(base + Int(f.offset), field)))
            }
        }
        return .object(members)
    }

    private static func mapObject(_ items: UnsafeRawPointer, _ count: Int, _ entryDescriptor: MessageDescriptor) -> JSONValue {
        let keyField = entryDescriptor.field(at: 0)
        let valueField = entryDescriptor.field(at: 1)
        var members: [(key: String, value: JSONValue)] = []
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
            members.append((key, value(entry + Int(valueField.pointee.offset), valueField)))
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
            return message(child, field.messageDescriptor)
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

// MARK: - Base64

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard or URL-safe base64, padded or not; nil when the text is not base64.
    static func decode(_ text: String) -> [UInt8]? {
        var symbols = Array(text.utf8)
        var padding = 0
        while symbols.last == UInt8(ascii: "=") { symbols.removeLast(); padding += 1 }
        guard padding <= 2, symbols.count % 4 != 1 else { return nil }
        if padding > 0 && (symbols.count + padding) % 4 != 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            let sextet: UInt32
            switch symbol {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): sextet = UInt32(symbol - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): sextet = UInt32(symbol - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sextet = UInt32(symbol - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): sextet = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): sextet = 63
            default: return nil
            }
            accumulator = accumulator << 6 | sextet
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }
}

// MARK: - JSON values, parsing and printing

/// A parsed JSON value. Numbers keep their literal text so that no precision is lost before the
/// field's type is known; objects keep their members in document order.
enum JSONValue {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// A short description for error messages: `"abc"`, `1.5`, `true`, `an array`.
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let text): return text
        case .string(let text):
            return text.count > 64 ? String(Self.quoted(String(text.prefix(64))).dropLast()) + "…\"" : Self.quoted(text)
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = ""
        appendQuoted(text, to: &out)
        return out
    }

    static func appendQuoted(_ text: String, to out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            case "\u{00}"..."\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}":
                let hex = String(scalar.value, radix: 16, uppercase: false)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    /// Pretty-printed with two-space indentation; `indent` is the current nesting level's indentation.
    func render(into out: inout String, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let flag): out.append(flag ? "true" : "false")
        case .number(let text): out.append(text)
        case .string(let text): Self.appendQuoted(text, to: &out)
        case .array(let elements):
            guard !elements.isEmpty else { out.append("[]"); return }
            out.append("[\n")
            for (i, element) in elements.enumerated() {
                out.append(String(repeating: " ", count: indent + 2))
                element.render(into: &out, indent: indent + 2)
                out.append(i + 1 < elements.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "]")
        case .object(let members):
            guard !members.isEmpty else { out.append("{}"); return }
            out.append("{\n")
            for (i, member) in members.enumerated() {
                out.append(String(repeating: " ", count: indent + 2))
                Self.appendQuoted(member.key, to: &out)
                out.append(": ")
                member.value.render(into: &out, indent: indent + 2)
                out.append(i + 1 < members.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "}")
        }
    }
}

/// A strict RFC 8259 parser: no comments, no trailing commas, no duplicate keys in an object.
struct JSONParser {
    private let bytes: [UInt8]
    private let maximumDepth: Int
    private var position = 0
    private var depth = 0

    private init(_ text: String, maximumDepth: Int) {
        self.bytes = Array(text.utf8)
        self.maximumDepth = maximumDepth
    }

    static func parse(_ text: String, maximumDepth: Int) throws(ProtoJSONError) -> JSONValue {
        var parser = JSONParser(text, maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// Whether `bytes` is exactly one JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isNumberLiteral(_ bytes: [UInt8]) -> Bool {
        var i = 0
        return scanNumber(bytes, &i) && i == bytes.count
    }

    private static func scanNumber(_ bytes: [UInt8], _ i: inout Int) -> Bool {
        func digits(_ i: inout Int) -> Int {
            let start = i
            while i < bytes.count, DecimalLiteral.isDigit(bytes[i]) { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, DecimalLiteral.isDigit(bytes[i]) else { return false }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else { _ = digits(&i) }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&i) > 0 else { return false }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&i) > 0 else { return false }
        }
        return true
    }

    private func error(_ what: String) -> ProtoJSONError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(position, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return ProtoJSONError("invalid JSON at line \(line), column \(column): \(what)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(ProtoJSONError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            guard Self.scanNumber(bytes, &position) else { throw error("malformed number") }
            return .number(String(decoding: bytes[start..<position], as: UTF8.self))
        default:
            throw error("unexpected character, expected a value")
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(ProtoJSONError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard position + expected.count <= bytes.count, bytes[position..<position + expected.count].elementsEqual(expected) else {
            throw error("unexpected character, expected a value")
        }
        position += expected.count
    }

    private mutating func enter() throws(ProtoJSONError) {
        depth += 1
        if depth > maximumDepth { throw error("nesting deeper than \(maximumDepth) levels") }
    }

    private mutating func parseObject() throws(ProtoJSONError) -> JSONValue {
        try enter()
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = position
            let key = try parseString()
            guard keys.insert(key).inserted else {
                position = keyStart
                throw error("duplicate key \(JSONValue.quoted(key))")
            }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            position += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input, expected ',' or '}'") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            position += 1
            depth -= 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(ProtoJSONError) -> JSONValue {
        try enter()
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input, expected ',' or ']'") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            position += 1
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func parseString() throws(ProtoJSONError) -> String {
        position += 1  // the opening quote
        var out: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unterminated string") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired UTF-16 surrogate in \\u escape")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired UTF-16 surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired UTF-16 surrogate in \\u escape")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    position -= 1
                    throw error("invalid escape sequence in string")
                }
            case 0x00..<0x20:
                throw error("control character in string (it must be escaped)")
            default:
                out.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseHex4() throws(ProtoJSONError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
