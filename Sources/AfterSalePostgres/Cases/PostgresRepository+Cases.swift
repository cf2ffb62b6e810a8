import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    /// The next number of the day: from this replica's reserved block, or from a new block reserved
    /// in the database (see ``CaseNumberRows``), so replicas never issue one number twice.
    public func nextCaseNumber(at instant: Timestamp) async throws -> CaseNumber {
        let day = CaseKey.day(of: try CaseNumber(at: instant, sequence: 0))
        let sequence: Int64
        if let reserved = caseNumbers.take(day: day) {
            sequence = reserved
        } else {
            let size = caseNumbers.size
            let last = try await read("nextCaseNumber") { connection in try CaseNumberRows.reserve(day: day, size: size, on: connection) }
            sequence = caseNumbers.add(day: day, last: last)
        }
        guard (0...Int64(CaseNumber.maximumSequence)).contains(sequence) else {
            throw RepositoryError.sequenceExhausted(day: String(day))
        }
        return try CaseNumber(at: instant, sequence: Int(sequence))
    }

    /// The key's earlier result, or the order and its cases (without timelines), read by one
    /// statement (one snapshot, one round trip).
    public func creationContext(orderID: String, idempotency: IdempotencyRecord) async throws -> CreationContext {
        try await read("creationContext") { connection in
            let rows = try connection.query("""
                SELECT 0 AS part, NULL::bigint AS id, operation, fingerprint, result, response
                FROM idempotency_keys WHERE principal_role = $1 AND principal_id = $2 AND key = $3
                UNION ALL
                SELECT 1, NULL, NULL, NULL, NULL, document FROM orders WHERE order_id = $4
                UNION ALL
                SELECT 2, id, NULL, NULL, NULL, document FROM cases WHERE order_id = $4
                """, .text(idempotency.principal.role.rawValue), .text(idempotency.principal.id), .text(idempotency.key),
                .text(orderID)) { row -> (part: Int, id: Int64, stored: StoredIdempotencyKey?, document: [UInt8]?) in
                let part = try row.int(0)
                let stored = part == 0
                    ? StoredIdempotencyKey(operation: try row.string(2), fingerprint: try row.string(3), result: try row.string(4),
                                           response: try row.optionalBytes(5))
                    : nil
                return (part, try row.optionalInt64(1) ?? 0, stored, part == 0 ? nil : try row.bytes(5))
            }
            if let replay = try Self.replay(idempotency, stored: rows.first { $0.part == 0 }?.stored) {
                return CreationContext(replay: replay, order: nil, existingCases: [])
            }
            let order = try rows.first { $0.part == 1 }?.document.map { try OrderDocument.decode($0) }
            let cases = try rows.filter { $0.part == 2 }.sorted { $0.id < $1.id }.compactMap(\.document)
                .map { try CaseDocument.decode($0, timeline: []) }
            return CreationContext(replay: nil, order: order, existingCases: cases)
        }
    }

    /// The case an earlier create with this key made; nil when the key is unused.
    /// - Throws: ``RepositoryError/idempotencyKeyReused(key:)`` when it was used for something else.
    static func replay(_ record: IdempotencyRecord, stored: StoredIdempotencyKey?) throws -> CreatedCase? {
        guard let result = try IdempotencyReplay.result(of: record, for: .createCase, stored: stored) else { return nil }
        guard let number = try? CaseNumber(parsing: result) else { throw RepositoryError.idempotencyKeyReused(key: record.key) }
        return CreatedCase(number: number, replayed: true)
    }

    /// Stores a new case. The idempotency key is claimed first, so of two concurrent creates with
    /// one key (on any replicas) the second waits for the first and replays it.
    public func createCase(_ creation: CaseCreation) async throws -> CreatedCase {
        try StorageContract.check(creation)
        let transition = creation.transition
        let encoded = CaseRows.Encoded(transition.afterSale)
        let (created, appended) = try await write("createCase") { connection -> (CreatedCase, Bool) in
            let number = transition.afterSale.number
            if let stored = try IdempotencyRows.claim(creation.idempotency, operation: IdempotentOperation.createCase.rawValue,
                                                      result: number.rawValue, at: transition.afterSale.createdAt, on: connection),
               let replay = try Self.replay(creation.idempotency, stored: stored) {
                return (replay, false)
            }
            if let basis = creation.basis { try CaseRows.check(basis, on: connection) }
            // The case, its timeline and trace, its refund order and its events: one statement.
            var write = CombinedWrite()
            CaseRows.insertNew(transition, encoded: encoded, into: &write)
            if let refund = creation.refund { RefundRows.insert(refund, into: &write) }
            if let timer = creation.timer { TimerRows.apply(.set(timer), caseID: encoded.id, into: &write) }
            let appended = FeedRows.append(creation.events, into: &write)
            try write.run(on: connection, onUniqueViolation: RepositoryError.caseNumberTaken(number))
            return (CreatedCase(number: number, replayed: false), appended)
        }
        await settle(appended: appended)
        return created
    }

    /// The case with its whole timeline, read by one statement; nil when there is none.
    public func afterSale(_ number: CaseNumber) async throws -> AfterSaleCase? {
        let id = CaseKey.id(of: number)
        return try await read("afterSale") { connection in try CaseRows.load(id, on: connection) }
    }

    /// Stores a transition with everything that commits with it, in one transaction that ends by
    /// appending its events (see ``FeedRows``).
    @discardableResult
    public func applyTransition(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) async throws -> ChangeOutcome {
        try StorageContract.check(transition, expectedVersion: expectedVersion, effects: effects)
        let afterSale = transition.afterSale
        let encoded = CaseRows.Encoded(afterSale)
        let (outcome, appended) = try await write("applyTransition") { connection -> (ChangeOutcome, Bool) in
            // A key spent by an identical call replays its response before anything else is checked:
            // the retry of a change that committed must not meet its own version conflict.
            if let response = effects.response,
               let stored = try IdempotencyRows.claim(response.call, response: response.response, at: afterSale.updatedAt,
                                                      on: connection) {
                return (.replayed(stored), false)
            }
            if let basis = effects.basis { try CaseRows.check(basis, on: connection) }
            if let update = effects.refundUpdate {
                try RefundRows.update(update.refund, expectedVersion: update.expectedVersion, on: connection)
            }
            // The compare-and-set and everything that follows it, in one statement: the rest goes in
            // only if the case was still at the expected version.
            var write = CombinedWrite()
            let updated = CaseRows.update(encoded, expectedVersion: expectedVersion, into: &write)
            let entries = transition.entries
            CaseRows.insertTimeline(entries, caseID: encoded.id, firstSeq: afterSale.timeline.count - entries.count,
                                    onlyIf: updated, into: &write)
            CaseRows.insertTrace(transition.trace, onlyIf: updated, into: &write)
            if let refund = effects.newRefund { RefundRows.insert(refund, onlyIf: updated, into: &write) }
            FeedRows.insertTracking(effects.trackingKeys, caseID: encoded.id, onlyIf: updated, into: &write)
            TimerRows.apply(effects.timer, caseID: encoded.id, onlyIf: updated, into: &write)
            let appended = FeedRows.append(effects.events, onlyIf: updated, into: &write)
            let counts = try write.run(on: connection,
                                       onUniqueViolation: RepositoryError.storageFailure("case \(afterSale.number) already has a refund order"))
            guard counts.rows(of: updated) == 1 else {
                throw try CaseRows.versionMismatch(encoded, expectedVersion: expectedVersion, on: connection)
            }
            return (.applied, appended)
        }
        await settle(appended: appended)
        return outcome
    }

    /// The response stored for the call's key, nil when unused.
    /// - Throws: ``AfterSaleDomain/RepositoryError/idempotencyKeyReused(key:)`` when spent on another call or request.
    public func storedResponse(for call: IdempotentCall) async throws -> [UInt8]? {
        try await read("storedResponse") { connection in try IdempotencyRows.response(for: call, on: connection) }
    }

    /// Stores a refused or duplicate action's trace record.
    /// - Throws: ``AfterSaleDomain/RepositoryError/caseNotFound(_:)`` when there is no such case.
    public func recordTrace(_ record: TraceRecord) async throws {
        try await write("recordTrace") { connection in
            guard try CaseRows.version(of: CaseKey.id(of: record.caseNumber), on: connection) != nil else {
                throw RepositoryError.caseNotFound(record.caseNumber)
            }
            try CaseRows.insertTrace(record, on: connection)
        }
    }

    /// One page of cases, newest first, keyset-paged on `(created_at, id)` (see ``CaseListQuery``).
    public func listCases(_ query: CaseQuery) async throws -> CasePage {
        let statement = try CaseListQuery(query)
        let rows = try await read("listCases") { connection in
            try connection.query(statement.sql, parameters: statement.parameters, decode: CaseRows.summary)
        }
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return CasePage(rows: page, next: last?.cursor)
    }

    /// Every case of the order with its timeline, oldest number first, from one snapshot.
    public func cases(ofOrder orderID: String) async throws -> [AfterSaleCase] {
        try await snapshot("casesOfOrder") { connection in try CaseRows.load(orderID: orderID, on: connection) }
    }

    /// The case's trace records, oldest first (empty when there is no such case).
    public func traceRecords(of number: CaseNumber) async throws -> [TraceRecord] {
        let id = CaseKey.id(of: number)
        return try await read("traceRecords") { connection in try CaseRows.traces(of: id, on: connection) }
    }

    /// The newest case shipping with this carrier and tracking number (carrier upper-cased by ``AfterSaleDomain/TrackingKey``).
    public func caseNumber(shippingWith key: TrackingKey) async throws -> CaseNumber? {
        let id = try await read("caseNumberShipping") { connection in
            try connection.queryOne("""
                SELECT max(case_id) FROM shipment_tracking WHERE tracking_number = $1 AND carrier = $2
                """, .text(key.trackingNumber), .text(key.carrier)) { try $0.optionalInt64(0) } ?? nil
        }
        return try id.map { try CaseKey.number(of: $0) }
    }
}
