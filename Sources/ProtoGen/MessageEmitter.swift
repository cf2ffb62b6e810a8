/// Emits the Swift messages, enums and method tables of one `.proto` file (module AfterSaleProto).
struct MessageEmitter {
    let file: ProtoFile
    let types: TypeTable

    func emit() -> String {
        var w = CodeWriter()
        w.line(Generator.header(for: file))
        w.line()
        w.line("import CAfterSaleProto")
        w.line("import CProtobufC")
        w.line("import ProtoRuntime")
        if !file.services.isEmpty { w.line("import RPCWire") }
        for e in file.enums { w.line(); emitEnum(e, &w) }
        for m in file.messages { w.line(); emitMessage(m, &w) }
        for s in file.services { w.line(); emitMethodTable(s, &w) }
        return w.text
    }

    private func emitEnum(_ e: ProtoEnumDef, _ w: inout CodeWriter) {
        w.doc(e.comment, fallback: "The protobuf enum `\(e.fullName)`.")
        w.line("///")
        w.line("/// Open, as proto3 enums are: a value this build does not know keeps its number.")
        w.block("public struct \(e.swiftName): RawRepresentable, Hashable, Sendable, CaseIterable, CustomStringConvertible") { w in
            w.line("public var rawValue: Int32")
            w.line("public init(rawValue: Int32) { self.rawValue = rawValue }")
            w.line("public init() { self.rawValue = 0 }")
            for v in e.values {
                w.line()
                w.doc(v.comment, fallback: "`\(v.name)`.")
                w.line("public static let \(Naming.enumCaseName(v.name, enumName: Naming.lastComponent(e.fullName))) = \(e.swiftName)(rawValue: \(v.number))")
            }
            w.line()
            w.line("/// Every value the schema declares, in declaration order.")
            let all = e.values.map { "." + Naming.enumCaseName($0.name, enumName: Naming.lastComponent(e.fullName)) }
            w.line("public static let allCases: [\(e.swiftName)] = [\(all.joined(separator: ", "))]")
            w.line()
            w.line("/// The value's protobuf name, \"\(e.values.first?.name ?? "")\", or its number when unknown.")
            w.block("public var protoName: String") { w in
                w.line("switch rawValue {")
                var seen = Set<Int32>()
                for v in e.values where seen.insert(v.number).inserted {
                    w.line("case \(v.number): return \"\(v.name)\"")
                }
                w.line("default: return String(rawValue)")
                w.line("}")
            }
            w.line()
            w.line("public var description: String { protoName }")
        }
    }

    private func emitMessage(_ m: ProtoMessageDef, _ w: inout CodeWriter) {
        let wrapped = types.wrapperValue(of: m.fullName)
        w.doc(m.comment, fallback: "The protobuf message `\(m.fullName)`.")
        w.line("///")
        w.line("/// Protobuf type `\(m.fullName)`, declared in `\(file.sourcePath)`.")
        if wrapped != nil {
            w.line("/// Fields of this type are generated as optional Swift scalars; this type is for whole-message use.")
        }
        w.block("public struct \(m.swiftName): \(wrapped == nil ? "ProtoMessage" : "ProtoWrapperMessage")") { w in
            for f in m.fields {
                if let inner = types.wrapperValue(of: f.typeName), !f.isRepeated {
                    let fallback = "Field `\(f.name)` (\(f.number))."
                    w.doc((f.comment.isEmpty ? fallback : f.comment) + "\n\n" + Self.wrapperNote(f.typeName, inner), fallback: fallback)
                } else {
                    w.doc(f.comment, fallback: "Field `\(f.name)` (\(f.number)).")
                }
                w.line("public var \(Naming.escape(f.jsonName)): \(swiftType(f)) = \(defaultValue(f))")
            }
            if !m.fields.isEmpty { w.line() }
            w.line("public init() {}")
            if let wrapped {
                w.line()
                w.line("/// The wrapper holding `value`.")
                w.line("public init(value: \(scalarSwiftType(wrapped))) { self.value = value }")
            }
            w.line()
            w.line("public static let protoName = \"\(m.fullName)\"")
            w.line("public static var protoDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { \(CIndexEmitter.accessor(m.fullName))() }")
            w.line()
            w.block("public init(protoReader r: ProtoReader)") { w in
                for (i, f) in m.fields.enumerated() {
                    w.line("\(Naming.escape(f.jsonName)) = \(readExpression(f, index: i))")
                }
            }
            w.line()
            w.block("public func write(to w: inout ProtoWriter)") { w in
                for (i, f) in m.fields.enumerated() {
                    w.line(writeStatement(f, index: i))
                }
            }
        }
    }

    /// The doc comment paragraph of a wrapper field: what nil means, the wire type, the JSON form.
    static func wrapperNote(_ typeName: String, _ inner: ProtoFieldDef) -> String {
        let json: String
        switch inner.type {
        case .int64, .uint64, .sint64, .fixed64, .sfixed64: json = "a string such as \"3\" (a number is accepted too)"
        case .bool: json = "true or false"
        case .string: json = "a string"
        case .bytes: json = "a base64 string"
        default: json = "a number"
        }
        return "nil when absent. On the wire a `\(typeName)` message (present even for a zero value);\n"
            + "in JSON the bare value, \(json), or null for nil."
    }

