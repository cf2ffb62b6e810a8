import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire
import ServiceKit

/// `aftersale.v1.Statistics` (数据统计): GetStatistics reads the rollups the
/// ``StatisticsProjector`` keeps (the blocks of days that tile the range, whatever the number of cases), for the platform
/// (any scope), a merchant (their shop, forced) or an agent (their team, forced).
public struct StatisticsProvider: StatisticsHandler {
    let store: any AfterSaleRepository

    /// The service over `store`.
    public init(store: any AfterSaleRepository) {
        self.store = store
    }

    public func getStatistics(_ request: GetStatisticsRequest, context: ServerContext) async throws -> GetStatisticsResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .viewStatistics)
            let days = try StatisticsDays.range(from: request.fromDate, to: request.toDate)
            let grouping = try Self.grouping(request.groupBy)
            let scope: StatisticsScope
            switch principal.role {
            case .merchant:
                scope = .shop(principal.actingShopID)
            case .agent:
                scope = .team(try await store.agent(principal.id)?.team ?? "")
            case .platform, .system, .buyer:
                guard request.shopId.isEmpty || request.team.isEmpty else {
                    throw DomainError.invalidArgument(field: "team", message: "give a shop_id or a team, not both")
                }
                scope = !request.shopId.isEmpty ? .shop(request.shopId) : !request.team.isEmpty ? .team(request.team) : .platform
            }
            if case .shop = scope, grouping == .shop {
                // One group, the shop itself: the shop grouping is not kept under a shop's scope.
                throw DomainError.invalidArgument(field: "group_by", message: "a shop's statistics cannot be grouped by shop")
            }
            let blocks = try await store.statisticsBlocks(StatisticsBlockQuery(scope: scope, grouping: grouping, fromDay: days.lowerBound,
                                                                                toDay: days.upperBound))
            var agentBlocks: [StatisticsBlock] = []
            if case .shop = scope {} else {
                agentBlocks = try await store.statisticsBlocks(StatisticsBlockQuery(scope: scope, grouping: .agent, fromDay: days.lowerBound,
                                                                                     toDay: days.upperBound))
            }
            let report = try StatisticsReport(blocks: blocks, grouping: grouping, fromDay: days.lowerBound, toDay: days.upperBound,
                                              agentBlocks: agentBlocks)
            var agentsNow: [String: AfterSaleDomain.Agent] = [:]
            if !report.agents.isEmpty {
                let team: String? = if case .team(let name) = scope { name } else { nil }
                for agent in try await store.agents(team: team) { agentsNow[agent.id] = agent }
            }
            var response = GetStatisticsResponse()
            response.scope = scope.key
            response.groupBy = request.groupBy == .unspecified ? .day : request.groupBy
            response.groups = report.groups.map { Self.group($0.key, $0.summary) }
            response.total = Self.group("", report.total)
            response.agents = report.agents.map { agent, summary in
                var w = AgentWorkload()
                w.agentId = agent
                w.assigned = summary.counter(StatisticsMetric.agentAssigned)
                w.replies = summary.counter(StatisticsMetric.agentReplies)
                w.solved = summary.counter(StatisticsMetric.agentSolved)
                w.load = Int32(clamping: agentsNow[agent]?.load ?? 0)
                w.capacity = Int32(clamping: agentsNow[agent]?.capacity ?? 0)
                return w
            }
            response.projectedThrough = try await store.consumerCursor(StatisticsProjector.consumer) ?? 0
            response.feedHead = try await store.eventFeedHead()
            response.histogramRelativeError = DurationHistogram.relativeError
            return response
        }
    }

    static func grouping(_ groupBy: StatisticsGroupBy) throws(DomainError) -> StatisticsGrouping {
        switch groupBy {
        case .unspecified, .day: .day
        case .kind: .kind
        case .reason: .reason
        case .category: .category
        case .shop: .shop
        default: throw .invalidArgument(field: "group_by", message: "is not a grouping (\(groupBy.rawValue))")
        }
    }

    static func group(_ key: String, _ s: StatisticsSummary) -> StatisticsGroup {
        var cases = CaseStatistics()
        cases.applied = s.applied
        cases.completed = s.completed
        cases.rejected = s.rejected
        cases.withdrawn = s.withdrawn
        cases.closed = s.closed
        let actions = s.timerActions
        cases.timerActions = TimerRule.allCases.map { rule in
            var count = TimerRuleCount()
            count.rule = rule.rawValue
            count.count = actions[rule] ?? 0
            return count
        }
        cases.refunds = s.refunds
        cases.refunded = s.refunded.map { currency, units in
            var money = AfterSaleProto.Money()
            money.currency = currency
            money.amountMinor = units
            return money
        }
        cases.processingCalendar = duration(s.duration(.processingCalendar))
        cases.processingBusiness = duration(s.duration(.processingBusiness))
        cases.resolutionRate = rate(s.resolutionRate)
        cases.merchantOverdueRate = rate(s.merchantOverdueRate)
        cases.disputeRate = rate(s.disputeRate)
        cases.buyerWinRate = rate(s.buyerWinRate)
        var tickets = TicketStatistics()
        tickets.received = s.ticketsReceived
        tickets.resolved = s.ticketsResolved
        tickets.firstReplyCalendar = duration(s.duration(.firstReplyCalendar))
        tickets.firstReplyBusiness = duration(s.duration(.firstReplyBusiness))
        tickets.resolutionCalendar = duration(s.duration(.resolutionCalendar))
        tickets.resolutionBusiness = duration(s.duration(.resolutionBusiness))
        tickets.slaAttainment = rate(s.slaAttainment)
        tickets.oneTouchRate = rate(s.oneTouchRate)
        tickets.reopenRate = rate(s.reopenRate)
        var satisfaction = SatisfactionStatistics()
        satisfaction.ratings = s.ratings
        satisfaction.averageStars = s.averageStars
        satisfaction.distribution = s.starDistribution
        var group = StatisticsGroup()
        group.key = key
        group.cases = cases
        group.tickets = tickets
        group.satisfaction = satisfaction
        return group
    }

    static func duration(_ d: DurationSummary) -> DurationStatistics {
        var p = DurationStatistics()
        p.count = d.count
        p.medianMs = d.medianMs ?? 0
        p.p90Ms = d.p90Ms ?? 0
        return p
    }

    static func rate(_ r: CountedRate) -> AfterSaleProto.StatisticsRate {
        var p = AfterSaleProto.StatisticsRate()
        p.numerator = r.numerator
        p.denominator = r.denominator
        p.value = r.value
        return p
    }
}
