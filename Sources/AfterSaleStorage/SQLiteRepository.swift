import AfterSaleDomain
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
    /// The versions the last ``open(dataDirectory:options:)`` applied (empty when the schema was current).
    public let migrationsApplied: [Int]
    let writer: GroupCommitWriter
    let readers: ReaderPool
    let checkpointer: Checkpointer
    private let sequences = CaseNumberSequences()
    /// Wakes Subscribe readers after commits that appended events.
    let feedSignal = EventFeedSignal()
    /// The reason catalog as last read: every CreateAfterSale needs it, and only UpsertReason
    /// (through this repository, the only writer of the file) changes it.
    private let cachedReasons = Mutex<ReasonCache>(ReasonCache())

    private init(path: String, migrationsApplied: [Int], writer: GroupCommitWriter, readers: ReaderPool,
                 checkpointer: Checkpointer) {
        self.path = path
        self.migrationsApplied = migrationsApplied
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
    }

    /// Opens (creating if needed) the database in `dataDirectory`, creating the directory too, and
    /// applies the migrations it has not seen yet.
    /// - Throws: ``RepositoryError/storageFailure(_:)`` when the file cannot be opened, configured or migrated.
    public static func open(dataDirectory: String, options: Options = Options()) throws -> SQLiteRepository {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let path = (dataDirectory as NSString).appendingPathComponent(fileName)
            let connection = try SQLiteConnection(path: path)
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
                throw error
            }
            return SQLiteRepository(path: path, migrationsApplied: applied, writer: writer, readers: readers,
                                    checkpointer: Checkpointer(connection: checkpointConnection))
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
    }

    /// How many transactions and writes the writer has committed since open.
    public var writeStatistics: WriteStatistics {
        WriteStatistics(transactions: writer.transactions, writes: writer.writes)
    }

    // MARK: plumbing

    /// Runs `body` in the next group transaction; throws only domain and repository errors.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await Self.mappingErrors { try await writer.write(body) }
    }

    /// Runs `body` on a reader connection; throws only domain and repository errors.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await Self.mappingErrors { try await readers.read(body) }
    }

    /// Keeps driver details out of the domain: every other error becomes a ``RepositoryError``.
    static func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DomainError {
            throw error
        } catch let error as RepositoryError {
            throw error
        } catch is StorageClosed {
            throw RepositoryError.closed
        } catch {
            throw RepositoryError.storageFailure(String(describing: error))
        }
    }
}

// MARK: - Orders

extension SQLiteRepository {
    @discardableResult
    public func saveOrder(_ order: OrderSnapshot) async throws -> OrderSaveOutcome {
        let document = OrderDocument.encode(order)
        let storedAt = Int64(Date().timeIntervalSince1970 * 1000)
        return try await write { connection in
            let stored = try connection.queryOne("SELECT version FROM orders WHERE order_id = ?1",
                                                 bind: { $0.bind(1, order.id) }) { $0.int64(0) }
            if let stored, stored >= order.version { return .ignored(storedVersion: stored) }
            try connection.run("""
                INSERT INTO orders (order_id, version, buyer_id, shop_id, status, stored_at, document)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                ON CONFLICT (order_id) DO UPDATE SET version = ?2, buyer_id = ?3, shop_id = ?4, status = ?5,
                    stored_at = ?6, document = ?7
                """) {
                $0.bind(1, order.id)
                $0.bind(2, order.version)
                $0.bind(3, order.buyerID)
                $0.bind(4, order.shop.id)
                $0.bind(5, order.status.rawValue)
                $0.bind(6, storedAt)
                $0.bind(7, blob: document)
            }
            return stored.map { .updated(previousVersion: $0) } ?? .inserted
        }
    }

    public func order(_ id: String) async throws -> OrderSnapshot? {
        try await read { connection in
            try connection.queryOne("SELECT document FROM orders WHERE order_id = ?1", bind: { $0.bind(1, id) }) {
                try OrderDocument.decode($0.blob(0))
            }
        }
    }
}

// MARK: - Cases

