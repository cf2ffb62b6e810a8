import AfterSaleProto
import CAfterSaleProto
import CProtobufC
import CProtoDescriptor  // where this module sees protobuf-c.h's enum constants (ProtoGen includes the header through it)
import ProtoGen
import Testing

/// libprotobuf-c has no nesting-depth limit: a recursive message type lets a peer send a few
/// kilobytes of nested length prefixes that crash the decoder's stack. So no message type may
/// contain itself, directly or through others, and the generator refuses schemas where one does.
@Suite("Schema rules: no recursive message, and only what protoc-c and the generator support")
struct SchemaRulesTests {
    // MARK: The committed schema

    @Test("no message type contains itself, directly or through other messages")
    func noRecursiveMessage() {
        let graph = MessageGraph.fromDescriptorIndex()
        #expect(graph.edges.count == aftersale_message_count())
        for cycle in Cycles.find(in: graph.edges) {
            Issue.record("recursive message: \(cycle.joined(separator: " → "))")
        }
    }

    @Test("every message type a field refers to is in the descriptor index")
    func referencedTypesAreIndexed() {
        let graph = MessageGraph.fromDescriptorIndex()
        let indexed = Set((0..<aftersale_message_count()).compactMap { aftersale_message_at($0) }.map { String(cString: $0.pointee.name) })
        for (name, children) in graph.edges.sorted(by: { $0.key < $1.key }) {
            for child in children where !indexed.contains(child) {
                Issue.record("\(name) refers to \(child), which aftersale_message_at does not list")
            }
        }
    }

