import AfterSaleClient
import AfterSaleProto
import Foundation
import RPCTransport
import RPCWire
import Synchronization

// aftersale-bench: C connections × D calls in flight for T seconds through the client module.
// The last line is machine-readable: calls/s=N p50_us=N p99_us=N p999_us=N errors=N

struct BenchOptions {
    var server = "127.0.0.1:7400"
    var connections = 1
    var inflight = 1
    var duration = 5.0
    var warmup = 1.0
    var method: String?
    /// Event loop threads for the connections; 0 means min(connections, 2), like the C reference client.
    var loops = 0
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("aftersale-bench: \(message)\n".utf8))
    exit(2)
}

func parse() -> BenchOptions {
    var o = BenchOptions()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        guard let v = args.popFirst() else { fail("\(a) needs a value") }
        switch a {
        case "--server": o.server = v
        case "--connections": o.connections = Int(v) ?? 0
        case "--inflight": o.inflight = Int(v) ?? 0
        case "--duration": o.duration = Double(v) ?? 0
        case "--warmup": o.warmup = Double(v) ?? -1
        case "--method": o.method = v
        case "--loops": o.loops = Int(v) ?? -1
        default: fail("unknown option \(a); usage: aftersale-bench --server HOST:PORT --connections C --inflight D --duration SECONDS [--method NAME] [--warmup SECONDS] [--loops N]")
        }
    }
    guard o.connections > 0, o.inflight > 0, o.duration > 0, o.warmup >= 0, o.loops >= 0 else {
        fail("--connections, --inflight and --duration must be positive, --loops at least 0")
    }
    if o.loops == 0 { o.loops = min(o.connections, 2) }
    return o
}

/// Latencies of one worker, in nanoseconds, and its error count.
final class Samples: @unchecked Sendable {
    var latencies: [UInt64] = []
    var errors = 0
    var firstError: String?
}

let options = parse()
let path: String = {
    guard let m = options.method else { return Health.check.path }
    return m.hasPrefix("/") ? m : "/" + m
}()
let payload: [UInt8] = options.method == nil ? HealthCheckRequest().serializedBytes() : []

var loops: [EventLoop] = []
for i in 0..<options.loops {
    do { loops.append(try EventLoop(name: "bench-loop-\(i)")) } catch { fail("\(error)") }
}
let clients: [RPCClient] = (0..<options.connections).map { i in
    var config = ClientConfiguration()
    config.loop = loops[i % loops.count]
    do { return try RPCClient(target: options.server, configuration: config) } catch { fail("\(error)") }
}

let start = MonotonicClock.nanos()
let windowStart = start + UInt64(options.warmup * 1e9)
let windowEnd = windowStart + UInt64(options.duration * 1e9)

let allSamples = await withTaskGroup(of: Samples.self) { group in
    for (index, client) in clients.enumerated() {
        // Each worker runs on its connection's event loop: a response resumes the waiting call on
        // the thread that read it, with no hop through the global pool.
        let loop = loops[index % loops.count]
        for _ in 0..<options.inflight {
            group.addTask(executorPreference: loop) {
                let s = Samples()
                s.latencies.reserveCapacity(1 << 16)
                while true {
                    let t0 = MonotonicClock.nanos()
                    if t0 >= windowEnd { break }
                    do {
                        _ = try await client.call(path: path, payload: payload)
                        let t1 = MonotonicClock.nanos()
                        if t0 >= windowStart && t1 <= windowEnd { s.latencies.append(t1 - t0) }
                    } catch {
                        if t0 >= windowStart { s.errors += 1 }
                        if s.firstError == nil { s.firstError = "\(error)" }
                        if (error as? RPCError)?.code == .unavailable { try? await Task.sleep(for: .milliseconds(10)) }
                    }
                }
                return s
            }
        }
    }
    var all: [Samples] = []
    for await s in group { all.append(s) }
    return all
}

let latencies = allSamples.flatMap { $0.latencies }.sorted()
let errors = allSamples.reduce(0) { $0 + $1.errors }
func percentile(_ q: Double, _ latencies: [UInt64]) -> UInt64 {
    guard !latencies.isEmpty else { return 0 }
    var rank = Int((q * Double(latencies.count)).rounded(.up))
    rank = min(max(rank, 1), latencies.count)
    return latencies[rank - 1] / 1000
}
if let firstError = allSamples.compactMap({ $0.firstError }).first {
    FileHandle.standardError.write(Data("aftersale-bench: first error: \(firstError)\n".utf8))
}
let rate = Int((Double(latencies.count) / options.duration).rounded())
print("server=\(options.server) method=\(path) connections=\(options.connections) inflight=\(options.inflight) duration_s=\(options.duration) calls=\(latencies.count)")
print("calls/s=\(rate) p50_us=\(percentile(0.5, latencies)) p99_us=\(percentile(0.99, latencies)) p999_us=\(percentile(0.999, latencies)) errors=\(errors)")
