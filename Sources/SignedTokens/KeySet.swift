import Foundation

/// The public keys this service trusts, by key id: who each key signs for, which roles that
/// issuer may assert, and when the key is live. Several keys are live at once (previous, current,
/// next) so that signing keys can rotate without refusing tokens already issued.
///
/// A key-set file is JSON:
/// ```json
/// {
///   "keys": {
///     "2026-11": {
///       "issuer": "identity",
///       "public_key": "<43 base64url characters, or a -----BEGIN PUBLIC KEY----- PEM>",
///       "roles": ["buyer", "merchant"],
///       "not_before": "2026-11-01T00:00:00Z",
///       "not_after": "2027-02-01T00:00:00Z"
///     }
///   }
/// }
/// ```
/// `roles` may hold `"*"` for any role; `not_before`/`not_after` are optional; `methods` (optional)
/// limits the key's tokens to some methods (`"aftersale.v1.RefundBridge/*"`). Unknown fields are
/// refused, so a typo cannot silently drop a restriction.
public struct KeySet: Sendable {
    /// One trusted public key.
    public struct Key: Sendable, Equatable {
        /// The id tokens name in their footer (`{"kid":"…"}`).
        public let keyID: String
        /// The only `iss` this key may sign for.
        public let issuer: String
        /// The key that verifies.
        public let publicKey: Ed25519PublicKey
        /// Roles the issuer may assert; `"*"` means any.
        public let roles: Set<String>
        /// The key verifies nothing before this instant, when set.
        public let notBefore: Date?
        /// The key verifies nothing from this instant on, when set.
        public let notAfter: Date?
        /// The methods tokens of this key may call, as `package.Service/Method` or `package.Service/*`;
        /// nil: any method the role may call. (The payment workers' key: `["aftersale.v1.RefundBridge/*"]`.)
        public let methods: Set<String>?

        /// Makes a key entry.
        public init(keyID: String, issuer: String, publicKey: Ed25519PublicKey, roles: Set<String>,
                    notBefore: Date? = nil, notAfter: Date? = nil, methods: Set<String>? = nil) {
            self.keyID = keyID
            self.issuer = issuer
            self.publicKey = publicKey
            self.roles = roles
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.methods = methods
        }

        /// Whether tokens of this key may call the method at `path` (`/package.Service/Method`).
        public func allows(method path: String) -> Bool { MethodPatterns.allow(methods, path) }

        /// Whether this key's issuer may assert `role`.
        public func allows(role: String) -> Bool { roles.contains("*") || roles.contains(role) }

        /// Whether the key is live at `now`, allowing `skew` either way.
        public func isLive(at now: Date, skew: TimeInterval) -> Bool {
            if let notBefore, now.addingTimeInterval(skew) < notBefore { return false }
            if let notAfter, now.addingTimeInterval(-skew) >= notAfter { return false }
            return true
        }
    }

    /// The keys by id.
    public let keys: [String: Key]
    /// The file the set was loaded from, for `TokenVerifier.reloadKeySet()`.
    public let sourcePath: String?

    /// Makes a set from keys; `sourcePath` lets a verifier reload it later.
    /// - Throws: `KeyFileError` when two keys share an id.
    public init(keys: [Key], sourcePath: String? = nil) throws(KeyFileError) {
        var byID: [String: Key] = [:]
        for key in keys {
            guard byID.updateValue(key, forKey: key.keyID) == nil else {
                throw KeyFileError(path: sourcePath, reason: "key id \(key.keyID) appears twice")
            }
        }
        self.keys = byID
        self.sourcePath = sourcePath
    }

    /// The key named `keyID`, live or not.
    public subscript(keyID: String) -> Key? { keys[keyID] }

    /// Reads and parses a key-set file.
    /// - Throws: `KeyFileError` saying which file and which entry is wrong.
    public static func load(path: String) throws(KeyFileError) -> KeySet {
        try parse(json: KeyFiles.readFile(path), sourcePath: path)
    }

