import AfterSaleDomain
import AfterSaleProto
import RPCServer
import RPCWire

/// `aftersale.v1.OrderBridge`: the order system feeds order snapshots in and reads each order's
/// after-sale state back (changes of that state also reach it on the event feed).
public struct OrderBridgeProvider: OrderBridgeHandler {
    let orders: any OrderRepository
    let cases: any CaseRepository
    /// Seals the delivery address before an order is stored.
    let personalData: PersonalDataVault
    /// Which orders agents may see: those of their tickets' cases.
    let agentScope: AgentCaseScope

    /// The bridge over the orders, the cases on them and the tickets that scope agents.
    public init(orders: any OrderRepository, cases: any CaseRepository, desk: any DeskRepository, personalData: PersonalDataVault) {
        self.orders = orders
        self.cases = cases
        self.personalData = personalData
        agentScope = AgentCaseScope(desk: desk)
    }

    public func upsertOrder(_ request: UpsertOrderRequest, context: ServerContext) async throws -> UpsertOrderResponse {
        let principal = try context.principal
        return try await mapped {
            try Permissions.require(principal, .upsertOrders)
            guard let wire = request.order else { throw DomainError.invalidArgument(field: "order", message: "is required") }
            let order = try ProtoMapping.order(wire)
            try order.validate()
            guard order.version > 0 else {
                throw DomainError.invalidArgument(field: "order.order_version", message: "must be positive, got \(order.version)")
            }
            var response = UpsertOrderResponse()
            switch try await orders.saveOrder(try await personalData.sealed(order)) {
            case .inserted, .updated:
                response.outcome = .applied
                response.storedOrderVersion = order.version
            case .ignored(let stored):
                response.outcome = stored == order.version ? .unchanged : .staleIgnored
                response.storedOrderVersion = stored
            }
            return response
        }
    }

    public func getOrderAfterSaleState(_ request: GetOrderAfterSaleStateRequest, context: ServerContext) async throws -> GetOrderAfterSaleStateResponse {
        let principal = try context.principal
        return try await mapped {
            guard !request.orderId.isEmpty else {
                throw DomainError.invalidArgument(field: "order_id", message: "must not be empty")
            }
            guard let order = try await orders.order(request.orderId) else {
                throw RepositoryError.orderNotFound(request.orderId)
            }
            switch principal.role {
            case .buyer where order.buyerID != principal.id:
                throw DomainError.permissionDenied(.notOrderBuyer(buyerID: principal.id, orderID: order.id))
            case .merchant where order.shop.id != principal.actingShopID:
                throw DomainError.permissionDenied(.notShopOwner(merchantID: principal.id, shopID: order.shop.id))
            default:
                break
            }
            let onOrder = try await cases.cases(ofOrder: order.id)
            // An agent sees the orders of the cases of their tickets; any other order is unknown to them.
            if principal.role == .agent {
                var visible = false
                for afterSale in onOrder where try await agentScope.allows(principal, afterSale.number) {
                    visible = true
                    break
                }
                guard visible else { throw RepositoryError.orderNotFound(request.orderId) }
            }
            var response = GetOrderAfterSaleStateResponse()
            // 维权中 while a dispute about one of its cases is open (the store that holds the cases holds the disputes).
            let open = try await (cases as? any DisputeRepository)?.disputes(ofOrder: order.id).filter(\.status.isOpen).map(\.id) ?? []
            response.state = ProtoMapping.orderView(OrderAfterSaleView(try OrderLedger(order: order, cases: onOrder), openDisputeIDs: open))
            return response
        }
    }
}
