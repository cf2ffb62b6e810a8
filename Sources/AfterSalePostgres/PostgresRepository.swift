import AfterSaleDomain
import AfterSaleStorage
import ServiceKit
import Synchronization

/// The after-sale repository on PostgreSQL: every storage port, with the in-memory reference's
/// semantics, for several stateless `aftersaled` replicas sharing one database.
///
/// - **Threads.** A ``PostgresPool`` of `poolSize` threads, each with its own connection, runs every
///   call (libpq blocks), so no database wait ever holds a Swift task-pool thread.
/// - **Writes.** Each write is one READ COMMITTED transaction with `synchronous_commit = on`, run
///   with the engine's `resolveUnknownCommit`: when the connection breaks during COMMIT, a fresh
///   connection asks `pg_xact_status` whether it committed before the call answers; the outcome is
///   never guessed. Compare-and-set on versions, row locks (`FOR UPDATE`, `FOR SHARE`, `SKIP
///   LOCKED`) and unique keys make concurrent writers on several replicas behave as the reference's
///   one lock does: an idempotency key is claimed by the first statement of the write that spends
///   it (a concurrent twin waits for that transaction and then replays it), an eligibility basis
///   locks its order row and shares its cases, a transition updates its case only at the expected
///   version. Deadlocks and serialization failures are retried (up to three attempts); a broken
///   connection before COMMIT is retried once (the server rolled that transaction back).
/// - **The feed.** Writes insert their events unnumbered; after COMMIT a ``FeedSequencer`` round
///   (one at a time across replicas, under an advisory lock) gives committed events contiguous
///   cursors after the head and announces the new head with `NOTIFY`, which every replica's
///   ``PostgresListener`` turns into a wake-up of its ``AfterSaleStorage/EventFeedSignal``. A write
///   answers after the round that follows its commit (see ``FeedRows``).
/// - **Case numbers** come from `case_number_days`, reserved a block at a time (see ``CaseNumberRows``).
/// - **Refund claims** lock candidates with `FOR UPDATE SKIP LOCKED` and judge leases by the
///   database's clock (see ``LeaseClock``).
/// - **Errors.** Domain and repository errors pass through. A database that cannot be reached, a
///   connection lost mid-call, a lock or statement timeout become ``RepositoryError/unavailable(_:)``;
///   everything else becomes ``RepositoryError/storageFailure(_:)``. PostgreSQL's own text goes to
///   the log with the operation's name, never to the caller.
///
/// Open with ``open(url:poolSize:logger:)`` or ``open(configuration:options:logger:)``; call
/// ``close()`` when done (the pool's and listener's threads keep it alive until then).
public final class PostgresRepository: AfterSaleRepository {
    /// Which clock decides whether a refund may be claimed and when a claim's lease expires.
    public enum LeaseClock: Sendable, Hashable {
        /// The database server's clock (`clock_timestamp()`, in milliseconds), read inside the claim's
        /// transaction: every replica judges leases by one clock, so a replica whose clock runs ahead
        /// cannot take a lease early. The claim's `at` is then ignored, and the claimed refunds carry
        /// the database's instant (`updatedAt`, `lease.expiresAt`), exactly as stored. The default.
        case database
        /// The claim's `at`, as the in-memory and SQLite backends do: for one replica with a
        /// trustworthy clock, and for tests that move time by hand (the conformance suite's claim check).
        case caller
    }

    /// How the repository is set up beyond the connection.
    public struct Options: Sendable {
        /// Pool threads, each with its own connection (at least 1).
        public var poolSize: Int
        /// The channel feed wake-ups are sent and listened on. Replicas of one deployment must agree;
        /// deployments sharing a database (in different schemas) must not.
        public var notificationChannel: String
        /// Which clock judges refund leases.
        public var leaseClock: LeaseClock
        /// How long ``PostgresRepository/open(configuration:options:logger:)`` waits for the feed
        /// listener to be listening before going on without it (the wait's timeout is then the only
        /// wake-up until it connects).
        public var listenerReadyTimeout: Duration
        /// How often the feed sequencer looks for committed events nobody numbered (their writer's
        /// replica died between commit and sequencing).
        public var sequencerBackstopInterval: Duration
        /// Case numbers a replica reserves per trip to the database (1: every number is its own trip).
        public var caseNumberBlock: Int

