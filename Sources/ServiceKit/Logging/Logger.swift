import Foundation
import Glibc
import Synchronization

/// How much a process says: a line is written when its level is at or above the logger's.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug = 0, info, warning, error, off

    /// The level named `name` (debug, info, warning or warn, error, off or none; any case).
    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        case "off", "none": self = .off
        default: return nil
        }
    }

    /// The level's name as written in log lines and flags.
    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        case .off: "off"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Writes structured log lines (`ts=… level=… msg=… key=value…`) to standard error, from any
/// module: the server, storage engines and background workers share one.
///
/// Lines are buffered and written at most every 50 ms or when 64 KiB pile up, so logging every
/// call does not cost a syscall per call; warnings and errors are written at once. A logger made
/// with ``with(_:)`` adds its fields to every line and shares the parent's buffer.
public final class Logger: @unchecked Sendable {
    /// The threshold: lines below it are dropped.
    public let level: LogLevel
    /// Fields added to every line, e.g. `component=storage`.
    public let fields: [(String, String)]
    private let buffer: LogBuffer
    private let flusher: DispatchSourceTimer?

    /// A logger that writes lines at `level` and above to standard error.
    public init(level: LogLevel) {
        self.level = level
        self.fields = []
        buffer = LogBuffer()
        guard level != .off else {
            flusher = nil
            return
        }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "aftersale.log"))
        flusher = timer
        timer.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
        timer.setEventHandler { [buffer] in buffer.flush() }
        timer.resume()
    }

    private init(parent: Logger, fields: [(String, String)]) {
        level = parent.level
        self.fields = parent.fields + fields
        buffer = parent.buffer
        flusher = nil
    }

    deinit { flusher?.cancel(); flush() }

    /// A logger that says nothing: for tests and tools.
    public static let disabled = Logger(level: .off)

    /// A logger that adds `fields` to every line and writes through this one's buffer.
    public func with(_ fields: KeyValuePairs<String, String>) -> Logger {
        Logger(parent: self, fields: fields.map { ($0.key, $0.value) })
    }

    /// True when a line at `level` would be written: check it before building costly fields.
    public func enabled(_ level: LogLevel) -> Bool { level >= self.level && level != .off }

    /// Logs `message` with key/value fields if `level` is at or above the logger's level.
    public func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        guard enabled(level) else { return }
        var line = "ts=\(Self.timestamp()) level=\(level.name) msg=\(Self.quote(message))"
        for (k, v) in self.fields { line += " \(k)=\(Self.quote(v))" }
        for (k, v) in fields { line += " \(k)=\(Self.quote(v))" }
        line += "\n"
        append(line, urgent: level >= .warning)
    }

    /// Appends a pre-formatted line (the per-call log builds its own); `urgent` writes at once.
    public func append(_ line: String, urgent: Bool) {
        let full = buffer.bytes.withLock { b -> Bool in
            b.append(contentsOf: line.utf8)
            return b.count > 65536
        }
        if urgent || full { flush() }
    }

    /// Writes whatever is buffered.
    public func flush() { buffer.flush() }

    /// The current UTC time as `2026-11-27T07:16:16.123Z`.
    public static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }

    /// Quotes a value when it holds spaces, quotes or `=`.
    public static func quote(_ value: String) -> String {
        if !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) { return value }
        var out = "\""
        for ch in value {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out + "\""
    }
}

/// The pending log bytes, shared with the flush timer.
final class LogBuffer: Sendable {
    let bytes = Mutex<[UInt8]>([])

    func flush() {
        let bytes = self.bytes.withLock { b -> [UInt8] in
            let out = b
            b.removeAll(keepingCapacity: true)
            return out
        }
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, base + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}
