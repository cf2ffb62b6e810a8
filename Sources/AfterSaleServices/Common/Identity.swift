import AfterSaleDomain
import SignedTokens
import ProtoRuntime
import RPCServer
import RPCWire

/// The authenticated caller of a call, as the ``IdentityInterceptor`` put it in the context.
public enum PrincipalKey: ServerContextKey {
    public typealias Value = Principal
}

extension ServerContext {
    /// The caller the ``IdentityInterceptor`` authenticated.
    /// - Throws: `UNAUTHENTICATED` when no interceptor authenticated the call (a public method, or
    ///   a router without the interceptor).
    public var principal: Principal {
        get throws(RPCError) {
            guard let principal = self[PrincipalKey.self] else {
                throw RPCError(.unauthenticated, "the call has no authenticated caller")
            }
            return principal
        }
    }
}

/// How a call's caller was established, beside the principal: the facts the domain does not need
/// but logs, audits and later rules may (the team of an agent, which key signed the token).
public struct Authentication: Sendable, Equatable {
    /// Where the identity came from.
    public enum Source: Sendable, Equatable {
        /// A verified `authorization: Bearer` token.
        case token(issuer: String, keyID: String, tokenID: String?)
        /// `x-caller-role` / `x-caller-id` as stated (only with `--insecure-dev-principals`).
        case statedMetadata
    }

    /// The caller.
    public let principal: Principal
    /// The team the caller belongs to (agents), when the credentials say.
    public let team: String?
    /// Where the identity came from.
    public let source: Source
    /// The methods the credentials allow (the verifying key's `methods`); nil: any the role may call.
    public let allowedMethods: Set<String>?

    /// Makes an authentication result.
    public init(principal: Principal, team: String? = nil, source: Source, allowedMethods: Set<String>? = nil) {
        self.principal = principal
        self.team = team
        self.source = source
        self.allowedMethods = allowedMethods
    }

    /// Whether the credentials let the caller call the method at `path`.
    public func allows(method path: String) -> Bool { MethodPatterns.allow(allowedMethods, path) }
}

/// The ``Authentication`` of the call, as the ``IdentityInterceptor`` put it in the context.
public enum AuthenticationKey: ServerContextKey {
    public typealias Value = Authentication
}

/// One way of telling who is calling from a call's metadata: a signed token, or (for development
/// only) the stated `x-caller-role` / `x-caller-id`.
public protocol Authenticator: Sendable {
    /// The caller, nil when the call carries none of this authenticator's credentials.
    /// - Throws: `UNAUTHENTICATED` (or `PERMISSION_DENIED`) when the credentials are present but wrong.
    func authenticate(_ context: ServerContext) throws(RPCError) -> Authentication?
    /// What a call carrying no credentials at all is told, when this authenticator is the first.
    var missingCredentialsMessage: String { get }
}

/// Authenticates every call of the business services once, before its handler, and puts the
/// principal in the context; the public services (health, reflection) need no identity.
public struct IdentityInterceptor: ServerInterceptor {
    /// The authenticators, tried in order; the first that finds credentials decides.
    public let authenticators: [any Authenticator]
    /// Services whose methods anyone may call without an identity.
    public let publicServices: Set<String>
    /// What a call without any credentials is told.
    public let missingCredentials: RPCError

    /// An interceptor trying `authenticators` in order; a call without credentials is told the
    /// first authenticator's ``Authenticator/missingCredentialsMessage`` unless `missingCredentials` says otherwise.
    public init(authenticators: [any Authenticator], publicServices: Set<String>, missingCredentials: RPCError? = nil) {
        self.authenticators = authenticators
        self.publicServices = publicServices
        self.missingCredentials = missingCredentials
            ?? RPCError(.unauthenticated, authenticators.first?.missingCredentialsMessage ?? "this server accepts no credentials")
    }

    public func applies(to method: RPCMethodInfo) -> Bool { !publicServices.contains(method.service) }

    public func intercept(_ context: inout ServerContext) throws(RPCError) {
        guard !publicServices.contains(context.method.service) else { return }
        _ = try CallerMetadata.traceID(from: context.metadata)  // stored in trace records: refuse a malformed one up front
        for authenticator in authenticators {
            if let authentication = try authenticator.authenticate(context) {
                context[PrincipalKey.self] = authentication.principal
                context[AuthenticationKey.self] = authentication
                return
            }
        }
        throw missingCredentials
    }
}

/// The caller's identity as the metadata states it (`x-caller-role`, `x-caller-id`): trusted as
/// stated, but it must be well-formed. Anyone who can reach the port can claim any role this way,
/// so aftersaled enables it only with `--insecure-dev-principals`.
public struct MetadataAuthenticator: Authenticator {
    /// The authenticator.
    public init() {}

    public func authenticate(_ context: ServerContext) throws(RPCError) -> Authentication? {
        guard context.metadata[CallerMetadata.role] != nil || context.metadata[CallerMetadata.id] != nil else { return nil }
        return Authentication(principal: try CallerMetadata.principal(from: context.metadata), source: .statedMetadata)
    }

    public var missingCredentialsMessage: String { "\(CallerMetadata.role) metadata is required" }
}

/// Refuses a stated identity (`x-caller-role` / `x-caller-id`) on a server that does not accept
/// one, saying what to send instead, rather than the generic "credentials required". Put it after
/// the authenticators that do accept credentials.
public struct StatedIdentityRefusal: Authenticator {
    /// The refusal.
    public init() {}