    private func emitMethodTable(_ s: ProtoServiceDef, _ w: inout CodeWriter) {
        w.doc(s.comment, fallback: "The service `\(s.fullName)`.")
        w.line("///")
        w.line("/// The method table of `\(s.fullName)`: names and types shared by the server and the client.")
        w.block("public enum \(s.name)") { w in
            w.line("/// The fully qualified service name.")
            w.line("public static let name = \"\(s.fullName)\"")
            for m in s.methods {
                w.line()
                w.doc(m.comment, fallback: "`\(m.name)`.")
                let req = types.swiftName(m.inputType), resp = types.swiftName(m.outputType)
                let kind = m.serverStreaming ? ".serverStreaming" : ".unary"
                w.line("public static let \(Naming.escape(Naming.lowerCamel(m.name))) = RPCMethod<\(req), \(resp)>(service: name, name: \"\(m.name)\", kind: \(kind))")
            }
            w.line()
            w.line("/// Every method, in declaration order.")
            let list = s.methods.map { Naming.escape(Naming.lowerCamel($0.name)) + ".info" }
            w.line("public static let methods: [RPCMethodInfo] = [\(list.joined(separator: ", "))]")
        }
    }

    private func scalarSwiftType(_ f: ProtoFieldDef) -> String {
        switch f.type {
        case .int32, .sint32, .sfixed32: "Int32"
        case .int64, .sint64, .sfixed64: "Int64"
        case .uint32, .fixed32: "UInt32"
        case .uint64, .fixed64: "UInt64"
        case .bool: "Bool"
        case .float: "Float"
        case .double: "Double"
        case .string: "String"
        case .bytes: "[UInt8]"
        case .enum, .message: types.swiftName(f.typeName)
        }
    }

    private func swiftType(_ f: ProtoFieldDef) -> String {
        if let inner = types.wrapperValue(of: f.typeName), !f.isRepeated { return scalarSwiftType(inner) + "?" }
        let base = scalarSwiftType(f)
        if f.isRepeated { return "[\(base)]" }
        return f.type == .message ? base + "?" : base
    }

    private func defaultValue(_ f: ProtoFieldDef) -> String {
        if f.isRepeated { return "[]" }
        switch f.type {
        case .message: return "nil"
        case .string: return "\"\""
        case .bytes: return "[]"
        case .bool: return "false"
        case .enum: return "\(scalarSwiftType(f))()"
        default: return "0"
        }
    }

    /// The ProtoReader/ProtoWriter accessor stem for a field type.
    private func accessor(_ f: ProtoFieldDef) -> (read: String, write: String) {
        switch f.type {
        case .int32, .sint32, .sfixed32: ("int32", "Int32")
        case .int64, .sint64, .sfixed64: ("int64", "Int64")
        case .uint32, .fixed32: ("uint32", "UInt32")
        case .uint64, .fixed64: ("uint64", "UInt64")
        case .bool: ("bool", "Bool")
        case .float: ("float", "Float")
        case .double: ("double", "Double")
        case .string: ("string", "String")
        case .bytes: ("bytes", "Bytes")
        case .enum: ("enumValue", "Enum")
        case .message: ("message", "Message")
        }
    }

    private func readExpression(_ f: ProtoFieldDef, index: Int) -> String {
        let a = accessor(f)
        let type = scalarSwiftType(f)
        if types.wrapperValue(of: f.typeName) != nil, !f.isRepeated { return "r.wrapped(\(index), \(type).self)" }
        switch (f.type, f.isRepeated) {
        case (.message, false): return "r.message(\(index), \(type).self)"
        case (.message, true): return "r.messages(\(index), \(type).self)"
        case (.enum, false): return "\(type)(rawValue: r.enumValue(\(index)))"
        case (.enum, true): return "r.enumValues(\(index)).map { \(type)(rawValue: $0) }"
        case (.bytes, true): return "r.bytesList(\(index))"
        case (_, true): return "r.\(a.read)s(\(index))"
        case (_, false): return "r.\(a.read)(\(index))"
        }
    }

    private func writeStatement(_ f: ProtoFieldDef, index: Int) -> String {
        let a = accessor(f)
        let name = Naming.escape(f.jsonName)
        if types.wrapperValue(of: f.typeName) != nil, !f.isRepeated {
            return "w.setWrapped(\(index), \(scalarSwiftType(f)).self, \(name))"
        }
        switch (f.type, f.isRepeated) {
        case (.enum, false): return "w.setEnum(\(index), \(name).rawValue)"
        case (.enum, true): return "w.setEnums(\(index), \(name).map(\\.rawValue))"
        case (.bytes, true): return "w.setBytesList(\(index), \(name))"
        case (_, true): return "w.set\(a.write)s(\(index), \(name))"
        case (_, false): return "w.set\(a.write)(\(index), \(name))"
        }
    }
}

/// Fully qualified protobuf names → Swift type names, across every file of the schema, and the
/// wrapper messages of google/protobuf/wrappers.proto with the field each wraps.
struct TypeTable {
    private var names: [String: String] = [:]
    private var wrappers: [String: ProtoFieldDef] = [:]

    init(_ schema: ProtoSchema) {
        for file in schema.files {
            for m in file.messages {
                names[m.fullName] = m.swiftName
                if WellKnown.wrappers.contains(m.fullName), m.fields.count == 1, let value = m.fields.first,
                   value.number == 1, value.name == "value", !value.isRepeated, value.type != .message, value.type != .enum {
                    wrappers[m.fullName] = value
                }
            }
            for e in file.enums { names[e.fullName] = e.swiftName }
        }
    }

    func swiftName(_ fullName: String) -> String { names[fullName] ?? Naming.lastComponent(fullName) }

    /// The `value` field of a google.protobuf wrapper message; nil for any other type.
    func wrapperValue(of fullName: String) -> ProtoFieldDef? { wrappers[fullName] }
}

extension Naming {
    static func lastComponent(_ fullName: String) -> String {
        fullName.split(separator: ".").last.map(String.init) ?? fullName
    }
}
