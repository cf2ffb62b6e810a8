import AfterSaleProto
import RPCServer
import RPCWire
import Synchronization

/// The serving status of the server and of each hosted service, and who is watching it.
public final class HealthRegistry: Sendable {
    private struct State {
        var statuses: [String: ServingStatus] = [:]
        var watchers: [UInt64: (service: String, continuation: AsyncStream<ServingStatus>.Continuation)] = [:]
        var nextWatcher: UInt64 = 0
        var shutDown = false
    }

    private let state = Mutex(State())

    /// Starts with the server ("") and `services` SERVING.
    public init(services: [String]) {
        state.withLock { s in
            s.statuses[""] = .serving
            for name in services { s.statuses[name] = .serving }
        }
    }

    /// The status of a service ("" for the server); nil when the service is not hosted here.
    public func status(of service: String) -> ServingStatus? {
        state.withLock { $0.statuses[service] }
    }

    /// Changes a service's status and tells its watchers.
    public func set(_ service: String, _ status: ServingStatus) {
        let watchers = state.withLock { s -> [AsyncStream<ServingStatus>.Continuation] in
            s.statuses[service] = status
            return s.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for w in watchers { w.yield(status) }
    }

    /// Sets every status (the server's and each service's) and tells their watchers; does
    /// nothing once shut down.
    public func setAll(_ status: ServingStatus) {
        let watchers = state.withLock { s -> [AsyncStream<ServingStatus>.Continuation] in
            guard !s.shutDown else { return [] }
            for key in s.statuses.keys { s.statuses[key] = status }
            return s.watchers.values.map(\.continuation)
        }
        for w in watchers { w.yield(status) }
    }

    /// Marks everything NOT_SERVING (shutdown) and ends every watch.
    public func shutDown() {
        let watchers = state.withLock { s -> [AsyncStream<ServingStatus>.Continuation] in
            s.shutDown = true
            for key in s.statuses.keys { s.statuses[key] = .notServing }
            let all = s.watchers.values.map(\.continuation)
            s.watchers.removeAll()
            return all
        }
        for w in watchers {
            w.yield(.notServing)
            w.finish()
        }
    }

    /// The current status, then every change, until the stream is dropped.
    func watch(_ service: String) -> AsyncStream<ServingStatus> {
        let (stream, continuation) = AsyncStream<ServingStatus>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = state.withLock { s -> UInt64 in
            s.nextWatcher += 1
            s.watchers[s.nextWatcher] = (service, continuation)
            continuation.yield(s.statuses[service] ?? .unspecified)
            return s.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}

/// `aftersale.v1.Health`: Check answers on the I/O thread (it only reads a table), Watch streams.
public struct HealthProvider: HealthHandler {
    public let registry: HealthRegistry

    public init(registry: HealthRegistry) { self.registry = registry }

    public func check(_ request: HealthCheckRequest, context: ServerContext) async throws -> HealthCheckResponse {
        try checkNow(request)
    }

    func checkNow(_ request: HealthCheckRequest) throws(RPCError) -> HealthCheckResponse {
        guard let status = registry.status(of: request.service) else {
            throw RPCError(.notFound, "service '\(request.service)' is not hosted here")
        }
        var response = HealthCheckResponse()
        response.status = status
        return response
    }

    public func watch(_ request: HealthCheckRequest, context: ServerContext, responses: ResponseStream<HealthCheckResponse>) async throws {
        for await status in registry.watch(request.service) {
            var response = HealthCheckResponse()
            response.status = status
            try await responses.send(response)
        }
    }

    /// The routes to register: the generated ones, with Check moved onto the I/O thread.
    public var servingRoutes: [Route] {
        routes + [Route.inline(Health.check) { request, _ throws(RPCError) in try checkNow(request) }]
    }
}
