import AfterSaleDomain
import AfterSaleStorage

extension SQLiteRepository {
    public func caseTimer(of number: CaseNumber) async throws -> CaseTimer? {
        let id = CaseKey.id(of: number)
        return try await read { connection in try TimerRows.load([id], on: connection).first }
    }

    public func caseTimers(of numbers: [CaseNumber]) async throws -> [CaseNumber: CaseTimer] {
        let ids = Array(Set(numbers.map(CaseKey.id(of:))))
        var result: [CaseNumber: CaseTimer] = [:]
        // Bounded batches keep each statement under SQLite's parameter limit.
        for start in stride(from: 0, to: ids.count, by: 500) {
            let batch = Array(ids[start..<min(ids.count, start + 500)])
            for timer in try await read({ connection in try TimerRows.load(batch, on: connection) }) {
                result[timer.caseNumber] = timer
            }
        }
        return result
    }

    public func dueTimers(at now: Timestamp, limit: Int) async throws -> [CaseTimer] {
        try StorageContract.checkDueTimers(limit: limit)
        return try await read { connection in try TimerRows.due(at: now.millisecondsSinceEpoch, limit: limit, on: connection) }
    }

    public func updateTimer(_ timer: CaseTimer, expectedNextAt: Timestamp, events: [OutboxEvent]) async throws -> Bool {
        let (updated, lastEvent) = try await write { connection -> (Bool, Int64?) in
            guard try TimerRows.update(timer, expectedNextAt: expectedNextAt.millisecondsSinceEpoch, on: connection) else {
                return (false, nil)
            }
            return (true, try EventRows.append(events, on: connection))
        }
        if let lastEvent { feedSignal.advance(to: lastEvent) }
        return updated
    }

    public func rewindPausedTimers() async throws -> Int {
        try await write { connection in try TimerRows.rewind(on: connection) }
    }

    public func overdueTimerCount(at now: Timestamp) async throws -> Int {
        try await read { connection in try TimerRows.overdueCount(at: now.millisecondsSinceEpoch, on: connection) }
    }

    public func timerSettings() async throws -> TimerSettings {
        try await read { connection in try TimerRows.settings(on: connection) }
    }

    public func saveTimerOverride(_ override: TimerOverride) async throws {
        try StorageContract.checkVersion(override.version)
        let document = TimerOverrideDocument.encode(override)
        try await write { connection in
            try TimerRows.save(kind: TimerSettingRow.overrideKind, key: override.scope.description, version: override.version,
                               document: document, at: override.setAt, on: connection)
        }
    }

    public func saveTimerPause(_ pause: TimerPause) async throws {
        try StorageContract.checkVersion(pause.version)
        let document = TimerPauseDocument.encode(pause)
        try await write { connection in
            try TimerRows.save(kind: TimerSettingRow.pauseKind, key: pause.id, version: pause.version, document: document,
                               at: pause.setAt, on: connection)
        }
    }
}