    public func authenticate(_ context: ServerContext) throws(RPCError) -> Authentication? {
        guard context.metadata[CallerMetadata.role] != nil || context.metadata[CallerMetadata.id] != nil else { return nil }
        throw RPCError(.unauthenticated, "\(CallerMetadata.role) / \(CallerMetadata.id) metadata is not accepted by this server "
                       + "(it runs without --insecure-dev-principals): send \(CallerMetadata.authorization): Bearer <token>")
    }

    public var missingCredentialsMessage: String {
        "\(CallerMetadata.authorization) metadata is required: Bearer <v4.public token>"
    }
}

/// Who makes a call and what every change they make records: the principal, the trace id, and the
/// idempotency key when the call carries one.
struct Caller: Sendable {
    /// The authenticated principal.
    let principal: Principal
    /// The call's `x-trace-id`, empty when it carried none; trace records keep it.
    let traceID: String
    /// The call's `idempotency-key`, nil when it carried none.
    let idempotencyKey: String?

    /// The call `request` makes on `method` under the caller's key; nil without a key.
    func idempotentCall<Request: ProtoMessage>(_ method: RPCMethodInfo, _ request: Request) -> IdempotentCall? {
        idempotencyKey.map { key in
            IdempotentCall(record: IdempotencyRecord(key: key, principal: principal,
                                                     fingerprint: RequestFingerprint.of(request.serializedBytes(), operation: method.path)),
                           operation: method.path)
        }
    }
}

extension ServerContext {
    /// The caller, with the trace id and idempotency key of the call.
    /// - Throws: `UNAUTHENTICATED` without a principal; `INVALID_ARGUMENT` for a malformed key or trace id.
    var caller: Caller {
        get throws(RPCError) {
            let principal = try principal
            let traceID = try CallerMetadata.traceID(from: metadata)
            return Caller(principal: principal, traceID: traceID, idempotencyKey: try CallerMetadata.idempotencyKey(from: metadata))
        }
    }
}

/// The call metadata the after-sale services read.
public enum CallerMetadata {
    /// The caller's role: buyer, merchant, agent, platform or system.
    public static let role = "x-caller-role"
    /// The caller's identifier (buyer id, shop id for merchants, agent id, system name).
    public static let id = "x-caller-id"
    /// `Bearer <token>`: the caller's signed token.
    public static let authorization = "authorization"
    /// The key that makes CreateAfterSale (and AddMessage) retries return the first result.
    public static let idempotencyKey = "idempotency-key"
    /// The most bytes an idempotency key may have.
    public static let maximumIdempotencyKeyBytes = 128

    /// The caller's principal from `metadata`.
    /// - Throws: `UNAUTHENTICATED` naming the missing key, or saying what is malformed.
    public static func principal(from metadata: Metadata) throws(RPCError) -> Principal {
        guard let roleText = metadata[role] else {
            throw RPCError(.unauthenticated, "\(role) metadata is required")
        }
        guard let actorRole = ActorRole(rawValue: roleText) else {
            let allowed = ActorRole.allCases.map(\.rawValue).joined(separator: ", ")
            throw RPCError(.unauthenticated, "\(role) metadata must be one of \(allowed), got \"\(roleText)\"")
        }
        guard let idText = metadata[id] else {
            throw RPCError(.unauthenticated, "\(id) metadata is required")
        }
        let principal = Principal(role: actorRole, id: idText)
        do {
            try principal.validate()
        } catch {
            guard case .invalidArgument(_, let message) = error else { throw RPCError(.unauthenticated, "\(id) metadata is malformed") }
            throw RPCError(.unauthenticated, "\(id) metadata is malformed: \(message)")
        }
        return principal
    }

    /// The most bytes an `x-trace-id` may have.
    public static let maximumTraceIDBytes = 128

    /// The trace id, empty when absent.
    /// - Throws: `INVALID_ARGUMENT` when it is too long or has control characters.
    public static func traceID(from metadata: Metadata) throws(RPCError) -> String {
        guard let id = metadata[Metadata.Keys.traceID] else { return "" }
        guard id.utf8.count <= maximumTraceIDBytes, id.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw RPCError(.invalidArgument, "\(Metadata.Keys.traceID) metadata must be at most \(maximumTraceIDBytes) bytes without control characters")
        }
        return id
    }

    /// The idempotency key, nil when absent.
    /// - Throws: `INVALID_ARGUMENT` when it is empty, too long or has control characters.
    public static func idempotencyKey(from metadata: Metadata) throws(RPCError) -> String? {
        guard let key = metadata[idempotencyKey] else { return nil }
        guard !key.isEmpty, key.utf8.count <= maximumIdempotencyKeyBytes,
              key.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw RPCError(.invalidArgument, "\(idempotencyKey) metadata must be 1 to \(maximumIdempotencyKeyBytes) bytes without control characters")
        }
        return key
    }
}

/// A stable digest of a request's bytes: what an idempotency key is bound to.
///
/// Two 64-bit FNV-1a hashes with different offset bases, as 32 hex digits. Not cryptographic (it
/// only has to tell a retry from a different request sent by the same caller with the same key),
/// but the same bytes always give the same fingerprint, across processes and restarts.
public enum RequestFingerprint {
    /// The fingerprint of `bytes` sent to `operation` (a method path).
    public static func of(_ bytes: [UInt8], operation: String) -> String {
        var first: UInt64 = 0xcbf2_9ce4_8422_2325
        var second: UInt64 = 0x8422_2325_cbf2_9ce4
        let prime: UInt64 = 0x0000_0100_0000_01B3
        for byte in Array(operation.utf8) + [0] + bytes {
            first = (first ^ UInt64(byte)) &* prime
            second = (second ^ UInt64(byte ^ 0x5A)) &* prime
        }
        return hex(first) + hex(second)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
