import Foundation
import CSystemShims
import Glibc
import Synchronization

/// Something registered with an event loop that wants to hear about readiness of its descriptor.
/// Called on the loop's thread only.
public protocol EventHandler: AnyObject {
    /// `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR...).
    func handle(events: UInt32)
}

/// One epoll loop on its own thread: readiness callbacks, work handed over from other threads,
/// and timers. Many connections share one loop; nothing on it may block.
public final class EventLoop: @unchecked Sendable {
    private let epollFD: Int32
    private let wakeFD: Int32
    /// Registered handlers by descriptor; touched on the loop thread only.
    private var handlers: [Int32: EventHandler] = [:]
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    /// Whether the inbox may hold work: lets an idle iteration skip the lock.
    private let inboxNonEmpty = Atomic<Bool>(false)
    private let wakePending = Atomic<Bool>(false)
    private let timers = Mutex(TimerHeap())
    /// The earliest timer deadline (UInt64.max when none), readable without the lock.
    private let earliestTimer = Atomic<UInt64>(UInt64.max)
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private var thread: pthread_t?
    public let name: String

    /// Starts a loop on a new thread.
    public init(name: String) throws(TransportError) {
        self.name = name
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw .system("epoll_create1", errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw .system("eventfd", errno) }
        var ev = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFD))
        epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &ev)
        let started = DispatchSemaphore(value: 0)
        let t = Thread { [self] in
            self.thread = pthread_self()
            started.signal()
            self.run()
        }
        t.name = name
        t.stackSize = 1 << 20
        t.start()
        started.wait()
    }

    /// True on the loop's own thread.
    public var inLoop: Bool {
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// Runs `work` on the loop thread soon. Safe from any thread.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(work) }
        inboxNonEmpty.store(true, ordering: .releasing)
        wake()
    }

    private func wake() {
        // On the loop thread the inbox is drained before the next epoll_wait: no wake-up needed.
        if inLoop { return }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// Runs `work` on the loop thread at `deadline` (monotonic nanoseconds). Safe from any thread.
    @discardableResult
    public func schedule(atNanos deadline: UInt64, _ work: @escaping @Sendable () -> Void) -> TimerID {
        let (id, isEarliest) = timers.withLock { heap -> (TimerID, Bool) in
            let id = heap.insert(deadline, work)
            earliestTimer.store(heap.earliest ?? UInt64.max, ordering: .releasing)
            return (id, heap.earliest == deadline)
        }
        if isEarliest && !inLoop { wake() }
        return id
    }

    /// Runs `work` after `delay`. Safe from any thread.
    @discardableResult
    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> TimerID {
        schedule(atNanos: MonotonicClock.nanos() &+ delay.nanoseconds, work)
    }

    /// Forgets a timer that has not fired yet. Safe from any thread.
    public func cancelTimer(_ id: TimerID) {
        timers.withLock { $0.cancel(id) }
    }


    /// Registers a descriptor; loop thread only.
    public func register(_ fd: Int32, events: UInt32, handler: EventHandler) throws(TransportError) {
        precondition(inLoop, "register must run on the loop thread")
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &ev) == 0 else { throw .system("epoll_ctl(ADD)", errno) }
        handlers[fd] = handler
    }

    /// Changes the events a registered descriptor waits for; loop thread only.
    public func modify(_ fd: Int32, events: UInt32) {
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Forgets a descriptor (before it is closed); loop thread only.
    public func unregister(_ fd: Int32) {
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        handlers[fd] = nil
    }

    /// Stops the loop thread after the work already handed over has run, and waits for it.
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakePending.store(false, ordering: .releasing)
        wake()
        if !inLoop { stopped.wait() }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !stopping.load(ordering: .acquiring) {
            let timeout = nextTimeoutMillis()
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, 256, timeout) }
            if n < 0 && errno != EINTR { break }
            for i in 0..<max(0, Int(n)) {
                let fd = events[i].data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                    wakePending.store(false, ordering: .releasing)
                    continue
                }
                handlers[fd]?.handle(events: events[i].events)
            }
            runInbox()
            runDueTimers()
        }
        runInbox()
        handlers.removeAll()
        close(epollFD)
        close(wakeFD)
        stopped.signal()
    }

    private func runInbox() {
        while inboxNonEmpty.load(ordering: .acquiring) {
            let work = inbox.withLock { box -> [@Sendable () -> Void] in
                inboxNonEmpty.store(false, ordering: .releasing)
                let items = box
                box.removeAll(keepingCapacity: true)
                return items
            }
            if work.isEmpty { return }
            for item in work { item() }
        }
    }

    private func runDueTimers() {
        guard earliestTimer.load(ordering: .acquiring) != UInt64.max else { return }
        let now = MonotonicClock.nanos()
        guard earliestTimer.load(ordering: .acquiring) <= now else { return }
        while let work = timers.withLock({ heap -> (@Sendable () -> Void)? in
            let due = heap.popDue(now: now)
            earliestTimer.store(heap.earliest ?? UInt64.max, ordering: .releasing)
            return due
        }) { work() }
    }

    private func nextTimeoutMillis() -> Int32 {
        if inboxNonEmpty.load(ordering: .acquiring) { return 0 }
        let earliest = earliestTimer.load(ordering: .acquiring)
        guard earliest != UInt64.max else { return -1 }
        let now = MonotonicClock.nanos()
        if earliest <= now { return 0 }
        return Int32(min(60_000, (earliest - now + 999_999) / 1_000_000))
    }
}

/// Errors from the socket layer, with the failing call and errno.
public enum TransportError: Error, CustomStringConvertible, Sendable {
    case system(String, Int32)
    case invalidAddress(String)

    public var description: String {
        switch self {
        case let .system(call, code): "\(call) failed: \(String(cString: strerror(code)))"
        case let .invalidAddress(text): "invalid address '\(text)': expected HOST:PORT with an IPv4 host"
        }
    }
}

/// Monotonic time in nanoseconds, for deadlines and durations.
public enum MonotonicClock {
    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped at zero.
    public var nanoseconds: UInt64 {
        let (s, atto) = components
        if s < 0 { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(atto / 1_000_000_000)
    }
}

/// An event loop can run Swift tasks: a task that prefers it (`withTaskExecutorPreference(loop)`)
/// resumes on the loop thread right after the read that completed its call, instead of waking a
/// thread of the global pool. Latency-sensitive callers (the load generator) use it; such tasks
/// must not block.
extension EventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        execute { [self] in unowned.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}
