import RPCWire

/// Maps method paths to routes and holds the interceptors every call goes through; also knows methods that are declared in the contracts but not
/// served yet, which answer UNIMPLEMENTED and show as such in reflection.
public struct Router: Sendable {
    private(set) var routes: [Route] = []
    private var indexByPath: [String: Int] = [:]
    private(set) var declared: [RPCMethodInfo] = []
    /// What every call goes through before its handler.
    public private(set) var interceptors = Interceptors.none
    /// For each route (by index), the interceptors that apply to it.
    private var routeInterceptors: [Interceptors] = []

    public init() {}

    /// Adds an interceptor; it runs after those added before it, for every route it applies to.
    public mutating func intercept(with interceptor: any ServerInterceptor) {
        interceptors = Interceptors(interceptors.list + [interceptor])
        routeInterceptors = routes.map { interceptors.applying(to: $0.info) }
    }

    /// The interceptors of the route at `index`.
    func interceptors(at index: Int) -> Interceptors { routeInterceptors[index] }

    /// Serves these routes; a later route for the same path replaces an earlier one.
    public mutating func add(_ newRoutes: [Route]) {
        for route in newRoutes {
            if let i = indexByPath[route.info.path] {
                routes[i] = route
                routeInterceptors[i] = interceptors.applying(to: route.info)
            } else {
                indexByPath[route.info.path] = routes.count
                routes.append(route)
                routeInterceptors.append(interceptors.applying(to: route.info))
            }
        }
    }

    /// Declares methods of a service whose handlers are not built yet.
    public mutating func declare(_ methods: [RPCMethodInfo]) {
        for m in methods where !declared.contains(where: { $0.path == m.path }) { declared.append(m) }
    }

    /// The route index for a path.
    func index(of path: String) -> Int? { indexByPath[path] }

    func route(at index: Int) -> Route { routes[index] }

    /// Every method, served or only declared, grouped by service (sorted by name).
    public var catalog: [(service: String, methods: [(info: RPCMethodInfo, implemented: Bool)])] {
        var byService: [String: [(info: RPCMethodInfo, implemented: Bool)]] = [:]
        var seen = Set<String>()
        for m in routes.map(\.info) + declared where seen.insert(m.path).inserted {
            byService[m.service, default: []].append((m, indexByPath[m.path] != nil))
        }
        return byService.keys.sorted().map { ($0, byService[$0] ?? []) }
    }

    /// Whether a path is declared but has no handler.
    func isDeclaredOnly(_ path: String) -> Bool { indexByPath[path] == nil && declared.contains { $0.path == path } }

    var count: Int { routes.count }
}
