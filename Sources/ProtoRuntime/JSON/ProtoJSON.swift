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
/// - Fields of a google/protobuf/wrappers.proto type (`google.protobuf.Int64Value`, `StringValue`,
///   ...) are the bare wrapped value, by the rules of its type (`"version": "3"`), zero
///   included; `null` or no key means absent. The object form `{"value": ...}` is refused.
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
