import AfterSaleClient
import AfterSaleProto
import Foundation
import ProtoRuntime
import RPCWire

// aftersalectl: grpcurl for aftersale. Lists services and methods, describes services, methods,
// messages and enums, and calls any method with a JSON request, printing the JSON response.
//
// Exit codes: 0 success, 1 the call ended with a non-OK status, 2 bad usage or input,
// 3 the server could not be reached.

let usage = """
usage: aftersalectl [--server HOST:PORT] [--timeout SECONDS] [-H key=value]... COMMAND
  list                         services and their methods
  describe NAME                a service, a method, a message type or an enum type
  call METHOD 'JSON'           call a method; METHOD as aftersale.v1.Health/Check or /aftersale.v1.Health/Check;
                               JSON '-' reads the request from standard input
Environment: AFTERSALE_SERVER (default 127.0.0.1:7400)
"""

func exitWith(_ code: Int32, _ message: String) -> Never {
    FileHandle.standardError.write(Data("aftersalectl: \(message)\n".utf8))
    exit(code)
}

var server = ProcessInfo.processInfo.environment["AFTERSALE_SERVER"] ?? "127.0.0.1:7400"
var timeout: Duration = .seconds(10)
var timeoutGiven = false
var metadata = Metadata()
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
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        words.append(a)
    }
}

let client: RPCClient
do { client = try RPCClient(target: server) } catch { exitWith(2, "\(error.message)") }
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

case nil:
    exitWith(2, "no command\n\(usage)")
default:
    exitWith(2, "unknown command '\(words[0])'\n\(usage)")
}