        /// Options with the defaults: 8 connections, channel `aftersale_feed`, the database's clock.
        public init(poolSize: Int = 8, notificationChannel: String = "aftersale_feed", leaseClock: LeaseClock = .database,
                    listenerReadyTimeout: Duration = .seconds(5), sequencerBackstopInterval: Duration = .seconds(1),
                    caseNumberBlock: Int = 32) {
            self.caseNumberBlock = caseNumberBlock
            self.sequencerBackstopInterval = sequencerBackstopInterval
            self.poolSize = poolSize
            self.notificationChannel = notificationChannel
            self.leaseClock = leaseClock
            self.listenerReadyTimeout = listenerReadyTimeout
        }
    }

    /// The versions the opening call applied (empty when the schema was current).
    public let migrationsApplied: [Int]
    /// The options it was opened with.
    public let options: Options
    let pool: PostgresPool
    /// Two more connections for the feed alone (sequencing rounds, subscribers' reads, the head), so
    /// that feed delivery never queues behind the writes it reports.
    let feedPool: PostgresPool
    let listener: PostgresListener
    /// Wakes feed readers of this process: advanced after local sequencing rounds and by the listener.
    let wakeUps: FeedWakeUps
    /// Gives committed events their cursors (see ``FeedRows``).
    let sequencer: FeedSequencer
    /// Case numbers reserved and not yet handed out (see ``CaseNumberRows``).
    let caseNumbers: CaseNumberBlocks
    /// The reason catalog as last read, with the catalog generation it was read at.
    let reasonCache = ReasonCatalogGenerationCache()
    /// Where storage failures are logged with PostgreSQL's detail (clients see none of it).
    let logger: Logger
    private let closed = Atomic<Bool>(false)

    private init(migrationsApplied: [Int], options: Options, pool: PostgresPool, feedPool: PostgresPool, listener: PostgresListener,
                 wakeUps: FeedWakeUps, sequencer: FeedSequencer, logger: Logger) {
        self.sequencer = sequencer
        self.caseNumbers = CaseNumberBlocks(size: Int64(options.caseNumberBlock))
        self.migrationsApplied = migrationsApplied
        self.options = options
        self.pool = pool
        self.feedPool = feedPool
        self.listener = listener
        self.wakeUps = wakeUps
        self.logger = logger
    }

    /// Opens a repository on the database at `url` (a `postgresql://` URL or libpq connection string;
    /// empty for libpq's environment variables) with the default options and `poolSize` connections.
    /// - Throws: as ``open(configuration:options:logger:)``.
    public static func open(url: String, poolSize: Int = 8, logger: Logger = .disabled) async throws -> PostgresRepository {
        try await open(configuration: PostgresConfiguration(url), options: Options(poolSize: poolSize), logger: logger)
    }

    /// Connects the pool, applies the missing migrations under an advisory lock (so replicas
    /// starting together migrate once), starts the feed listener and reads the feed's head.
    /// - Throws: ``RepositoryError/unavailable(_:)`` when the database cannot be reached (within the
    ///   configuration's connect timeout); ``RepositoryError/storageFailure(_:)`` when migrating fails.
    public static func open(configuration: PostgresConfiguration, options: Options = Options(),
                            logger: Logger = .disabled) async throws -> PostgresRepository {
        let log = logger.with(["backend": "postgres"])
        let pool = PostgresPool(configuration: configuration, size: max(1, options.poolSize), name: "aftersale-pg")
        let applied: [Int]
        do {
            applied = try await pool.run { connection in
                try PostgresMigrator.migrate(connection, migrations: PostgresSchema.migrations)
            }
        } catch {
            pool.close()
            throw Self.mapped(error, operation: "open", logger: log)
        }
        if !applied.isEmpty {
            log.log(.info, "migrated the PostgreSQL schema", ["versions": applied.map(String.init).joined(separator: ",")])
        }
        let feedPool = PostgresPool(configuration: configuration, size: 2, name: "aftersale-pg-feed")
        let wakeUps = FeedWakeUps(pool: feedPool, logger: log)
        let listener = PostgresListener(
            configuration: configuration, channels: [options.notificationChannel],
            onNotification: { wakeUps.notified(payload: $0.payload) },
            onReconnect: { wakeUps.catchUp() },
            onError: { wakeUps.listenerFailed($0) })
        if !(await listener.waitUntilListening(timeout: options.listenerReadyTimeout)) {
            log.log(.warning, "the feed listener is not listening yet; waits rely on their timeout until it is",
                    ["channel": options.notificationChannel])
        }
        let sequencer = FeedSequencer(pool: feedPool, channel: options.notificationChannel, logger: log,
                                      advanced: { wakeUps.advance(to: $0) })
        let repository = PostgresRepository(migrationsApplied: applied, options: options, pool: pool, feedPool: feedPool,
                                            listener: listener,
                                            wakeUps: wakeUps, sequencer: sequencer, logger: log)
        do {
            // Events a replica committed but did not live to number get their cursors now.
            await sequencer.sequence()
            sequencer.startBackstop(interval: options.sequencerBackstopInterval)
            // After LISTEN: whatever was sequenced before is read here, whatever is sequenced after is heard.
            wakeUps.advance(to: try await repository.eventFeedHead())
        } catch {
            repository.close()
            throw error
        }
        return repository
    }

