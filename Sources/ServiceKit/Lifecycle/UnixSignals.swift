import Dispatch
import Glibc

/// Unix signals as an async sequence: the default action of each signal is turned off and its
/// arrivals are delivered through a Dispatch source instead, off every other thread.
public enum UnixSignals {
    /// Every arrival of one of `signals`, until the consumer stops iterating.
    public static func stream(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "aftersale.signals")
            let sources = signals.map { number -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            let held = SignalSources(sources)
            continuation.onTermination = { _ in held.cancel() }
        }
    }

    /// The signal's name, e.g. `SIGTERM`.
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        default: "signal \(number)"
        }
    }
}

/// Keeps the Dispatch sources of a signal stream alive until the stream ends. Dispatch sources
/// are thread-safe, so handing them to the termination handler is safe.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }

    func cancel() { for source in sources { source.cancel() } }
}
