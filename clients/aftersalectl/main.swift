import AfterSaleClient
import AfterSaleProto
import Foundation
import ProtoRuntime
import RPCWire
import SignedTokens

// aftersalectl: grpcurl for aftersale. Lists services and methods, describes services, methods,
// messages and enums, and calls any method with a JSON request, printing the JSON response.
//
// Exit codes: 0 success, 1 the call ended with a non-OK status, 2 bad usage or input,
// 3 the server could not be reached.

let usage = """
usage: aftersalectl [--server HOST:PORT] [--timeout SECONDS] [-H key=value]... [--as ROLE:ID[@TEAM]] [--data-dir PATH]
                   [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME] COMMAND
  list                         services and their methods
  describe NAME                a service, a method, a message type or an enum type
  call METHOD 'JSON'           call a method; METHOD as aftersale.v1.Health/Check or /aftersale.v1.Health/Check;
                               JSON '-' reads the request from standard input
  token                        print one development token for --as (to send with -H "authorization=Bearer ...")
  audit verify [--key VKEY|FILE] [--checkpoint FILE]...
                               recompute the audit chain (needs --as platform:ID or a platform token) and check
                               every stored checkpoint, and each FILE kept outside, against the checkpoint key;
                               --key defaults to the development key's DATA_DIR/dev-keys/audit-checkpoint.vkey
  audit checkpoint             print the latest signed checkpoint (to keep outside the database)
  stats --from YYYY-MM-DD --to YYYY-MM-DD [--by day|kind|reason|category|shop] [--shop ID | --team NAME] [--csv]
                               statistics (GetStatistics) as tables, or as CSV (one row per group, then the total)
  audit key --key-file PEM [--origin NAME]
                               print the verifier key of a checkpoint signing key (origin default aftersale.local/audit)
  dispute open CASE --grounds after_rejection|merchant_overdue|guarantee --statement TEXT
  dispute list [--status STATUS]... [--buyer ID] [--shop ID] [--page-size N] [--page-token TOKEN]
  dispute show DISPUTE_ID
  dispute respond DISPUTE_ID --text TEXT
  dispute rule DISPUTE_ID --outcome for_buyer|for_merchant|mediated --reason TEXT [--amount MINOR_UNITS [--currency CNY]]
                               disputes (维权, aftersale.v1.Disputes) without writing JSON: open one on a case, list
                               them (a line each: id, case, status, grounds, next deadline), show one, make a party's
                               statement (SubmitStatement), rule (RuleDispute); the others print the dispute as JSON.
                               Evidence, evidence requests and appeals: `call` aftersale.v1.Disputes/...
Calling as someone: --as ROLE:ID mints a short-lived (5 minute) token with the development key that
aftersaled made in its data directory (--data-dir, default ./data: dev-keys/dev-signing-key.pem).
ROLE is buyer, merchant, agent, platform or system; a merchant's ID is its shop (merchant:s-1); an
agent may name a team (agent:a-1@team-x). --audience NAME names the service (default aftersale).
TLS 1.3: --tls-ca FILE trusts the CAs in that PEM file for the server's certificate; --tls-cert and
--tls-key present a client certificate (mutual TLS; without --tls-ca the system's CAs are trusted);
--tls-server-name NAME is the name the server's certificate must carry (default: the --server host).
Any of them turns TLS on; without them the connection is plain TCP.
Environment: AFTERSALE_SERVER (default 127.0.0.1:7400), AFTERSALE_DATA_DIR, AFTERSALE_TOKEN_AUDIENCE,
AFTERSALE_TLS_CA, AFTERSALE_TLS_CLIENT_CERT, AFTERSALE_TLS_CLIENT_KEY, AFTERSALE_TLS_SERVER_NAME
"""

func exitWith(_ code: Int32, _ message: String) -> Never {
    FileHandle.standardError.write(Data("aftersalectl: \(message)\n".utf8))
    exit(code)
}

