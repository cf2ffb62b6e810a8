import Foundation
import RPCClient
import RPCWire
import SignedTokens
import Synchronization

/// Who a minted token says the caller is: a role and an id, a merchant's shop, an agent's team.
public struct CallerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// `buyer`, `merchant`, `agent`, `platform` or `system`.
    public var role: String
    /// The token's `sub`.
    public var id: String
    /// The shop a merchant acts for.
    public var shop: String?
    /// The team an agent belongs to.
    public var team: String?

    /// An identity; a merchant without `shop` acts for the shop `id`.
    public init(role: String, id: String, shop: String? = nil, team: String? = nil) {
        self.role = role
        self.id = id
        self.shop = shop ?? (role == "merchant" ? id : nil)
        self.team = team
    }

    /// The roles a token may carry.
    public static let roles = ["buyer", "merchant", "agent", "platform", "system"]

    /// Parses `ROLE:ID` or `ROLE:ID@TEAM` (`buyer:b-1`, `merchant:s-1` acting for shop s-1,
    /// `agent:a-1@team-x`); nil when `text` is not of that form or names another role.
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let role = String(text[..<colon])
        var id = String(text[text.index(after: colon)...])
        var team: String?
        if let at = id.firstIndex(of: "@") {
            team = String(id[id.index(after: at)...])
            id = String(id[..<at])
            if team?.isEmpty == true { return nil }
        }
        guard Self.roles.contains(role), !id.isEmpty else { return nil }
        self.init(role: role, id: id, team: team)
    }

    /// `ROLE:ID[@TEAM]`.
    public var description: String { "\(role):\(id)" + (team.map { "@" + $0 } ?? "") }
}

/// Mints the caller's tokens with a signing key it holds, and keeps each until a fifth of its
/// lifetime is left: for development (the data directory's key, see ``development(dataDirectory:audience:identity:lifetime:)``),
/// tests and tools. Services in production get their tokens from the identity service instead
/// and hand them over with ``StaticToken`` or ``TokenClosure``.
public final class MintingTokenProvider: TokenProvider {
    /// Who the tokens name.
    public let identity: CallerIdentity
    /// Seconds each token is valid.
    public let lifetime: TimeInterval
    private let minter: TokenMinter
    private let current = Mutex<(token: String, renewAt: Date)?>(nil)

    /// A provider minting with `minter` for `identity`.
    public init(minter: TokenMinter, identity: CallerIdentity, lifetime: TimeInterval = 300) {
        self.minter = minter
        self.identity = identity
        self.lifetime = max(1, lifetime)
    }

    /// A provider minting with the development key aftersaled made in `dataDirectory`
    /// (`dev-keys/dev-signing-key.pem`).
    /// - Throws: `KeyFileError` when there is no readable key there (start aftersaled on that data
    ///   directory first).
    public static func development(dataDirectory: String, audience: String = "aftersale", identity: CallerIdentity,
                                   lifetime: TimeInterval = 300) throws(KeyFileError) -> MintingTokenProvider {
        let minter = try DevelopmentKeys.minter(in: DevelopmentKeys.directory(inDataDirectory: dataDirectory), audience: audience)
        return MintingTokenProvider(minter: minter, identity: identity, lifetime: lifetime)
    }

    /// A fresh token, or the one minted earlier while most of its lifetime is left.
    public func token(now: Date = Date()) throws(KeyError) -> String {
        if let kept = current.withLock({ $0 }), now < kept.renewAt { return kept.token }
        let token = try minter.mint(subject: identity.id, role: identity.role, shop: identity.shop, team: identity.team,
                                    lifetime: lifetime, now: now)
        current.withLock { $0 = (token, now.addingTimeInterval(lifetime * 0.8)) }
        return token
    }

    public func bearerToken() async throws(RPCError) -> String {
        do {
            return try token()
        } catch {
            throw RPCError(.unauthenticated, "cannot mint a token: \(error)")
        }
    }
}
