/// Whether a support agent takes work now.
public enum Presence: String, Sendable, Hashable, CaseIterable {
    /// Takes new tickets.
    case online
    /// Keeps their tickets, takes no new ones.
    case away
    /// Takes nothing; their tickets go back to the queue after a grace period.
    case offline
}

/// A support agent (客服): who they are, what they can handle, how much at once, and whether they
/// are there.
///
/// Skills are names: `kind:<case kind>`, `category:<product category>`, `lang:<language>`, or any
/// tag such as `arbitration`; a ticket's ``SkillRequirement`` names the ones it needs. The refund
/// ceiling bounds the amounts of the cases they may handle.
public struct Agent: Sendable, Hashable {
    /// The agent's id (their principal's id).
    public var id: String
    /// The display name.
    public var name: String
    /// The team (tickets may be routed to a team; a team sees its tickets).
    public var team: String
    /// What they can handle.
    public var skills: Set<String>
    /// The largest refund they may handle; nil: no limit.
    public var refundCeiling: Money?
    /// How much work at once, in ticket weights (a normal ticket weighs 1).
    public var capacity: Int
    /// The weights of the tickets assigned to them now (status assigned).
    public var load: Int
    /// Whether they take work.
    public var presence: Presence
    /// When the presence last changed.
    public var presenceChangedAt: Timestamp
    /// Their client's last heartbeat.
    public var lastHeartbeatAt: Timestamp
    /// When they last got a ticket; nil: never (they have waited longest).
    public var lastAssignedAt: Timestamp?
    /// Starts at 1, one more for every change.
    public var version: Int64

    /// Creates an agent.
    public init(id: String, name: String, team: String, skills: Set<String>, refundCeiling: Money? = nil, capacity: Int,
                load: Int = 0, presence: Presence = .offline, presenceChangedAt: Timestamp, lastHeartbeatAt: Timestamp,
                lastAssignedAt: Timestamp? = nil, version: Int64 = 1) {
        self.id = id
        self.name = name
        self.team = team
        self.skills = skills
        self.refundCeiling = refundCeiling
        self.capacity = capacity
        self.load = load
        self.presence = presence
        self.presenceChangedAt = presenceChangedAt
        self.lastHeartbeatAt = lastHeartbeatAt
        self.lastAssignedAt = lastAssignedAt
        self.version = version
    }

    /// Free capacity, never below zero (a manual assignment may exceed the capacity).
    public var spare: Int { max(0, capacity - load) }

    /// Free capacity as a share of the capacity (1 of 2 free beats 8 of 10).
    public var spareShare: Double { capacity > 0 ? Double(spare) / Double(capacity) : 0 }

    /// True when the agent has every skill `requirement` asks for (optional ones only while
    /// `withOptional`) and may handle its amount.
    public func qualifies(for requirement: SkillRequirement, withOptional: Bool) -> Bool {
        guard requirement.required.isSubset(of: skills) else { return false }
        if withOptional, !requirement.optional.isSubset(of: skills) { return false }
        if let amount = requirement.amount, let ceiling = refundCeiling {
            guard amount.currency == ceiling.currency, amount.minorUnits <= ceiling.minorUnits else { return false }
        }
        return true
    }

    /// Checks the fields an operator sets.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public func validate() throws(DomainError) {
        guard Self.isIdentifier(id) else { throw .invalidArgument(field: "agent_id", message: "1 to 64 characters without spaces") }
        guard !name.isEmpty, name.count <= 100 else { throw .invalidArgument(field: "name", message: "1 to 100 characters") }
        guard Self.isIdentifier(team) else { throw .invalidArgument(field: "team", message: "1 to 64 characters without spaces") }
        guard (1...1_000).contains(capacity) else { throw .invalidArgument(field: "capacity", message: "between 1 and 1000") }
        guard skills.count <= 200, skills.allSatisfy(Self.isIdentifier) else {
            throw .invalidArgument(field: "skills", message: "at most 200 skills of 1 to 64 characters without spaces")
        }
        if let ceiling = refundCeiling, ceiling.minorUnits < 0 {
            throw .invalidArgument(field: "refund_ceiling", message: "must not be negative")
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.value >= 0x20 }
    }
}
