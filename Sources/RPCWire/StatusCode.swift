/// A gRPC status code: same numbers, names and meanings as gRPC.
///
/// A struct rather than an enum so that a code this build does not know (sent by a newer peer)
/// survives a round trip instead of failing to decode.
public struct StatusCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Not an error.
    public static let ok = StatusCode(rawValue: 0)
    /// The caller cancelled the call.
    public static let cancelled = StatusCode(rawValue: 1)
    /// An error with no better code; also a status code this build does not know.
    public static let unknown = StatusCode(rawValue: 2)
    /// The request is invalid whatever the system's state: a field value, a malformed message.
    public static let invalidArgument = StatusCode(rawValue: 3)
    /// The deadline passed before the call finished.
    public static let deadlineExceeded = StatusCode(rawValue: 4)
    /// The thing asked for does not exist.
    public static let notFound = StatusCode(rawValue: 5)
    /// The thing to create exists already.
    public static let alreadyExists = StatusCode(rawValue: 6)
    /// The caller may not do this.
    public static let permissionDenied = StatusCode(rawValue: 7)
    /// A limit was reached: frame size, calls in flight, connections, quota.
    public static let resourceExhausted = StatusCode(rawValue: 8)
    /// The system is not in a state that allows the call (an illegal transition).
    public static let failedPrecondition = StatusCode(rawValue: 9)
    /// A concurrency conflict, such as a stale expected version; retry from a fresh read.
    public static let aborted = StatusCode(rawValue: 10)
    /// A value past the valid range.
    public static let outOfRange = StatusCode(rawValue: 11)
    /// The method does not exist or is not built yet.
    public static let unimplemented = StatusCode(rawValue: 12)
    /// An invariant broke inside the server.
    public static let `internal` = StatusCode(rawValue: 13)
    /// The service cannot take the call now (shutting down, restarting); retrying may succeed.
    public static let unavailable = StatusCode(rawValue: 14)
    /// Unrecoverable data loss or corruption.
    public static let dataLoss = StatusCode(rawValue: 15)
    /// The caller's identity is missing or not well-formed.
    public static let unauthenticated = StatusCode(rawValue: 16)

    /// The gRPC name, "INVALID_ARGUMENT".
    public var name: String {
        switch rawValue {
        case 0: "OK"
        case 1: "CANCELLED"
        case 2: "UNKNOWN"
        case 3: "INVALID_ARGUMENT"
        case 4: "DEADLINE_EXCEEDED"
        case 5: "NOT_FOUND"
        case 6: "ALREADY_EXISTS"
        case 7: "PERMISSION_DENIED"
        case 8: "RESOURCE_EXHAUSTED"
        case 9: "FAILED_PRECONDITION"
        case 10: "ABORTED"
        case 11: "OUT_OF_RANGE"
        case 12: "UNIMPLEMENTED"
        case 13: "INTERNAL"
        case 14: "UNAVAILABLE"
        case 15: "DATA_LOSS"
        case 16: "UNAUTHENTICATED"
        default: "CODE_\(rawValue)"
        }
    }

    public var description: String { name }

    /// Every code gRPC defines, 0 through 16.
    public static let all: [StatusCode] = (0...16).map { StatusCode(rawValue: $0) }
}

/// A machine-readable detail attached to an error, like an entry of google.rpc.Status details.
public struct StatusDetail: Sendable, Equatable {
    /// What `value` is, for example "aftersale.v1.FieldViolation".
    public var type: String
    /// The encoded detail.
    public var value: [UInt8]

    public init(type: String, value: [UInt8]) {
        self.type = type
        self.value = value
    }
}

/// The failure of a call: a non-OK status code, a message for the developer, optional details.
///
/// Every error the runtime or a handler produces ends up as one of these on the wire.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var details: [StatusDetail]
    /// Metadata sent with the status (the RESPONSE frame's metadata), such as `retry-after-ms`.
    public var metadata: Metadata

    public init(_ code: StatusCode, _ message: String, details: [StatusDetail] = [], metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.details = details
        self.metadata = metadata
    }

    /// "INVALID_ARGUMENT: order_id: must not be empty".
    public var description: String { message.isEmpty ? code.name : "\(code.name): \(message)" }
}

/// An error type that knows which status it becomes on the wire. Domain errors conform to it in
/// the service layer, so the mapping to status codes lives in one place per error type.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError {
    /// Any error as an RPCError: itself, its own conversion, or INTERNAL.
    public init(wrapping error: any Error) {
        if let e = error as? RPCError {
            self = e
        } else if let e = error as? any RPCErrorConvertible {
            self = e.rpcError
        } else if error is CancellationError {
            self = RPCError(.cancelled, "the call was cancelled")
        } else {
            self = RPCError(.internal, "internal error: \(String(describing: type(of: error)))")
        }
    }
}
