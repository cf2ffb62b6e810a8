import AfterSaleDomain
import RPCWire

/// The call metadata the after-sale service reads.
///
/// Identity is trusted as stated today (cryptographic authentication comes later), but it must be
/// present and well-formed: a call without it is UNAUTHENTICATED, before any other check.
public enum CallerMetadata {
    /// The caller's role: buyer, merchant, agent, platform or system.
    public static let role = "x-caller-role"
    /// The caller's identifier (buyer id, shop id for merchants, agent id, system name).
    public static let id = "x-caller-id"
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
