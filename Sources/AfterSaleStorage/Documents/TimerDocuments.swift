import AfterSaleDomain

/// The stored form of a timer override's content (its scope and version are the row's key).
public enum TimerOverrideDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ value: TimerOverride) -> [UInt8] {
        var writer = DocumentWriter(format: format)
        let durations = value.durations.sorted { $0.key.rawValue < $1.key.rawValue }
        writer.list(durations) { writer, entry in
            writer.name(entry.key)
            writer.integer(entry.value)
        }
        writer.name(value.setBy.role)
        writer.string(value.setBy.id)
        writer.timestamp(value.setAt)
        return writer.bytes
    }

    /// The override of `scope` at `version` stored in `bytes`.
    public static func decode(_ bytes: [UInt8], scope: String, version: Int64) throws -> TimerOverride {
        var reader = try DocumentReader(bytes, format: format, kind: "timer override")
        let durations = try reader.list { reader in (try reader.name(TimerRule.self), try reader.integer()) }
        let setBy = Principal(role: try reader.name(ActorRole.self), id: try reader.string())
        let setAt = try reader.timestamp()
        try reader.finish()
        return TimerOverride(scope: try decoding { try TimerScope(parsing: scope) },
                             durations: Dictionary(durations, uniquingKeysWith: { first, _ in first }),
                             version: version, setBy: setBy, setAt: setAt)
    }
}

/// The stored form of a timer pause's content (its id and version are the row's key).
public enum TimerPauseDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ value: TimerPause) -> [UInt8] {
        var writer = DocumentWriter(format: format)
        writer.timestamp(value.startsAt)
        writer.timestamp(value.endsAt)
        writer.list(value.shopIDs) { $0.string($1) }
        writer.string(value.reason)
        writer.name(value.setBy.role)
        writer.string(value.setBy.id)
        writer.timestamp(value.setAt)
        return writer.bytes
    }

    /// The pause `id` at `version` stored in `bytes`.
    public static func decode(_ bytes: [UInt8], id: String, version: Int64) throws -> TimerPause {
        var reader = try DocumentReader(bytes, format: format, kind: "timer pause")
        let pause = TimerPause(id: id, startsAt: try reader.timestamp(), endsAt: try reader.timestamp(),
                               shopIDs: try reader.list { try $0.string() }, reason: try reader.string(), version: version,
                               setBy: Principal(role: try reader.name(ActorRole.self), id: try reader.string()),
                               setAt: try reader.timestamp())
        try reader.finish()
        return pause
    }
}

/// The rows SQL backends keep timer settings in: one table of versioned documents keyed by
/// (kind, key, version), where kind is `override` (key: the scope) or `pause` (key: its id).
public enum TimerSettingRow {
    /// The kind of an override row.
    public static let overrideKind = "override"
    /// The kind of a pause row.
    public static let pauseKind = "pause"

    /// The settings in `rows` (kind, key, version, document): the latest version of each key.
    public static func settings(_ rows: [(kind: String, key: String, version: Int64, document: [UInt8])]) throws -> TimerSettings {
        var latest: [String: (kind: String, key: String, version: Int64, document: [UInt8])] = [:]
        for row in rows where (latest[row.kind + "\u{0}" + row.key]?.version ?? 0) < row.version {
            latest[row.kind + "\u{0}" + row.key] = row
        }
        var overrides: [TimerOverride] = []
        var pauses: [TimerPause] = []
        for row in latest.values {
            switch row.kind {
            case overrideKind: overrides.append(try TimerOverrideDocument.decode(row.document, scope: row.key, version: row.version))
            case pauseKind: pauses.append(try TimerPauseDocument.decode(row.document, id: row.key, version: row.version))
            default: throw CorruptDocument(message: "unknown timer setting kind '\(row.kind)'")
            }
        }
        return TimerSettings(overrides: overrides, pauses: pauses)
    }
}
