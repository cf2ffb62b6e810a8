import AfterSaleProto
import CAfterSaleProto
import CProtobufC
import Glibc
import ProtoRuntime
import Testing

/// The well-known wrappers of google/protobuf/wrappers.proto: optional Swift scalars in the
/// generated messages, the wrapper message on the wire (the same bytes as the contracts' former
/// `aftersale.v1.Int64Value`, field 1 both), and the bare value in the JSON mapping.
@Suite("Well-known wrappers: optional scalars in Swift, wrapper messages on the wire, bare values in JSON")
struct WrapperJSONTests {
    /// WithdrawAfterSaleRequest{case_number: "AS1", expected_version: {value: 3}} as any protobuf
    /// implementation encodes it, and as the contracts' own Int64Value encoded it before.
    static let withdrawV3: [UInt8] = [0x0a, 0x03, 0x41, 0x53, 0x31, 0x12, 0x02, 0x08, 0x03]

    // MARK: Generated messages

    @Test("an Int64Value field is an optional Int64: nil is absent, a present zero is still sent")
    func generatedFieldIsOptionalScalar() throws {
        var request = WithdrawAfterSaleRequest()
        request.caseNumber = "AS1"
        #expect(request.expectedVersion == nil)
        #expect(request.serializedBytes() == [0x0a, 0x03, 0x41, 0x53, 0x31])

        request.expectedVersion = 3
        #expect(request.serializedBytes() == Self.withdrawV3)
        #expect(try WithdrawAfterSaleRequest(serializedBytes: Self.withdrawV3) == request)

        request.expectedVersion = 0
        #expect(request.serializedBytes() == [0x0a, 0x03, 0x41, 0x53, 0x31, 0x12, 0x00])
        #expect(try WithdrawAfterSaleRequest(serializedBytes: request.serializedBytes()).expectedVersion == 0)

        request.expectedVersion = -1
        let decoded = try WithdrawAfterSaleRequest(serializedBytes: request.serializedBytes())
        #expect(decoded.expectedVersion == -1)

        // The wrapper type itself, for whole-message use: field 1, like the former aftersale.v1.Int64Value.
        #expect(Google_Protobuf_Int64Value(value: 3).serializedBytes() == [0x08, 0x03])
        #expect(Google_Protobuf_Int64Value.protoName == "google.protobuf.Int64Value")
        #expect(DescriptorIndex.message(named: "google.protobuf.Int64Value") == Google_Protobuf_Int64Value.protoDescriptor)
    }