var server = ProcessInfo.processInfo.environment["AFTERSALE_SERVER"] ?? "127.0.0.1:7400"
var timeout: Duration = .seconds(10)
var timeoutGiven = false
var metadata = Metadata()
var identity: CallerIdentity?
var dataDirectory = ProcessInfo.processInfo.environment["AFTERSALE_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
var audience = ProcessInfo.processInfo.environment["AFTERSALE_TOKEN_AUDIENCE"].flatMap { $0.isEmpty ? nil : $0 } ?? "aftersale"
func environment(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}
var tlsCA = environment("AFTERSALE_TLS_CA")
var tlsCertificate = environment("AFTERSALE_TLS_CLIENT_CERT")
var tlsKey = environment("AFTERSALE_TLS_CLIENT_KEY")
var tlsServerName = environment("AFTERSALE_TLS_SERVER_NAME")
var words: [String] = []
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--server":
        guard let v = args.popFirst() else { exitWith(2, "--server needs HOST:PORT") }
        server = v
    case "--timeout":
        guard let v = args.popFirst(), let s = Double(v), s > 0 else { exitWith(2, "--timeout needs a number of seconds") }
        timeout = .milliseconds(Int64(s * 1000))
        timeoutGiven = true
    case "-H", "--metadata":
        guard let v = args.popFirst(), let eq = v.firstIndex(of: "=") else { exitWith(2, "-H needs key=value") }
        metadata.add(String(v[..<eq]), String(v[v.index(after: eq)...]))
    case "--as":
        guard let v = args.popFirst(), let parsed = CallerIdentity(parsing: v) else {
            exitWith(2, "--as needs ROLE:ID or ROLE:ID@TEAM, ROLE one of \(CallerIdentity.roles.joined(separator: ", "))")
        }
        identity = parsed
    case "--data-dir":
        guard let v = args.popFirst(), !v.isEmpty else { exitWith(2, "--data-dir needs a PATH") }
        dataDirectory = v
    case "--audience":
        guard let v = args.popFirst(), !v.isEmpty else { exitWith(2, "--audience needs a NAME") }
        audience = v
    case "--tls-ca":
        guard let v = args.popFirst(), !v.isEmpty else { exitWith(2, "--tls-ca needs a FILE") }
        tlsCA = v
    case "--tls-cert":
        guard let v = args.popFirst(), !v.isEmpty else { exitWith(2, "--tls-cert needs a FILE") }
        tlsCertificate = v
    case "--tls-key":
        guard let v = args.popFirst(), !v.isEmpty else { exitWith(2, "--tls-key needs a FILE") }
        tlsKey = v
    case "--tls-server-name":
        guard let v = args.popFirst(), !v.isEmpty else { exitWith(2, "--tls-server-name needs a NAME") }
        tlsServerName = v
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        words.append(a)
    }
}

/// The minter of `--as` tokens, from the development key in the data directory.
@MainActor
func developmentTokens(for identity: CallerIdentity) -> MintingTokenProvider {
    do {
        return try MintingTokenProvider.development(dataDirectory: dataDirectory, audience: audience, identity: identity)
    } catch {
        exitWith(2, "--as needs the development key of the server's data directory: \(error) "
                 + "(start aftersaled on that data directory first, or give --data-dir / AFTERSALE_DATA_DIR)")
    }
}

if words.first == "token" {
    guard words.count == 1 else { exitWith(2, "token takes no arguments\n\(usage)") }
    guard let identity else { exitWith(2, "token needs --as ROLE:ID") }
    do { print(try developmentTokens(for: identity).token()) } catch { exitWith(2, "cannot mint a token: \(error)") }
    exit(0)
}

/// Reads a flag's value from `words` (after the subcommand): every `flag VALUE` pair, in order.
func flagValues(_ flag: String, in words: ArraySlice<String>) -> [String] {
    var values: [String] = []
    var rest = words
    while let word = rest.popFirst() {
        if word == flag, let value = rest.popFirst() { values.append(value) }
    }
    return values
}

