import AfterSaleDomain
import AfterSaleStorage
import Foundation

extension SQLiteRepository {
    public func nextCaseNumber(at instant: Timestamp) async throws -> CaseNumber {
        let day = CaseKey.id(of: try CaseNumber(at: instant, sequence: 0)) / 1_000_000
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
        let stored = try IdempotencyRows.find(idempotency, on: connection)
        guard let result = try IdempotencyReplay.result(of: idempotency, for: .createCase, stored: stored) else { return nil }
        return CreatedCase(number: try decoding { try CaseNumber(parsing: result) }, replayed: true)
    }

    public func createCase(_ creation: CaseCreation) async throws -> CreatedCase {
        try StorageContract.check(creation)
        let transition = creation.transition
        let afterSale = transition.afterSale
        let encoded = CaseRows.Encoded(afterSale)
        let idempotency = creation.idempotency
        let basis = creation.basis
        let refund = creation.refund
        let events = creation.events
        let timer = creation.timer
        let (created, lastEvent) = try await write { connection -> (CreatedCase, Int64?) in
            if let replay = try Self.replay(of: idempotency, on: connection) { return (replay, nil) }
            if let basis { try Self.check(basis, on: connection) }
            try CaseRows.insertNew(transition, encoded: encoded, on: connection)
            try IdempotencyRows.insert(idempotency, operation: .createCase, result: afterSale.number.rawValue,
                                       at: afterSale.createdAt, on: connection)
            if let refund { try RefundRows.insert(refund, on: connection) }
            if let timer { try TimerRows.apply(.set(timer), caseID: encoded.id, on: connection) }
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

    /// Fails unless the order, its cases and its open disputes (other than `dispute`, being saved)
    /// are exactly as the decision read them.
    static func check(_ basis: EligibilityBasis, on connection: SQLiteConnection, saving dispute: String? = nil) throws {
        let orderVersion = try connection.queryOne("SELECT version FROM orders WHERE order_id = ?1",
                                                   bind: { $0.bind(1, basis.orderID) }) { $0.int64(0) }
        let stored = try connection.query("SELECT id, version FROM cases WHERE order_id = ?1",
                                          bind: { $0.bind(1, basis.orderID) }) { ($0.int64(0), $0.int64(1)) }
        let expected = Dictionary(uniqueKeysWithValues: basis.caseVersions.map { (CaseKey.id(of: $0.key), $0.value) })
        guard orderVersion == basis.orderVersion, Dictionary(uniqueKeysWithValues: stored) == expected else {
            throw RepositoryError.eligibilityChanged(orderID: basis.orderID)
        }
        if basis.openDisputeIDs != nil {
            let statuses = EligibilityBasis.openDisputeStatuses.map { "'\($0)'" }.joined(separator: ", ")
            let open = try connection.query("SELECT dispute_id FROM disputes WHERE order_id = ?1 AND status IN (\(statuses))",
                                            bind: { $0.bind(1, basis.orderID) }) { $0.string(0) }
            guard basis.openDisputesMatch(open, saving: dispute) else { throw RepositoryError.eligibilityChanged(orderID: basis.orderID) }
        }
    }

    public func afterSale(_ number: CaseNumber) async throws -> AfterSaleCase? {
        let id = CaseKey.id(of: number)
        return try await read { connection in try connection.readTransaction { try CaseRows.load(id, on: connection) } }
    }

    @discardableResult
    public func applyTransition(_ transition: Transition, expectedVersion: Int64, effects: CaseChangeEffects) async throws -> ChangeOutcome {
        try StorageContract.check(transition, expectedVersion: expectedVersion, effects: effects)
        let afterSale = transition.afterSale
        let entries = transition.entries
        let encoded = CaseRows.Encoded(afterSale)
        let (outcome, lastEvent) = try await write { connection -> (ChangeOutcome, Int64?) in
            // A key spent by an identical call replays its response before anything else is checked:
            // the retry of a change that committed must not meet its own version conflict.
            if let response = effects.response, let stored = try IdempotencyRows.response(for: response.call, on: connection) {
                return (.replayed(stored), nil)
            }
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
            try TimerRows.apply(effects.timer, caseID: encoded.id, on: connection)
            if let response = effects.response { try IdempotencyRows.insert(response, at: afterSale.updatedAt, on: connection) }
            return (.applied, try EventRows.append(effects.events, on: connection))
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
        return outcome
    }

    public func storedResponse(for call: IdempotentCall) async throws -> [UInt8]? {
        try await read { connection in try IdempotencyRows.response(for: call, on: connection) }
    }

    public func recordTrace(_ record: TraceRecord) async throws {
        try await write { connection in
            guard try CaseRows.version(of: CaseKey.id(of: record.caseNumber), on: connection) != nil else {
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
        let (page, last) = KeysetPage.split(rows, pageSize: query.pageSize)
        return CasePage(rows: page, next: last?.cursor)
    }

    public func cases(ofOrder orderID: String) async throws -> [AfterSaleCase] {
        try await read { connection in try connection.readTransaction { try CaseRows.load(orderID: orderID, on: connection) } }
    }

    public func traceRecords(of number: CaseNumber) async throws -> [TraceRecord] {
        let id = CaseKey.id(of: number)
        return try await read { connection in try CaseRows.traces(of: id, on: connection) }
    }
}

// MARK: - Tracking numbers

extension SQLiteRepository {
    public func caseNumber(shippingWith key: TrackingKey) async throws -> CaseNumber? {
        let id = try await read { connection in
            try connection.queryOne("""
                SELECT max(case_id) FROM shipment_tracking WHERE tracking_number = ?1 AND carrier = ?2
                """, bind: { $0.bind(1, key.trackingNumber); $0.bind(2, key.carrier) }, row: { $0.optionalInt64(0) }) ?? nil
        }
        return try id.map { try CaseKey.number(of: $0) }
    }
}
