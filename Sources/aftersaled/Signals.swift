import Dispatch
import Glibc

/// Turns termination signals into a semaphore signal, off the main actor (top-level code is
/// main-actor isolated, and Dispatch runs the handlers on its own queue).
enum Signals {
    static func notify(_ semaphore: DispatchSemaphore, on signals: [Int32]) -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "aftersaled.signals")
        return signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { semaphore.signal() }
            source.resume()
            return source
        }
    }
}
