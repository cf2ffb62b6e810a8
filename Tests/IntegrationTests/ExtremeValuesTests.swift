import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import CProtobufC
import Foundation
import Glibc
import ProtoRuntime
import RPCWire
import Testing

// Issue 9, §1.6: a Subscribe with a cursor near Int64.max once crashed the server for everyone.
// This sweep sends, to a real `aftersaled` process, every method of every business service with one
// field at a time set to an extreme value (integer bounds, -1, unknown enum numbers, huge strings,
// thousands of repeated elements), as a caller the method allows, on top of a valid request that
// names a real order, case and refund, so the values reach the domain. Every call must end with a
// status, and the server must still answer a health check after each method.

extension Integration {
    @Suite("Extreme values in every field of every method: the server answers each with a status and lives")
    struct ExtremeValuesTests {
        /// Who calls each method: a role it allows, so the values get past the role gate.
        static func caller(for method: RPCMethodInfo) -> (role: String, id: String) {
            switch method.name {
            case "CreateAfterSale", "WithdrawAfterSale", "SubmitReturnShipment", "ConfirmReplacementReceived", "AddMessage",
                 "GetAfterSale", "ListAfterSales", "ListMessages", "SubmitStatement":
                ("buyer", "b-1")
            case "ReviewAfterSale", "ConfirmReturnReceived", "ShipReplacement", "AppealRuling":
                ("merchant", "s-1")
            case "ForceRefund", "UpsertReason", "RequeueRefund", "GetReasonCatalog", "GetTimerPolicy", "SetTimerOverride",
                 "PauseTimers", "EndTimerPause", "ListTimerPauses", "FireTimer", "UpsertAgent", "GetAgent", "ListAgents", "SetPresence",
                 "OpenTicket", "GetTicket", "ListTickets", "ReplyToTicket", "UpdateTicketStatus", "TransferTicket", "ReleaseTicket",
                 "CreateArticle", "UpdateArticle", "PublishArticle", "ArchiveArticle", "GetArticle", "ListArticles", "ListArticleRevisions",
                 "SearchArticles", "SuggestArticles", "VoteArticle", "GetStatistics", "OpenDispute", "GetDispute", "ListDisputes",
                 "RequestEvidence", "RuleDispute":
                ("platform", "platform-1")
            default:
                ("system", "system-1")
            }
        }

        @Test("every method survives every extreme value")
        func everyMethod() async throws {
            let daemon = try #require(Executables.locate("aftersaled"), "build aftersaled first (swift build)")
            try await TestStore.with("extreme") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store)
                defer {
                    server.signal(SIGKILL)
                    _ = server.process.isRunning
                }
                let client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }
                let seeded = try await Self.seed(client)

                let methods = ServiceHost.businessMethods
                var calls = 0
                for method in methods {
                    let variants = ExtremeRequests.variants(of: method.requestType, base: seeded.base(for: method))
                    #expect(!variants.isEmpty, "\(method.path) has no variants")
                    let who = Self.caller(for: method)
                    for (index, variant) in variants.enumerated() {
                        let options = Callers.make(who.role, who.id, key: "x-\(method.name)-\(index)")
                        let code = await Self.call(client, method, variant.payload, options)
                        calls += 1
                        if code == .unavailable || code == nil { _ = await server.waitForExit(timeout: .milliseconds(300)) }
                        guard server.process.isRunning else {
                            Issue.record("\(method.path) with \(variant.label) killed the server; stderr: \(server.stderr.suffix(2000))")
                            return
                        }
                        #expect(code != .unavailable && code != .internal,
                                "\(method.path) with \(variant.label) answered \(code.map { "\($0)" } ?? "nothing")")
                    }
                    let health = try await client.health.check(HealthCheckRequest(), options: CallOptions(timeout: .seconds(5)))
                    #expect(health.status == .serving, "after \(method.path)")
                }
                #expect(calls > 500, "only \(calls) calls were made")
            }
        }

        /// The call's status code (OK included), or nil when it got none.
        static func call(_ client: RPCClient, _ method: RPCMethodInfo, _ payload: [UInt8], _ options: CallOptions) async -> StatusCode? {
            if method.kind == .serverStreaming {
                do {
                    for try await _ in client.callStream(path: method.path, payload: payload, options: CallOptions(
                        timeout: .milliseconds(300), metadata: options.metadata)) {}
                    return .ok
                } catch let error as RPCError {
                    return error.code == .deadlineExceeded ? .ok : error.code
                } catch {
                    return nil
                }
            }
            do {
                _ = try await client.call(path: method.path, payload: payload, options: options)
                return .ok
            } catch {
                return error.code
            }
        }

        /// What the valid requests name: an order, a return case with its number, and a refund.
        struct Seeded {
            let orderID: String
            let caseNumber: String
            let refundID: String

            /// The valid values each variant starts from, by JSON name.
            func base(for method: RPCMethodInfo) -> [String: String] {
                var base = ["orderId": "\"\(orderID)\"", "caseNumber": "\"\(caseNumber)\"", "refundId": "\"\(refundID)\"",
                            "consumerName": "\"extreme\"", "reasonCode": "\"no_reason_7_days\""]
                if method.name == "Subscribe" { base["stopAtHead"] = "true" }
                return base
            }
        }

        static func seed(_ client: RPCClient) async throws -> Seeded {
            let system = Callers.system("orders")
            _ = try await client.orderBridge.upsertOrder(try TestOrder(id: "o-x", status: .delivered).upsertRequest(), options: system)
            _ = try await client.orderBridge.upsertOrder(try TestOrder.single("o-y", buyer: "b-1").upsertRequest(), options: system)
            var buyer = Callers.buyer("b-1", key: "seed-return").metadata
            let returned = try await client.afterSale.createAfterSale(
                Requests.create(order: "o-x", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]),
                options: CallOptions(timeout: .seconds(5), metadata: buyer))
            buyer[CallerMetadata.idempotencyKey] = "seed-refund"
            let refunded = try await client.afterSale.createAfterSale(
                Requests.create(order: "o-y", kind: .refundOnly, reason: "no_longer_wanted", lines: [("l-1", 1)]),
                options: CallOptions(timeout: .seconds(5), metadata: buyer))
            return Seeded(orderID: "o-x", caseNumber: try #require(returned.afterSale).caseNumber,
                          refundID: try #require(refunded.afterSale?.refund).refundId)
        }
    }
}

