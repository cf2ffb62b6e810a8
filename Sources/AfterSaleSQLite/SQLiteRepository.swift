import AfterSaleDomain
import AfterSaleStorage
import ServiceKit
import Foundation
import Synchronization

/// The after-sale repository on an embedded SQLite database: `<data directory>/aftersale.sqlite3`.
///
/// Writes go through one ``GroupCommitWriter`` (one thread, one connection; the writes that arrive
/// together share one transaction and one fsync, and no caller hears back before that COMMIT is
/// durable); reads go through a ``ReaderPool`` of read-only connections, which in WAL mode see the
/// last commit and never wait for the writer. Domain values are encoded on the caller's task, so
/// the writer thread only binds bytes and steps statements.
public final class SQLiteRepository: AfterSaleRepository {
    /// The database file's name inside the data directory.
    public static let fileName = "aftersale.sqlite3"

    /// How many threads and connections the repository uses.
    public struct Options: Sendable, Hashable {
        /// Reader threads, each with its own connection.
        public var readers: Int
        /// The most writes one group transaction takes.
        public var maxBatch: Int

        /// Creates options; the defaults suit a small machine (reads are short and CPU-bound).
        public init(readers: Int = 4, maxBatch: Int = 256) {
            self.readers = readers
            self.maxBatch = maxBatch
        }
    }

    /// Counters of the group-commit writer.
    public struct WriteStatistics: Sendable, Hashable {
        /// Transactions committed.
        public var transactions: Int
        /// Writes committed in them.
        public var writes: Int
    }

    /// The database file.
    public let path: String
    /// Keeps other processes off the data directory while open.
    private let lock: DataDirectoryLock
    /// The versions the last ``open(dataDirectory:options:)`` applied (empty when the schema was current).
    public let migrationsApplied: [Int]
    let writer: GroupCommitWriter
    let readers: ReaderPool
    let checkpointer: Checkpointer
    let sequences = CaseNumberSequences()
    /// Wakes Subscribe readers after commits that appended events.
    let feedSignal = EventFeedSignal()
    /// The reason catalog as last read: every CreateAfterSale needs it, and only UpsertReason
    /// (through this repository, the only writer of the file) changes it.
    let reasonCache = ReasonCatalogCache()
    /// Where storage failures are logged with their SQLite detail (clients see none of it).
    let logger: Logger

    private init(path: String, lock: DataDirectoryLock, migrationsApplied: [Int], writer: GroupCommitWriter, readers: ReaderPool,
                 checkpointer: Checkpointer, logger: Logger) {
        self.lock = lock
        self.logger = logger
        self.path = path
        self.migrationsApplied = migrationsApplied
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
    }