    /// Parses key-set JSON (see the type's documentation for the format).
    /// - Throws: `KeyFileError` saying which entry is wrong.
    public static func parse(json: [UInt8], sourcePath: String? = nil) throws(KeyFileError) -> KeySet {
        func fail(_ reason: String) -> KeyFileError { KeyFileError(path: sourcePath, reason: reason) }
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard Set(root.keys) == ["keys"], let entries = root["keys"] as? [String: Any] else {
            throw fail("expected exactly one member, \"keys\", an object mapping key id to key")
        }
        var keys: [Key] = []
        for (keyID, value) in entries.sorted(by: { $0.key < $1.key }) {
            guard !keyID.isEmpty, keyID.utf8.count <= 128 else { throw fail("a key id is empty or longer than 128 bytes") }
            guard let entry = value as? [String: Any] else { throw fail("key \(keyID): not an object") }
            let known: Set<String> = ["issuer", "public_key", "roles", "not_before", "not_after", "methods"]
            if let unknown = entry.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail("key \(keyID): unknown field \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
            }
            guard let issuer = entry["issuer"] as? String, !issuer.isEmpty else {
                throw fail("key \(keyID): \"issuer\" must be a non-empty string")
            }
            guard let keyText = entry["public_key"] as? String else {
                throw fail("key \(keyID): \"public_key\" must be a string (base64url raw key or PEM)")
            }
            let publicKey: Ed25519PublicKey
            do throws(KeyError) {
                if keyText.contains("-----BEGIN") {
                    publicKey = try Ed25519PublicKey(pemRepresentation: keyText)
                } else if let raw = Base64URL.decode(keyText) {
                    publicKey = try Ed25519PublicKey(rawRepresentation: raw)
                } else {
                    throw KeyError("neither PEM nor base64url")
                }
            } catch {
                throw fail("key \(keyID): \"public_key\": \(error.reason)")
            }
            let roleValues = entry["roles"] as? [Any] ?? []
            let roles = roleValues.compactMap { $0 as? String }.filter { !$0.isEmpty }
            guard entry["roles"] is [Any], roles.count == roleValues.count else {
                throw fail("key \(keyID): \"roles\" must be a list of non-empty strings (\"*\" for any role)")
            }
            func time(_ field: String) throws(KeyFileError) -> Date? {
                guard let value = entry[field] else { return nil }
                guard let text = value as? String, let date = RFC3339.parse(text) else {
                    throw fail("key \(keyID): \"\(field)\" must be an RFC 3339 date-time")
                }
                return date
            }
            let notBefore = try time("not_before")
            let notAfter = try time("not_after")
            if let notBefore, let notAfter, notAfter <= notBefore {
                throw fail("key \(keyID): \"not_after\" is not after \"not_before\"")
            }
            var methods: Set<String>?
            if let value = entry["methods"] {
                let list = (value as? [Any])?.compactMap { $0 as? String } ?? []
                guard let array = value as? [Any], list.count == array.count,
                      list.allSatisfy({ $0.split(separator: "/").count == 2 && !$0.hasPrefix("/") && $0.contains(".") }) else {
                    throw fail("key \(keyID): \"methods\" must be a list of \"package.Service/Method\" or \"package.Service/*\"")
                }
                methods = Set(list)
            }
            keys.append(Key(keyID: keyID, issuer: issuer, publicKey: publicKey, roles: Set(roles),
                            notBefore: notBefore, notAfter: notAfter, methods: methods))
        }
        return try KeySet(keys: keys, sourcePath: sourcePath)
    }

    /// The set as key-set JSON (raw keys in base64url), the inverse of `parse(json:)`.
    public func jsonBytes() -> [UInt8] {
        var entries: [String: Any] = [:]
        for key in keys.values {
            var entry: [String: Any] = [
                "issuer": key.issuer,
                "public_key": Base64URL.encode(key.publicKey.rawRepresentation),
                "roles": key.roles.sorted(),
            ]
            entry["not_before"] = key.notBefore.map(RFC3339.format)
            entry["not_after"] = key.notAfter.map(RFC3339.format)
            entry["methods"] = key.methods.map { $0.sorted() }
            entries[key.keyID] = entry
        }
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Strings, lists and objects always serialize; the fallback only keeps this total.
        return Array((try? JSONSerialization.data(withJSONObject: ["keys": entries], options: options)) ?? Data()) + [0x0A]
    }
}

/// Lists of methods a credential may call: `package.Service/Method`, or `package.Service/*` for
/// every method of a service.
public enum MethodPatterns {
    /// Whether `patterns` allow the method at `path` (`/package.Service/Method`); nil allows every method.
    public static func allow(_ patterns: Set<String>?, _ path: String) -> Bool {
        guard let patterns else { return true }
        let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
        let service = name.split(separator: "/").first.map(String.init) ?? name
        return patterns.contains(name) || patterns.contains(service + "/*")
    }
}
