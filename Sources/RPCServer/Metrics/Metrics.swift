import RPCWire
import Synchronization

/// Per-method call counts, error counts by status code and latency histograms, rendered in the
/// Prometheus text format.
///
/// Recording takes one of a few sharded locks (one per event loop), so the I/O threads do not
/// contend on a single counter.
public final class CallMetrics: Sendable {
    /// Upper bounds of the latency buckets, in microseconds.
    static let bucketBoundsMicros: [UInt64] = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000,
                                               250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000]
    private let methodNames: [String]
    private let shards: [Shard]

    final class Shard: Sendable {
        let table: Mutex<Table>
        init(_ table: Table) { self.table = Mutex(table) }
    }

    /// Flat arrays (one allocation each) indexed by method, so recording touches no nested array.
    struct Table {
        static let codeSlots = 18
        static let bucketSlots = CallMetrics.bucketBoundsMicros.count + 1
        /// [method × 18 + code] (codes 0...16, 17 = other).
        var calls: [UInt64]
        /// [method × buckets + bucket]; the last bucket of each method is +Inf.
        var buckets: [UInt64]
        var sumMicros: [UInt64]

        init(methods: Int) {
            calls = Array(repeating: 0, count: methods * Self.codeSlots)
            buckets = Array(repeating: 0, count: methods * Self.bucketSlots)
            sumMicros = Array(repeating: 0, count: methods)
        }
    }

    /// `methodNames` are the served paths by route index; one more slot counts unknown methods.
    init(methodNames: [String], shards: Int) {
        self.methodNames = methodNames + ["unknown"]
        self.shards = (0..<max(1, shards)).map { _ in Shard(Table(methods: methodNames.count + 1)) }
    }

    var unknownIndex: Int { methodNames.count - 1 }

    func record(shard: Int, method: Int, code: StatusCode, micros: UInt64) {
        let codeSlot = code.rawValue >= 0 && code.rawValue <= 16 ? Int(code.rawValue) : 17
        var bucket = Self.bucketBoundsMicros.count
        for (i, bound) in Self.bucketBoundsMicros.enumerated() where micros <= bound { bucket = i; break }
        shards[shard % shards.count].table.withLock { t in
            t.calls[method * Table.codeSlots + codeSlot] &+= 1
            t.buckets[method * Table.bucketSlots + bucket] &+= 1
            t.sumMicros[method] &+= micros
        }
    }

    /// Calls of one method with one status so far (for tests and the CLI).
    public func count(method path: String, code: StatusCode) -> UInt64 {
        guard let m = methodNames.firstIndex(of: path) else { return 0 }
        let slot = code.rawValue >= 0 && code.rawValue <= 16 ? Int(code.rawValue) : 17
        return shards.reduce(0) { total, shard in total + shard.table.withLock { $0.calls[m * Table.codeSlots + slot] } }
    }

    /// The Prometheus exposition text.
    public func render() -> String {
        var total = Table(methods: methodNames.count)
        for shard in shards {
            shard.table.withLock { t in
                for i in 0..<t.calls.count { total.calls[i] += t.calls[i] }
                for i in 0..<t.buckets.count { total.buckets[i] += t.buckets[i] }
                for i in 0..<t.sumMicros.count { total.sumMicros[i] += t.sumMicros[i] }
            }
        }
        var out = ""
        // Calls by status, then the same counts without OK: errors by status.
        for (name, help, firstCode) in [("aftersale_rpc_calls_total", "RPC calls handled, by method and status code.", 0),
                                        ("aftersale_rpc_errors_total", "RPC calls that ended with a non-OK status, by method and code.", 1)] {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for m in 0..<methodNames.count {
                for c in firstCode..<Table.codeSlots where total.calls[m * Table.codeSlots + c] > 0 {
                    let code = c == 17 ? "OTHER" : StatusCode(rawValue: Int32(c)).name
                    out += "\(name){method=\"\(methodNames[m])\",code=\"\(code)\"} \(total.calls[m * Table.codeSlots + c])\n"
                }
            }
        }
        out += "# HELP aftersale_rpc_duration_seconds Time from receiving a request to queueing its final response.\n"
        out += "# TYPE aftersale_rpc_duration_seconds histogram\n"
        for m in 0..<methodNames.count {
            let row = total.buckets[(m * Table.bucketSlots)..<((m + 1) * Table.bucketSlots)]
            let count = row.reduce(0, +)
            guard count > 0 else { continue }
            var cumulative: UInt64 = 0
            for (i, bound) in Self.bucketBoundsMicros.enumerated() {
                cumulative += total.buckets[m * Table.bucketSlots + i]
                out += "aftersale_rpc_duration_seconds_bucket{method=\"\(methodNames[m])\",le=\"\(Self.seconds(bound))\"} \(cumulative)\n"
            }
            out += "aftersale_rpc_duration_seconds_bucket{method=\"\(methodNames[m])\",le=\"+Inf\"} \(count)\n"
            out += "aftersale_rpc_duration_seconds_sum{method=\"\(methodNames[m])\"} \(Self.seconds(total.sumMicros[m]))\n"
            out += "aftersale_rpc_duration_seconds_count{method=\"\(methodNames[m])\"} \(count)\n"
        }
        return out
    }

    static func seconds(_ micros: UInt64) -> String {
        let whole = micros / 1_000_000, frac = micros % 1_000_000
        var f = String(frac)
        f = String(repeating: "0", count: 6 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return f.isEmpty ? "\(whole)" : "\(whole).\(f)"
    }
}
