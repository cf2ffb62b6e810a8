/// Emits the server handler protocol of each service in one `.proto` file (module AfterSaleServices).
struct ServerEmitter {
    let file: ProtoFile
    let types: TypeTable

    func emit() -> String {
        var w = CodeWriter()
        w.line(Generator.header(for: file))
        w.line()
        w.line("import AfterSaleProto")
        w.line("import RPCServer")
        for s in file.services {
            w.line()
            w.doc(s.comment, fallback: "The service `\(s.fullName)`.")
            w.line("///")
            w.line("/// Implement this to serve `\(s.fullName)`; register `routes` with the server's router.")
            w.block("public protocol \(s.name)Handler: Sendable") { w in
                for m in s.methods {
                    w.doc(m.comment, fallback: "`\(m.name)`.")
                    w.line(signature(m) )
                }
            }
            w.line()
            w.block("extension \(s.name)Handler") { w in
                w.line("/// One route per method of `\(s.fullName)`, each calling this handler.")
                w.block("public var routes: [Route]") { w in
                    w.line("[")
                    for m in s.methods {
                        let fn = Naming.escape(Naming.lowerCamel(m.name))
                        let table = "\(s.name).\(fn)"
                        if m.serverStreaming {
                            w.line("    Route(serverStreaming: \(table)) { try await self.\(fn)($0, context: $1, responses: $2) },")
                        } else {
                            w.line("    Route(unary: \(table)) { try await self.\(fn)($0, context: $1) },")
                        }
                    }
                    w.line("]")
                }
            }
        }
        return w.text
    }

    private func signature(_ m: ProtoMethodDef) -> String {
        let fn = Naming.escape(Naming.lowerCamel(m.name))
        let req = types.swiftName(m.inputType), resp = types.swiftName(m.outputType)
        if m.serverStreaming {
            return "func \(fn)(_ request: \(req), context: ServerContext, responses: ResponseStream<\(resp)>) async throws"
        }
        return "func \(fn)(_ request: \(req), context: ServerContext) async throws -> \(resp)"
    }
}

/// Emits the typed client stubs of each service in one `.proto` file (module AfterSaleClient).
struct ClientEmitter {
    let file: ProtoFile
    let types: TypeTable

    func emit() -> String {
        var w = CodeWriter()
        w.line(Generator.header(for: file))
        w.line()
        w.line("import AfterSaleProto")
        w.line("import RPCClient")
        w.line("import RPCWire")
        for s in file.services {
            w.line()
            w.doc(s.comment, fallback: "The service `\(s.fullName)`.")
            w.line("///")
            w.line("/// Typed calls to `\(s.fullName)` over one `RPCClient` connection.")
            w.block("public struct \(s.name)Client: Sendable") { w in
                w.line("/// The connection the calls go over.")
                w.line("public let client: RPCClient")
                w.line()
                w.line("public init(client: RPCClient) { self.client = client }")
                for m in s.methods {
                    w.line()
                    w.doc(m.comment, fallback: "`\(m.name)`.")
                    let fn = Naming.escape(Naming.lowerCamel(m.name))
                    let req = types.swiftName(m.inputType), resp = types.swiftName(m.outputType)
                    let table = "\(s.name).\(fn)"
                    if m.serverStreaming {
                        w.line("///")
                        w.line("/// The stream ends after the last message, or throws the call's non-OK status as an `RPCError`.")
                        w.block("public func \(fn)(_ request: \(req), options: CallOptions = CallOptions()) -> ResponseMessages<\(resp)>") { w in
                            w.line("client.serverStreaming(\(table), request, options: options)")
                        }
                    } else {
                        w.line("///")
                        w.line("/// - Throws: `RPCError` with the call's status code and message when it is not OK.")
                        w.block("public func \(fn)(_ request: \(req), options: CallOptions = CallOptions()) async throws(RPCError) -> \(resp)") { w in
                            w.line("try await client.unary(\(table), request, options: options)")
                        }
                    }
                }
            }
            w.line()
            w.block("extension RPCClient") { w in
                w.line("/// Typed calls to `\(s.fullName)`.")
                w.line("public var \(Naming.escape(propertyName(s.name))): \(s.name)Client { \(s.name)Client(client: self) }")
            }
        }
        return w.text
    }

