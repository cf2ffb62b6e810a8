import CLibpq
import Foundation
import Glibc
import Synchronization

/// A notification from `NOTIFY` or `pg_notify`.
public struct PostgresNotification: Sendable, Equatable {
    /// The channel it was sent on.
    public let channel: String
    /// The payload (empty when none was given).
    public let payload: String
    /// The server process of the session that sent it.
    public let senderPID: Int32
}

/// Listens on a set of channels on one dedicated connection and thread, and hands every
/// notification to a callback.
///
/// Notifications are hints, not a delivery channel: those sent while the listener is disconnected
/// are lost. When the connection breaks the listener reconnects (backing off up to
/// `maxReconnectDelayMilliseconds`), listens again and calls `onReconnect`, where the user catches
/// up by reading the state the notifications were about; keep a slow poll as a backstop too.
///
/// The callbacks run on the listener's thread, one at a time: keep them short (resume a
/// continuation, yield to a stream) so notifications are not held up. Call ``close()`` when done:
/// the thread keeps the listener alive until then.
public final class PostgresListener: @unchecked Sendable {
    /// The channels listened on.
    public let channels: [String]
    private let configuration: PostgresConfiguration
    private let onNotification: @Sendable (PostgresNotification) -> Void
    private let onReconnect: @Sendable () -> Void
    private let onError: @Sendable (PostgresError) -> Void
    private let maxReconnectDelayMilliseconds: Int
    private let pollIntervalMilliseconds: Int
    private let stopping = Atomic<Bool>(false)
    private let listening = Atomic<Bool>(false)
    private let pid = Atomic<Int32>(0)
    private let reconnectCount = Atomic<Int>(0)
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts the listener thread, which connects and runs `LISTEN` for each channel.
    ///
    /// - Parameters:
    ///   - onNotification: called with each notification on a listened channel.
    ///   - onReconnect: called after the listener has listened again following a broken connection
    ///     (not after the first connection): the time to catch up on what was missed.
    ///   - onError: called with each failure to connect or listen and each broken connection, for logs.
    ///   - pollIntervalMilliseconds: how long the thread waits for data before checking for ``close()``.
    public init(configuration: PostgresConfiguration, channels: [String],
                maxReconnectDelayMilliseconds: Int = 2_000, pollIntervalMilliseconds: Int = 200,
                onNotification: @escaping @Sendable (PostgresNotification) -> Void,
                onReconnect: @escaping @Sendable () -> Void = {},
                onError: @escaping @Sendable (PostgresError) -> Void = { _ in }) {
        self.configuration = configuration
        self.channels = channels
        self.onNotification = onNotification
        self.onReconnect = onReconnect
        self.onError = onError
        self.maxReconnectDelayMilliseconds = maxReconnectDelayMilliseconds
        self.pollIntervalMilliseconds = max(1, pollIntervalMilliseconds)
        let thread = Thread { [self] in run() }
        thread.name = "postgres-listener"
        thread.start()
    }

    /// True while connected with every channel listened to.
    public var isListening: Bool { listening.load(ordering: .acquiring) }

    /// The server process of the listening session, 0 while disconnected.
    public var backendPID: Int32 { pid.load(ordering: .acquiring) }

    /// How many times the listener has listened again after a broken connection.
    public var reconnects: Int { reconnectCount.load(ordering: .acquiring) }

    /// Waits (without blocking a thread) until the listener is listening, for at most `timeout`.
    /// - Returns: whether it is listening.
    public func waitUntilListening(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !isListening && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return isListening
    }

    /// Stops listening and closes the connection. Returns within about one poll interval, or one
    /// connection attempt (``PostgresConfiguration/connectTimeoutSeconds``) if one is under way.
    public func close() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopped.wait()
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func run() {
        var failedAttempts = 0
        var listenedBefore = false
        while !isStopping {
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection(configuration: configuration)
                try connection.executeScript(try channels.map { "LISTEN \(try connection.quoteIdentifier($0))" }
                    .joined(separator: "; "))
            } catch {
                onError(error as? PostgresError ?? PostgresError(message: "\(error)"))
                failedAttempts += 1
                sleep(milliseconds: min(50 << min(failedAttempts - 1, 16), maxReconnectDelayMilliseconds))
                continue
            }
            failedAttempts = 0
            pid.store(connection.backendPID, ordering: .releasing)
            listening.store(true, ordering: .releasing)
            if listenedBefore {
                reconnectCount.add(1, ordering: .acquiringAndReleasing)
                onReconnect()
            }
            listenedBefore = true
            listen(on: connection)
            listening.store(false, ordering: .releasing)
            pid.store(0, ordering: .releasing)
            connection.close()
        }
        stopped.signal()
    }

    /// Delivers notifications until the connection breaks or the listener stops.
    private func listen(on connection: PostgresConnection) {
        let handle = connection.handle
        deliver(handle)  // any that came with the LISTEN's answer
        while !isStopping {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(pollIntervalMilliseconds))
            if ready < 0 && errno != EINTR { break }
            if ready > 0 && PQconsumeInput(handle) == 0 { break }
            deliver(handle)
            if connection.isBroken { break }
        }
        if !isStopping {
            onError(PostgresError(kind: .connection, message: "the listening connection broke: \(PostgresConnection.trimmed(PQerrorMessage(handle)))"))
        }
    }

    private func deliver(_ handle: OpaquePointer) {
        while let raw = PQnotifies(handle) {
            let notification = PostgresNotification(
                channel: raw.pointee.relname.map { String(cString: $0) } ?? "",
                payload: raw.pointee.extra.map { String(cString: $0) } ?? "",
                senderPID: raw.pointee.be_pid)
            PQfreemem(raw)
            onNotification(notification)
        }
    }

    /// Sleeps in slices so ``close()`` is not held up by a long backoff.
    private func sleep(milliseconds: Int) {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(milliseconds))
        while !isStopping && ContinuousClock.now < deadline {
            usleep(UInt32(min(pollIntervalMilliseconds, 20) * 1_000))
        }
    }
}
