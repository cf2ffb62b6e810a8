/// The string key/value pairs that travel with a call: caller identity, idempotency key, trace id.
///
/// Keys are lower-case ASCII; a key may repeat. Order is kept.
public struct Metadata: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(key: String, value: String)] = []

    public init() {}

    public typealias Key = String
    public typealias Value = String

    public init(dictionaryLiteral elements: (String, String)...) {
        for (k, v) in elements { add(k, v) }
    }

    /// Appends a pair; the key is lower-cased.
    public mutating func add(_ key: String, _ value: String) {
        entries.append((key.lowercased(), value))
    }

    /// The first value for `key`, or nil.
    public subscript(_ key: String) -> String? {
        get {
            let k = key.lowercased()
            return entries.first { $0.key == k }?.value
        }
        set {
            let k = key.lowercased()
            entries.removeAll { $0.key == k }
            if let newValue { entries.append((k, newValue)) }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    /// The bytes the keys and values take, which the metadata size limit counts.
    public var byteCount: Int { entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count } }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { entries.makeIterator() }

    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Well-known keys.
    public enum Keys {
        /// The caller's role: buyer, merchant, agent, platform, system.
        public static let callerRole = "x-caller-role"
        /// The caller's id within its role (buyer id, shop id, agent id...).
        public static let callerID = "x-caller-id"
        /// Makes a state-changing call safe to retry: the same key returns the same result.
        public static let idempotencyKey = "idempotency-key"
        /// Correlates the call with the caller's trace; logged with every call.
        public static let traceID = "x-trace-id"
    }
}