extension SQLiteRepository {
    public func nextCaseNumber(at instant: Timestamp) async throws -> CaseNumber {
        let day = CaseRows.id(of: try CaseNumber(at: instant, sequence: 0)) / 1_000_000
        if let sequence = try sequences.reserve(day: day, seed: nil) { return try CaseNumber(at: instant, sequence: sequence) }
        // First number of this day in this process: continue after the largest stored one. Every
        // later number of the day comes from memory; the cases' primary key is the durable record.
        let largest = try await read { connection in
            try connection.queryOne("SELECT max(id) FROM cases WHERE id BETWEEN ?1 AND ?2", bind: {
                $0.bind(1, day * 1_000_000)
                $0.bind(2, day * 1_000_000 + Int64(CaseNumber.maximumSequence))
            }) { $0.optionalInt64(0) } ?? nil
        }
        let seed = largest.map { Int($0 % 1_000_000) } ?? 0
        guard let sequence = try sequences.reserve(day: day, seed: seed) else {
            throw RepositoryError.sequenceExhausted(day: String(day))
        }
        return try CaseNumber(at: instant, sequence: sequence)
    }

    public func creationContext(orderID: String, idempotency: IdempotencyRecord) async throws -> CreationContext {
        try await read { connection in
            try connection.readTransaction {
                if let replay = try Self.replay(of: idempotency, on: connection) {
                    return CreationContext(replay: replay, order: nil, existingCases: [])
                }
                let order = try connection.queryOne("SELECT document FROM orders WHERE order_id = ?1", bind: { $0.bind(1, orderID) }) {
                    try OrderDocument.decode($0.blob(0))
                }
                return CreationContext(replay: nil, order: order,
                                       existingCases: try CaseRows.load(orderID: orderID, timelines: false, on: connection))
            }
        }
    }

    /// The case an earlier create with this key made; nil when the key is unused.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when it was used for something else.
    static func replay(of idempotency: IdempotencyRecord, on connection: SQLiteConnection) throws -> CreatedCase? {
        guard let prior = try IdempotencyRows.find(idempotency, on: connection) else { return nil }
        guard prior.operation == .createCase, prior.fingerprint == idempotency.fingerprint else {
            throw RepositoryError.idempotencyKeyReused(key: idempotency.key)
        }
        return CreatedCase(number: try CaseNumber(parsing: prior.result), replayed: true)
    }

