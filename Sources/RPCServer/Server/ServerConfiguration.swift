import Glibc
import RPCTransport
import RPCWire
import ServiceKit

/// Everything the RPC server can be told, with the documented defaults.
public struct ServerConfiguration: Sendable {
    /// Where to listen; port 0 picks a free port (tests).
    public var listen = SocketAddress(host: "127.0.0.1", port: 7400)
    /// Frame and metadata size limits.
    public var wire = WireLimits()
    /// Calls in flight on one connection; one more gets RESOURCE_EXHAUSTED.
    public var maxCallsPerConnection = 1024
    /// Open connections; one more is told GOAWAY RESOURCE_EXHAUSTED and closed.
    public var maxConnections = 10_000
    /// A connection with no call in flight and no bytes received for this long is closed.
    public var idleTimeout: Duration = .seconds(300)
    /// A frame whose remaining bytes do not arrive within this long closes the connection.
    public var incompleteFrameTimeout: Duration = .seconds(30)
    /// How long in-flight calls may run on after shutdown starts.
    public var shutdownGrace: Duration = .seconds(10)
    /// Event loop threads for connections; default one per core.
    public var eventLoops = max(1, System.coreCount)
    /// Outbound buffering per connection.
    public var backpressure = BackpressureLimits()
    /// The threshold of the log.
    public var logLevel: LogLevel = .info
    /// The level at which the one-line-per-call log is written.
    public var callLogLevel: LogLevel = .debug
    /// TLS 1.3 on the listener (a server ``TLSContext``, with mutual TLS when it has a client
    /// CA); nil serves plain TCP.
    public var tls: TLSContext? = nil

    public init() {}
}

/// Facts about the machine.
public enum System {
    public static var coreCount: Int {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? n : 1
    }
}
