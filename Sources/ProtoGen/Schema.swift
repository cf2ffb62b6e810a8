/// The part of a `.proto` schema the generators need, decoded from a FileDescriptorSet.
public struct ProtoSchema: Sendable {
    /// The files in the order protoc listed them (dependencies first).
    public var files: [ProtoFile]
}

/// One `.proto` file.
public struct ProtoFile: Sendable {
    /// The path protoc was given, "aftersale/v1/health.proto".
    public var path: String
    /// The protobuf package, "aftersale.v1".
    public var package: String
    public var messages: [ProtoMessageDef]
    public var enums: [ProtoEnumDef]
    public var services: [ProtoServiceDef]

    /// The file name without folder or extension, "health".
    public var baseName: String {
        let last = path.split(separator: "/").last.map(String.init) ?? path
        return last.hasSuffix(".proto") ? String(last.dropLast(6)) : last
    }

    /// True for a well-known file of package `google.protobuf` (imported from the system's
    /// protobuf include folder, not from proto/).
    public var isWellKnown: Bool { package == WellKnown.package }

    /// The stem of the generated Swift file names: "health" for proto/aftersale/v1/health.proto,
    /// "google_protobuf_wrappers" for google/protobuf/wrappers.proto, so the two never collide.
    public var swiftFileStem: String {
        isWellKnown ? (path.hasSuffix(".proto") ? String(path.dropLast(6)) : path).replacingSlashes() : baseName
    }

    /// The file's path from the project root, "proto/aftersale/v1/health.proto", or from the
    /// system's protobuf include folder, "google/protobuf/wrappers.proto".
    public var sourcePath: String { isWellKnown ? path : "proto/\(path)" }

    /// Where the file comes from, for generated comments: "proto/aftersale/v1/health.proto", or
    /// "google/protobuf/wrappers.proto (protobuf's well-known types)".
    public var sourceDescription: String { isWellKnown ? "\(path) (protobuf's well-known types)" : sourcePath }
}

/// The well-known types of package `google.protobuf` the generators support: the wrappers of
/// google/protobuf/wrappers.proto, which give a scalar field presence (absent ≠ zero).
public enum WellKnown {
    /// The package of the well-known types.
    public static let package = "google.protobuf"
    /// The one well-known file a schema may import.
    public static let wrappersFile = "google/protobuf/wrappers.proto"
    /// The wrapper messages: one field `value = 1` of the named scalar type each.
    public static let wrappers: Set<String> = [
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
    ]
    /// The Swift name prefix of the types of package `google.protobuf`: "Google_Protobuf_Int64Value",
    /// as SwiftProtobuf spells them, so they never clash with a type of the contracts.
    static let swiftPrefix = "Google_Protobuf"
}

extension String {
    func replacingSlashes() -> String { String(map { $0 == "/" ? "_" : $0 }) }
}

/// A message type.
public struct ProtoMessageDef: Sendable {
    /// "aftersale.v1.HealthCheckRequest".
    public var fullName: String
    /// The Swift type name: the name inside the package with dots removed ("Outer_Inner" for nested types).
    public var swiftName: String
    public var comment: String
    /// Sorted by field number, so a field's position is its index in libprotobuf-c's descriptor.
    public var fields: [ProtoFieldDef]
}

/// The protobuf field types the generators support.
public enum ProtoFieldType: String, Sendable {
    case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, message, bytes
    case uint32, `enum`, sfixed32, sfixed64, sint32, sint64
}

/// A field of a message.
public struct ProtoFieldDef: Sendable {
    public var name: String
    public var jsonName: String
    public var number: Int32
    public var type: ProtoFieldType
    /// For message and enum fields, the fully qualified type name without the leading dot.
    public var typeName: String
    public var isRepeated: Bool
    public var comment: String
}

/// An enum type.
public struct ProtoEnumDef: Sendable {
    public var fullName: String
    public var swiftName: String
    public var comment: String
    public var values: [ProtoEnumValueDef]
}

/// One value of an enum.
public struct ProtoEnumValueDef: Sendable {
    public var name: String
    public var number: Int32
    public var comment: String
}

/// A service.
public struct ProtoServiceDef: Sendable {
    /// "aftersale.v1.Health".
    public var fullName: String
    /// "Health".
    public var name: String
    public var comment: String
    public var methods: [ProtoMethodDef]
}

/// One RPC method of a service.
public struct ProtoMethodDef: Sendable {
    public var name: String
    /// Fully qualified request type, without the leading dot.
    public var inputType: String
    public var outputType: String
    public var serverStreaming: Bool
    public var comment: String
}

/// Why the generator refused a schema: it names the construct and where it is.
public struct ProtoGenError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