    /// Opens (creating if needed) the database in `dataDirectory`, creating the directory too, and
    /// applies the migrations it has not seen yet.
    /// - Throws: ``RepositoryError/storageFailure(_:)`` when the file cannot be opened, configured or migrated.
    public static func open(dataDirectory: String, options: Options = Options(),
                            logger: Logger = .disabled) throws -> SQLiteRepository {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let lock = try DataDirectoryLock(directory: dataDirectory)
            let path = (dataDirectory as NSString).appendingPathComponent(fileName)
            let connection: SQLiteConnection
            do {
                connection = try SQLiteConnection(path: path)
            } catch {
                lock.release()
                throw error
            }
            try configureWriter(connection)
            let applied = try Migrator.migrate(connection, Schema.migrations)
            let checkpointConnection = try SQLiteConnection(path: path)
            // A checkpoint fsyncs the database file before the WAL may be reused, as the writer's would.
            try checkpointConnection.execute("PRAGMA synchronous = FULL")
            let writer = GroupCommitWriter(connection: connection, maxBatch: options.maxBatch)
            let readers: ReaderPool
            do {
                readers = try ReaderPool(threads: max(1, options.readers)) {
                    let reader = try SQLiteConnection(path: path, readOnly: true)
                    try configureReader(reader)
                    return reader
                }
            } catch {
                writer.close()
                lock.release()
                throw error
            }
            return SQLiteRepository(path: path, lock: lock, migrationsApplied: applied, writer: writer, readers: readers,
                                    checkpointer: Checkpointer(connection: checkpointConnection), logger: logger)
        } catch let error as RepositoryError {
            throw error
        } catch {
            throw RepositoryError.storageFailure("cannot open the database in \(dataDirectory): \(error)")
        }
    }

    static func configureWriter(_ connection: SQLiteConnection) throws {
        // WAL: readers keep reading the last commit while the writer writes, and a commit appends
        // to one file instead of rewriting pages in place.
        let mode = try connection.queryOne("PRAGMA journal_mode = WAL") { $0.string(0) }
        guard mode?.lowercased() == "wal" else {
            throw RepositoryError.storageFailure("the database refused WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        // FULL, not NORMAL: in WAL mode FULL fsyncs the WAL at every commit, so a commit that
        // returned (and the call we then acknowledge) survives a power cut. NORMAL syncs only at
        // checkpoints: still consistent after a crash, but the last commits before a power cut can
        // vanish after their callers heard OK. Group commit pays this fsync once per batch.
        try connection.execute("PRAGMA synchronous = FULL")
        // The REFERENCES clauses document the schema and `PRAGMA foreign_key_check` audits it (the
        // storage tests run it after their workloads), but the writer does not enforce them: every
        // write already checks the case it names in its own transaction, and enforcement made SQLite
        // open a statement journal for each insert into a child table, copying every page the insert
        // touched (a tenth of the writer's time per create).
        try connection.execute("PRAGMA foreign_keys = OFF")
        // Checkpoints run on the Checkpointer's thread; this threshold (64 MiB of WAL) is only a
        // backstop should that thread fall behind.
        try connection.execute("PRAGMA wal_autocheckpoint = 16384")
        // 64 MiB of page cache keeps the upper levels of every index in memory for inserts. The
        // writer's cache survives across its transactions (a reader's does not, see configureReader).
        // Bigger is not better: 256 MiB measured slower, the more so the fuller it got, because
        // every commit's end-of-transaction cache truncation walked more of the cache.
        try connection.execute("PRAGMA cache_size = -65536")
        try connection.execute("PRAGMA temp_store = MEMORY")
    }

    static func configureReader(_ connection: SQLiteConnection) throws {
        // In WAL mode a reader drops its whole page cache when a read transaction starts after
        // another connection committed, so under writes its reads start cold whatever the size.
        try connection.execute("PRAGMA cache_size = -16384")
        // No memory mapping (mmap_size 0, SQLite's default): with the cache, a reader also drops its
        // whole mapping then, and each munmap of a populated mapping costs page-table work and a TLB
        // shootdown on every core. Under a stream of creates that was over half of the readers'
        // time; pread into the connection's page cache is cheaper.
        try connection.execute("PRAGMA mmap_size = 0")
        try connection.execute("PRAGMA temp_store = MEMORY")
    }

    /// Finishes the queued writes and reads, then closes every connection; later calls throw
    /// ``RepositoryError/closed``.
    public func close() {
        writer.close()
        readers.close()
        checkpointer.close()
        lock.release()
    }

    /// How many transactions and writes the writer has committed since open.
    public var writeStatistics: WriteStatistics {
        WriteStatistics(transactions: writer.transactions, writes: writer.writes)
    }

    // MARK: plumbing

    /// Runs `body` in the next group transaction; throws only domain and repository errors.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await mappingErrors { try await writer.write(body) }
    }

    /// Runs `body` on a reader connection; throws only domain and repository errors.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await mappingErrors { try await readers.read(body) }
    }

    /// Keeps driver details out of the domain: every other error becomes a ``RepositoryError``,
    /// and SQLite's own text goes to the log, never to the caller.
    func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DomainError {
            throw error
        } catch let error as RepositoryError {
            throw error
        } catch is StorageClosed {
            throw RepositoryError.closed
        } catch {
            logger.log(.error, "storage failure", ["error": String(describing: error)])
            throw RepositoryError.storageFailure("the SQLite store failed; see the server log")
        }
    }
}

// MARK: - Health

extension SQLiteRepository {
    /// A trivial read through a reader connection: the file is open and readable.
    public func checkHealth() async throws {
        _ = try await read { connection in try connection.queryOne("SELECT 1", row: { $0.int64(0) }) }
    }
}