if words.first == "audit", words.dropFirst().first == "key" {
    guard let path = flagValues("--key-file", in: words.dropFirst(2)).last else { exitWith(2, "audit key needs --key-file PEM") }
    let origin = flagValues("--origin", in: words.dropFirst(2)).last ?? "aftersale.local/audit"
    do {
        print(try NoteSigner(name: origin, privateKey: Ed25519PrivateKey.read(pemFile: path)).verifierKey)
    } catch {
        exitWith(2, "cannot read the key: \(error)")
    }
    exit(0)
}

var clientConfiguration = ClientConfiguration()
if let identity { clientConfiguration.tokenProvider = developmentTokens(for: identity) }
if tlsCA != nil || tlsCertificate != nil || tlsKey != nil || tlsServerName != nil {
    do {
        clientConfiguration.tls = try ClientTLS(trustRootsFile: tlsCA, certificateFile: tlsCertificate, keyFile: tlsKey,
                                                serverName: tlsServerName)
    } catch {
        exitWith(2, "--tls-ca/--tls-cert/--tls-key: \(error.message)")
    }
}
let client: RPCClient
do { client = try RPCClient(target: server, configuration: clientConfiguration) } catch { exitWith(2, "\(error.message)") }
let options = CallOptions(timeout: timeout, metadata: metadata)

func services() async -> [ServiceInfo] {
    do {
        return try await client.reflection.listServices(ListServicesRequest(), options: options).services
    } catch {
        exitWith(error.code == .unavailable ? 3 : 1, "cannot list services: \(error)")
    }
}

/// Finds a method by "pkg.Service/Method" or "/pkg.Service/Method".
func findMethod(_ name: String, in services: [ServiceInfo]) -> MethodInfo? {
    let path = name.hasPrefix("/") ? name : "/" + name
    return services.lazy.flatMap(\.methods).first { $0.path == path }
}

func printStatusError(_ error: RPCError) -> Never {
    FileHandle.standardError.write(Data("ERROR:\n  Code: \(error.code.name) (\(error.code.rawValue))\n  Message: \(error.message)\n".utf8))
    exit(1)
}

func describeMessage(_ name: String) async -> Bool {
    let response: DescribeMessageResponse
    do {
        var request = DescribeMessageRequest()
        request.name = name
        response = try await client.reflection.describeMessage(request, options: options)
    } catch {
        if error.code == .notFound { return false }
        printStatusError(error)
    }
    print("message \(response.name) {")
    for f in response.fields {
        let type = f.typeName.isEmpty ? f.type : f.typeName
        let form = wrapperJSONForm(f.typeName).map { ", " + $0 } ?? ""
        print("  \(f.repeated ? "repeated " : "")\(type) \(f.name) = \(f.number);  // JSON: \(f.jsonName)\(form)")
    }
    print("}")
    return true
}

/// How the JSON mapping writes a field of a google.protobuf wrapper type (its bare value); nil for
/// other types.
func wrapperJSONForm(_ typeName: String) -> String? {
    guard typeName.hasPrefix("google.protobuf."), let d = DescriptorIndex.message(named: typeName),
          let value = DescriptorIndex.fields(of: d).first, value.name == "value" else { return nil }
    let form = switch value.type {
    case "int64", "uint64": #"a string such as "3""#
    case "bool": "true or false"
    case "string": "a string"
    case "bytes": "base64"
    default: "a number"
    }
    return "the bare \(value.type): \(form), or null when absent"
}

/// Prints an enum type from the descriptors compiled into this aftersalectl (the same ones `call`
/// encodes JSON with); false when there is no enum of that name.
func describeEnum(_ name: String) -> Bool {
    guard let d = DescriptorIndex.enumeration(named: name) else { return false }
    print("enum \(name) {  // JSON: the value name, or its number")
    for v in DescriptorIndex.values(of: d) { print("  \(v.name) = \(v.number);") }
    print("}")
    return true
}

