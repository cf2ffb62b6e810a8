import AfterSaleProto
import CAfterSaleProto
import CProtobufC
import RPCServer
import RPCWire

/// `aftersale.v1.Reflection`: what the server hosts, from its router and the compiled descriptors.
public struct ReflectionProvider: ReflectionHandler {
    private let services: [ServiceInfo]

    /// Captures the router's catalog (call after every route is added).
    public init(router: Router) {
        var services = router.catalog.map { entry in
            var info = ServiceInfo()
            info.name = entry.service
            info.methods = entry.methods.map { m in
                var method = MethodInfo()
                method.name = m.info.name
                method.path = m.info.path
                method.requestType = m.info.requestType
                method.responseType = m.info.responseType
                method.serverStreaming = m.info.kind == .serverStreaming
                method.unimplemented = !m.implemented
                return method
            }
            return info
        }
        if !services.contains(where: { $0.name == Reflection.name }) {
            var info = ServiceInfo()
            info.name = Reflection.name
            info.methods = Reflection.methods.map { m in
                var method = MethodInfo()
                method.name = m.name
                method.path = m.path
                method.requestType = m.requestType
                method.responseType = m.responseType
                return method
            }
            services.append(info)
            services.sort { $0.name < $1.name }
        }
        self.services = services
    }

    public func listServices(_ request: ListServicesRequest, context: ServerContext) async throws -> ListServicesResponse {
        listNow()
    }

    public func describeMessage(_ request: DescribeMessageRequest, context: ServerContext) async throws -> DescribeMessageResponse {
        try describeNow(request)
    }

    func listNow() -> ListServicesResponse {
        var response = ListServicesResponse()
        response.services = services
        return response
    }

    func describeNow(_ request: DescribeMessageRequest) throws(RPCError) -> DescribeMessageResponse {
        guard let descriptor = DescriptorIndex.message(named: request.name) else {
            throw RPCError(.notFound, "no message type named '\(request.name)'")
        }
        var response = DescribeMessageResponse()
        response.name = request.name
        response.fields = DescriptorIndex.fields(of: descriptor)
        return response
    }

    /// The routes to register; both methods only read memory, so they answer on the I/O thread.
    public var servingRoutes: [Route] {
        [
            Route.inline(Reflection.listServices) { _, _ throws(RPCError) in listNow() },
            Route.inline(Reflection.describeMessage) { request, _ throws(RPCError) in try describeNow(request) },
        ]
    }
}

