import AfterSaleDomain
import AfterSaleStorage

extension PostgresRepository {
    public func caseTimer(of number: CaseNumber) async throws -> CaseTimer? {
        let id = CaseKey.id(of: number)
        return try await read("caseTimer") { connection in try TimerRows.load([id], on: connection).first }
    }

    public func caseTimers(of numbers: [CaseNumber]) async throws -> [CaseNumber: CaseTimer] {
        let ids = Array(Set(numbers.map(CaseKey.id(of:))))
        guard !ids.isEmpty else { return [:] }
        let timers = try await read("caseTimers") { connection in try TimerRows.load(ids, on: connection) }
        return Dictionary(timers.map { ($0.caseNumber, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func dueTimers(at now: Timestamp, limit: Int) async throws -> [CaseTimer] {
        try StorageContract.checkDueTimers(limit: limit)
        return try await read("dueTimers") { connection in
            try TimerRows.due(at: now.millisecondsSinceEpoch, limit: limit, on: connection)
        }
    }

    public func updateTimer(_ timer: CaseTimer, expectedNextAt: Timestamp, events: [OutboxEvent]) async throws -> Bool {
        let (updated, appended) = try await write("updateTimer") { connection in
            try TimerRows.update(timer, expectedNextAt: expectedNextAt.millisecondsSinceEpoch, events: events, on: connection)
        }
        await settle(appended: appended)
        return updated
    }

    public func rewindPausedTimers() async throws -> Int {
        try await write("rewindPausedTimers") { connection in try TimerRows.rewind(on: connection) }
    }

    public func overdueTimerCount(at now: Timestamp) async throws -> Int {
        try await read("overdueTimerCount") { connection in try TimerRows.overdueCount(at: now.millisecondsSinceEpoch, on: connection) }
    }

    public func timerSettings() async throws -> TimerSettings {
        try await read("timerSettings") { connection in try TimerRows.settings(on: connection) }
    }

    public func saveTimerOverride(_ override: TimerOverride) async throws {
        try StorageContract.checkVersion(override.version)
        let document = TimerOverrideDocument.encode(override)
        try await write("saveTimerOverride") { connection in
            try TimerRows.save(kind: TimerSettingRow.overrideKind, key: override.scope.description, version: override.version,
                               document: document, at: override.setAt, on: connection)
        }
    }

    public func saveTimerPause(_ pause: TimerPause) async throws {
        try StorageContract.checkVersion(pause.version)
        let document = TimerPauseDocument.encode(pause)
        try await write("saveTimerPause") { connection in
            try TimerRows.save(kind: TimerSettingRow.pauseKind, key: pause.id, version: pause.version, document: document,
                               at: pause.setAt, on: connection)
        }
    }
}