    /// "AfterSaleService" → "afterSale", "OrderBridge" → "orderBridge".
    private func propertyName(_ service: String) -> String {
        let stem = service.hasSuffix("Service") && service != "Service" ? String(service.dropLast(7)) : service
        guard let first = stem.first else { return stem }
        return first.lowercased() + stem.dropFirst()
    }
}

/// Emits the C descriptor index: an accessor function per message, and tables of every message,
/// enum and service, so Swift gets real descriptor addresses and tools can look types up by name.
struct CIndexEmitter {
    let schema: ProtoSchema

    static func accessor(_ fullName: String) -> String { Naming.cSymbolBase(fullName) + "__descriptor_ref" }

    func header() -> String {
        var w = CodeWriter()
        w.line("/* Generated by aftersale-protogen. Do not edit: change the .proto files and run scripts/generate.sh. */")
        w.line("#ifndef AFTERSALE_DESCRIPTOR_INDEX_H")
        w.line("#define AFTERSALE_DESCRIPTOR_INDEX_H")
        w.line("#include <protobuf-c/protobuf-c.h>")
        w.line("#include <stddef.h>")
        w.line()
        for file in schema.files {
            for m in file.messages {
                w.line("const ProtobufCMessageDescriptor *\(Self.accessor(m.fullName))(void);")
            }
        }
        w.line()
        w.line("/* Every message, enum and service of the schema, in schema order. */")
        w.line("size_t aftersale_message_count(void);")
        w.line("const ProtobufCMessageDescriptor *aftersale_message_at(size_t index);")
        w.line("size_t aftersale_enum_count(void);")
        w.line("const ProtobufCEnumDescriptor *aftersale_enum_at(size_t index);")
        w.line("size_t aftersale_service_count(void);")
        w.line("const ProtobufCServiceDescriptor *aftersale_service_at(size_t index);")
        w.line()
        w.line("#endif")
        return w.text
    }

    /// The module's umbrella header: every protoc-c header and the index.
    func umbrella() -> String {
        var w = CodeWriter()
        w.line("/* Generated by aftersale-protogen. Do not edit: change the .proto files and run scripts/generate.sh. */")
        for file in schema.files {
            w.line("#include \"\(file.path.dropLast(6)).pb-c.h\"")
        }
        w.line("#include \"aftersale_descriptor_index.h\"")
        return w.text
    }

    func source() -> String {
        var w = CodeWriter()
        w.line("/* Generated by aftersale-protogen. Do not edit: change the .proto files and run scripts/generate.sh. */")
        w.line("#include \"aftersale_descriptor_index.h\"")
        for file in schema.files {
            w.line("#include \"\(file.path.dropLast(6)).pb-c.h\"")
        }
        w.line()
        let messages = schema.files.flatMap { $0.messages.map(\.fullName) }
        let enums = schema.files.flatMap { $0.enums.map(\.fullName) }
        let services = schema.files.flatMap { $0.services.map(\.fullName) }
        for m in messages {
            w.line("const ProtobufCMessageDescriptor *\(Self.accessor(m))(void) { return &\(Naming.cSymbolBase(m))__descriptor; }")
        }
        table(&w, "ProtobufCMessageDescriptor", "message", messages)
        table(&w, "ProtobufCEnumDescriptor", "enum", enums)
        table(&w, "ProtobufCServiceDescriptor", "service", services)
        return w.text
    }

    private func table(_ w: inout CodeWriter, _ type: String, _ kind: String, _ names: [String]) {
        w.line()
        w.line("static const \(type) *const \(kind)_table[] = {")
        for n in names { w.line("    &\(Naming.cSymbolBase(n))__descriptor,") }
        w.line("    NULL")
        w.line("};")
        w.line("size_t aftersale_\(kind)_count(void) { return \(names.count); }")
        w.line("const \(type) *aftersale_\(kind)_at(size_t index) { return index < \(names.count) ? \(kind)_table[index] : NULL; }")
    }
}
