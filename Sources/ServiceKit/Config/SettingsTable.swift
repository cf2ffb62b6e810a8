import Foundation

/// Every setting of a program, parsed from its arguments and environment: a flag wins over its
/// environment variable, which wins over the default.
public struct SettingsTable: Sendable {
    /// The program's name for the usage line.
    public let program: String
    /// The settings, in the order the help text lists them.
    public let settings: [Setting]

    /// A table of `settings` for `program`.
    public init(program: String, settings: [Setting]) {
        self.program = program
        self.settings = settings
    }

    /// The `--help` text: one line per setting with its value, environment variable and default
    /// (a secret's default is never shown).
    public var help: String {
        var lines = ["usage: \(program) [options]", "flags win over environment variables; every flag has one"]
        let width = settings.map { $0.flag.count + $0.valueName.count + 1 }.max() ?? 0
        for setting in settings {
            let left = setting.isSwitch ? setting.flag : "\(setting.flag) \(setting.valueName)"
            let padded = left + String(repeating: " ", count: max(1, width - left.count + 2))
            var right = "\(setting.help) (env \(setting.environment)"
            if let value = setting.defaultValue, setting.redaction == .none { right += "; default \(value.isEmpty ? "\"\"" : value)" }
            lines.append("  " + padded + right + ")")
        }
        return lines.joined(separator: "\n")
    }

    /// Reads `arguments` (without the program name) and `environment`.
    /// - Throws: ``SettingsError/help(_:)`` for `--help`; ``SettingsError/invalid(_:)`` for an
    ///   unknown flag or a flag without a value.
    public func parse(_ arguments: [String], environment: [String: String]) throws(SettingsError) -> SettingValues {
        var given: [String: String] = [:]
        var sources: [String: String] = [:]
        for setting in settings {
            if let value = environment[setting.environment], !value.isEmpty {
                given[setting.flag] = value
                sources[setting.flag] = setting.environment
            }
        }
        let byFlag = Dictionary(settings.map { ($0.flag, $0) }, uniquingKeysWith: { first, _ in first })
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" { throw .help(help) }
            var flag = argument
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let setting = byFlag[flag] else { throw .invalid("unknown option \(argument)\n\(help)") }
            // A switch takes no separate value: `--flag` alone is on, `--flag=false` off.
            if setting.isSwitch && value == nil { value = "true" }
            guard let text = value ?? rest.popFirst() else { throw .invalid("\(flag) needs a value") }
            given[flag] = text
            sources[flag] = flag
        }
        return SettingValues(settings: settings, given: given, sources: sources)
    }
}

/// The values a ``SettingsTable`` read, with typed accessors that name the flag when a value is wrong.
public struct SettingValues: Sendable {
    private let byFlag: [String: Setting]
    private let given: [String: String]
    private let sources: [String: String]
    private let order: [Setting]

    init(settings: [Setting], given: [String: String], sources: [String: String]) {
        self.byFlag = Dictionary(settings.map { ($0.flag, $0) }, uniquingKeysWith: { first, _ in first })
        self.given = given
        self.sources = sources
        self.order = settings
    }

    /// The value of `setting`: given, else its default, else nil.
    public func string(_ setting: Setting) -> String? {
        given[setting.flag] ?? setting.defaultValue
    }

    /// True when the flag or its environment variable was given.
    public func isGiven(_ setting: Setting) -> Bool { given[setting.flag] != nil }

    /// A whole number within `range`, or nil when unset.
    public func int(_ setting: Setting, in range: ClosedRange<Int> = Int.min...Int.max) throws(SettingsError) -> Int? {
        guard let text = string(setting) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            let bound = range.upperBound == Int.max ? "≥ \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            throw .invalid("\(setting.flag): '\(setting.shown(text))' is not a whole number \(bound)")
        }
        return value
    }

    /// `true` or `false`, or nil when unset.
    public func bool(_ setting: Setting) throws(SettingsError) -> Bool? {
        guard let text = string(setting) else { return nil }
        guard let value = Bool(text.lowercased()) else { throw .invalid("\(setting.flag): '\(text)' is not true or false") }
        return value
    }

    /// A duration written like `1500ms`, `30s`, `5m`, `48h` or `7d`, or nil when unset.
    public func duration(_ setting: Setting) throws(SettingsError) -> Duration? {
        guard let text = string(setting) else { return nil }
        guard let value = DurationText.parse(text) else {
            throw .invalid("\(setting.flag): '\(text)' is not a duration such as 1500ms, 30s, 5m, 48h or 7d")
        }
        return value
    }

    /// Every setting that was given, as `flag=value` with secrets redacted, for the start-up log.
    public var redactedSummary: [(flag: String, value: String)] {
        order.compactMap { setting in given[setting.flag].map { (setting.flag, setting.shown($0)) } }
    }
}

/// Durations as operators write them: a whole number and a unit (ms, s, m, h, d).
public enum DurationText {
    /// The duration `text` stands for, or nil when it is not one (negative values are refused).
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy(\.isASCII), let value = Int64(number), value >= 0 else { continue }
            let (product, overflow) = value.multipliedReportingOverflow(by: milliseconds)
            guard !overflow else { return nil }
            return .milliseconds(product)
        }
        return nil
    }

    /// `duration` written with the largest unit that divides it exactly, e.g. `48h`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)]
        where milliseconds != 0 && milliseconds % unit == 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}

extension SettingsError {
    /// What every command of the project does with a settings error: `--help` prints the help text
    /// on standard output and exits 0; an invalid setting prints `program: message` on standard
    /// error and exits 2.
    public func exit(program: String) -> Never {
        switch self {
        case .help(let text):
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
            Foundation.exit(0)
        case .invalid(let message):
            FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
            Foundation.exit(2)
        }
    }
}