    public func createCase(_ creation: CaseCreation) async throws -> CreatedCase {
        let transition = creation.transition
        let afterSale = transition.afterSale
        guard transition.trace.caseNumber == afterSale.number,
              transition.refundRequest.map({ $0.caseNumber == afterSale.number }) ?? true else {
            throw RepositoryError.invalidRequest("the trace record and refund request must name case \(afterSale.number)")
        }
        if let basis = creation.basis, basis.orderID != afterSale.orderID {
            throw RepositoryError.invalidRequest("the eligibility basis is about order \(basis.orderID), the case about \(afterSale.orderID)")
        }
        if let refund = creation.refund, refund.caseNumber != afterSale.number {
            throw RepositoryError.invalidRequest("the refund order must pay case \(afterSale.number)")
        }
        let encoded = CaseRows.Encoded(afterSale)
        let idempotency = creation.idempotency
        let basis = creation.basis
        let refund = creation.refund
        let events = creation.events
        let (created, lastEvent) = try await write { connection -> (CreatedCase, Int64?) in
            if let replay = try Self.replay(of: idempotency, on: connection) { return (replay, nil) }
            if let basis { try Self.check(basis, on: connection) }
            try CaseRows.insertNew(transition, encoded: encoded, on: connection)
            try IdempotencyRows.insert(idempotency, operation: .createCase, result: afterSale.number.rawValue,
                                       at: afterSale.createdAt, on: connection)
            if let refund { try RefundRows.insert(refund, on: connection) }
            let last = try EventRows.append(events, on: connection)
            return (CreatedCase(number: afterSale.number, replayed: false), last)
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
        return created
    }

    /// Stores already-decided cases (each with its timeline and trace record, and a pending refund
    /// order for those waiting for their refund) in one transaction, without idempotency records,
    /// eligibility checks or events: for seeding and imports. The day sequences of their numbers
    /// move past them.
    /// - Throws: ``RepositoryError/caseNumberTaken(_:)`` if one number exists; then none is stored.
    public func importCases(_ transitions: [Transition], refundPolicy: RefundPolicy = RefundPolicy()) async throws {
        let encoded = transitions.map { CaseRows.Encoded($0.afterSale) }
        let refunds = transitions.map { transition -> RefundOrder? in
            guard transition.afterSale.status == .pendingRefund, let request = transition.refundRequest else { return nil }
            return RefundOrder.requested(request, order: nil, policy: refundPolicy, at: transition.afterSale.updatedAt)
        }
        try await write { connection in
            for ((transition, row), refund) in zip(zip(transitions, encoded), refunds) {
                try CaseRows.insertNew(transition, encoded: row, on: connection)
                if let refund { try RefundRows.insert(refund, on: connection) }
            }
        }
        for row in encoded { sequences.advance(day: row.id / 1_000_000, past: Int(row.id % 1_000_000)) }
    }

    /// Fails unless the order and its cases are exactly as the eligibility decision read them.
    static func check(_ basis: EligibilityBasis, on connection: SQLiteConnection) throws {
        let orderVersion = try connection.queryOne("SELECT version FROM orders WHERE order_id = ?1",
                                                   bind: { $0.bind(1, basis.orderID) }) { $0.int64(0) }
        let stored = try connection.query("SELECT id, version FROM cases WHERE order_id = ?1",
                                          bind: { $0.bind(1, basis.orderID) }) { ($0.int64(0), $0.int64(1)) }
        let expected = Dictionary(uniqueKeysWithValues: basis.caseVersions.map { (CaseRows.id(of: $0.key), $0.value) })
        guard orderVersion == basis.orderVersion, Dictionary(uniqueKeysWithValues: stored) == expected else {
            throw RepositoryError.eligibilityChanged(orderID: basis.orderID)
        }
    }

    public func afterSale(_ number: CaseNumber) async throws -> AfterSaleCase? {
        let id = CaseRows.id(of: number)
        return try await read { connection in try connection.readTransaction { try CaseRows.load(id, on: connection) } }
    }

    public func applyTransition(_ transition: Transition, expectedVersion: Int64) async throws {
        try await applyTransition(transition, expectedVersion: expectedVersion, effects: .none)
    }

    public func applyTransition(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) async throws {
        let afterSale = transition.afterSale
        let entries = transition.entries
        guard afterSale.version == expectedVersion + 1 else {
            throw RepositoryError.invalidRequest("a transition from version \(expectedVersion) must produce version \(expectedVersion + 1), not \(afterSale.version)")
        }
        guard afterSale.timeline.count >= entries.count, Array(afterSale.timeline.suffix(entries.count)) == entries,
              transition.trace.caseNumber == afterSale.number,
              transition.refundRequest.map({ $0.caseNumber == afterSale.number }) ?? true else {
            throw RepositoryError.invalidRequest("the entries must end the case's timeline, and the trace and refund name case \(afterSale.number)")
        }
        for refund in [effects.newRefund, effects.refundUpdate?.refund].compactMap({ $0 }) where refund.caseNumber != afterSale.number {
            throw RepositoryError.invalidRequest("refund \(refund.id) pays case \(refund.caseNumber), not \(afterSale.number)")
        }
        let encoded = CaseRows.Encoded(afterSale)
        let lastEvent = try await write { connection -> Int64? in
            if let basis = effects.basis { try Self.check(basis, on: connection) }
            guard try CaseRows.update(encoded, expectedVersion: expectedVersion, on: connection) else {
                guard let actual = try CaseRows.version(of: encoded.id, on: connection) else {
                    throw RepositoryError.caseNotFound(afterSale.number)
                }
                throw DomainError.versionConflict(expected: expectedVersion, actual: actual)
            }
            try CaseRows.insertTimeline(entries, caseID: encoded.id, firstSeq: afterSale.timeline.count - entries.count,
                                        on: connection)
            try CaseRows.insertTrace(transition.trace, on: connection)
            if let refund = effects.newRefund { try RefundRows.insert(refund, on: connection) }
            if let update = effects.refundUpdate {
                try RefundRows.update(update.refund, expectedVersion: update.expectedVersion, on: connection)
            }
            try EventRows.insertTracking(effects.trackingKeys, caseID: encoded.id, on: connection)
            return try EventRows.append(effects.events, on: connection)
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
    }

    public func recordTrace(_ record: TraceRecord) async throws {
        try await write { connection in
            guard try CaseRows.version(of: CaseRows.id(of: record.caseNumber), on: connection) != nil else {
                throw RepositoryError.caseNotFound(record.caseNumber)
            }
            try CaseRows.insertTrace(record, on: connection)
        }
    }

    public func listCases(_ query: CaseQuery) async throws -> CasePage {
        let statement = try CaseListQuery(query)
        let rows = try await read { connection in
            try connection.query(statement.sql, bind: statement.bind, row: CaseRows.summary)
        }
        let page = Array(rows.prefix(query.pageSize))
        return CasePage(rows: page, next: rows.count > query.pageSize ? page.last?.cursor : nil)
    }

    public func cases(ofOrder orderID: String) async throws -> [AfterSaleCase] {
        try await read { connection in try connection.readTransaction { try CaseRows.load(orderID: orderID, on: connection) } }
    }

    public func traceRecords(of number: CaseNumber) async throws -> [TraceRecord] {
        let id = CaseRows.id(of: number)
        return try await read { connection in try CaseRows.traces(of: id, on: connection) }
    }
}

// MARK: - Messages

extension SQLiteRepository {
    /// The most messages one page returns.
    public static let maximumMessagePage = 1000

    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?) async throws -> AppendedMessage {
        try await appendMessage(message, idempotency: idempotency, events: { _ in [] })
    }

    public func appendMessage(_ message: NewMessage, idempotency: IdempotencyRecord?,
                              events: @escaping @Sendable (CaseMessage) -> [OutboxEvent]) async throws -> AppendedMessage {
        let attachments = EvidenceDocument.encode(message.attachments)
        let caseID = CaseRows.id(of: message.caseNumber)
        let (appended, lastEvent) = try await write { connection -> (AppendedMessage, Int64?) in
            if let idempotency, let prior = try IdempotencyRows.find(idempotency, on: connection) {
                guard prior.operation == .addMessage, prior.fingerprint == idempotency.fingerprint,
                      let id = Int64(prior.result),
                      let stored = try MessageRows.load(id, on: connection) else {
                    throw RepositoryError.idempotencyKeyReused(key: idempotency.key)
                }
                return (AppendedMessage(message: stored, replayed: true), nil)
            }
            guard try CaseRows.version(of: caseID, on: connection) != nil else {
                throw RepositoryError.caseNotFound(message.caseNumber)
            }
            let stored = try MessageRows.insert(message, attachments: attachments, on: connection)
            if let idempotency {
                try IdempotencyRows.insert(idempotency, operation: .addMessage, result: String(stored.id),
                                           at: message.sentAt, on: connection)
            }
            let last = try EventRows.append(events(stored), on: connection)
            return (AppendedMessage(message: stored, replayed: false), last)
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
        return appended
    }

    public func messages(of number: CaseNumber, after: Int64?, limit: Int) async throws -> MessagePage {
        guard (1...Self.maximumMessagePage).contains(limit) else {
            throw RepositoryError.invalidRequest("limit must be between 1 and \(Self.maximumMessagePage), got \(limit)")
        }
        let caseID = CaseRows.id(of: number)
        let rows = try await read { connection in
            try MessageRows.page(caseID: caseID, after: after ?? 0, limit: limit + 1, on: connection)
        }
        let page = Array(rows.prefix(limit))
        return MessagePage(messages: page, next: rows.count > limit ? page.last?.id : nil)
    }
}

// MARK: - Reasons

extension SQLiteRepository {
    public func storedReasons() async throws -> [StoredReason] {
        try await cachedCatalog().stored
    }

    /// The catalog built once per change of the stored reasons, not once per call.
    public func reasonCatalog() async throws -> ReasonCatalog {
        try await cachedCatalog().catalog
    }

    private func cachedCatalog() async throws -> ReasonCache.Entry {
        let (cached, generation) = cachedReasons.withLock { ($0.entry, $0.generation) }
        if let cached { return cached }
        let stored = try await read { connection in
            try connection.query(ReasonRows.select + " ORDER BY sort_order, code", row: ReasonRows.decode)
        }
        let entry = ReasonCache.Entry(stored: stored, catalog: ReasonCatalog(stored.map(\.reason)))
        // A read that overlapped an UpsertReason may predate it: keep it only if nothing changed since.
        cachedReasons.withLock { if $0.generation == generation { $0.entry = entry } }
        return entry
    }

    public func upsertReason(_ reason: Reason, expectedVersion: Int64?, at instant: Timestamp) async throws -> StoredReason {
        let stored = try await write { connection in
            let current = try connection.queryOne("SELECT version FROM reasons WHERE code = ?1",
                                                  bind: { $0.bind(1, reason.code) }) { $0.int64(0) } ?? 0
            if let expectedVersion, expectedVersion != current {
                throw DomainError.versionConflict(expected: expectedVersion, actual: current)
            }
            try ReasonRows.insert(reason, version: current + 1, at: instant.millisecondsSinceEpoch, on: connection)
            return StoredReason(reason: reason, version: current + 1, updatedAt: instant)
        }
        cachedReasons.withLock { $0.invalidate() }  // after the commit: the next read sees the new entry
        return stored
    }
}

/// The stored reasons and the catalog built from them, and a generation that every change bumps.
struct ReasonCache: Sendable {
    struct Entry: Sendable {
        let stored: [StoredReason]
        let catalog: ReasonCatalog
    }

    var entry: Entry?
    var generation = 0

    mutating func invalidate() {
        entry = nil
        generation += 1
    }
}