    @Test("the descriptor index lists every message, enum and service of the contracts")
    func indexIsComplete() {
        #expect(aftersale_message_count() == MessageRegistry.all.count + 4, "the Swift messages plus the 4 of rpc.proto")
        #expect(aftersale_enum_count() >= 20)
        let services = Set((0..<aftersale_service_count()).compactMap { aftersale_service_at($0) }.map { String(cString: $0.pointee.name) })
        #expect(services == [
            "aftersale.v1.AfterSaleService", "aftersale.v1.OrderBridge", "aftersale.v1.RefundBridge",
            "aftersale.v1.Health", "aftersale.v1.Reflection", "aftersale.v1.Timers", "aftersale.v1.ServiceDesk", "aftersale.v1.Audit", "aftersale.v1.Feedback",
            "aftersale.v1.Knowledge", "aftersale.v1.Statistics", "aftersale.v1.Disputes",
        ])
        for i in 0..<aftersale_message_count() {
            #expect(aftersale_message_at(i) != nil, "message \(i)")
        }
        #expect(aftersale_message_at(aftersale_message_count()) == nil, "one past the end")
    }

    @Test("the index finds the well-known wrappers and the enums by name")
    func indexFindsWrappersAndEnums() throws {
        let int64 = try #require(DescriptorIndex.message(named: "google.protobuf.Int64Value"))
        #expect(DescriptorIndex.fields(of: int64).map(\.name) == ["value"])
        #expect(DescriptorIndex.message(named: "aftersale.v1.Int64Value") == nil, "the contracts' own wrappers are gone")
        #expect(DescriptorIndex.messageNames.filter { $0.hasPrefix("google.protobuf.") }.count == 9)

        let status = try #require(DescriptorIndex.enumeration(named: "aftersale.v1.OrderStatus"))
        let values = DescriptorIndex.values(of: status)
        #expect(values.first == DescriptorIndex.EnumValue(name: "ORDER_STATUS_UNSPECIFIED", number: 0))
        #expect(values.count == OrderStatus.allCases.count)
        #expect(DescriptorIndex.enumeration(named: "aftersale.v1.Money") == nil)
        #expect(DescriptorIndex.enumNames.count == aftersale_enum_count())
    }

    // MARK: The well-known wrappers

    @Test("a field of a google.protobuf wrapper type is an optional Swift scalar, the wrapper on the wire")
    func wrapperFieldsAreOptionalScalars() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let schema = try Protoc.schema(["w.proto": """
            syntax = "proto3";
            package aftersale.test;
            import "google/protobuf/wrappers.proto";
            // Its own Int64Value does not clash with google.protobuf.Int64Value.
            message Int64Value { int64 value = 1; }
            message M {
              google.protobuf.Int64Value a = 1; google.protobuf.UInt64Value b = 2; google.protobuf.Int32Value c = 3;
              google.protobuf.UInt32Value d = 4; google.protobuf.BoolValue e = 5; google.protobuf.StringValue f = 6;
              google.protobuf.BytesValue g = 7; google.protobuf.DoubleValue h = 8; google.protobuf.FloatValue i = 9;
              Int64Value own = 10;
            }
            """], in: tmp)
        #expect(schema.files.map(\.path) == ["google/protobuf/wrappers.proto", "w.proto"])
        let files = try Generator().generate(schema)
        let m = try #require(files["Sources/AfterSaleProto/Generated/w.pb.swift"])
        for (name, type, wrapper, index) in [
            ("a", "Int64", "Int64Value", 0), ("b", "UInt64", "UInt64Value", 1), ("c", "Int32", "Int32Value", 2),
            ("d", "UInt32", "UInt32Value", 3), ("e", "Bool", "BoolValue", 4), ("f", "String", "StringValue", 5),
            ("g", "[UInt8]", "BytesValue", 6), ("h", "Double", "DoubleValue", 7), ("i", "Float", "FloatValue", 8),
        ] {
            #expect(m.contains("public var \(name): \(type)? = nil"), "\(name)")
            #expect(m.contains("\(name) = r.wrapped(\(index), Google_Protobuf_\(wrapper).self)"), "\(name)")
            #expect(m.contains("w.setWrapped(\(index), Google_Protobuf_\(wrapper).self, \(name))"), "\(name)")
        }
        #expect(m.contains("public var own: Int64Value? = nil"), "a message that merely shares the name stays a message")
        #expect(m.contains("public struct Int64Value: ProtoMessage"))

        let wrappers = try #require(files["Sources/AfterSaleProto/Generated/google_protobuf_wrappers.pb.swift"])
        #expect(wrappers.hasPrefix("// Generated by aftersale-protogen from google/protobuf/wrappers.proto"))
        #expect(wrappers.contains("public struct Google_Protobuf_Int64Value: ProtoWrapperMessage"))
        #expect(wrappers.contains("public init(value: Int64) { self.value = value }"))
        #expect(wrappers.contains("public struct Google_Protobuf_BytesValue: ProtoWrapperMessage"))
        let index = try #require(files["Sources/CAfterSaleProto/descriptor_index.c"])
        #expect(index.contains("&google__protobuf__int64_value__descriptor,"))
        #expect(index.contains("#include \"google/protobuf/wrappers.pb-c.h\""))
    }

    @Test("the generator refuses a repeated wrapper field and the well-known types other than the wrappers")
    func generatorRefusesOtherWellKnownUses() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let repeated = try Protoc.schema(["r.proto": """
            syntax = "proto3";
            package aftersale.test;
            import "google/protobuf/wrappers.proto";
            message M { repeated google.protobuf.Int64Value versions = 1; }
            """], in: tmp)
        let repeatedError = #expect(throws: ProtoGenError.self) { try Generator().generate(repeated) }
        #expect(repeatedError?.description == "aftersale.test.M.versions: repeated google.protobuf.Int64Value is not supported; use a repeated scalar field")

        let timestamp = try Protoc.schema(["t.proto": """
            syntax = "proto3";
            package aftersale.test;
            import "google/protobuf/timestamp.proto";
            message M { google.protobuf.Timestamp at = 1; }
            """], in: tmp)
        let timestampError = #expect(throws: ProtoGenError.self) { try Generator().generate(timestamp) }
        #expect(timestampError?.description == "google/protobuf/timestamp.proto: of protobuf's well-known types only google/protobuf/wrappers.proto is supported")
    }

    // MARK: The cycle finder itself

    @Test("the cycle finder reports each cycle with its path, and nothing for shared or deep types")
    func cycleFinderFindsCycles() {
        let cyclic: [String: [String]] = [
            "A": ["B"], "B": ["C"], "C": ["A", "D"], "D": [],
            "Self": ["Self"],
            "Root": ["Root.Child"], "Root.Child": ["Root"],
        ]
        #expect(Cycles.find(in: cyclic) == [["A", "B", "C", "A"], ["Root", "Root.Child", "Root"], ["Self", "Self"]])

        // A type used by two fields, or by two parents, is not a cycle.
        let acyclic: [String: [String]] = ["Top": ["Left", "Right", "Left"], "Left": ["Leaf"], "Right": ["Leaf"], "Leaf": []]
        #expect(Cycles.find(in: acyclic).isEmpty)
    }

    // MARK: The generator refuses recursive schemas

    static let recursiveSchemas: [(name: String, files: [String: String], cycle: String)] = [
        ("a message with a field of its own type",
         ["node.proto": "syntax = \"proto3\";\npackage aftersale.test;\nmessage Node { string id = 1; Node next = 2; }\n"],
         "aftersale.test.Node → aftersale.test.Node"),
        ("a message with a repeated field of its own type",
         ["tree.proto": "syntax = \"proto3\";\npackage aftersale.test;\nmessage Tree { repeated Tree children = 1; }\n"],
         "aftersale.test.Tree → aftersale.test.Tree"),
        ("two messages that contain each other",
         ["pair.proto": "syntax = \"proto3\";\npackage aftersale.test;\nmessage A { repeated B bs = 1; }\nmessage B { int64 n = 1; A a = 2; }\n"],
         "aftersale.test.A → aftersale.test.B → aftersale.test.A"),
        ("a nested message that contains its parent",
         ["nested.proto": "syntax = \"proto3\";\npackage aftersale.test;\nmessage Outer { message Inner { Outer outer = 1; } Inner inner = 1; }\n"],
         "aftersale.test.Outer → aftersale.test.Outer.Inner → aftersale.test.Outer"),
        ("three messages in a ring",
         ["ring.proto": "syntax = \"proto3\";\npackage aftersale.test;\nmessage Order { repeated Line lines = 1; }\nmessage Line { Refund refund = 1; }\nmessage Refund { string id = 1; Order order = 2; }\n"],
         "aftersale.test.Line → aftersale.test.Refund → aftersale.test.Order → aftersale.test.Line"),
    ]

    @Test("the generator refuses a recursive schema and names the cycle", arguments: recursiveSchemas.map(\.name))
    func generatorRefusesRecursion(_ name: String) throws {
        let (_, files, cycle) = try #require(Self.recursiveSchemas.first { $0.name == name })
        let tmp = try Scratch()
        defer { tmp.remove() }
        let schema = try Protoc.schema(files, in: tmp)
        let error = #expect(throws: ProtoGenError.self, "\(name)") { try Generator().generate(schema) }
        #expect(error?.description == "recursive message: \(cycle)", "\(name)")
    }

    @Test("the generator accepts a deep schema that reuses types without a cycle")
    func generatorAcceptsDeepAcyclicSchema() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let schema = try Protoc.schema(["deep.proto": """
            syntax = "proto3";
            package aftersale.test;
            message Leaf { string id = 1; }
            message Left { Leaf leaf = 1; repeated Leaf more = 2; }
            message Right { Leaf leaf = 1; }
            message Top { Left left = 1; Right right = 2; Left again = 3; message Inner { Deeper deeper = 1; } }
            message Deeper { Leaf leaf = 1; }
            """], in: tmp)
        let files = try Generator().generate(schema)
        #expect(files["Sources/AfterSaleProto/Generated/deep.pb.swift"]?.contains("public struct Top_Inner: ProtoMessage") == true)
    }

    @Test("the generator refuses two types that would share a Swift name")
    func generatorRefusesSwiftNameClash() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        // Outer.Inner becomes Swift type Outer_Inner, the name of the top-level message too.
        let schema = try Protoc.schema(["clash.proto": """
            syntax = "proto3";
            package aftersale.test;
            message Outer { message Inner { string id = 1; } Inner inner = 1; }
            message Outer_Inner { string id = 1; }
            """], in: tmp)
        let error = #expect(throws: ProtoGenError.self) { try Generator().generate(schema) }
        #expect(error?.description.contains("would both be Swift type Outer_Inner") == true, "\(error?.description ?? "no error")")
    }

    // MARK: What protoc-c 1.4.1 and the generator cannot take

    static let unsupportedSchemas: [(name: String, proto: String, message: String)] = [
        ("a oneof",
         "syntax = \"proto3\";\npackage aftersale.test;\nmessage M { oneof choice { string a = 1; int64 b = 2; } }\n",
         "oneof is not supported"),
        ("a map field",
         "syntax = \"proto3\";\npackage aftersale.test;\nmessage M { map<string, string> labels = 1; }\n",
         "map fields are not supported"),
        ("proto2",
         "syntax = \"proto2\";\npackage aftersale.test;\nmessage M { optional int64 n = 1; }\n",
         "only proto3 is supported"),
        ("a client-streaming method",
         "syntax = \"proto3\";\npackage aftersale.test;\nmessage M {}\nservice S { rpc Upload(stream M) returns (M); }\n",
         "only unary and server-streaming methods are supported"),
    ]

    @Test("the schema decoder refuses proto3 optional, saying that protoc-c 1.4.1 cannot take it")
    func decoderRefusesProto3Optional() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let proto = "syntax = \"proto3\";\npackage aftersale.test;\nmessage M { string id = 1; optional int64 n = 2; }\n"
        let error = #expect(throws: ProtoGenError.self) { try Protoc.schema(["m.proto": proto], in: tmp) }
        // protoc models an optional field as a synthetic one-member oneof, and SchemaDecoder checks
        // for oneofs before it looks at the fields: the schema is refused, but for the wrong reason.
        #expect(error?.description.contains("aftersale.test.M.n: proto3 'optional' is not supported") == true,
                "\(error?.description ?? "no error")")
    }

    @Test("the schema decoder refuses constructs the generated code cannot carry, saying why", arguments: unsupportedSchemas.map(\.name))
    func decoderRefusesUnsupportedConstructs(_ name: String) throws {
        let (_, proto, message) = try #require(Self.unsupportedSchemas.first { $0.name == name })
        let tmp = try Scratch()
        defer { tmp.remove() }
        let error = #expect(throws: ProtoGenError.self, "\(name)") { try Protoc.schema(["m.proto": proto], in: tmp) }
        #expect(error?.description.contains(message) == true, "\(name): \(error?.description ?? "no error")")
    }
}

