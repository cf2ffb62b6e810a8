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
    /// TLS 1.3 to every target; nil connects in plain TCP.
    public var tls: ClientTLS? = nil

    public init() {}
}

/// How a client speaks TLS 1.3: the CAs it trusts, its own certificate for mutual TLS, and the
/// name the server's certificate must carry.
///
/// ```swift
/// var configuration = ClientConfiguration()
/// configuration.tls = try ClientTLS(trustRootsFile: "/etc/aftersale/ca.pem",
///                                   certificateFile: "client.pem", keyFile: "client.key")
/// ```
public struct ClientTLS: Sendable {
    /// The loaded trust roots and client identity, shared by every connection.
    public var context: TLSContext
    /// The DNS name or IP address the server's certificate must carry (and the SNI, for a DNS
    /// name); nil checks each target's own host.
    public var serverName: String?

    /// TLS over an already built client context.
    public init(context: TLSContext, serverName: String? = nil) {
        self.context = context
        self.serverName = serverName
    }

    /// Loads the PEM files: `trustRootsFile` holds the CAs that may sign server certificates (nil
    /// trusts the system's store); `certificateFile` and `keyFile`, given together, are the
    /// client's certificate chain and unencrypted key for mutual TLS.
    /// - Throws: ``TLSError`` with `.invalidConfiguration`, naming the file at fault.
    public init(trustRootsFile: String?, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) throws(TLSError) {
        self.init(context: try TLSContext.client(trustRootsFile: trustRootsFile, certificateFile: certificateFile, keyFile: keyFile),
                  serverName: serverName)
    }
}
