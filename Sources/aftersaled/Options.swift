import AfterSaleDomain
import Foundation
import RPCServer
import RPCTransport

/// The command line and environment of aftersaled, parsed. Flags win over environment variables.
struct Options {
    var server = ServerConfiguration()
    var dataDir = "data"
    var metricsListen: SocketAddress?
    var policy = PolicyConfig.standard

    static let usage = """
    usage: aftersaled [options]
      --listen HOST:PORT              where to serve RPC (env AFTERSALE_LISTEN; default 127.0.0.1:7400)
      --data-dir PATH                 where data lives (env AFTERSALE_DATA_DIR; default ./data)
      --metrics-listen HOST:PORT      serve Prometheus metrics at GET /metrics (env AFTERSALE_METRICS_LISTEN; default off)
      --log-level LEVEL               debug|info|warning|error|off (env AFTERSALE_LOG_LEVEL; default info)
      --call-log-level LEVEL          level of the one-line-per-call log (env AFTERSALE_CALL_LOG_LEVEL; default debug)
      --max-frame-bytes N             largest frame accepted (default 4194304)
      --max-metadata-bytes N          largest call metadata (default 8192)
      --max-calls-per-connection N    calls in flight per connection (default 1024)
      --max-connections N             open connections (default 10000)
      --idle-timeout SECONDS          close idle connections after this long (default 300)
      --incomplete-frame-timeout SECONDS  close a connection whose frame stays unfinished this long (default 30)
      --shutdown-grace SECONDS        time in-flight calls get on SIGTERM/SIGINT (default 10)
      --event-loops N                 I/O threads (default: one per core)
      --outbound-high-water-bytes N   stop reading a connection whose unsent responses exceed this (default 4194304)
      --outbound-low-water-bytes N    resume reading once they are below this (default 1048576)
      --refund-max-attempts N         payment attempts before a refund needs an agent (default 5)
      --refund-initial-backoff-ms N   wait after a refund's first failed attempt; doubles per failure (default 5000)
      --refund-max-backoff-ms N       longest wait between refund attempts (default 600000)
      --refund-default-lease-ms N     lease of a claimed refund when the worker asks for none (default 30000)
      --refund-max-lease-ms N         longest lease a payment worker may ask for (default 600000)
      --tracking-advance-returns BOOL whether a return reported delivered moves its case to awaiting receipt (default true)
    """

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ arguments: [String], environment: [String: String]) throws(Invalid) -> Options {
        var o = Options()
        var values: [String: String] = [:]
        let envNames = ["--listen": "AFTERSALE_LISTEN", "--data-dir": "AFTERSALE_DATA_DIR",
                        "--metrics-listen": "AFTERSALE_METRICS_LISTEN", "--log-level": "AFTERSALE_LOG_LEVEL",
                        "--call-log-level": "AFTERSALE_CALL_LOG_LEVEL"]
        for (flag, env) in envNames { if let v = environment[env], !v.isEmpty { values[flag] = v } }
        let known: Set<String> = ["--listen", "--data-dir", "--metrics-listen", "--log-level", "--call-log-level",
                                  "--max-frame-bytes", "--max-metadata-bytes", "--max-calls-per-connection",
                                  "--max-connections", "--idle-timeout", "--incomplete-frame-timeout",
                                  "--shutdown-grace", "--event-loops", "--outbound-high-water-bytes",
                                  "--outbound-low-water-bytes", "--refund-max-attempts", "--refund-initial-backoff-ms",
                                  "--refund-max-backoff-ms", "--refund-default-lease-ms", "--refund-max-lease-ms",
                                  "--tracking-advance-returns"]
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            if arg == "--help" || arg == "-h" { throw Invalid(description: usage) }
            var flag = arg, value: String?
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                flag = String(arg[..<eq])
                value = String(arg[arg.index(after: eq)...])
            }
            guard known.contains(flag) else { throw Invalid(description: "unknown option \(arg)\n\(usage)") }
            guard let v = value ?? rest.popFirst() else { throw Invalid(description: "\(flag) needs a value") }
            values[flag] = v
        }
        do {
            if let v = values["--listen"] { o.server.listen = try SocketAddress(parsing: v) }
            if let v = values["--metrics-listen"] { o.metricsListen = try SocketAddress(parsing: v) }
        } catch {
            throw Invalid(description: error.description)
        }
        if let v = values["--data-dir"] { o.dataDir = v }
        if let v = values["--log-level"] { o.server.logLevel = try level(v, "--log-level") }
        if let v = values["--call-log-level"] { o.server.callLogLevel = try level(v, "--call-log-level") }
        if let v = values["--max-frame-bytes"] { o.server.wire.maxFrameBytes = try int(v, "--max-frame-bytes", min: 64) }
        if let v = values["--max-metadata-bytes"] { o.server.wire.maxMetadataBytes = try int(v, "--max-metadata-bytes", min: 0) }
        if let v = values["--max-calls-per-connection"] { o.server.maxCallsPerConnection = try int(v, "--max-calls-per-connection", min: 1) }
        if let v = values["--max-connections"] { o.server.maxConnections = try int(v, "--max-connections", min: 1) }
        if let v = values["--idle-timeout"] { o.server.idleTimeout = .seconds(try int(v, "--idle-timeout", min: 1)) }
        if let v = values["--incomplete-frame-timeout"] { o.server.incompleteFrameTimeout = .seconds(try int(v, "--incomplete-frame-timeout", min: 1)) }
        if let v = values["--shutdown-grace"] { o.server.shutdownGrace = .seconds(try int(v, "--shutdown-grace", min: 0)) }
        if let v = values["--event-loops"] { o.server.eventLoops = try int(v, "--event-loops", min: 1) }
        if let v = values["--outbound-high-water-bytes"] { o.server.backpressure.highWaterBytes = try int(v, "--outbound-high-water-bytes", min: 1024) }
        if let v = values["--outbound-low-water-bytes"] { o.server.backpressure.lowWaterBytes = try int(v, "--outbound-low-water-bytes", min: 0) }
        if let v = values["--refund-max-attempts"] { o.policy.refunds.maxAttempts = try int(v, "--refund-max-attempts", min: 1) }
        if let v = values["--refund-initial-backoff-ms"] { o.policy.refunds.initialBackoffMs = Int64(try int(v, "--refund-initial-backoff-ms", min: 1)) }
        if let v = values["--refund-max-backoff-ms"] { o.policy.refunds.maximumBackoffMs = Int64(try int(v, "--refund-max-backoff-ms", min: 1)) }
        if let v = values["--refund-default-lease-ms"] { o.policy.refunds.defaultLeaseMs = Int64(try int(v, "--refund-default-lease-ms", min: 1)) }
        if let v = values["--refund-max-lease-ms"] { o.policy.refunds.maximumLeaseMs = Int64(try int(v, "--refund-max-lease-ms", min: 1)) }
        if let v = values["--tracking-advance-returns"] {
            guard let flag = Bool(v) else { throw Invalid(description: "--tracking-advance-returns: '\(v)' is not true or false") }
            o.policy.tracking.advanceReturnOnDelivery = flag
        }
        if o.policy.refunds.maximumBackoffMs < o.policy.refunds.initialBackoffMs {
            throw Invalid(description: "--refund-max-backoff-ms must not be below --refund-initial-backoff-ms")
        }
        if o.policy.refunds.maximumLeaseMs < o.policy.refunds.minimumLeaseMs {
            throw Invalid(description: "--refund-max-lease-ms must be at least \(o.policy.refunds.minimumLeaseMs)")
        }
        if o.server.backpressure.lowWaterBytes > o.server.backpressure.highWaterBytes {
            throw Invalid(description: "--outbound-low-water-bytes must not exceed --outbound-high-water-bytes")
        }
        return o
    }

    private static func level(_ v: String, _ flag: String) throws(Invalid) -> LogLevel {
        guard let l = LogLevel(name: v) else { throw Invalid(description: "\(flag): '\(v)' is not one of debug, info, warning, error, off") }
        return l
    }

    private static func int(_ v: String, _ flag: String, min: Int) throws(Invalid) -> Int {
        guard let n = Int(v), n >= min else { throw Invalid(description: "\(flag): '\(v)' is not a whole number ≥ \(min)") }
        return n
    }
}
