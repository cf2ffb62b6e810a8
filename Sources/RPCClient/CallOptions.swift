import RPCTransport
import RPCWire

/// Per-call settings: deadline and metadata.
public struct CallOptions: Sendable {
    /// How long to wait for the call; nil waits as long as the connection lives. The server is
    /// told too, and stops work it can stop when the time is up.
    public var timeout: Duration?
    /// Metadata for this call, added after the client's default metadata.
    public var metadata: Metadata

    public init(timeout: Duration? = nil, metadata: Metadata = Metadata()) {
        self.timeout = timeout
        self.metadata = metadata
    }
}

/// How an `RPCClient` connects and what it sends with every call.
public struct ClientConfiguration: Sendable {
    /// How long to wait for a TCP connection.
    public var connectTimeout: Duration = .seconds(5)
    /// Frame and metadata limits (the server's defaults).
    public var wire = WireLimits()
    /// Metadata sent with every call.
    public var defaultMetadata = Metadata()
    /// The caller's bearer token, asked for before every call and sent as `authorization: Bearer
    /// <token>`; nil sends none. A call whose metadata already has `authorization` is sent as is.
    public var tokenProvider: (any TokenProvider)? = nil
    /// Send PING after this long without traffic and close the connection if nothing comes back
    /// within another interval; nil disables keepalive.
    public var keepaliveInterval: Duration? = nil
    /// The event loop the connection's reads run on; nil uses a loop shared by every client in the process.
    public var loop: EventLoop? = nil
    /// How long a target whose connection failed is passed over (it is still tried when every
    /// target is down).
    public var downTime: Duration = .seconds(1)

    public init() {}
}
