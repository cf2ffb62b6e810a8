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
