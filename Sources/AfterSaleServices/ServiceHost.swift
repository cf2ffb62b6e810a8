import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire
import ServiceKit
import SignedTokens

/// The router of the aftersaled process: health and reflection, and the business services
/// (AfterSaleService, OrderBridge, RefundBridge, Timers, ServiceDesk, Audit, Feedback, Knowledge, Statistics, Disputes) over the domain's storage ports, behind the
/// identity and authorization interceptors. It names no storage backend: aftersaled hands it one.
public struct ServiceHost: Sendable {
    /// Every route, with the identity interceptor.
    public let router: Router
    /// The serving status of the server and of each service.
    public let health: HealthRegistry

    /// Services anyone may call without an identity.
    public static let publicServices: Set<String> = [Health.name, Reflection.name]

    /// Every method of the business services, in the order the contracts declare them.
    public static let businessMethods: [RPCMethodInfo] = AfterSaleService.methods + OrderBridge.methods + RefundBridge.methods
        + Timers.methods + ServiceDesk.methods + Audit.methods + Feedback.methods + Knowledge.methods + Statistics.methods + Disputes.methods

    /// The full host: every business service over `store`.
    /// - Parameters:
    ///   - timers: the timer settings source the services arm timers from, shared with the timer
    ///     worker (default: a new one over `store` with `policy`'s timer defaults).
    ///   - authenticators: how callers are identified, tried in order (see
    ///     ``authenticators(verifier:acceptStatedIdentity:)``); no default, so that nobody serves
    ///     stated identities by accident.
    ///   - limits: call rates per principal and per address, and the allowance of failed authentications.
    ///   - feedbackWindowMs: how long after a case completes or a ticket is solved its buyer may rate it.
    ///   - disputes: the windows of disputes (escalation, merchant response, evidence, appeal, guarantee).
    ///   - abuse: the limits within which refund-only cases are approved at once (beyond them a ticket asks for review).
    ///   - desk: the service desk, shared with the desk worker (default: one over `store` with
    ///     default settings).
    ///   - personalData: seals buyers' personal data at rest under the master key (shared with the
    ///     timer worker); `personalDataRetention` is how long after a buyer's last case finished
    ///     ErasePersonalData waits.
    public init(store: any AfterSaleRepository, timers: TimerPolicySource? = nil, desk: Desk? = nil, clock: any WallClock = SystemClock(),
                policy: PolicyConfig = .standard, authenticators: [any Authenticator], limits: CallLimits = .none,
                feedbackWindowMs: Int64 = 15 * 86_400_000, disputes: DisputePolicy = .standard, abuse: AbuseLimits = .standard,
                personalData: PersonalDataVault,
                personalDataRetention: Duration = PersonalDataVault.defaultRetention,
                logger: Logger = .disabled, faults: FaultInjection = .none) {
        let timers = timers ?? TimerPolicySource(store: store, platform: policy.timers, clock: clock)
        let desk = desk ?? Desk(store: store, clock: clock, logger: logger)
        var afterSale = AfterSaleServiceProvider(store: store, timers: timers, personalData: personalData,
                                                 personalDataRetention: personalDataRetention, clock: clock, policy: policy, logger: logger)
        afterSale.faults = faults
        afterSale.abuse = abuse
        afterSale.desk = desk
        // One per replica, shared: the Knowledge service drops it after each article change.
        let suggestions = ArticleSuggestions(store: store, clock: clock, logger: logger)
        afterSale.suggestions = suggestions
        self.init(services: [
            afterSale.routes,
            OrderBridgeProvider(orders: store, cases: store, desk: store, personalData: personalData).routes,
            RefundBridgeProvider(refunds: store, cases: store, orders: store, idempotency: store, timers: timers, desk: store,
                                 personalData: personalData, clock: clock, policy: policy, logger: logger).routes,
            TimersProvider(store: store, timers: timers, personalData: personalData, clock: clock, policy: policy, logger: logger).routes,
            ServiceDeskProvider(desk: desk, timers: timers).routes,
            FeedbackProvider(store: store, clock: clock, windowMs: feedbackWindowMs).routes,
            KnowledgeProvider(store: store, clock: clock, suggestions: suggestions).routes,
            DisputesProvider(store: store, desk: desk, timers: timers, personalData: personalData, clock: clock, policy: policy,
                             disputes: disputes, logger: logger).routes,
            AuditProvider(store: store).routes,
            StatisticsProvider(store: store).routes,
        ], authenticators: authenticators, limits: limits)
    }

    /// The authenticators of a server: signed tokens when `verifier` is given; the stated
    /// `x-caller-role` / `x-caller-id` only when `acceptStatedIdentity` (`--insecure-dev-principals`),
    /// and otherwise a refusal that says so to callers still sending them.
    public static func authenticators(verifier: TokenVerifier?, acceptStatedIdentity: Bool) -> [any Authenticator] {
        var list: [any Authenticator] = []
        if let verifier { list.append(TokenAuthenticator(verifier: verifier)) }
        list.append(acceptStatedIdentity ? MetadataAuthenticator() : StatedIdentityRefusal())
        return list
    }

    /// The host without storage: every business service is declared only and answers UNIMPLEMENTED
    /// (before any interceptor would run), so it has no identity interceptor. For tests of the RPC
    /// runtime that need the production router, with test services of their own, but no store.
    public init() {
        self.init(services: nil, authenticators: nil, limits: .none)
    }

    private init(services: [[Route]]?, authenticators: [any Authenticator]?, limits: CallLimits) {
        let businessServices = [AfterSaleService.name, OrderBridge.name, RefundBridge.name, Timers.name, ServiceDesk.name, Audit.name, Feedback.name, Knowledge.name, Statistics.name, Disputes.name]
        let health = HealthRegistry(services: businessServices + [Health.name, Reflection.name])
        var router = Router()
        if let authenticators {
            let identity = IdentityInterceptor(authenticators: authenticators, publicServices: Self.publicServices)
            router.intercept(with: LimitedIdentityInterceptor(identity: identity, limits: limits))
            router.intercept(with: AuthorizationInterceptor())
        }
        router.add(HealthProvider(registry: health).servingRoutes)
        if let services {
            for routes in services { router.add(routes) }
        } else {
            router.declare(Self.businessMethods)
        }
        router.add(ReflectionProvider(router: router).servingRoutes)
        self.router = router
        self.health = health
    }
}
