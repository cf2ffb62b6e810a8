import ServiceKit
import Testing

@Suite("The settings table")
struct SettingsTests {
    static let listen = Setting("--listen", env: "APP_LISTEN", default: "127.0.0.1:7400", value: "HOST:PORT", help: "where to listen")
    static let workers = Setting("--workers", env: "APP_WORKERS", default: "4", value: "N", help: "worker threads")
    static let database = Setting("--database", env: "APP_DATABASE", default: nil, value: "URL", help: "the database",
                                  redaction: .urlPassword)
    static let token = Setting("--token", env: "APP_TOKEN", default: "s3cret", value: "TEXT", help: "a secret", redaction: .whole)
    static let wait = Setting("--wait", env: "APP_WAIT", default: "48h", value: "DURATION", help: "how long")
    static let table = SettingsTable(program: "app", settings: [listen, workers, database, token, wait])

    @Test("a flag wins over its environment variable, which wins over the default")
    func precedence() throws {
        let fromDefault = try Self.table.parse([], environment: [:])
        #expect(fromDefault.string(Self.listen) == "127.0.0.1:7400")
        let fromEnvironment = try Self.table.parse([], environment: ["APP_LISTEN": "0.0.0.0:1"])
        #expect(fromEnvironment.string(Self.listen) == "0.0.0.0:1")
        let fromFlag = try Self.table.parse(["--listen", "10.0.0.1:2"], environment: ["APP_LISTEN": "0.0.0.0:1"])
        #expect(fromFlag.string(Self.listen) == "10.0.0.1:2")
        let withEquals = try Self.table.parse(["--listen=10.0.0.1:3"], environment: [:])
        #expect(withEquals.string(Self.listen) == "10.0.0.1:3")
    }

    @Test("an unknown flag, a flag without a value and a bad number are refused with the flag's name")
    func refusals() throws {
        #expect(throws: SettingsError.self) { try Self.table.parse(["--nope", "1"], environment: [:]) }
        #expect(throws: SettingsError.self) { try Self.table.parse(["--workers"], environment: [:]) }
        let values = try Self.table.parse(["--workers", "x"], environment: [:])
        do {
            _ = try values.int(Self.workers, in: 1...64)
            Issue.record("a bad number was accepted")
        } catch {
            #expect(error.description.contains("--workers"))
        }
        #expect(try Self.table.parse(["--workers", "8"], environment: [:]).int(Self.workers, in: 1...64) == 8)
    }

    @Test("--help lists every flag with its environment variable, and never a secret's default")
    func help() throws {
        do {
            _ = try Self.table.parse(["--help"], environment: [:])
            Issue.record("--help did not stop")
        } catch {
            guard case .help(let text) = error else { Issue.record("not help: \(error)"); return }
            for setting in Self.table.settings {
                #expect(text.contains(setting.flag))
                #expect(text.contains(setting.environment))
            }
            #expect(!text.contains("s3cret"))
        }
    }

    @Test("secrets are redacted in the start-up summary: a whole secret, and a URL's password")
    func redaction() throws {
        let values = try Self.table.parse(["--token", "hunter2", "--database", "postgresql://app:pa55@db:5432/x?password=pa55&sslmode=require"],
                                          environment: [:])
        let summary = Dictionary(uniqueKeysWithValues: values.redactedSummary.map { ($0.flag, $0.value) })
        #expect(summary["--token"] == "***")
        #expect(summary["--database"] == "postgresql://app:***@db:5432/x?password=***&sslmode=require")
        #expect(!values.redactedSummary.contains { $0.value.contains("pa55") || $0.value.contains("hunter2") })
    }

    @Test("durations are written with a unit: ms, s, m, h, d", arguments: [
        ("1500ms", Duration.milliseconds(1500)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("48h", .seconds(172_800)),
        ("7d", .seconds(604_800)), ("0s", .zero),
    ])
    func durations(_ text: String, _ expected: Duration) throws {
        #expect(DurationText.parse(text) == expected)
        #expect(DurationText.parse(DurationText.format(expected)) == expected)
    }

    @Test("durations without a unit, negative or overflowing are refused", arguments: ["48", "-1h", "h", "9223372036854775807d", "1.5h", ""])
    func badDurations(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    static let insecure = Setting(switch: "--insecure", env: "APP_INSECURE", help: "an on/off switch")
    static let switches = SettingsTable(program: "app", settings: [insecure, workers])

    @Test("a switch is off by default, on when given alone or by its variable, and leaves the next argument alone")
    func switches() throws {
        #expect(try Self.switches.parse([], environment: [:]).bool(Self.insecure) == false)
        let alone = try Self.switches.parse(["--insecure", "--workers", "2"], environment: [:])
        #expect(try alone.bool(Self.insecure) == true)
        #expect(try alone.int(Self.workers) == 2)
        #expect(try Self.switches.parse(["--insecure=false"], environment: ["APP_INSECURE": "true"]).bool(Self.insecure) == false)
        #expect(try Self.switches.parse([], environment: ["APP_INSECURE": "true"]).bool(Self.insecure) == true)
        do {
            _ = try Self.switches.parse(["--help"], environment: [:])
            Issue.record("--help did not stop")
        } catch {
            guard case .help(let text) = error else { Issue.record("not help: \(error)"); return }
            #expect(text.contains("  --insecure  "), "\(text)")
        }
    }
}
