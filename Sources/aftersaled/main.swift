import AfterSaleServices
import Dispatch
import Foundation
import Glibc
import RPCServer

// aftersaled: configuration and start-up only. Everything it hosts is built in the libraries.

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("aftersaled: \(error)\n".utf8))
    exit(error.description.hasPrefix("usage:") ? 0 : 2)
}

let logger = Logger(level: options.server.logLevel)
do {
    try FileManager.default.createDirectory(atPath: options.dataDir, withIntermediateDirectories: true)
} catch {
    FileHandle.standardError.write(Data("aftersaled: cannot create data directory \(options.dataDir): \(error)\n".utf8))
    exit(1)
}

// The store opens (and migrates) before the server listens: no call is ever served without it.
let host: ServiceHost
let closeStorage: @Sendable () -> Void
do {
    (host, closeStorage) = try ServiceHost.open(dataDirectory: options.dataDir, policy: options.policy)
} catch {
    FileHandle.standardError.write(Data("aftersaled: cannot open the data store in \(options.dataDir): \(error)\n".utf8))
    exit(1)
}
let server: RPCServer
var metricsEndpoint: MetricsEndpoint?
do {
    server = try RPCServer(configuration: options.server, router: host.router, logger: logger)
    try server.start()
    if let address = options.metricsListen {
        let metrics = server.metrics
        metricsEndpoint = try MetricsEndpoint(address: address) { metrics.render() }
    }
} catch {
    FileHandle.standardError.write(Data("aftersaled: cannot start: \(error)\n".utf8))
    exit(1)
}

// Stop cleanly on SIGTERM and SIGINT: health goes NOT_SERVING, in-flight calls get the grace period.
let stopping = DispatchSemaphore(value: 0)
let signalSources = Signals.notify(stopping, on: [SIGTERM, SIGINT])

let listen = "\(options.server.listen.host):\(server.port)"
var ready = "aftersaled ready: listening on \(listen) data-dir=\(options.dataDir) pid=\(getpid())"
if let m = metricsEndpoint { ready += " metrics=http://\(options.metricsListen?.host ?? "127.0.0.1"):\(m.port)/metrics" }
FileHandle.standardOutput.write(Data((ready + "\n").utf8))
logger.log(.info, "serving", ["listen": listen, "data_dir": options.dataDir, "event_loops": String(options.server.eventLoops)])

stopping.wait()
logger.log(.info, "shutting down", ["grace_s": String(options.server.shutdownGrace.components.seconds)])
host.health.shutDown()
let done = DispatchSemaphore(value: 0)
Task.detached {
    await server.shutdown()
    done.signal()
}
done.wait()
metricsEndpoint?.close()
closeStorage()  // after the server stopped: no call is writing any more
logger.log(.info, "stopped")
logger.flush()
exit(0)
