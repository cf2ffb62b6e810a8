import AfterSaleDomain
import AfterSaleServices
import AfterSaleStorage
import Foundation
import RPCServer
import RPCTransport
import ServiceKit
import SignedTokens
import StoreBackends

/// The one composition root: it opens the configured storage backend, builds the services over its ports,
/// and lists the process's parts in the order they start (and stop in reverse).
struct Bootstrap {
    let configuration: Configuration
    let logger: Logger

    /// The parts of the process, started in this order: the token keys (loaded before anything
    /// else, reloaded on SIGHUP), the store (opened and migrated before anything listens), its
    /// health monitor, the timer worker (overdue timers fire from start-up, oldest first, at the
    /// configured rate), the audit checkpoint writer, the RPC server, the HTTP endpoint (metrics and
    /// probes); stopped in the reverse order.
    /// - Throws: ``TokenKeysError`` when the token keys cannot be loaded; ``AuditKeyError`` when the
    ///   checkpoint key cannot be loaded or made; when the store cannot be opened (the data directory is unusable, the database cannot
    ///   be reached, a migration failed).
    func services(announce: @escaping @Sendable (String) -> Void) async throws -> [any Service] {
        let authentication = configuration.authentication
        let (verifier, keySetPath) = try authentication.verifier(logger: logger.with(["component": "auth"]))
        if authentication.acceptStatedIdentity {
            logger.log(.warning, "--insecure-dev-principals: x-caller-role/x-caller-id are trusted as stated; anyone who can reach the port can act as anyone")
        }
        let auditSigner = try configuration.audit.signer(logger: logger.with(["component": "audit"]))
        let opened = try await configuration.store.open(logger: logger.with(["component": "storage"]))
        let store = opened.repository
        let personalData = PersonalDataVault(masterKey: try configuration.personalData.masterKey(), keys: store, clock: SystemClock())
        try await personalData.verifyMasterKey()
        let timers = TimerPolicySource(store: store, platform: configuration.policy.timers)
        let desk = Desk(store: store, settings: configuration.desk, logger: logger.with(["component": "desk"]))
        let host = ServiceHost(store: store, timers: timers, desk: desk, policy: configuration.policy,
                               authenticators: ServiceHost.authenticators(verifier: verifier,
                                                                          acceptStatedIdentity: authentication.acceptStatedIdentity),
                               limits: configuration.limits, feedbackWindowMs: configuration.feedbackWindowMs, disputes: configuration.disputes,
                               abuse: configuration.abuse,
                               personalData: personalData, personalDataRetention: configuration.personalData.retention,
                               logger: logger, faults: FaultInjection(environment: ProcessInfo.processInfo.environment))
        let timerWorker = TimerWorker(store: store, timers: timers, policy: configuration.policy, settings: configuration.timerWorker,
                                      personalData: personalData, logger: logger.with(["component": "timers"]))
        let checkpointer = AuditCheckpointer(store: store, signer: auditSigner, settings: configuration.audit.checkpoints,
                                             logger: logger.with(["component": "audit"]))
        let server = try RPCServer(configuration: configuration.server, router: host.router, logger: logger)
        let monitor = StoreHealthMonitor(store: store, health: host.health, logger: logger.with(["component": "health"]))
        let gauges = BusinessGaugeMonitor(store: store, logger: logger.with(["component": "gauges"]))
        var parts: [any Service] = [
            ServiceAdapter(name: "\(configuration.store.name)-store", shutdown: { opened.close() }),
            KeySetReloader(verifier: verifier, logger: logger.with(["component": "auth"])),
            monitor,
            gauges,
            timerWorker,
            checkpointer,
            DeskWorker(desk: desk),
            StatisticsProjector(store: store, sla: configuration.desk.sla, logger: logger.with(["component": "statistics"])),
            DisputeWorker(store: store, desk: desk, personalData: personalData, policy: configuration.disputes,
                          intervalMs: configuration.disputeSweepIntervalMs,
                          logger: logger.with(["component": "disputes"])),
            ServiceAdapter(name: "rpc-server", start: { try await server.start() }, shutdown: {
                // Health goes NOT_SERVING first, so load balancers stop sending while calls drain.
                host.health.shutDown()
                await server.shutdown()
            }),
        ]
        let metrics = MetricsService(address: configuration.metricsListen, probes: [
            "/healthz": { ProbeAnswer(status: 200, body: "alive") },
            "/readyz": {
                let (ready, reason) = monitor.readiness
                return ProbeAnswer(status: ready && !server.isShuttingDown ? 200 : 503, body: server.isShuttingDown ? "shutting down" : reason)
            },
        ], render: { server.metrics.render() + gauges.render() })
        parts.append(metrics)
        let configuration = configuration
        let logger = logger
        parts.append(ServiceAdapter(name: "announcer", start: {
            let listen = "\(configuration.server.listen.host):\(server.port)"
            var ready = "aftersaled ready: listening on \(listen) store=\(configuration.store.name):\(configuration.store.location) pid=\(getpid())"
            if let port = metrics.port { ready += " metrics=http://\(configuration.metricsListen?.host ?? "127.0.0.1"):\(port)/metrics" }
            ready += " token-keys=\(keySetPath)"
            if let tls = configuration.server.tls { ready += tls.requiresClientCertificate ? " tls=mutual" : " tls=1.3" }
            if authentication.acceptStatedIdentity { ready += " insecure-dev-principals" }
            announce(ready)
            logger.log(.info, "serving", ["listen": listen, "store": configuration.store.name, "at": configuration.store.location,
                                          "event_loops": String(configuration.server.eventLoops),
                                          "tls": configuration.server.tls.map { $0.requiresClientCertificate ? "mutual" : "1.3" } ?? "off"])
        }, shutdown: {}))
        return parts
    }
}

/// The HTTP endpoint (Prometheus metrics, `/healthz`, `/readyz`), when an address is configured.
final class MetricsService: Service, @unchecked Sendable {
    let name = "http-endpoint"
    private let address: SocketAddress?
    private let probes: [String: @Sendable () -> ProbeAnswer]
    private let render: @Sendable () -> String
    private var endpoint: MetricsEndpoint?

    init(address: SocketAddress?, probes: [String: @Sendable () -> ProbeAnswer], render: @escaping @Sendable () -> String) {
        self.address = address
        self.probes = probes
        self.render = render
    }

    /// The port it serves on, once started.
    var port: UInt16? { endpoint?.port }

    func start() async throws {
        guard let address else { return }
        endpoint = try MetricsEndpoint(address: address, probes: probes, render: render)
    }

    func shutdown() async { endpoint?.close() }
}
