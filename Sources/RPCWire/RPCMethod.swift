import ProtoRuntime

/// Whether a method answers with one message or a stream.
public enum RPCMethodKind: Sendable, Equatable {
    /// One request, one response.
    case unary
    /// One request, any number of response messages, then a final status.
    case serverStreaming
}

/// The names and types of one RPC method, shared by the server and the client.
/// Generated method tables (`Health.check`) are values of this type.
public struct RPCMethod<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    /// "aftersale.v1.Health".
    public let service: String
    /// "Check".
    public let name: String
    /// "/aftersale.v1.Health/Check": what goes on the wire.
    public let path: String
    public let kind: RPCMethodKind

    public init(service: String, name: String, kind: RPCMethodKind) {
        self.service = service
        self.name = name
        self.path = "/\(service)/\(name)"
        self.kind = kind
    }

    /// The untyped description, for routers and reflection.
    public var info: RPCMethodInfo {
        RPCMethodInfo(service: service, name: name, path: path, requestType: Request.protoName,
                      responseType: Response.protoName, kind: kind)
    }
}

/// The untyped description of a method.
public struct RPCMethodInfo: Sendable, Equatable {
    public let service: String
    public let name: String
    public let path: String
    public let requestType: String
    public let responseType: String
    public let kind: RPCMethodKind

    public init(service: String, name: String, path: String, requestType: String, responseType: String, kind: RPCMethodKind) {
        self.service = service
        self.name = name
        self.path = path
        self.requestType = requestType
        self.responseType = responseType
        self.kind = kind
    }
}
