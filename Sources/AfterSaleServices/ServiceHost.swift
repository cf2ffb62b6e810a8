import AfterSaleDomain
import AfterSaleProto
import AfterSaleStorage
import RPCServer

/// Builds the router of the aftersaled process: health and reflection, and the three business
/// services (AfterSaleService, OrderBridge, RefundBridge) over one repository and one domain core.
public struct ServiceHost: Sendable {
    public let router: Router
    public let health: HealthRegistry
    /// The after-sale service, when the host serves one.
    public let afterSale: AfterSaleServiceImpl?

    /// The full host: every business service served over `repository`.
    public init(repository: any AfterSaleRepository, clock: any WallClock = SystemClock(), policy: PolicyConfig = .standard) {
        self.init(services: (AfterSaleServiceImpl(repository: repository, clock: clock, policy: policy),
                             OrderBridgeImpl(repository: repository),
                             RefundBridgeImpl(repository: repository, clock: clock, policy: policy)))
    }

    /// The host without storage: every business service is declared only and answers UNIMPLEMENTED.
    /// For tests of the RPC runtime that need the production router but no data directory.
    public init() {
        self.init(services: nil)
    }

    private init(services: (AfterSaleServiceImpl, OrderBridgeImpl, RefundBridgeImpl)?) {
        let businessServices = [AfterSaleService.name, OrderBridge.name, RefundBridge.name]
        let health = HealthRegistry(services: businessServices + [Health.name, Reflection.name])
        var router = Router()
        router.add(HealthService(registry: health).servingRoutes)
        if let (afterSale, orders, refunds) = services {
            router.add(afterSale.routes)
            router.add(orders.routes)
            router.add(refunds.routes)
        } else {
            router.declare(AfterSaleService.methods)
            router.declare(OrderBridge.methods)
            router.declare(RefundBridge.methods)
        }
        router.add(ReflectionService(router: router).servingRoutes)
        self.router = router
        self.health = health
        self.afterSale = services?.0
    }
}

extension ServiceHost {
    /// Opens the embedded SQLite store in `dataDirectory` (migrating it) and a host serving over it.
    /// - Returns: the host and the store's `close`, to call once the server has stopped.
    public static func open(dataDirectory: String, policy: PolicyConfig = .standard) throws -> (host: ServiceHost, close: @Sendable () -> Void) {
        let repository = try SQLiteRepository.open(dataDirectory: dataDirectory)
        return (ServiceHost(repository: repository, policy: policy), { repository.close() })
    }
}
