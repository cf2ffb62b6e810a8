import CProtoDescriptor
import CProtobufC

/// Decodes a FileDescriptorSet (`protoc --descriptor_set_out --include_imports --include_source_info`) with
/// libprotobuf-c and keeps what the generators need, refusing constructs they do not support.
public enum SchemaDecoder {
    public static func decode(_ bytes: [UInt8]) throws(ProtoGenError) -> ProtoSchema {
        let unpacked = bytes.withUnsafeBufferPointer { buf in
            google__protobuf__file_descriptor_set__unpack(nil, buf.count, buf.baseAddress)
        }
        guard let set = unpacked else { throw ProtoGenError("the input is not a FileDescriptorSet") }
        defer { google__protobuf__file_descriptor_set__free_unpacked(set, nil) }
        var files: [ProtoFile] = []
        for file in list(set.pointee.file, set.pointee.n_file) {
            files.append(try decodeFile(file))
        }
        return ProtoSchema(files: files)
    }

    private static func list<T>(_ items: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ n: Int) -> [UnsafeMutablePointer<T>] {
        guard let items, n > 0 else { return [] }
        return (0..<n).compactMap { items[$0] }
    }

    private static func str(_ p: UnsafeMutablePointer<CChar>?) -> String {
        p.map { String(cString: $0) } ?? ""
    }

    private static func decodeFile(_ file: UnsafeMutablePointer<Google__Protobuf__FileDescriptorProto>) throws(ProtoGenError) -> ProtoFile {
        let f = file.pointee
        let path = str(f.name)
        let syntax = str(f.syntax)
        guard syntax == "proto3" else { throw ProtoGenError("\(path): only proto3 is supported (found '\(syntax)')") }
        let pkg = str(f.package)
        let comments = Comments(f.source_code_info)
        var messages: [ProtoMessageDef] = []
        var enums: [ProtoEnumDef] = []
        // The well-known types get a prefix ("Google_Protobuf_Int64Value"); the contracts' types none.
        let swiftPrefix = pkg == WellKnown.package ? WellKnown.swiftPrefix : ""
        for (i, m) in list(f.message_type, f.n_message_type).enumerated() {
            try decodeMessage(m, scope: pkg, swiftPrefix: swiftPrefix, path: [4, Int32(i)], file: path, comments: comments,
                              messages: &messages, enums: &enums)
        }
        for (i, e) in list(f.enum_type, f.n_enum_type).enumerated() {
            enums.append(decodeEnum(e, scope: pkg, swiftPrefix: swiftPrefix, path: [5, Int32(i)], comments: comments))
        }
        var services: [ProtoServiceDef] = []
        for (i, s) in list(f.service, f.n_service).enumerated() {
            let name = str(s.pointee.name)
            var methods: [ProtoMethodDef] = []
            for (j, m) in list(s.pointee.method, s.pointee.n_method).enumerated() {
                let mm = m.pointee
                if mm.client_streaming != 0 {
                    throw ProtoGenError("\(path): \(name).\(str(mm.name)) streams requests; only unary and server-streaming methods are supported")
                }
                methods.append(ProtoMethodDef(
                    name: str(mm.name), inputType: trimDot(str(mm.input_type)), outputType: trimDot(str(mm.output_type)),
                    serverStreaming: mm.server_streaming != 0, comment: comments[[6, Int32(i), 2, Int32(j)]]))
            }
            services.append(ProtoServiceDef(fullName: qualify(pkg, name), name: name,
                                            comment: comments[[6, Int32(i)]], methods: methods))
        }
        return ProtoFile(path: path, package: pkg, messages: messages, enums: enums, services: services)
    }

