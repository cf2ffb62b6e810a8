import AfterSaleDomain
import AfterSaleProto
import Foundation
import RPCServer
import RPCWire
import ServiceKit

/// `aftersale.v1.Timers`: the platform's controls over case timers (overrides of the wait lengths
/// per shop and category, pauses of the countdowns, and a hook that fires a case's timer now).
/// The authorization interceptor admits only the platform (``Operation/manageTimers``).
public struct TimersProvider: TimersHandler {
    let store: any AfterSaleRepository
    let timers: TimerPolicySource
    let clock: any WallClock
    let policy: PolicyConfig
    let logger: Logger
    /// Seals and opens the buyer's personal data.
    let personalData: PersonalDataVault

    /// The controls over `store`'s timers; `timers` is the source the other services arm timers from.
    public init(store: any AfterSaleRepository, timers: TimerPolicySource, personalData: PersonalDataVault,
                clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard, logger: Logger = .disabled) {
        self.personalData = personalData
        self.store = store
        self.timers = timers
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    public func getTimerPolicy(_ request: GetTimerPolicyRequest, context: ServerContext) async throws -> GetTimerPolicyResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageTimers)
            timers.invalidate()
            let settings = try await timers.settings()
            var response = GetTimerPolicyResponse()
            response.platform = Self.durations(timers.platform.durations)
            response.reminderLeadMs = timers.platform.reminderLeadMs
            response.overrides = settings.overrides
                .filter { request.shopId.isEmpty && request.category.isEmpty || $0.scope == .shop(request.shopId) || $0.scope == .category(request.category) }
                .map(Self.wire)
            if !request.shopId.isEmpty || !request.category.isEmpty {
                let book = TimerBook(platform: timers.platform, overrides: settings.overrides)
                response.effective = TimerRule.allCases.map { rule in
                    let wait = book.wait(rule, shopID: request.shopId, categories: request.category.isEmpty ? [] : [request.category])
                    var effective = EffectiveWait()
                    effective.rule = rule.rawValue
                    effective.durationMs = wait.durationMs
                    effective.policyVersion = wait.policyVersion
                    return effective
                }
            }
            return response
        }
    }

    public func setTimerOverride(_ request: SetTimerOverrideRequest, context: ServerContext) async throws -> SetTimerOverrideResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageTimers)
            let scope = try TimerScope(parsing: request.scope)
            guard request.expectedVersion >= 0 else {
                throw DomainError.invalidArgument(field: "expected_version", message: "must not be negative")
            }
            let override = AfterSaleDomain.TimerOverride(scope: scope, durations: Self.durations(request.durations ?? TimerDurations()),
                                         version: request.expectedVersion + 1, setBy: principal, setAt: clock.now())
            try override.validate()
            try await timers.repository.saveTimerOverride(override)
            timers.invalidate()
            logger.log(.info, "timer override set", ["scope": override.scope.description, "version": String(override.version),
                                                     "by": "\(principal.role.rawValue):\(principal.id)"])
            var response = SetTimerOverrideResponse()
            response.override = Self.wire(override)
            return response
        }
    }

    public func pauseTimers(_ request: PauseTimersRequest, context: ServerContext) async throws -> PauseTimersResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageTimers)
            let now = clock.now()
            let pause = AfterSaleDomain.TimerPause(
                id: "pause-" + UUID().uuidString.lowercased(),
                startsAt: request.startsAtUnixMs == 0 ? now : Timestamp(millisecondsSinceEpoch: request.startsAtUnixMs),
                endsAt: Timestamp(millisecondsSinceEpoch: request.endsAtUnixMs), shopIDs: request.shopIds, reason: request.reason,
                version: 1, setBy: principal, setAt: now)
            try pause.validate(at: now)
            try await timers.repository.saveTimerPause(pause)
            timers.invalidate()
            logger.log(.info, "timers paused", ["pause": pause.id, "shops": pause.shopIDs.isEmpty ? "all" : String(pause.shopIDs.count)])
            var response = PauseTimersResponse()
            response.pause = Self.wire(pause)
            return response
        }
    }

    public func endTimerPause(_ request: EndTimerPauseRequest, context: ServerContext) async throws -> EndTimerPauseResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageTimers)
            timers.invalidate()
            guard var pause = try await timers.settings().pauses.first(where: { $0.id == request.pauseId }) else {
                throw RPCError(.notFound, "no pause \(request.pauseId)")
            }
            guard pause.version == request.expectedVersion else {
                throw DomainError.versionConflict(expected: request.expectedVersion, actual: pause.version)
            }
            let now = clock.now()
            guard pause.endsAt > now else {
                throw RPCError(.failedPrecondition, "pause \(pause.id) ended at \(pause.endsAt.millisecondsSinceEpoch)")
            }
            pause.endsAt = max(pause.startsAt, now)
            pause.version += 1
            pause.setBy = principal
            pause.setAt = now
            try await timers.repository.saveTimerPause(pause)
            timers.invalidate()
            // Deadlines the pause had pushed out are recounted by the worker from their unpaused times.
            let rewound = try await timers.repository.rewindPausedTimers()
            logger.log(.info, "timer pause ended", ["pause": pause.id, "timers_recounted": String(rewound)])
            var response = EndTimerPauseResponse()
            response.pause = Self.wire(pause)
            return response
        }
    }

    public func listTimerPauses(_ request: ListTimerPausesRequest, context: ServerContext) async throws -> ListTimerPausesResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageTimers)
            timers.invalidate()
            let now = clock.now()
            var response = ListTimerPausesResponse()
            response.pauses = try await timers.settings().pauses.filter { request.includeEnded || $0.endsAt > now }.map(Self.wire)
            return response
        }
    }

    public func fireTimer(_ request: FireTimerRequest, context: ServerContext) async throws -> FireTimerResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .manageTimers)
            let number = try Fields.caseNumber(request.caseNumber)
            guard try await store.afterSale(number) != nil else { throw RepositoryError.caseNotFound(number) }
            guard let timer = try await timers.repository.caseTimer(of: number) else {
                throw RPCError(.failedPrecondition, "case \(number) has no pending timer")
            }
            let workflow = CaseWorkflow(cases: store, orders: store, idempotency: store, timers: timers, clock: clock,
                                        policy: policy, logger: logger, personalData: personalData)
            let firing = TimerFiring(store: store, workflow: workflow, timers: timers, logger: logger)
            let fired = try await firing.fire(timer, at: clock.now(), firedEarlyBy: principal)
            guard let committed = fired.committed else {
                throw RPCError(.failedPrecondition, "the timer of case \(number) could not act (\(fired.outcome)); the case moved on")
            }
            logger.log(.info, "timer fired on request", ["case": number.rawValue, "rule": timer.rule.rawValue,
                                                         "by": "\(principal.role.rawValue):\(principal.id)"])
            var response = FireTimerResponse()
            response.afterSale = ProtoMapping.afterSale(committed.view, refund: committed.refund,
                                                        timer: committed.timer, pauses: committed.pauses,
                                                        now: committed.transition.afterSale.updatedAt,
                                                        viewer: principal)
            response.rule = timer.rule.rawValue
            return response
        }
    }

    // MARK: - Mapping

    static func durations(_ wire: TimerDurations) -> [TimerRule: Int64] {
        var durations: [TimerRule: Int64] = [:]
        durations[.merchantReview] = wire.merchantReviewMs
        durations[.returnShipment] = wire.returnShipmentMs
        durations[.receiptConfirmation] = wire.receiptConfirmationMs
        durations[.replacementConfirmation] = wire.replacementConfirmationMs
        return durations
    }

    static func durations(_ durations: [TimerRule: Int64]) -> TimerDurations {
        var wire = TimerDurations()
        wire.merchantReviewMs = durations[.merchantReview]
        wire.returnShipmentMs = durations[.returnShipment]
        wire.receiptConfirmationMs = durations[.receiptConfirmation]
        wire.replacementConfirmationMs = durations[.replacementConfirmation]
        return wire
    }

    static func wire(_ override: AfterSaleDomain.TimerOverride) -> AfterSaleProto.TimerOverride {
        var wire = AfterSaleProto.TimerOverride()
        wire.scope = override.scope.description
        wire.durations = durations(override.durations)
        wire.version = override.version
        wire.setBy = "\(override.setBy.role.rawValue):\(override.setBy.id)"
        wire.setAtUnixMs = override.setAt.millisecondsSinceEpoch
        return wire
    }

    static func wire(_ pause: AfterSaleDomain.TimerPause) -> AfterSaleProto.TimerPause {
        var wire = AfterSaleProto.TimerPause()
        wire.pauseId = pause.id
        wire.startsAtUnixMs = pause.startsAt.millisecondsSinceEpoch
        wire.endsAtUnixMs = pause.endsAt.millisecondsSinceEpoch
        wire.shopIds = pause.shopIDs
        wire.reason = pause.reason
        wire.version = pause.version
        wire.setBy = "\(pause.setBy.role.rawValue):\(pause.setBy.id)"
        wire.setAtUnixMs = pause.setAt.millisecondsSinceEpoch
        return wire
    }
}
