import AfterSaleDomain
import AfterSaleProto
import AfterSaleStorage
import RPCServer

/// Builds the router of the aftersaled process: health and reflection, the after-sale service over
/// a repository, and the bridges, which are declared in the contracts and answer UNIMPLEMENTED until
/// they are built (issue 4).
public struct ServiceHost: Sendable {
    public let router: Router
    public let health: HealthRegistry
    /// The after-sale service, when the host serves one.
    public let afterSale: AfterSaleServiceImpl?

    /// The full host: AfterSaleService served over `repository`.
    public init(repository: any AfterSaleRepository, clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard) {
        self.init(afterSale: AfterSaleServiceImpl(repository: repository, clock: clock, policy: policy))
    }

    /// The host without storage: every business service is declared only and answers UNIMPLEMENTED.
    /// For tests of the RPC runtime that need the production router but no data directory.
    public init() {
        self.init(afterSale: nil)
    }

    private init(afterSale: AfterSaleServiceImpl?) {
        let businessServices = [AfterSaleService.name, OrderBridge.name, RefundBridge.name]
        let health = HealthRegistry(services: businessServices + [Health.name, Reflection.name])
        var router = Router()
        router.add(HealthService(registry: health).servingRoutes)
        if let afterSale {
            // The integration methods come with issue 4: declared only, so that reflection says so
            // and calls answer UNIMPLEMENTED from the router.
            let later: Set<String> = [AfterSaleService.forceRefund.path, AfterSaleService.ingestTrackingEvent.path,
                                      AfterSaleService.subscribe.path, AfterSaleService.acknowledgeEvents.path]
            router.add(afterSale.routes.filter { !later.contains($0.info.path) })
            router.declare(AfterSaleService.methods.filter { later.contains($0.path) })
        } else {
            router.declare(AfterSaleService.methods)
        }
        router.declare(OrderBridge.methods)
        router.declare(RefundBridge.methods)
        router.add(ReflectionService(router: router).servingRoutes)
        self.router = router
        self.health = health
        self.afterSale = afterSale
    }
}

extension ServiceHost {
    /// Opens the embedded SQLite store in `dataDirectory` (migrating it) and a host serving over it.
    /// - Returns: the host and the store's `close`, to call once the server has stopped.
    public static func open(dataDirectory: String) throws -> (host: ServiceHost, close: @Sendable () -> Void) {
        let repository = try SQLiteRepository.open(dataDirectory: dataDirectory)
        return (ServiceHost(repository: repository), { repository.close() })
    }
}