    /// Stops the listener, runs the calls already queued, closes every connection; later calls
    /// throw ``RepositoryError/closed``. Safe to call twice.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        sequencer.stop()
        listener.close()
        pool.close()
        feedPool.close()
    }

    // MARK: plumbing

    /// Runs `body` as one write transaction (COMMIT resolved with `pg_xact_status` if the connection
    /// breaks during it); throws only domain and repository errors.
    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await run(operation) { connection in
            try connection.transaction(resolveUnknownCommit: true) { try body($0) }
        }
    }

    /// Runs `body` on a pool connection outside a transaction (each statement sees the last commit).
    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await run(operation, body)
    }

    /// Like ``read(_:_:)`` on the feed's own connections.
    func feedRead<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await run(operation, on: feedPool, body)
    }

    /// Runs `body` in a read-only REPEATABLE READ transaction: every statement sees one snapshot.
    func snapshot<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await run(operation) { connection in
            try connection.transaction(isolation: .repeatableRead, readOnly: true) { try body($0) }
        }
    }

    private func run<T: Sendable>(_ operation: String, on pool: PostgresPool? = nil,
                                  _ job: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let pool = pool ?? self.pool
        var attempt = 0
        while true {
            guard !closed.load(ordering: .acquiring) else { throw RepositoryError.closed }
            attempt += 1
            do {
                return try await pool.run(job)
            } catch let error as PostgresError where Self.retryable(error, attempt: attempt) {
                // Nothing was committed: a deadlock victim or a serialization failure was rolled back,
                // and a connection that broke before COMMIT took its transaction with it.
                logger.log(.debug, "retrying a storage call", ["operation": operation, "attempt": String(attempt),
                                                               "error": String(describing: error)])
                continue
            } catch {
                throw Self.mapped(error, operation: operation, logger: logger)
            }
        }
    }

    private static func retryable(_ error: PostgresError, attempt: Int) -> Bool {
        if error.kind == .serializationFailure { return attempt < 3 }
        if error.kind == .connection { return attempt < 2 }
        return false
    }

    /// Keeps driver and server text out of the domain: domain and repository errors pass, the rest
    /// is logged in full and becomes a ``RepositoryError`` in our own words.
    static func mapped(_ error: any Error, operation: String, logger: Logger) -> any Error {
        switch error {
        case let error as DomainError: return error
        case let error as RepositoryError: return error
        case let error as PostgresError:
            let fields: KeyValuePairs<String, String> = ["operation": operation, "error": String(describing: error)]
            switch error.kind {
            case .closed:
                return RepositoryError.closed
            case .connection:
                logger.log(.warning, "storage unavailable", fields)
                return RepositoryError.unavailable("the database cannot be reached; retry later")
            case .timeout:
                logger.log(.warning, "storage timeout", fields)
                return RepositoryError.unavailable("the database did not answer in time; nothing was changed")
            case .rolledBack:
                logger.log(.warning, "storage unavailable", fields)
                return RepositoryError.unavailable("the connection to the database broke; the change was not made")
            case .commitOutcomeUnknown:
                logger.log(.error, "commit outcome unknown", fields)
                return RepositoryError.unavailable(
                    "the connection to the database broke while committing and the outcome is unknown; retry with the same idempotency key")
            default:
                logger.log(.error, "storage failure", fields)
                return RepositoryError.storageFailure("the PostgreSQL store failed; see the server log")
            }
        default:
            logger.log(.error, "storage failure", ["operation": operation, "error": String(describing: error)])
            return RepositoryError.storageFailure("the PostgreSQL store failed; see the server log")
        }
    }
}
