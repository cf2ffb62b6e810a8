import AfterSaleProto
import RPCServer

/// Builds the router of the aftersaled process: health and reflection, plus the business
/// services, which are declared in the contracts and answer UNIMPLEMENTED until they are built.
public struct ServiceHost: Sendable {
    public let router: Router
    public let health: HealthRegistry

    public init() {
        let businessServices = [AfterSaleService.name, OrderBridge.name, RefundBridge.name]
        let health = HealthRegistry(services: businessServices + [Health.name, Reflection.name])
        var router = Router()
        router.add(HealthService(registry: health).servingRoutes)
        router.declare(AfterSaleService.methods)
        router.declare(OrderBridge.methods)
        router.declare(RefundBridge.methods)
        router.add(ReflectionService(router: router).servingRoutes)
        self.router = router
        self.health = health
    }
}