    private static func decodeMessage(
        _ message: UnsafeMutablePointer<Google__Protobuf__DescriptorProto>, scope: String, swiftPrefix: String,
        path: [Int32], file: String, comments: Comments,
        messages: inout [ProtoMessageDef], enums: inout [ProtoEnumDef]
    ) throws(ProtoGenError) {
        let m = message.pointee
        let name = str(m.name)
        let fullName = qualify(scope, name)
        if let options = m.options, options.pointee.map_entry != 0 {
            throw ProtoGenError("\(file): \(fullName): map fields are not supported; use a repeated message")
        }
        var fields: [ProtoFieldDef] = []
        for (j, field) in list(m.field, m.n_field).enumerated() {
            let fd = field.pointee
            let fname = str(fd.name)
            if fd.proto3_optional != 0 {
                throw ProtoGenError("\(file): \(fullName).\(fname): proto3 'optional' is not supported by protoc-c 1.4.1; use a wrapper of google/protobuf/wrappers.proto (google.protobuf.Int64Value, StringValue, ...)")
            }
            guard let type = fieldType(fd.type.rawValue) else {
                throw ProtoGenError("\(file): \(fullName).\(fname): unsupported field type \(fd.type.rawValue)")
            }
            let repeated = fd.label.rawValue == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED.rawValue
            fields.append(ProtoFieldDef(
                name: fname, jsonName: str(fd.json_name).isEmpty ? Naming.lowerCamel(fname) : str(fd.json_name),
                number: fd.number, type: type, typeName: trimDot(str(fd.type_name)), isRepeated: repeated,
                comment: comments[path + [2, Int32(j)]]))
        }
        // protoc models proto3 `optional` as a one-field oneof, so fields are checked first for the clearer message.
        if m.n_oneof_decl > 0 {
            throw ProtoGenError("\(file): \(fullName): oneof is not supported; model the choice with an enum and nullable message fields")
        }
        fields.sort { $0.number < $1.number }
        let swiftName = swiftPrefix.isEmpty ? name : swiftPrefix + "_" + name
        messages.append(ProtoMessageDef(fullName: fullName, swiftName: swiftName, comment: comments[path], fields: fields))
        for (k, nested) in list(m.nested_type, m.n_nested_type).enumerated() {
            try decodeMessage(nested, scope: fullName, swiftPrefix: swiftName, path: path + [3, Int32(k)], file: file,
                              comments: comments, messages: &messages, enums: &enums)
        }
        for (k, e) in list(m.enum_type, m.n_enum_type).enumerated() {
            enums.append(decodeEnum(e, scope: fullName, swiftPrefix: swiftName, path: path + [4, Int32(k)], comments: comments))
        }
    }

    private static func decodeEnum(
        _ e: UnsafeMutablePointer<Google__Protobuf__EnumDescriptorProto>, scope: String, swiftPrefix: String,
        path: [Int32], comments: Comments
    ) -> ProtoEnumDef {
        let name = str(e.pointee.name)
        let values = list(e.pointee.value, e.pointee.n_value).enumerated().map { j, v in
            ProtoEnumValueDef(name: str(v.pointee.name), number: v.pointee.number, comment: comments[path + [2, Int32(j)]])
        }
        return ProtoEnumDef(fullName: qualify(scope, name), swiftName: swiftPrefix.isEmpty ? name : swiftPrefix + "_" + name,
                            comment: comments[path], values: values)
    }

    private static func fieldType(_ raw: UInt32) -> ProtoFieldType? {
        switch raw {
        case 1: .double
        case 2: .float
        case 3: .int64
        case 4: .uint64
        case 5: .int32
        case 6: .fixed64
        case 7: .fixed32
        case 8: .bool
        case 9: .string
        case 11: .message
        case 12: .bytes
        case 13: .uint32
        case 14: .enum
        case 15: .sfixed32
        case 16: .sfixed64
        case 17: .sint32
        case 18: .sint64
        default: nil // 10: groups
        }
    }

    private static func qualify(_ scope: String, _ name: String) -> String { scope.isEmpty ? name : scope + "." + name }
    private static func trimDot(_ s: String) -> String { s.hasPrefix(".") ? String(s.dropFirst()) : s }

    /// The leading comments of a file's declarations, by source path.
    private struct Comments {
        var byPath: [[Int32]: String] = [:]

        init(_ info: UnsafeMutablePointer<Google__Protobuf__SourceCodeInfo>?) {
            guard let info else { return }
            for location in SchemaDecoder.list(info.pointee.location, info.pointee.n_location) {
                let l = location.pointee
                guard let leading = l.leading_comments else { continue }
                let path = l.n_path > 0 && l.path != nil ? Array(UnsafeBufferPointer(start: l.path, count: l.n_path)) : []
                byPath[path] = String(cString: leading).trimmingWhitespace()
            }
        }

        subscript(_ path: [Int32]) -> String { byPath[path] ?? "" }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