switch words.first {
case "list":
    guard words.count == 1 else { exitWith(2, "list takes no arguments\n\(usage)") }
    for s in await services() {
        print(s.name)
        for m in s.methods {
            var notes: [String] = []
            if m.serverStreaming { notes.append("server-streaming") }
            if m.unimplemented { notes.append("not implemented yet") }
            print("  \(s.name)/\(m.name)\(notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")")")
        }
    }

case "describe":
    guard words.count == 2 else { exitWith(2, "describe takes one NAME\n\(usage)") }
    let name = words[1]
    let all = await services()
    if let s = all.first(where: { $0.name == name }) {
        print("service \(s.name) {")
        for m in s.methods {
            print("  rpc \(m.name)(\(m.requestType)) returns (\(m.serverStreaming ? "stream " : "")\(m.responseType));\(m.unimplemented ? "  // not implemented yet" : "")")
        }
        print("}")
    } else if let m = findMethod(name, in: all) {
        print("rpc \(m.name)(\(m.requestType)) returns (\(m.serverStreaming ? "stream " : "")\(m.responseType));  // \(m.path)")
    } else if await describeMessage(name.hasPrefix(".") ? String(name.dropFirst()) : name) {
        break
    } else if describeEnum(name.hasPrefix(".") ? String(name.dropFirst()) : name) {
        break
    } else {
        exitWith(2, "no service, method, message or enum named '\(name)'; try 'aftersalectl list'")
    }

case "call":
    guard words.count == 2 || words.count == 3 else { exitWith(2, "call takes METHOD and a JSON request\n\(usage)") }
    var json = words.count == 3 ? words[2] : "{}"
    if json == "-" { json = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
    let all = await services()
    guard let method = findMethod(words[1], in: all) else {
        exitWith(2, "unknown method '\(words[1])'; try 'aftersalectl list'")
    }
    guard let requestType = DescriptorIndex.message(named: method.requestType),
          let responseType = DescriptorIndex.message(named: method.responseType) else {
        exitWith(2, "this aftersalectl does not know the types of \(method.path) (\(method.requestType)); rebuild it")
    }
    let payload: [UInt8]
    do { payload = try ProtoJSON.encode(json: json, as: requestType) } catch { exitWith(2, "bad JSON request for \(method.requestType): \(error)") }
    do {
        if method.serverStreaming {
            // One JSON document per message, written at once so a pipe sees each as it arrives.
            // A stream runs until the server ends it or Ctrl-C, unless --timeout says otherwise.
            let streamOptions = CallOptions(timeout: timeoutGiven ? timeout : nil, metadata: metadata)
            for try await message in client.callStream(path: method.path, payload: payload, options: streamOptions) {
                FileHandle.standardOutput.write(Data((try ProtoJSON.decode(message, as: responseType) + "\n").utf8))
            }
        } else {
            let response = try await client.call(path: method.path, payload: payload, options: options)
            print(try ProtoJSON.decode(response, as: responseType))
        }
    } catch let error as RPCError {
        printStatusError(error)
    } catch {
        exitWith(1, "\(error)")
    }

case "audit" where words.dropFirst().first == "verify":
    let rest = words.dropFirst(2)
    let keyText = flagValues("--key", in: rest).last ?? (dataDirectory + "/dev-keys/audit-checkpoint.vkey")
    // A verifier key itself, or a file holding one.
    let vkey = FileManager.default.fileExists(atPath: keyText)
        ? String(decoding: FileManager.default.contents(atPath: keyText) ?? Data(), as: UTF8.self) : keyText
    let key: NoteVerifier
    do { key = try NoteVerifier(verifierKey: vkey) } catch { exitWith(2, "--key: \(error)") }
    var external: [String] = []
    for path in flagValues("--checkpoint", in: rest) {
        guard let data = FileManager.default.contents(atPath: path) else { exitWith(2, "cannot read the checkpoint file \(path)") }
        external.append(String(decoding: data, as: UTF8.self))
    }
    do {
        let report = try await AuditVerifier(key: key).verify(client.audit, external: external, options: options)
        print("audit chain verified: \(report.records) records, head \(Data(report.headHash).base64EncodedString()), "
              + "\(report.checkpointsMatched) signed checkpoint(s) matched")
        if report.checkpointsMatched == 0 {
            FileHandle.standardError.write(Data("aftersalectl: warning: no signed checkpoint covered the chain; only the stored hashes were checked\n".utf8))
        }
    } catch {
        if case .call(let rpc) = error { exitWith(rpc.code == .unavailable ? 3 : 1, "\(error)") }
        exitWith(1, "\(error)")
    }

case "audit" where words.dropFirst().first == "checkpoint":
    var request = ListAuditCheckpointsRequest()
    request.latestOnly = true
    do {
        guard let latest = try await client.audit.listAuditCheckpoints(request, options: options).checkpoints.first else {
            exitWith(1, "no checkpoint has been signed yet")
        }
        print(latest.note, terminator: "")
    } catch {
        printStatusError(error)
    }

case "stats":
    let rest = words.dropFirst()
    var request = GetStatisticsRequest()
    guard let from = flagValues("--from", in: rest).last, let to = flagValues("--to", in: rest).last else {
        exitWith(2, "stats needs --from YYYY-MM-DD and --to YYYY-MM-DD")
    }
    request.fromDate = from
    request.toDate = to
    let by = flagValues("--by", in: rest).last ?? "day"
    guard let groupBy = StatisticsGroupBy.allCases.first(where: { $0 != .unspecified && $0.description == "STATISTICS_GROUP_BY_" + by.uppercased() })
    else { exitWith(2, "--by: day, kind, reason, category or shop") }
    request.groupBy = groupBy
    request.shopId = flagValues("--shop", in: rest).last ?? ""
    request.team = flagValues("--team", in: rest).last ?? ""
    do {
        let response = try await client.statistics.getStatistics(request, options: options)
        print(StatisticsTables.render(response, csv: rest.contains("--csv")), terminator: "")
    } catch {
        printStatusError(error)
    }

case "dispute":
    await disputeCommand(words.dropFirst())

case nil:
    exitWith(2, "no command\n\(usage)")
default:
    exitWith(2, "unknown command '\(words[0])'\n\(usage)")
}

// MARK: - dispute

/// The value of an enum flag: `value` in lower snake case names the case whose wire name is
/// `prefix` + its upper case (`after_rejection` → `DISPUTE_GROUNDS_AFTER_REJECTION`).
func enumFlag<E: CaseIterable & CustomStringConvertible & Equatable>(_ value: String, _ type: E.Type, prefix: String,
                                                                     flag: String) -> E {
    guard let found = E.allCases.first(where: { $0.description == prefix + value.uppercased() && !$0.description.hasSuffix("_UNSPECIFIED") })
    else {
        let names = E.allCases.map(\.description).filter { !$0.hasSuffix("_UNSPECIFIED") }
            .map { $0.dropFirst(prefix.count).lowercased() }
        exitWith(2, "\(flag): one of \(names.joined(separator: ", "))")
    }
    return found
}

/// Prints `message` as JSON (the form `call` prints).
func printJSON<M: ProtoMessage>(_ message: M) {
    guard let type = DescriptorIndex.message(named: M.protoName) else { exitWith(2, "this aftersalectl does not know \(M.protoName); rebuild it") }
    do { print(try ProtoJSON.decode(message.serializedBytes(), as: type)) } catch { exitWith(1, "cannot print the response: \(error)") }
}

/// A date for the dispute list: UTC, to the minute; "-" for none.
func minuteText(_ unixMs: Int64) -> String {
    guard unixMs > 0 else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm'Z'"
    return formatter.string(from: Date(timeIntervalSince1970: Double(unixMs) / 1000))
}

/// `dispute open|list|show|respond|rule`: shortcuts for aftersale.v1.Disputes.
func disputeCommand(_ words: ArraySlice<String>) async {
    let rest = words.dropFirst()
    /// The one positional argument after the subcommand (a flag's value is not one).
    func positional(_ what: String) -> String {
        var args = rest
        var found: [String] = []
        while let word = args.popFirst() {
            if word.hasPrefix("--") { _ = args.popFirst() } else { found.append(word) }
        }
        guard found.count == 1, let value = found.first else { exitWith(2, "dispute \(words.first ?? "") needs one \(what)\n\(usage)") }
        return value
    }
    func required(_ flag: String) -> String {
        guard let value = flagValues(flag, in: rest).last, !value.isEmpty else { exitWith(2, "dispute \(words.first ?? "") needs \(flag)") }
        return value
    }
    do {
        switch words.first {
        case "open":
            var request = OpenDisputeRequest()
            request.caseNumber = positional("CASE")
            request.grounds = enumFlag(required("--grounds"), DisputeGrounds.self, prefix: "DISPUTE_GROUNDS_", flag: "--grounds")
            request.statement = required("--statement")
            printJSON(try await client.disputes.openDispute(request, options: options))
        case "list":
            var request = ListDisputesRequest()
            request.statuses = flagValues("--status", in: rest).map {
                enumFlag($0, DisputeStatus.self, prefix: "DISPUTE_STATUS_", flag: "--status")
            }
            request.buyerId = flagValues("--buyer", in: rest).last ?? ""
            request.shopId = flagValues("--shop", in: rest).last ?? ""
            if let size = flagValues("--page-size", in: rest).last {
                guard let n = Int32(size), n > 0 else { exitWith(2, "--page-size needs a positive number") }
                request.pageSize = n
            }
            request.pageToken = flagValues("--page-token", in: rest).last ?? ""
            let response = try await client.disputes.listDisputes(request, options: options)
            let rows = [["DISPUTE", "CASE", "STATUS", "GROUNDS", "NEXT DEADLINE"]] + response.disputes.map { d in
                [d.disputeId, d.caseNumber, d.status.description.replacingOccurrences(of: "DISPUTE_STATUS_", with: "").lowercased(),
                 d.grounds.description.replacingOccurrences(of: "DISPUTE_GROUNDS_", with: "").lowercased(), minuteText(d.nextDeadlineUnixMs)]
            }
            let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces))
            }
            if !response.nextPageToken.isEmpty { print("next page: --page-token \(response.nextPageToken)") }
        case "show":
            var request = GetDisputeRequest()
            request.disputeId = positional("DISPUTE_ID")
            printJSON(try await client.disputes.getDispute(request, options: options))
        case "respond":
            var request = SubmitStatementRequest()
            request.disputeId = positional("DISPUTE_ID")
            request.text = required("--text")
            printJSON(try await client.disputes.submitStatement(request, options: options))
        case "rule":
            var request = RuleDisputeRequest()
            request.disputeId = positional("DISPUTE_ID")
            request.outcome = enumFlag(required("--outcome"), DisputeOutcome.self, prefix: "DISPUTE_OUTCOME_", flag: "--outcome")
            request.reason = required("--reason")
            if let amount = flagValues("--amount", in: rest).last {
                guard let minor = Int64(amount), minor >= 0 else { exitWith(2, "--amount needs a number of minor units") }
                var money = Money()
                money.amountMinor = minor
                money.currency = flagValues("--currency", in: rest).last ?? "CNY"
                request.amount = money
            }
            printJSON(try await client.disputes.ruleDispute(request, options: options))
        default:
            exitWith(2, "dispute needs open, list, show, respond or rule\n\(usage)")
        }
    } catch {
        if error.code == .unavailable { exitWith(3, "\(error)") }
        printStatusError(error)
    }
}
