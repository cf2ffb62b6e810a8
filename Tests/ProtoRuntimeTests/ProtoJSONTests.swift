import AfterSaleProto
import CAfterSaleProto
import CProtobufC
import Glibc
import ProtoRuntime
import Testing

@Suite("ProtoJSON: the proto3 JSON mapping over libprotobuf-c descriptors")
struct ProtoJSONTests {
    // MARK: Round trips with generated messages

    @Test("a JSON request encodes to the same bytes as the typed message")
    func jsonToTypedMessage() throws {
        let bytes = try ProtoJSON.encode(json: #"{"service": "aftersale.v1.Health"}"#, as: HealthCheckRequest.protoDescriptor)
        var expected = HealthCheckRequest()
        expected.service = "aftersale.v1.Health"
        #expect(bytes == expected.serializedBytes())
        #expect(try HealthCheckRequest(serializedBytes: bytes) == expected)
    }

    @Test("typed message bytes decode to JSON with lowerCamelCase names in field-number order")
    func typedMessageToJSON() throws {
        var method = MethodInfo()
        method.name = "Check"
        method.path = "/aftersale.v1.Health/Check"
        method.requestType = "aftersale.v1.HealthCheckRequest"
        method.responseType = "aftersale.v1.HealthCheckResponse"
        method.serverStreaming = true
        let json = try ProtoJSON.decode(method.serializedBytes(), as: MethodInfo.protoDescriptor)
        #expect(json == """
            {
              "name": "Check",
              "path": "/aftersale.v1.Health/Check",
              "requestType": "aftersale.v1.HealthCheckRequest",
              "responseType": "aftersale.v1.HealthCheckResponse",
              "serverStreaming": true
            }
            """)
    }

    @Test("an all-default message is an empty object, and an empty object is empty bytes")
    func emptyMessage() throws {
        #expect(try ProtoJSON.decode([], as: HealthCheckRequest.protoDescriptor) == "{}")
        #expect(try ProtoJSON.encode(json: "{}", as: HealthCheckRequest.protoDescriptor) == [])
        #expect(try ProtoJSON.encode(json: #" { "service": "" } "#, as: HealthCheckRequest.protoDescriptor) == [])
    }

    @Test("repeated nested messages round-trip through JSON")
    func repeatedNestedMessages() throws {
        let json = """
            {
              "services": [
                {
                  "name": "aftersale.v1.Health",
                  "methods": [
                    { "name": "Check", "path": "/aftersale.v1.Health/Check" },
                    { "name": "Watch", "serverStreaming": true }
                  ]
                },
                { "name": "aftersale.v1.Reflection", "methods": [] }
              ]
            }
            """
        let bytes = try ProtoJSON.encode(json: json, as: ListServicesResponse.protoDescriptor)
        let decoded = try ListServicesResponse(serializedBytes: bytes)

        var check = MethodInfo()
        check.name = "Check"
        check.path = "/aftersale.v1.Health/Check"
        var watch = MethodInfo()
        watch.name = "Watch"
        watch.serverStreaming = true
        var health = ServiceInfo()
        health.name = "aftersale.v1.Health"
        health.methods = [check, watch]
        var reflection = ServiceInfo()
        reflection.name = "aftersale.v1.Reflection"
        var expected = ListServicesResponse()
        expected.services = [health, reflection]
        #expect(decoded == expected)

        let back = try ProtoJSON.decode(bytes, as: ListServicesResponse.protoDescriptor)
        #expect(back == """
            {
              "services": [
                {
                  "name": "aftersale.v1.Health",
                  "methods": [
                    {
                      "name": "Check",
                      "path": "/aftersale.v1.Health/Check"
                    },
                    {
                      "name": "Watch",
                      "serverStreaming": true
                    }
                  ]
                },
                {
                  "name": "aftersale.v1.Reflection"
                }
              ]
            }
            """)
        #expect(try ProtoJSON.encode(json: back, as: ListServicesResponse.protoDescriptor) == bytes)
    }

    @Test("a rich order snapshot survives typed → JSON → typed unchanged")
    func orderSnapshotRoundTrip() throws {
        var price = Money()
        price.amountMinor = 1999
        price.currency = "CNY"
        var line = OrderLine()
        line.lineId = "L1"
        line.sku = "SKU-1"
        line.title = "Kettle \"Deluxe\"\n电水壶 😀"
        line.unitPrice = price
        line.quantity = 3
        line.excludedFromNoReasonReturn = true
        var shop = ShopInfo()
        shop.shopId = "S1"
        var order = OrderSnapshot()
        order.orderId = "O-1"
        order.orderVersion = 7
        order.shop = shop
        order.status = .delivered
        order.lines = [line, OrderLine()]
        order.shippingFee = Money()  // present but all-default: must stay present
        order.createdAtUnixMs = 1_763_700_000_000

        let json = try ProtoJSON.decode(order.serializedBytes(), as: OrderSnapshot.protoDescriptor)
        #expect(json.contains(#""orderVersion": "7""#))
        #expect(json.contains(#""status": "ORDER_STATUS_DELIVERED""#))
        #expect(json.contains(#""title": "Kettle \"Deluxe\"\n电水壶 😀""#))
        #expect(json.contains(#""shippingFee": {}"#))
        #expect(json.contains(#""createdAtUnixMs": "1763700000000""#))
        let bytes = try ProtoJSON.encode(json: json, as: OrderSnapshot.protoDescriptor)
        #expect(try OrderSnapshot(serializedBytes: bytes) == order)
    }

    // MARK: Scalars

    @Test("int64 values are written as strings and read from strings or numbers, exactly")
    func int64AsStrings() throws {
        var money = Money()
        money.amountMinor = .max
        money.currency = "CNY"
        let json = try ProtoJSON.decode(money.serializedBytes(), as: Money.protoDescriptor)
        #expect(json == "{\n  \"amountMinor\": \"9223372036854775807\",\n  \"currency\": \"CNY\"\n}")

        for input in [#""9223372036854775807""#, "9223372036854775807", "9.223372036854775807e18"] {
            let bytes = try ProtoJSON.encode(json: #"{"amountMinor": \#(input)}"#, as: Money.protoDescriptor)
            #expect(try Money(serializedBytes: bytes).amountMinor == .max, "input \(input)")
        }
        let minimum = try ProtoJSON.encode(json: #"{"amountMinor": "-9223372036854775808"}"#, as: Money.protoDescriptor)
        #expect(try Money(serializedBytes: minimum).amountMinor == .min)
        let exponent = try ProtoJSON.encode(json: #"{"amountMinor": 1.5e3}"#, as: Money.protoDescriptor)
        #expect(try Money(serializedBytes: exponent).amountMinor == 1500)

        #expect(throws: ProtoJSONError("amountMinor: 9223372036854775808 is out of range for int64")) {
            try ProtoJSON.encode(json: #"{"amountMinor": 9223372036854775808}"#, as: Money.protoDescriptor)
        }
        #expect(throws: ProtoJSONError("amountMinor: expected an integer, got 1.5")) {
            try ProtoJSON.encode(json: #"{"amountMinor": 1.5}"#, as: Money.protoDescriptor)
        }
        #expect(throws: ProtoJSONError("amountMinor: expected an integer, got \"12 apples\"")) {
            try ProtoJSON.encode(json: #"{"amountMinor": "12 apples"}"#, as: Money.protoDescriptor)
        }
    }

    @Test("int32 fields take numbers or numeric strings and reject values out of range")
    func int32Range() throws {
        let ok = try ProtoJSON.encode(json: #"{"lines": [{"quantity": "42"}, {"quantity": -2147483648}]}"#, as: OrderSnapshot.protoDescriptor)
        #expect(try OrderSnapshot(serializedBytes: ok).lines.map(\.quantity) == [42, .min])
        #expect(throws: ProtoJSONError("lines[1].quantity: 2147483648 is out of range for int32")) {
            try ProtoJSON.encode(json: #"{"lines": [{}, {"quantity": 2147483648}]}"#, as: OrderSnapshot.protoDescriptor)
        }
        #expect(throws: ProtoJSONError("lines[0].quantity: 1e10 is out of range for int32")) {
            try ProtoJSON.encode(json: #"{"lines": [{"quantity": 1e10}]}"#, as: OrderSnapshot.protoDescriptor)
        }
    }

    @Test("enums are written by name and read by name or number; unknown numbers stay numbers")
    func enums() throws {
        var response = HealthCheckResponse()
        response.status = .serving
        #expect(try ProtoJSON.decode(response.serializedBytes(), as: HealthCheckResponse.protoDescriptor)
            == "{\n  \"status\": \"SERVING_STATUS_SERVING\"\n}")

        let byName = try ProtoJSON.encode(json: #"{"status": "SERVING_STATUS_NOT_SERVING"}"#, as: HealthCheckResponse.protoDescriptor)
        #expect(try HealthCheckResponse(serializedBytes: byName).status == .notServing)
        let byNumber = try ProtoJSON.encode(json: #"{"status": 2}"#, as: HealthCheckResponse.protoDescriptor)
        #expect(byNumber == byName)

        response.status = ServingStatus(rawValue: 7)
        #expect(try ProtoJSON.decode(response.serializedBytes(), as: HealthCheckResponse.protoDescriptor) == "{\n  \"status\": 7\n}")
        let unknown = try ProtoJSON.encode(json: #"{"status": 7}"#, as: HealthCheckResponse.protoDescriptor)
        #expect(try HealthCheckResponse(serializedBytes: unknown).status.rawValue == 7)

        let kinds = try ProtoJSON.encode(json: #"{"kinds": ["AFTER_SALE_KIND_REFUND_ONLY", 3]}"#, as: Reason.protoDescriptor)
        #expect(try Reason(serializedBytes: kinds).kinds == [.refundOnly, .exchange])

        #expect(throws: ProtoJSONError(#"status: unknown value "SERVING" for enum aftersale.v1.ServingStatus"#)) {
            try ProtoJSON.encode(json: #"{"status": "SERVING"}"#, as: HealthCheckResponse.protoDescriptor)
        }
    }

    @Test("bytes are standard base64 on output; standard and URL-safe base64 are both read")
    func bytesAsBase64() throws {
        let envelope = aftersale__v1__envelope__descriptor_ref()!
        let standard = try ProtoJSON.encode(
            json: #"{"kind": "FRAME_KIND_REQUEST", "callId": "18446744073709551615", "payload": "+/8A"}"#, as: envelope)
        let urlSafe = try ProtoJSON.encode(
            json: #"{"kind": 1, "call_id": 18446744073709551615, "payload": "-_8A"}"#, as: envelope)
        #expect(standard == urlSafe)

        let fields = try unpackEnvelope(standard)
        #expect(fields.kind == AFTERSALE__V1__FRAME_KIND__FRAME_KIND_REQUEST)
        #expect(fields.callID == .max)
        #expect(fields.payload == [0xFB, 0xFF, 0x00])

        #expect(try ProtoJSON.decode(standard, as: envelope) == """
            {
              "kind": "FRAME_KIND_REQUEST",
              "callId": "18446744073709551615",
              "payload": "+/8A"
            }
            """)
        let unpadded = try ProtoJSON.encode(json: #"{"payload": "AQ"}"#, as: envelope)
        #expect(try unpackEnvelope(unpadded).payload == [0x01])
        #expect(throws: ProtoJSONError(#"payload: expected base64-encoded bytes, got "not base64!""#)) {
            try ProtoJSON.encode(json: #"{"payload": "not base64!"}"#, as: envelope)
        }
    }

    // MARK: Names and errors

    @Test("input accepts both lowerCamelCase and the proto name, but not both at once")
    func fieldNameSpellings() throws {
        let camel = try ProtoJSON.encode(json: #"{"amountMinor": 5, "currency": "CNY"}"#, as: Money.protoDescriptor)
        let snake = try ProtoJSON.encode(json: #"{"amount_minor": "5", "currency": "CNY"}"#, as: Money.protoDescriptor)
        #expect(camel == snake)
        #expect(try Money(serializedBytes: camel).amountMinor == 5)
        #expect(throws: ProtoJSONError(#"field "amountMinor" is given twice (also as "amount_minor")"#)) {
            try ProtoJSON.encode(json: #"{"amount_minor": 1, "amountMinor": 2}"#, as: Money.protoDescriptor)
        }
    }

    @Test("an unknown field is rejected, naming the key and the message type")
    func unknownField() {
        #expect(throws: ProtoJSONError(#"unknown field "serviceName" in aftersale.v1.HealthCheckRequest"#)) {
            try ProtoJSON.encode(json: #"{"serviceName": "x"}"#, as: HealthCheckRequest.protoDescriptor)
        }
        #expect(throws: ProtoJSONError(#"lines[0].unitPrice: unknown field "amount" in aftersale.v1.Money"#)) {
            try ProtoJSON.encode(json: #"{"lines": [{"unitPrice": {"amount": 1}}]}"#, as: OrderSnapshot.protoDescriptor)
        }
    }

    @Test("a value of the wrong type is rejected with the path of the field")
    func wrongTypes() {
        let order = OrderSnapshot.protoDescriptor
        let cases: [(String, String)] = [
            (#"{"lines": [{"quantity": "abc"}]}"#, #"lines[0].quantity: expected an integer, got "abc""#),
            (#"{"orderId": 12}"#, "orderId: expected a string, got 12"),
            (#"{"lines": [{"excludedFromNoReasonReturn": "yes"}]}"#, #"lines[0].excludedFromNoReasonReturn: expected true or false, got "yes""#),
            (#"{"lines": {"quantity": 1}}"#, "lines: expected a JSON array for a repeated field, got an object"),
            (#"{"shop": "S1"}"#, #"shop: expected a JSON object for aftersale.v1.ShopInfo, got "S1""#),
            (#"{"lines": [null]}"#, "lines[0]: null is not allowed in a repeated field"),
            (#"{"status": true}"#, "status: expected a value name of enum aftersale.v1.OrderStatus or a number, got true"),
            (#"[]"#, "expected a JSON object for aftersale.v1.OrderSnapshot, got an array"),
        ]
        for (json, message) in cases {
            #expect(throws: ProtoJSONError(message)) { try ProtoJSON.encode(json: json, as: order) }
        }
    }

    @Test("null stands for the default value")
    func nullIsDefault() throws {
        let bytes = try ProtoJSON.encode(json: #"{"orderId": null, "shop": null, "lines": null, "status": null}"#,
                                         as: OrderSnapshot.protoDescriptor)
        #expect(bytes == [])
    }

    @Test("malformed JSON is reported with its line and column")
    func malformedJSON() {
        let cases: [(String, String)] = [
            ("{\"service\": }", "invalid JSON at line 1, column 13: unexpected character, expected a value"),
            ("{\n  \"service\": \"x\",\n}", "invalid JSON at line 3, column 1: expected a string key"),
            (#"{"service": "x"} x"#, "invalid JSON at line 1, column 18: unexpected text after the JSON value"),
            (#"{"service": "x", "service": "y"}"#, #"invalid JSON at line 1, column 18: duplicate key "service""#),
            (#"{"service": "\x"}"#, "invalid JSON at line 1, column 15: invalid escape sequence in string"),
            (#"{"service": "x"#, "invalid JSON at line 1, column 15: unterminated string"),
            ("", "invalid JSON at line 1, column 1: unexpected end of input, expected a value"),
        ]
        for (json, message) in cases {
            #expect(throws: ProtoJSONError(message)) { try ProtoJSON.encode(json: json, as: HealthCheckRequest.protoDescriptor) }
        }
    }

    @Test("input nested deeper than 64 levels is refused before it is looked at")
    func nestingLimit() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: ProtoJSONError("invalid JSON at line 1, column 77: nesting deeper than 64 levels")) {
            try ProtoJSON.encode(json: #"{"services": \#(deep)}"#, as: ListServicesResponse.protoDescriptor)
        }
        // 64 levels parse; the error is then about the type, not the depth.
        let limit = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        #expect(throws: ProtoJSONError("services[0]: expected a JSON object for aftersale.v1.ServiceInfo, got an array")) {
            try ProtoJSON.encode(json: #"{"services": \#(limit)}"#, as: ListServicesResponse.protoDescriptor)
        }
    }

    @Test("strings are escaped on output and unescaped on input, including surrogate pairs")
    func stringEscapes() throws {
        let bytes = try ProtoJSON.encode(json: #"{"service": "tab\there \"q\" \\ \u00e9 \ud83d\ude00 \u0001"}"#,
                                         as: HealthCheckRequest.protoDescriptor)
        #expect(try HealthCheckRequest(serializedBytes: bytes).service == "tab\there \"q\" \\ é 😀 \u{01}")
        #expect(try ProtoJSON.decode(bytes, as: HealthCheckRequest.protoDescriptor)
            == #"{"# + "\n" + #"  "service": "tab\there \"q\" \\ é 😀 \u0001""# + "\n}")
        #expect(throws: ProtoJSONError("service: strings cannot contain U+0000")) {
            try ProtoJSON.encode(json: #"{"service": "a\u0000b"}"#, as: HealthCheckRequest.protoDescriptor)
        }
    }

    @Test("bytes that are not a valid message are reported with the type name")
    func invalidBytes() {
        #expect(throws: ProtoJSONError("2 bytes are not a valid aftersale.v1.HealthCheckRequest")) {
            try ProtoJSON.decode([0x0A, 0x05], as: HealthCheckRequest.protoDescriptor)
        }
    }

    @Test("the JSON name drops underscores and capitalises the letter after each")
    func jsonNames() {
        #expect(ProtoJSON.jsonName("amount_minor") == "amountMinor")
        #expect(ProtoJSON.jsonName("created_at_unix_ms") == "createdAtUnixMs")
        #expect(ProtoJSON.jsonName("service") == "service")
    }

    // MARK: Types the project's .proto files do not use (hand-built descriptor)

    @Test("float, double, unsigned, sint64, fixed64, repeated bytes, maps, optional and oneof fields round-trip")
    func handBuiltScalars() throws {
        let json = """
            {"d": 1.5, "f": 0.1, "u32": 4294967295, "s64": "-9223372036854775808", "fx64": "18446744073709551615",
             "blobs": ["AAEC", "", "-_8"], "tags": {"a": 1, "b": -2}, "opt": 0, "choice_text": "hi",
             "flags": [true, false], "names": ["x", ""]}
            """
        let bytes = try ProtoJSON.encode(json: json, as: HandBuilt.scalars)
        #expect(try ProtoJSON.decode(bytes, as: HandBuilt.scalars) == """
            {
              "d": 1.5,
              "f": 0.1,
              "u32": 4294967295,
              "s64": "-9223372036854775808",
              "fx64": "18446744073709551615",
              "blobs": [
                "AAEC",
                "",
                "+/8="
              ],
              "tags": {
                "a": 1,
                "b": -2
              },
              "opt": 0,
              "choiceText": "hi",
              "flags": [
                true,
                false
              ],
              "names": [
                "x",
                ""
              ]
            }
            """)
    }

    @Test("non-finite floating-point values are the strings NaN, Infinity and -Infinity")
    func nonFiniteFloats() throws {
        let bytes = try ProtoJSON.encode(json: #"{"d": "NaN", "f": "-Infinity"}"#, as: HandBuilt.scalars)
        #expect(try ProtoJSON.decode(bytes, as: HandBuilt.scalars) == "{\n  \"d\": \"NaN\",\n  \"f\": \"-Infinity\"\n}")
        let integral = try ProtoJSON.encode(json: #"{"d": 100, "f": "2.5"}"#, as: HandBuilt.scalars)
        #expect(try ProtoJSON.decode(integral, as: HandBuilt.scalars) == "{\n  \"d\": 100,\n  \"f\": 2.5\n}")
        #expect(throws: ProtoJSONError("f: 1e39 is out of range for float")) {
            try ProtoJSON.encode(json: #"{"f": 1e39}"#, as: HandBuilt.scalars)
        }
        #expect(throws: ProtoJSONError("d: 1e400 is out of range for double")) {
            try ProtoJSON.encode(json: #"{"d": 1e400}"#, as: HandBuilt.scalars)
        }
        #expect(throws: ProtoJSONError("u32: -1 is out of range for uint32")) {
            try ProtoJSON.encode(json: #"{"u32": -1}"#, as: HandBuilt.scalars)
        }
    }

    @Test("a oneof takes one member, and a member set to its default is still written")
    func oneof() throws {
        let zero = try ProtoJSON.encode(json: #"{"choiceNumber": 0}"#, as: HandBuilt.scalars)
        #expect(try ProtoJSON.decode(zero, as: HandBuilt.scalars) == "{\n  \"choiceNumber\": 0\n}")
        #expect(throws: ProtoJSONError("choiceNumber: another member of the same oneof is already set (choice_text)")) {
            try ProtoJSON.encode(json: #"{"choiceText": "a", "choiceNumber": 1}"#, as: HandBuilt.scalars)
        }
        #expect(throws: ProtoJSONError(#"tags["a"]: map values cannot be null"#)) {
            try ProtoJSON.encode(json: #"{"tags": {"a": null}}"#, as: HandBuilt.scalars)
        }
    }
}

// MARK: - Helpers

private func unpackEnvelope(_ bytes: [UInt8]) throws -> (kind: Aftersale__V1__FrameKind, callID: UInt64, payload: [UInt8]) {
    // libprotobuf-c wants a non-null pointer even for zero bytes.
    let storage = bytes.isEmpty ? [0] : bytes
    let message = storage.withUnsafeBufferPointer { buffer in
        protobuf_c_message_unpack(aftersale__v1__envelope__descriptor_ref(), nil, bytes.count, buffer.baseAddress)
    }
    let unpacked = try #require(message)
    defer { protobuf_c_message_free_unpacked(unpacked, nil) }
    let envelope = UnsafeRawPointer(unpacked).assumingMemoryBound(to: Aftersale__V1__Envelope.self).pointee
    let payload = envelope.payload.len == 0 ? [] : Array(UnsafeBufferPointer(start: envelope.payload.data, count: envelope.payload.len))
    return (envelope.kind, envelope.call_id, payload)
}

/// A message type built by hand as protoc-c would, for the field shapes the project's schema lacks:
///
///     message Scalars {
///       double d = 1; float f = 2; uint32 u32 = 3; sint64 s64 = 4; fixed64 fx64 = 5;
///       repeated bytes blobs = 6; map<string, int32> tags = 7; optional int32 opt = 8;
///       oneof choice { string choice_text = 9; int32 choice_number = 10; }
///       repeated bool flags = 11; repeated string names = 12;
///     }
private enum HandBuilt {
    nonisolated(unsafe) static let scalars: UnsafePointer<ProtobufCMessageDescriptor> = makeScalars()
    nonisolated(unsafe) static let tagsEntry: UnsafePointer<ProtobufCMessageDescriptor> = makeTagsEntry()

    private static func field(
        _ name: String, _ id: UInt32, _ label: ProtobufCLabel, _ type: ProtobufCType,
        quantifier: Int = 0, offset: Int, descriptor: UnsafeRawPointer? = nil, flags: UInt32 = 0
    ) -> ProtobufCFieldDescriptor {
        HandBuiltDescriptors.field(name, id, label, type, quantifier: quantifier, offset: offset, descriptor: descriptor, flags: flags)
    }

    // struct TagsEntry { ProtobufCMessage base; char *key; int32_t value; }  // 24, 32; size 40
    private static func makeTagsEntry() -> UnsafePointer<ProtobufCMessageDescriptor> {
        HandBuiltDescriptors.message("TagsEntry", size: 40, [
            field("key", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, offset: 24),
            field("value", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32, offset: 32),
        ]) { message in
            guard let message else { return }
            memset(message, 0, 40)
            message.pointee.descriptor = HandBuilt.tagsEntry
        }
    }

    // struct Scalars { ProtobufCMessage base (0); double d (24); float f (32); uint32_t u32 (36); int64_t s64 (40);
    //   uint64_t fx64 (48); size_t n_blobs (56); ProtobufCBinaryData *blobs (64); size_t n_tags (72);
    //   TagsEntry **tags (80); protobuf_c_boolean has_opt (88); int32_t opt (92); uint32_t choice_case (96);
    //   union { char *choice_text; int32_t choice_number; } (104); size_t n_flags (112); protobuf_c_boolean *flags (120);
    //   size_t n_names (128); char **names (136); }  // size 144
    private static func makeScalars() -> UnsafePointer<ProtobufCMessageDescriptor> {
        precondition(MemoryLayout<ProtobufCMessage>.size == 24)
        let oneofFlag = UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue)
        return HandBuiltDescriptors.message("Scalars", size: 144, [
            field("d", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, offset: 24),
            field("f", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, offset: 32),
            field("u32", 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_UINT32, offset: 36),
            field("s64", 4, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT64, offset: 40),
            field("fx64", 5, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FIXED64, offset: 48),
            field("blobs", 6, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_BYTES, quantifier: 56, offset: 64),
            field("tags", 7, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_MESSAGE, quantifier: 72, offset: 80,
                  descriptor: UnsafeRawPointer(tagsEntry)),
            field("opt", 8, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32, quantifier: 88, offset: 92),
            field("choice_text", 9, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, quantifier: 96, offset: 104, flags: oneofFlag),
            field("choice_number", 10, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT32, quantifier: 96, offset: 104, flags: oneofFlag),
            field("flags", 11, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_BOOL, quantifier: 112, offset: 120,
                  flags: UInt32(PROTOBUF_C_FIELD_FLAG_PACKED.rawValue)),
            field("names", 12, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_STRING, quantifier: 128, offset: 136),
        ]) { message in
            guard let message else { return }
            memset(message, 0, 144)
            message.pointee.descriptor = HandBuilt.scalars
        }
    }
}
