import AfterSaleClient
import AfterSaleProto
import Foundation
import Glibc
import ProtoRuntime
import Testing

extension Integration {
    @Suite("The executables: aftersaled and aftersalectl")
    struct ExecutablesTests {
        static func require(_ name: String) throws -> URL {
            try #require(Executables.locate(name),
                         "\(name) not found in \(Executables.candidateDirectories().map(\.path)); build every product first (swift build), or set AFTERSALE_BIN_DIR")
        }

        /// Parses "aftersaled ready: listening on 127.0.0.1:PORT ..." into PORT.
        static func port(fromReadyLine line: String) -> UInt16? {
            guard let range = line.range(of: "listening on ") else { return nil }
            let address = line[range.upperBound...].prefix { $0 != " " }
            guard let colon = address.lastIndex(of: ":") else { return nil }
            return UInt16(address[address.index(after: colon)...])
        }

        @Test("the README's configuration table lists exactly the flags and environment variables of aftersaled --help")
        func readmeListsEveryFlag() async throws {
            let daemon = try Self.require("aftersaled")
            let help = try await ChildProcess.run(daemon, ["--help"])
            #expect(help.status == 0)
            let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
            func pairs(_ text: String, _ pattern: String) throws -> Set<String> {
                let regex = try NSRegularExpression(pattern: pattern)
                return Set(regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
                    guard let flag = Range(match.range(at: 1), in: text), let env = Range(match.range(at: 2), in: text) else { return nil }
                    return "\(text[flag]) \(text[env])"
                })
            }
            let fromHelp = try pairs(help.stdout, #"^\s+(--[a-z-]+) .*\(env (AFTERSALE_[A-Z_]+)"#.replacingOccurrences(of: "^", with: "(?m)^"))
            let fromReadme = try pairs(readme, #"\| `(--[a-z-]+)[^`]*` \| `(AFTERSALE_[A-Z_]+)` \|"#)
            #expect(fromHelp.count >= 20, "\(help.stdout)")
            #expect(fromReadme == fromHelp, "only in --help: \(fromHelp.subtracting(fromReadme).sorted()); only in the README: \(fromReadme.subtracting(fromHelp).sorted())")
        }

        @Test("aftersaled serves on an ephemeral port, aftersalectl lists, describes and calls it, and SIGTERM stops it with status 0")
        func serverAndCLI() async throws {
            let daemon = try Self.require("aftersaled")
            let ctl = try Self.require("aftersalectl")
            let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-it-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            defer { try? FileManager.default.removeItem(at: dataDir) }

            let server = try ChildProcess(daemon, ["--listen", "127.0.0.1:0", "--data-dir", dataDir.path, "--metrics-listen", "127.0.0.1:0",
                                                   "--log-level", "warning", "--shutdown-grace", "2"])
            defer { if server.process.isRunning { server.signal(SIGKILL) } }
            let ready = try #require(await server.waitForLine(containing: "aftersaled ready", timeout: .seconds(10)),
                                     "no ready line; stdout: \(server.stdout) stderr: \(server.stderr)")
            let port = try #require(Self.port(fromReadyLine: ready), "\(ready)")
            #expect(port != 0)
            #expect(FileManager.default.fileExists(atPath: dataDir.path), "the data directory was created")

            // The typed client, as another service would call it.
            let client = try RPCClient(target: "127.0.0.1:\(port)")
            defer { client.close() }
            #expect(try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2))).status == .serving)

            // The metrics endpoint announced on the ready line.
            if let range = ready.range(of: "metrics=http://127.0.0.1:") {
                let metricsPort = UInt16(ready[range.upperBound...].prefix { $0.isNumber })
                let text = try await MetricsTests.httpGet(port: try #require(metricsPort), path: "/metrics")
                #expect(text.hasPrefix("HTTP/1.1 200 OK"))
                #expect(text.contains(#"aftersale_rpc_calls_total{method="/aftersale.v1.Health/Check",code="OK"} 1"#), "\(text)")
                // The probes on the same port: alive, and ready (the store answers).
                let alive = try await MetricsTests.httpGet(port: try #require(metricsPort), path: "/healthz")
                #expect(alive.hasPrefix("HTTP/1.1 200 OK") && alive.hasSuffix("alive\n"), "\(alive)")
                let readyz = try await MetricsTests.httpGet(port: try #require(metricsPort), path: "/readyz")
                #expect(readyz.hasPrefix("HTTP/1.1 200 OK") && readyz.hasSuffix("ready\n"), "\(readyz)")
            } else {
                Issue.record("the ready line does not announce the metrics address: \(ready)")
            }

            let target = "127.0.0.1:\(port)"
            let list = try await ChildProcess.run(ctl, ["--server", target, "list"])
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("aftersale.v1.Health\n"))
            #expect(list.stdout.contains("aftersale.v1.Health/Watch (server-streaming)"))
            #expect(list.stdout.contains("aftersale.v1.AfterSaleService/GetAfterSale\n"), "served since issue 3")
            #expect(list.stdout.contains("aftersale.v1.OrderBridge/UpsertOrder\n"), "served since issue 4")
            #expect(!list.stdout.contains("not implemented yet"), "\(list.stdout)")
            #expect(list.stdout.contains("aftersale.v1.RefundBridge"))

            let call = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.Health/Check", "{}"])
            #expect(call.status == 0, "\(call.stderr)")
            #expect(call.stdout.contains("SERVING_STATUS_SERVING"), "\(call.stdout)")

            let fullPath = try await ChildProcess.run(ctl, ["--server", target, "call", "/aftersale.v1.Health/Check", #"{"service": "aftersale.v1.Reflection"}"#])
            #expect(fullPath.status == 0, "\(fullPath.stderr)")
            #expect(fullPath.stdout.contains("SERVING_STATUS_SERVING"))

            let describe = try await ChildProcess.run(ctl, ["--server", target, "describe", "aftersale.v1.HealthCheckRequest"])
            #expect(describe.status == 0, "\(describe.stderr)")
            #expect(describe.stdout.contains("string service = 1;"), "\(describe.stdout)")

            // Enums are described too, value by value.
            let describeEnum = try await ChildProcess.run(ctl, ["--server", target, "describe", "aftersale.v1.OrderStatus"])
            #expect(describeEnum.status == 0, "\(describeEnum.stderr)")
            #expect(describeEnum.stdout.hasPrefix("enum aftersale.v1.OrderStatus {"), "\(describeEnum.stdout)")
            #expect(describeEnum.stdout.contains("  ORDER_STATUS_UNSPECIFIED = 0;\n"), "\(describeEnum.stdout)")
            #expect(describeEnum.stdout.contains("  ORDER_STATUS_PAID = "), "\(describeEnum.stdout)")
            let describeNothing = try await ChildProcess.run(ctl, ["--server", target, "describe", "aftersale.v1.NoSuchThing"])
            #expect(describeNothing.status == 2, "\(describeNothing)")
            #expect(describeNothing.stderr.contains("no service, method, message or enum named 'aftersale.v1.NoSuchThing'"), "\(describeNothing.stderr)")

            // Wrapper fields: the well-known type, and its bare JSON form.
            let describeWrapped = try await ChildProcess.run(ctl, ["--server", target, "describe", "aftersale.v1.SubscribeRequest"])
            #expect(describeWrapped.status == 0, "\(describeWrapped.stderr)")
            #expect(describeWrapped.stdout.contains(#"google.protobuf.Int64Value from_cursor = 2;  // JSON: fromCursor, the bare int64: a string such as "3", or null when absent"#),
                    "\(describeWrapped.stdout)")
            let describeWrapper = try await ChildProcess.run(ctl, ["--server", target, "describe", "google.protobuf.Int64Value"])
            #expect(describeWrapper.status == 0, "\(describeWrapper.stderr)")
            #expect(describeWrapper.stdout.contains("int64 value = 1;"), "\(describeWrapper.stdout)")

            // A wrapper field is given as its bare value; the server sees 5 (past the empty feed's head).
            // Without --token-keys the server made a development key pair in its data directory;
            // aftersalectl --as mints short-lived tokens with it.
            let devKeys = dataDir.appendingPathComponent("dev-keys")
            #expect(FileManager.default.fileExists(atPath: devKeys.appendingPathComponent("dev-keyset.json").path))
            #expect(FileManager.default.fileExists(atPath: devKeys.appendingPathComponent("dev-signing-key.pem").path))
            let feed = ["--server", target, "--data-dir", dataDir.path, "--as", "system:feed-reader", "call", "aftersale.v1.AfterSaleService/Subscribe"]
            let pastHead = try await ChildProcess.run(ctl, feed + [#"{"consumerName": "ctl", "fromCursor": "5", "stopAtHead": true}"#])
            #expect(pastHead.status == 1, "\(pastHead)")
            #expect(pastHead.stderr.contains("OUT_OF_RANGE") && pastHead.stderr.contains("from_cursor 5 is past the feed's head"), "\(pastHead.stderr)")
            let fromStart = try await ChildProcess.run(ctl, feed + [#"{"consumerName": "ctl", "fromCursor": 0, "stopAtHead": true}"#])
            #expect(fromStart.status == 0, "\(fromStart)")
            let objectForm = try await ChildProcess.run(ctl, feed + [#"{"consumerName": "ctl", "fromCursor": {"value": "0"}}"#])
            #expect(objectForm.status == 2, "\(objectForm)")
            #expect(objectForm.stderr.contains("fromCursor: google.protobuf.Int64Value is written as its bare value, not as an object"), "\(objectForm.stderr)")

            let badJSON = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.Health/Check", "{not json"])
            #expect(badJSON.status == 2, "\(badJSON)")
            #expect(badJSON.stderr.contains("bad JSON"), "\(badJSON.stderr)")

            let unknown = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.Nope/Nothing", "{}"])
            #expect(unknown.status != 0 && unknown.status != nil, "\(unknown)")
            #expect(unknown.stderr.contains("unknown method"), "\(unknown.stderr)")

            let notFound = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.Health/Check", #"{"service": "no.such.Service"}"#])
            #expect(notFound.status == 1, "\(notFound)")
            #expect(notFound.stderr.contains("NOT_FOUND"), "\(notFound.stderr)")

            let unknownOrder = try await ChildProcess.run(ctl, ["--server", target, "--data-dir", dataDir.path, "--as", "system:order-system",
                                                               "call", "aftersale.v1.OrderBridge/GetOrderAfterSaleState", #"{"orderId": "o-1"}"#])
            #expect(unknownOrder.status == 1, "\(unknownOrder)")
            #expect(unknownOrder.stderr.contains("NOT_FOUND"), "\(unknownOrder.stderr)")

            // The after-sale service is served over the data directory's store: it asks who calls,
            // and answers a known caller about an unknown case with NOT_FOUND.
            let anonymous = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.AfterSaleService/GetAfterSale", #"{"caseNumber": "AS20260101000001"}"#])
            #expect(anonymous.status == 1, "\(anonymous)")
            #expect(anonymous.stderr.contains("UNAUTHENTICATED"), "\(anonymous.stderr)")
            let unknownCase = try await ChildProcess.run(ctl, ["--server", target, "--data-dir", dataDir.path, "--as", "agent:a-1@team-x",
                                                               "call", "aftersale.v1.AfterSaleService/GetAfterSale", #"{"caseNumber": "AS20260101000001"}"#])
            #expect(unknownCase.status == 1, "\(unknownCase)")
            #expect(unknownCase.stderr.contains("NOT_FOUND"), "\(unknownCase.stderr)")
            // The stated identity of earlier versions is refused without --insecure-dev-principals.
            let stated = try await ChildProcess.run(ctl, ["--server", target, "-H", "x-caller-role=agent", "-H", "x-caller-id=a-1",
                                                          "call", "aftersale.v1.AfterSaleService/GetAfterSale", #"{"caseNumber": "AS20260101000001"}"#])
            #expect(stated.status == 1, "\(stated)")
            #expect(stated.stderr.contains("UNAUTHENTICATED") && stated.stderr.contains("--insecure-dev-principals"), "\(stated.stderr)")
            // `token` prints one token, which works as plain metadata; AFTERSALE_DATA_DIR finds the key too.
            let printed = try await ChildProcess.run(ctl, ["--as", "merchant:s-1", "token"],
                                                     environment: ["AFTERSALE_DATA_DIR": dataDir.path])
            #expect(printed.status == 0, "\(printed)")
            let token = printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.hasPrefix("v4.public.") && !token.contains(" "), "\(printed.stdout)")
            let withToken = try await ChildProcess.run(ctl, ["--server", target, "-H", "authorization=Bearer \(token)",
                                                             "call", "aftersale.v1.AfterSaleService/ListAfterSales", "{}"])
            #expect(withToken.status == 0, "\(withToken)")

            // The audit trail: the development checkpoint key and its verifier key were made in the
            // data directory; aftersalectl verifies the (empty) chain with it, as the platform only.
            let vkeyPath = devKeys.appendingPathComponent("audit-checkpoint.vkey").path
            let vkey = try String(contentsOfFile: vkeyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(vkey.hasPrefix("aftersale.local/audit+"), "\(vkey)")
            let derived = try await ChildProcess.run(ctl, ["audit", "key", "--key-file", devKeys.appendingPathComponent("audit-checkpoint-key.pem").path])
            #expect(derived.status == 0 && derived.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == vkey, "\(derived)")
            let audit = ["--server", target, "--data-dir", dataDir.path, "--as", "platform:p-1", "audit"]
            let verified = try await ChildProcess.run(ctl, audit + ["verify"])
            #expect(verified.status == 0 && verified.stdout.contains("audit chain verified: 0 records"), "\(verified)")
            let noCheckpoint = try await ChildProcess.run(ctl, audit + ["checkpoint"])
            #expect(noCheckpoint.status == 1 && noCheckpoint.stderr.contains("no checkpoint"), "\(noCheckpoint)")
            let badKey = try await ChildProcess.run(ctl, audit + ["verify", "--key", "not-a-key"])
            #expect(badKey.status == 2, "\(badKey)")
            let asAgent = try await ChildProcess.run(ctl, ["--server", target, "--data-dir", dataDir.path, "--as", "agent:a-1", "audit", "verify"])
            #expect(asAgent.status == 1 && asAgent.stderr.contains("PERMISSION_DENIED"), "\(asAgent)")
            // A data directory without a key: --as cannot mint, a usage error that says where it looked.
            let noKey = try await ChildProcess.run(ctl, ["--server", target, "--data-dir", dataDir.appendingPathComponent("nowhere").path,
                                                         "--as", "buyer:b-1", "call", "aftersale.v1.AfterSaleService/ListAfterSales", "{}"])
            #expect(noKey.status == 2, "\(noKey)")
            #expect(noKey.stderr.contains("dev-signing-key.pem"), "\(noKey.stderr)")
            // SIGHUP reloads the key set; the server keeps serving the same key.
            server.signal(SIGHUP)
            let afterReload = try await ChildProcess.run(ctl, ["--server", target, "--data-dir", dataDir.path, "--as", "buyer:b-1",
                                                               "call", "aftersale.v1.AfterSaleService/ListAfterSales", "{}"])
            #expect(afterReload.status == 0, "\(afterReload)")
            #expect(server.process.isRunning)
            #expect(FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("aftersale.sqlite3").path), "the store lives in the data directory")

            // A health watcher is open when the server is told to stop: it hears NOT_SERVING, then the end.
            let updates = Collected<ServingStatus>()
            let watch = Task {
                await rpcError {
                    for try await update in client.health.watch(healthRequest()) { updates.append(update.status) }
                }
            }
            #expect(await eventually { updates.count == 1 })

            // SIGTERM: a clean stop with status 0, well within the grace period.
            let clock = ContinuousClock()
            let start = clock.now
            server.signal(SIGTERM)
            let watchEnd = try await withTimeout(.seconds(3), "the watch to end") { await watch.value }
            #expect(updates.all == [.serving, .notServing])
            #expect(watchEnd == nil || watchEnd?.code == .unavailable, "\(String(describing: watchEnd))")
            let status = await server.waitForExit(timeout: .seconds(5))
            #expect(status == 0 && !server.exitedBySignal, "exit status \(String(describing: status)); stderr: \(server.stderr)")
            #expect(clock.now - start < .seconds(3))

            // Nobody listens any more.
            let down = try await ChildProcess.run(ctl, ["--server", target, "list"])
            #expect(down.status == 3, "unreachable server: \(down)")
        }

        @Test("aftersalectl's dispute shortcuts: a buyer opens a dispute on a rejected case, lists it, the merchant responds, the platform shows and rules it")
        func disputeShortcuts() async throws {
            let daemon = try Self.require("aftersaled")
            let ctl = try Self.require("aftersalectl")
            let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-it-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            defer { try? FileManager.default.removeItem(at: dataDir) }
            let server = try ChildProcess(daemon, ["--listen", "127.0.0.1:0", "--data-dir", dataDir.path, "--log-level", "warning"])
            defer { if server.process.isRunning { server.signal(SIGKILL) } }
            let ready = try #require(await server.waitForLine(containing: "aftersaled ready", timeout: .seconds(10)), "\(server.stderr)")
            let port = try #require(Self.port(fromReadyLine: ready))
            func ctlAs(_ who: String, _ arguments: [String], key: String? = nil) async throws -> (status: Int32?, stdout: String, stderr: String) {
                try await ChildProcess.run(ctl, ["--server", "127.0.0.1:\(port)", "--data-dir", dataDir.path, "--as", who]
                                           + (key.map { ["-H", "idempotency-key=\($0)"] } ?? []) + arguments)
            }
            func json(_ message: some ProtoMessage) throws -> String {
                try ProtoJSON.decode(message.serializedBytes(), as: try #require(DescriptorIndex.message(named: type(of: message).protoName)))
            }
            // A return case, rejected by the merchant (through `call`).
            let upserted = try await ctlAs("system:order-system", ["call", "aftersale.v1.OrderBridge/UpsertOrder",
                                                                    try json(TestOrder(id: "o-ctl", status: .delivered).upsertRequest())])
            #expect(upserted.status == 0, "\(upserted)")
            let created = try await ctlAs("buyer:b-1", ["call", "aftersale.v1.AfterSaleService/CreateAfterSale",
                                                        try json(Requests.create(order: "o-ctl", kind: .returnAndRefund, reason: "no_reason_7_days",
                                                                                 lines: [("l-3", 1)]))], key: "ctl-dispute-1")
            #expect(created.status == 0, "\(created)")
            let number = try #require(created.stdout.firstMatch(of: /"caseNumber": "(AS\d+)"/)?.1).description
            let rejected = try await ctlAs("merchant:s-1", ["call", "aftersale.v1.AfterSaleService/ReviewAfterSale",
                                                            #"{"caseNumber": "\#(number)", "decision": "REVIEW_DECISION_REJECT", "rejectionReason": "worn"}"#])
            #expect(rejected.status == 0, "\(rejected)")
            // The shortcuts.
            let opened = try await ctlAs("buyer:b-1", ["dispute", "open", number, "--grounds", "after_rejection", "--statement", "全新未穿"])
            #expect(opened.status == 0, "\(opened)")
            let id = "DP" + number.filter(\.isNumber)
            #expect(opened.stdout.contains(#""disputeId": "\#(id)""#) && opened.stdout.contains("DISPUTE_STATUS_AWAITING_MERCHANT"), "\(opened.stdout)")
            let listed = try await ctlAs("buyer:b-1", ["dispute", "list", "--status", "awaiting_merchant"])
            #expect(listed.status == 0, "\(listed)")
            let lines = listed.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("DISPUTE") == true && lines.count == 2, "\(listed.stdout)")
            #expect(lines.last?.contains(id) == true && lines.last?.contains("awaiting_merchant  after_rejection") == true, "\(listed.stdout)")
            let none = try await ctlAs("merchant:s-1", ["dispute", "list", "--status", "final"])
            #expect(none.status == 0 && none.stdout.split(separator: "\n").count == 1, "\(none)")
            let responded = try await ctlAs("merchant:s-1", ["dispute", "respond", id, "--text", "视频显示已穿过"])
            #expect(responded.status == 0 && responded.stdout.contains("DISPUTE_STATUS_UNDER_REVIEW"), "\(responded)")
            let shown = try await ctlAs("platform:p-1", ["dispute", "show", id])
            #expect(shown.status == 0 && shown.stdout.contains("merchant_responded") && shown.stdout.contains(#""ticketId": "TK\#(id)""#), "\(shown)")
            let ruled = try await ctlAs("platform:p-1", ["dispute", "rule", id, "--outcome", "for_buyer", "--amount", "900", "--reason", "new goods"])
            #expect(ruled.status == 0 && ruled.stdout.contains("DISPUTE_STATUS_RULED") && ruled.stdout.contains(#""refundId": "RF"#), "\(ruled)")
            // Refusals keep the CLI's exit codes: a status is 1, bad usage 2.
            let buyerRules = try await ctlAs("buyer:b-1", ["dispute", "rule", id, "--outcome", "for_buyer", "--reason", "mine"])
            #expect(buyerRules.status == 1 && buyerRules.stderr.contains("PERMISSION_DENIED"), "\(buyerRules)")
            let noOutcome = try await ctlAs("platform:p-1", ["dispute", "rule", id, "--reason", "x"])
            #expect(noOutcome.status == 2 && noOutcome.stderr.contains("--outcome"), "\(noOutcome)")
            let badGrounds = try await ctlAs("buyer:b-1", ["dispute", "open", number, "--grounds", "bored", "--statement", "x"])
            #expect(badGrounds.status == 2 && badGrounds.stderr.contains("after_rejection, merchant_overdue, guarantee"), "\(badGrounds)")
            let noSubcommand = try await ctlAs("buyer:b-1", ["dispute"])
            #expect(noSubcommand.status == 2, "\(noSubcommand)")
        }

        @Test("aftersalectl rejects bad usage with exit status 2, and aftersaled rejects unknown options")
        func usageErrors() async throws {
            let daemon = try Self.require("aftersaled")
            let ctl = try Self.require("aftersalectl")

            let noCommand = try await ChildProcess.run(ctl, ["--server", "127.0.0.1:1"])
            #expect(noCommand.status == 2)
            let badCommand = try await ChildProcess.run(ctl, ["--server", "127.0.0.1:1", "frobnicate"])
            #expect(badCommand.status == 2)
            #expect(badCommand.stderr.contains("unknown command"))
            let badServer = try await ChildProcess.run(ctl, ["--server", "not-an-address", "list"])
            #expect(badServer.status == 2)

            let badOption = try await ChildProcess.run(daemon, ["--no-such-option", "1"])
            #expect(badOption.status == 2, "\(badOption)")
            #expect(badOption.stderr.contains("unknown option"))
        }
    }
}
