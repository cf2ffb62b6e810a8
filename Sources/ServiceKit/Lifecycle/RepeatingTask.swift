import Synchronization

/// A loop a background service runs until it is stopped: each round returns how long to wait
/// before the next (nil: start the next at once). What the timer worker, the desk worker and the
/// audit checkpointer share.
public final class RepeatingTask: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// A loop not yet started.
    public init() {}

    /// Starts running `round` over and over until ``stop()``.
    public func start(_ round: @escaping @Sendable () async -> Duration?) {
        let started = Task {
            while !Task.isCancelled {
                guard let pause = await round() else { continue }
                try? await Task.sleep(for: pause)
            }
        }
        task.withLock { $0 = started }
    }

    /// Cancels the loop and returns once its round in progress has ended.
    public func stop() async {
        let running = task.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