    @Test(#""expectedVersion": "3" encodes to the bytes of the former {"value": 3}, and decodes back to "3""#)
    func generatedFieldJSON() throws {
        let descriptor = WithdrawAfterSaleRequest.protoDescriptor
        #expect(try ProtoJSON.encode(json: #"{"caseNumber": "AS1", "expectedVersion": "3"}"#, as: descriptor) == Self.withdrawV3)
        #expect(try ProtoJSON.encode(json: #"{"caseNumber": "AS1", "expectedVersion": 3}"#, as: descriptor) == Self.withdrawV3)
        #expect(try ProtoJSON.encode(json: #"{"case_number": "AS1", "expected_version": "3"}"#, as: descriptor) == Self.withdrawV3)
        #expect(try ProtoJSON.decode(Self.withdrawV3, as: descriptor) == """
            {
              "caseNumber": "AS1",
              "expectedVersion": "3"
            }
            """)

        // Zero is a value, written as such; null and a missing key are both "not given".
        let zero = try ProtoJSON.encode(json: #"{"expectedVersion": "0"}"#, as: descriptor)
        #expect(zero == [0x12, 0x00])
        #expect(try ProtoJSON.decode(zero, as: descriptor) == "{\n  \"expectedVersion\": \"0\"\n}")
        #expect(try ProtoJSON.encode(json: #"{"expectedVersion": null}"#, as: descriptor) == [])

        let subscribe = try ProtoJSON.encode(json: #"{"consumerName": "me", "fromCursor": "-1"}"#, as: SubscribeRequest.protoDescriptor)
        #expect(try SubscribeRequest(serializedBytes: subscribe).fromCursor == -1)
    }

    @Test("the object form of a wrapper, and values of the wrong type, are refused path first")
    func generatedFieldMalformed() {
        let descriptor = WithdrawAfterSaleRequest.protoDescriptor
        let cases: [(String, String)] = [
            (#"{"expectedVersion": {"value": "3"}}"#,
             #"expectedVersion: google.protobuf.Int64Value is written as its bare value, not as an object (e.g. "3", or null when absent)"#),
            (#"{"expectedVersion": {}}"#,
             #"expectedVersion: google.protobuf.Int64Value is written as its bare value, not as an object (e.g. "3", or null when absent)"#),
            (#"{"expectedVersion": "three"}"#, #"expectedVersion: expected an integer, got "three""#),
            (#"{"expectedVersion": 3.5}"#, "expectedVersion: expected an integer, got 3.5"),
            (#"{"expectedVersion": true}"#, "expectedVersion: expected an integer, got true"),
            (#"{"expectedVersion": ["3"]}"#, "expectedVersion: expected an integer, got an array"),
            (#"{"expectedVersion": "9223372036854775808"}"#, "expectedVersion: 9223372036854775808 is out of range for int64"),
        ]
        for (json, message) in cases {
            #expect(throws: ProtoJSONError(message), "\(json)") { try ProtoJSON.encode(json: json, as: descriptor) }
        }
    }

    // MARK: Every wrapper kind (hand-described message)

    @Test("every wrapper kind is its bare JSON value, both ways, through the Swift accessors too")
    func everyKindRoundTrips() throws {
        let json = #"""
            {"i64": "-9223372036854775808", "u64": "18446744073709551615", "i32": -2147483648, "u32": 4294967295,
             "b": true, "s": "ünï 🚀", "by": "AAE=", "d": 0.5, "f": "-Infinity", "list": ["1", 0]}
            """#
        let bytes = try ProtoJSON.encode(json: json, as: WrapperFields.protoDescriptor)
        #expect(try ProtoJSON.decode(bytes, as: WrapperFields.protoDescriptor) == """
            {
              "i64": "-9223372036854775808",
              "u64": "18446744073709551615",
              "i32": -2147483648,
              "u32": 4294967295,
              "b": true,
              "s": "ünï 🚀",
              "by": "AAE=",
              "d": 0.5,
              "f": "-Infinity",
              "list": [
                "1",
                "0"
              ]
            }
            """)

        let typed = try WrapperFields(serializedBytes: bytes)
        #expect(typed.i64 == .min && typed.u64 == .max && typed.i32 == .min && typed.u32 == .max)
        #expect(typed.b == true && typed.s == "ünï 🚀" && typed.by == [0, 1] && typed.d == 0.5 && typed.f == -.infinity)
        #expect(typed.list == [1, 0])
        #expect(typed.serializedBytes() == bytes)

        // Each field is the wrapper message with field 1 inside: Int32Value 7 in field 3 is 1a 02 08 07.
        var small = WrapperFields()
        small.i32 = 7
        #expect(try ProtoJSON.encode(json: #"{"i32": "7"}"#, as: WrapperFields.protoDescriptor) == [0x1a, 0x02, 0x08, 0x07])
        #expect(small.serializedBytes() == [0x1a, 0x02, 0x08, 0x07])
    }

    @Test("zero values of every kind stay present, and null or a missing key leaves every kind absent")
    func zeroAndNull() throws {
        let zeros = try ProtoJSON.encode(json: #"""
            {"i64": 0, "u64": "0", "i32": "0", "u32": 0, "b": false, "s": "", "by": "", "d": 0, "f": 0}
            """#, as: WrapperFields.protoDescriptor)
        #expect(zeros == [0x0a, 0, 0x12, 0, 0x1a, 0, 0x22, 0, 0x2a, 0, 0x32, 0, 0x3a, 0, 0x42, 0, 0x4a, 0])
        #expect(try ProtoJSON.decode(zeros, as: WrapperFields.protoDescriptor) == """
            {
              "i64": "0",
              "u64": "0",
              "i32": 0,
              "u32": 0,
              "b": false,
              "s": "",
              "by": "",
              "d": 0,
              "f": 0
            }
            """)
        let typed = try WrapperFields(serializedBytes: zeros)
        #expect(typed.i64 == 0 && typed.u64 == 0 && typed.i32 == 0 && typed.u32 == 0 && typed.b == false)
        #expect(typed.s == "" && typed.by == [] && typed.d == 0 && typed.f == 0)
        #expect(typed.serializedBytes() == zeros)

        let nulls = try ProtoJSON.encode(json: #"""
            {"i64": null, "u64": null, "i32": null, "u32": null, "b": null, "s": null, "by": null, "d": null, "f": null, "list": null}
            """#, as: WrapperFields.protoDescriptor)
        #expect(nulls == [])
        #expect(try WrapperFields(serializedBytes: nulls) == WrapperFields())
        #expect(WrapperFields().serializedBytes() == [])
        #expect(try ProtoJSON.decode([], as: WrapperFields.protoDescriptor) == "{}")
    }

    @Test("malformed values of each wrapper kind are refused with the field's path first")
    func everyKindMalformed() {
        let cases: [(String, String)] = [
            (#"{"b": {"value": true}}"#, "b: google.protobuf.BoolValue is written as its bare value, not as an object (true or false, or null when absent)"),
            (#"{"s": {"value": "x"}}"#, #"s: google.protobuf.StringValue is written as its bare value, not as an object (e.g. "text", or null when absent)"#),
            (#"{"i32": {"value": 1}}"#, "i32: google.protobuf.Int32Value is written as its bare value, not as an object (e.g. 3, or null when absent)"),
            (#"{"i64": "3.5"}"#, #"i64: expected an integer, got "3.5""#),
            (#"{"u64": "-1"}"#, "u64: -1 is out of range for uint64"),
            (#"{"i32": 2147483648}"#, "i32: 2147483648 is out of range for int32"),
            (#"{"u32": -1}"#, "u32: -1 is out of range for uint32"),
            (#"{"b": "true"}"#, #"b: expected true or false, got "true""#),
            (#"{"s": 3}"#, "s: expected a string, got 3"),
            (#"{"by": "not base64!"}"#, #"by: expected base64-encoded bytes, got "not base64!""#),
            (#"{"d": "x"}"#, #"d: expected a number, got "x""#),
            (#"{"f": 1e39}"#, "f: 1e39 is out of range for float"),
            (#"{"list": [null]}"#, "list[0]: null is not allowed in a repeated field"),
            (#"{"list": [{"value": "1"}]}"#,
             #"list[0]: google.protobuf.Int64Value is written as its bare value, not as an object (e.g. "3", or null when absent)"#),
            (#"{"list": "1"}"#, #"list: expected a JSON array for a repeated field, got "1""#),
        ]
        for (json, message) in cases {
            #expect(throws: ProtoJSONError(message), "\(json)") { try ProtoJSON.encode(json: json, as: WrapperFields.protoDescriptor) }
        }
    }
}

// MARK: - A hand-described message with a field of every wrapper kind

/// As a .proto (the generator refuses the repeated wrapper; the JSON mapping takes it):
///
///     message WrapperFields {
///       google.protobuf.Int64Value i64 = 1; google.protobuf.UInt64Value u64 = 2;
///       google.protobuf.Int32Value i32 = 3; google.protobuf.UInt32Value u32 = 4;
///       google.protobuf.BoolValue b = 5; google.protobuf.StringValue s = 6;
///       google.protobuf.BytesValue by = 7; google.protobuf.DoubleValue d = 8;
///       google.protobuf.FloatValue f = 9; repeated google.protobuf.Int64Value list = 10;
///     }
///
/// The Swift side is what the generator emits for wrapper fields (`r.wrapped`, `w.setWrapped`).
struct WrapperFields: ProtoMessage {
    var i64: Int64? = nil
    var u64: UInt64? = nil
    var i32: Int32? = nil
    var u32: UInt32? = nil
    var b: Bool? = nil
    var s: String? = nil
    var by: [UInt8]? = nil
    var d: Double? = nil
    var f: Float? = nil
    var list: [Int64] = []

    init() {}

    static let protoName = "test.WrapperFields"
    static var protoDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { WrapperFieldsDescriptor.pointer }

    init(protoReader r: ProtoReader) {
        i64 = r.wrapped(0, Google_Protobuf_Int64Value.self)
        u64 = r.wrapped(1, Google_Protobuf_UInt64Value.self)
        i32 = r.wrapped(2, Google_Protobuf_Int32Value.self)
        u32 = r.wrapped(3, Google_Protobuf_UInt32Value.self)
        b = r.wrapped(4, Google_Protobuf_BoolValue.self)
        s = r.wrapped(5, Google_Protobuf_StringValue.self)
        by = r.wrapped(6, Google_Protobuf_BytesValue.self)
        d = r.wrapped(7, Google_Protobuf_DoubleValue.self)
        f = r.wrapped(8, Google_Protobuf_FloatValue.self)
        list = r.messages(9, Google_Protobuf_Int64Value.self).map(\.value)
    }

    func write(to w: inout ProtoWriter) {
        w.setWrapped(0, Google_Protobuf_Int64Value.self, i64)
        w.setWrapped(1, Google_Protobuf_UInt64Value.self, u64)
        w.setWrapped(2, Google_Protobuf_Int32Value.self, i32)
        w.setWrapped(3, Google_Protobuf_UInt32Value.self, u32)
        w.setWrapped(4, Google_Protobuf_BoolValue.self, b)
        w.setWrapped(5, Google_Protobuf_StringValue.self, s)
        w.setWrapped(6, Google_Protobuf_BytesValue.self, by)
        w.setWrapped(7, Google_Protobuf_DoubleValue.self, d)
        w.setWrapped(8, Google_Protobuf_FloatValue.self, f)
        w.setMessages(9, list.map { Google_Protobuf_Int64Value(value: $0) })
    }
}

/// The C layout of WrapperFields, as protoc-c would declare it:
///
///     struct WrapperFields { ProtobufCMessage base;          //   0
///       Google__Protobuf__Int64Value *i64; ... FloatValue *f; //  24, 32, ..., 88
///       size_t n_list; Google__Protobuf__Int64Value **list;   //  96, 104
///     };                                                      // size 112
enum WrapperFieldsDescriptor {
    nonisolated(unsafe) static let pointer: UnsafePointer<ProtobufCMessageDescriptor> = make()
    static let size = 112

    private static func text(_ s: String) -> UnsafePointer<CChar> { HandBuiltDescriptors.text(s) }

    private static func make() -> UnsafePointer<ProtobufCMessageDescriptor> {
        precondition(MemoryLayout<ProtobufCMessage>.size == 24)
        let kinds: [(String, UnsafePointer<ProtobufCMessageDescriptor>)] = [
            ("i64", Google_Protobuf_Int64Value.protoDescriptor), ("u64", Google_Protobuf_UInt64Value.protoDescriptor),
            ("i32", Google_Protobuf_Int32Value.protoDescriptor), ("u32", Google_Protobuf_UInt32Value.protoDescriptor),
            ("b", Google_Protobuf_BoolValue.protoDescriptor), ("s", Google_Protobuf_StringValue.protoDescriptor),
            ("by", Google_Protobuf_BytesValue.protoDescriptor), ("d", Google_Protobuf_DoubleValue.protoDescriptor),
            ("f", Google_Protobuf_FloatValue.protoDescriptor),
        ]
        var fields = kinds.enumerated().map { i, kind in
            ProtobufCFieldDescriptor(
                name: text(kind.0), id: UInt32(i + 1), label: PROTOBUF_C_LABEL_NONE, type: PROTOBUF_C_TYPE_MESSAGE,
                quantifier_offset: 0, offset: UInt32(24 + 8 * i), descriptor: UnsafeRawPointer(kind.1), default_value: nil,
                flags: 0, reserved_flags: 0, reserved2: nil, reserved3: nil)
        }
        fields.append(ProtobufCFieldDescriptor(
            name: text("list"), id: 10, label: PROTOBUF_C_LABEL_REPEATED, type: PROTOBUF_C_TYPE_MESSAGE,
            quantifier_offset: 96, offset: 104, descriptor: UnsafeRawPointer(Google_Protobuf_Int64Value.protoDescriptor),
            default_value: nil, flags: 0, reserved_flags: 0, reserved2: nil, reserved3: nil))
        return HandBuiltDescriptors.message("WrapperFields", size: size, fields) { message in
            guard let message else { return }
            memset(message, 0, WrapperFieldsDescriptor.size)
            message.pointee.descriptor = WrapperFieldsDescriptor.pointer
        }
    }
}