/// The "has a field of type" relation between message types, from the libprotobuf-c descriptors.
struct MessageGraph {
    /// Message name → the message types of its fields (singular and repeated), in field order.
    var edges: [String: [String]] = [:]

    static func fromDescriptorIndex() -> MessageGraph {
        var graph = MessageGraph()
        var pending = (0..<aftersale_message_count()).compactMap { aftersale_message_at($0) }
        while let descriptor = pending.popLast() {
            let name = String(cString: descriptor.pointee.name)
            guard graph.edges[name] == nil else { continue }
            var children: [String] = []
            for i in 0..<Int(descriptor.pointee.n_fields) {
                let field = descriptor.pointee.fields[i]
                guard field.type == PROTOBUF_C_TYPE_MESSAGE, let raw = field.descriptor else { continue }
                let child = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                children.append(String(cString: child.pointee.name))
                pending.append(child)  // follow the pointers too, in case a type is missing from the index
            }
            graph.edges[name] = children
        }
        return graph
    }
}

/// Finds cycles in a directed graph by depth-first search.
enum Cycles {
    /// One path per cycle found, starting and ending at the same node ("A", "B", "A"), visiting
    /// nodes in sorted order so the result is stable.
    static func find(in edges: [String: [String]]) -> [[String]] {
        var state: [String: Bool] = [:]  // false: on the current path; true: finished
        var stack: [String] = []
        var cycles: [[String]] = []

        func visit(_ node: String) {
            if state[node] == true { return }
            if state[node] == false {
                let start = stack.lastIndex(of: node)!
                cycles.append(Array(stack[start...]) + [node])
                return
            }
            state[node] = false
            stack.append(node)
            for child in edges[node] ?? [] { visit(child) }
            stack.removeLast()
            state[node] = true
        }

        for node in edges.keys.sorted() { visit(node) }
        return cycles
    }
}