/// Requests with one field at a time set to an extreme, built from the message descriptors (so a
/// field added to a contract is swept without touching this file).
enum ExtremeRequests {
    struct Variant {
        let label: String
        let payload: [UInt8]
    }

    /// One request per (field, extreme value) of `typeName`, each on top of `base` (JSON values by
    /// JSON name); nested messages get one variant per nested field too.
    static func variants(of typeName: String, base: [String: String]) -> [Variant] {
        guard let descriptor = DescriptorIndex.message(named: typeName) else { return [] }
        let fields = DescriptorIndex.fields(of: descriptor)
        var out: [Variant] = []
        func add(_ label: String, _ overrides: [String: String]) {
            var members = base.filter { key, _ in fields.contains { $0.jsonName == key } }
            for (key, value) in overrides { members[key] = value }
            let json = "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
            guard let payload = try? ProtoJSON.encode(json: json, as: descriptor) else { return }
            out.append(Variant(label: label, payload: payload))
        }
        add("the base request", [:])
        for field in fields {
            for (label, value) in values(of: field, depth: 0) {
                add("\(field.name) = \(label)", [field.jsonName: value])
            }
        }
        return out
    }

    /// Extreme JSON values for `field`: (label, JSON text).
    static func values(of field: FieldInfo, depth: Int) -> [(String, String)] {
        let singles = scalars(of: field, depth: depth)
        guard field.repeated else { return singles }
        // Thousands of elements of a small extreme (a huge string repeated would only test the frame limit).
        let element = small(field, depth: depth)
        return [("3000 elements", "[" + Array(repeating: element, count: 3_000).joined(separator: ",") + "]"),
                ("one extreme element", "[" + (singles.first?.1 ?? element) + "]")]
    }

    static func scalars(of field: FieldInfo, depth: Int) -> [(String, String)] {
        let huge = String(repeating: "長", count: 40_000)
        switch field.type {
        case "int64", "sint64", "sfixed64":
            return [("Int64.max", "\"9223372036854775807\""), ("Int64.min", "\"-9223372036854775808\""), ("-1", "\"-1\"")]
        case "uint64", "fixed64":
            return [("UInt64.max", "\"18446744073709551615\"")]
        case "int32", "sint32", "sfixed32":
            return [("Int32.max", "2147483647"), ("Int32.min", "-2147483648"), ("-1", "-1")]
        case "uint32", "fixed32":
            return [("UInt32.max", "4294967295")]
        case "bool":
            return [("true", "true")]
        case "enum":
            return [("an unknown enum number", "2147483647"), ("a negative enum number", "-1")]
        case "string":
            return [("a 120 KB string", "\"\(huge)\""), ("control characters", "\"\\u0001\\u001f\\u007f\""),
                    ("a case-number lookalike", "\"AS99999999999999\""), ("-1", "\"-1\"")]
        case "bytes":
            return [("200 KB of bytes", "\"" + Data(repeating: 0xFF, count: 200_000).base64EncodedString() + "\"")]
        case "message":
            guard depth < 2, let nested = DescriptorIndex.message(named: field.typeName) else { return [] }
            let inner = DescriptorIndex.fields(of: nested)
            // A well-known wrapper (google.protobuf.Int64Value, …) is its bare value in JSON: the
            // extremes of the value it wraps (a cursor near Int64.max once crashed the server).
            if field.typeName.hasPrefix("google.protobuf.") || field.typeName.hasPrefix(".google.protobuf."),
               inner.count == 1, let wrapped = inner.first {
                return scalars(of: wrapped, depth: depth + 1)
            }
            var out: [(String, String)] = [("every field extreme",
                                            "{" + inner.map { "\"\($0.jsonName)\": \(small($0, depth: depth + 1))" }.joined(separator: ",") + "}")]
            for nestedField in inner {
                for (label, value) in values(of: nestedField, depth: depth + 1) {
                    out.append(("\(nestedField.name) = \(label)", "{\"\(nestedField.jsonName)\": \(value)}"))
                }
            }
            return out
        default:
            return []
        }
    }

    /// A small extreme value of `field`'s element type, to repeat thousands of times.
    static func small(_ field: FieldInfo, depth: Int) -> String {
        switch field.type {
        case "int64", "sint64", "sfixed64": return "\"9223372036854775807\""
        case "uint64", "fixed64": return "\"18446744073709551615\""
        case "int32", "sint32", "sfixed32": return "2147483647"
        case "uint32", "fixed32": return "4294967295"
        case "bool": return "true"
        case "enum": return "2147483647"
        case "string": return "\"l-1\""
        case "bytes": return "\"AA==\""
        case "message":
            guard depth < 2, let nested = DescriptorIndex.message(named: field.typeName) else { return "{}" }
            let inner = DescriptorIndex.fields(of: nested).filter { !$0.repeated }
            return "{" + inner.map { "\"\($0.jsonName)\": \(small($0, depth: depth + 1))" }.joined(separator: ",") + "}"
        default:
            return "null"
        }
    }
}
