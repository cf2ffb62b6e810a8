import AfterSaleDomain
import ServiceKit
import SignedTokens
import Synchronization

/// When the checkpoint writer signs.
public struct AuditCheckpointSettings: Sendable, Hashable {
    /// A checkpoint once the chain has grown by this many records since the last one.
    public var everyRecords: Int64
    /// A checkpoint at least this often while the chain grows.
    public var interval: Duration
    /// How often it looks at the head (on PostgreSQL each look also chains what has committed).
    public var pollInterval: Duration

    /// Creates settings.
    public init(everyRecords: Int64 = 10_000, interval: Duration = .seconds(60), pollInterval: Duration = .seconds(1)) {
        self.everyRecords = everyRecords
        self.interval = interval
        self.pollInterval = pollInterval
    }
}

/// Signs checkpoints of the audit chain (C2SP signed notes with a tlog-checkpoint text: origin,
/// size, head hash) and stores them: when the chain has grown by `everyRecords` since the last
/// checkpoint, or `interval` has passed and it grew at all. Runs in every replica; two replicas
/// signing the same head store it once.
public final class AuditCheckpointer: Service, Sendable {
    public let name = "audit-checkpointer"
    private let store: any AuditRepository
    private let signer: NoteSigner
    private let clock: any WallClock
    private let settings: AuditCheckpointSettings
    private let logger: Logger
    private let loop = RepeatingTask()
    private let lastSigned = Mutex<(size: Int64, at: ContinuousClock.Instant)?>(nil)

    /// A writer signing `store`'s head with `signer` (whose name is the checkpoints' origin).
    public init(store: any AuditRepository, signer: NoteSigner, clock: any WallClock = SystemClock(),
                settings: AuditCheckpointSettings = AuditCheckpointSettings(), logger: Logger = .disabled) {
        self.store = store
        self.signer = signer
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    public func start() async throws {
        loop.start { [self] in
            do {
                try await tick()
            } catch {
                logger.log(.warning, "could not write an audit checkpoint", ["error": String(describing: error)])
            }
            return settings.pollInterval
        }
    }

    /// Stops looking, then signs the head once more if it grew, so a restart loses no interval.
    public func shutdown() async {
        await loop.stop()
        do {
            try await checkpointNow()
        } catch {
            logger.log(.warning, "could not write the last audit checkpoint", ["error": String(describing: error)])
        }
    }

    /// Looks at the head once and signs it when due. - Returns: the checkpoint written, if any.
    @discardableResult
    public func tick() async throws -> AuditCheckpoint? {
        let head = try await store.auditHead()
        let now = ContinuousClock.now
        let last = try await lastCheckpoint(now: now)
        guard head.size > last.size else { return nil }
        guard head.size - last.size >= settings.everyRecords || now - last.at >= settings.interval else { return nil }
        return try await sign(head, now: now)
    }

    /// Signs and stores a checkpoint of the current head when it grew since the last one, due or
    /// not (at shutdown, or on demand).
    @discardableResult
    public func checkpointNow() async throws -> AuditCheckpoint? {
        let head = try await store.auditHead()
        let last = try await lastCheckpoint(now: ContinuousClock.now)
        guard head.size > last.size else { return nil }
        return try await sign(head, now: ContinuousClock.now)
    }

    private func lastCheckpoint(now: ContinuousClock.Instant) async throws -> (size: Int64, at: ContinuousClock.Instant) {
        if let known = lastSigned.withLock({ $0 }) {
            return known
        }
        // First look in this process: start counting from what is stored (another replica's, or an
        // earlier run's), as if it had just been signed.
        let stored = try await store.latestAuditCheckpoint()
        let last = (size: stored?.size ?? 0, at: now)
        lastSigned.withLock { $0 = last }
        return last
    }

    private func sign(_ head: AuditHead, now: ContinuousClock.Instant) async throws -> AuditCheckpoint {
        let text = Checkpoint(origin: signer.name, size: head.size, hash: head.hash).text
        let note = try signer.sign(text)
        let checkpoint = AuditCheckpoint(size: head.size, hash: head.hash, note: note, signedAt: clock.now())
        try await store.saveAuditCheckpoint(checkpoint)
        lastSigned.withLock { $0 = (head.size, now) }
        logger.log(.debug, "signed an audit checkpoint", ["size": String(head.size)])
        return checkpoint
    }
}
