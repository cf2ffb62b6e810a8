import ProtoRuntime
import RPCTransport
import RPCWire

/// What a handler learns about the call it serves: the method, the caller's metadata and
/// deadline, and the facts interceptors established (such as the authenticated caller).
public struct ServerContext: Sendable {
    /// The method being called.
    public let method: RPCMethodInfo
    /// The client's id for the call, unique on its connection while the call is in flight.
    public let callID: UInt64
    /// Call metadata: caller identity, idempotency key, trace id.
    public let metadata: Metadata
    /// When the client stops waiting, in monotonic nanoseconds; nil when it set no deadline.
    /// Past it the server answers DEADLINE_EXCEEDED and cancels the handler's task.
    public let deadlineNanos: UInt64?
    /// The client's address, "127.0.0.1:53211".
    public let peer: String

    /// Facts interceptors added, by key type (see ``ServerContextKey``).
    private var values: [ObjectIdentifier: any Sendable] = [:]

    /// A context for a call of `method` (the server makes these; tests may too).
    public init(method: RPCMethodInfo, callID: UInt64, metadata: Metadata, deadlineNanos: UInt64?, peer: String) {
        self.method = method
        self.callID = callID
        self.metadata = metadata
        self.deadlineNanos = deadlineNanos
        self.peer = peer
    }

    /// The value an interceptor stored under `key`, nil when none did.
    public subscript<Key: ServerContextKey>(key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }

    /// The caller's trace id from metadata, if any.
    public var traceID: String? { metadata[Metadata.Keys.traceID] }
}

extension ServerContext {
    /// The client certificate verified by mutual TLS, nil on plain TCP and on TLS without client
    /// certificates. Its URI SAN (``TLSPeerCertificate/uris``, e.g. `spiffe://platform/payments`)
    /// names the calling workload, for interceptors and handlers that authorize by it.
    public var peerCertificate: TLSPeerCertificate? { self[PeerCertificateKey.self] }
}

/// Where the server puts the client certificate verified by mutual TLS: set on every call of a
/// connection whose client presented one (see ``ServerContext/peerCertificate``).
public enum PeerCertificateKey: ServerContextKey {
    public typealias Value = TLSPeerCertificate
}

/// A key of a fact interceptors put in the ``ServerContext``: the key's type names it, and
/// `Value` is what it holds.
public protocol ServerContextKey {
    /// The type of the value stored under this key.
    associatedtype Value: Sendable
}

/// Sends the messages of a server-streaming call. Sending waits while the client is slow to read.
public struct ResponseStream<Response: ProtoMessage>: Sendable {
    @usableFromInline let sink: StreamSink

    @usableFromInline
    init(sink: StreamSink) { self.sink = sink }

    /// Sends one message; throws CANCELLED once the call is over (cancelled, past its deadline,
    /// connection gone).
    public func send(_ message: Response) async throws(RPCError) {
        try await sink.send(message.serializedBytes())
    }

    /// Sends bytes the caller vouches are a valid encoding of `Response` (a stored, pre-encoded
    /// message), without decoding and encoding them again.
    public func send(serialized bytes: [UInt8]) async throws(RPCError) {
        try await sink.send(bytes)
    }
}

/// The untyped side of a response stream, provided by the server connection.
@usableFromInline
struct StreamSink: Sendable {
    @usableFromInline let send: @Sendable ([UInt8]) async throws(RPCError) -> Void

    init(send: @escaping @Sendable ([UInt8]) async throws(RPCError) -> Void) { self.send = send }
}

