/// One setting of a process, declared once: its flag, its environment variable, its default, its
/// help text, and whether its value is a secret. ``SettingsTable`` parses them all and writes the
/// `--help` text; secrets never reach a log line or the help text.
public struct Setting: Sendable, Hashable {
    /// How much of a value may be shown in logs and `--help`.
    public enum Redaction: Sendable, Hashable {
        /// Shown as is.
        case none
        /// Never shown: `***`.
        case whole
        /// A URL whose password (and `password=` parameter) is replaced by `***`.
        case urlPassword
    }

    /// The command-line flag, e.g. `--listen`.
    public let flag: String
    /// The environment variable, e.g. `AFTERSALE_LISTEN`.
    public let environment: String
    /// The value used when neither the flag nor the variable is given; nil: unset.
    public let defaultValue: String?
    /// What the value looks like in the help text, e.g. `HOST:PORT`.
    public let valueName: String
    /// One line saying what the setting does.
    public let help: String
    /// How the value is shown.
    public let redaction: Redaction
    /// True for an on/off switch: the flag alone means `true` (`--flag=false` turns it off), and its
    /// variable takes `true` or `false`.
    public let isSwitch: Bool

    /// Declares a setting.
    public init(_ flag: String, env environment: String, default defaultValue: String?, value valueName: String,
                help: String, redaction: Redaction = .none) {
        self.flag = flag
        self.environment = environment
        self.defaultValue = defaultValue
        self.valueName = valueName
        self.help = help
        self.redaction = redaction
        self.isSwitch = false
    }

    /// Declares an on/off switch, off by default: `--flag` turns it on, as does `ENV=true`.
    public init(switch flag: String, env environment: String, help: String) {
        self.flag = flag
        self.environment = environment
        self.defaultValue = "false"
        self.valueName = ""
        self.help = help
        self.redaction = .none
        self.isSwitch = true
    }

    /// `value` as it may appear in a log line.
    public func shown(_ value: String) -> String {
        switch redaction {
        case .none: value
        case .whole: "***"
        case .urlPassword: Self.redactingPassword(value)
        }
    }

    /// `url` with the password of its user-info part and any `password=` parameter replaced by `***`.
    public static func redactingPassword(_ url: String) -> String {
        var text = url
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") {
            let userInfo = text[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        guard let start = text.range(of: "password=", options: .caseInsensitive) else { return text }
        let end = text[start.upperBound...].firstIndex(where: { $0 == "&" || $0 == " " }) ?? text.endIndex
        text.replaceSubrange(start.upperBound..<end, with: "***")
        return text
    }
}

/// Why the settings could not be read; `help` carries the `--help` text the caller asked for.
public enum SettingsError: Error, Sendable, CustomStringConvertible {
    /// `--help` was given: print the text and exit successfully.
    case help(String)
    /// A flag or value is wrong; the message says which and why.
    case invalid(String)

    public var description: String {
        switch self {
        case .help(let text): text
        case .invalid(let message): message
        }
    }
}
