import AfterSaleClient
import AfterSaleProto
import Foundation
import Glibc
import Testing

/// Several `aftersaled` processes on one store (replicas on one PostgreSQL database), each on an
/// ephemeral loopback port. Kill them in a `defer` with ``killAll()``.
struct ReplicaSet: Sendable {
    let servers: [ChildProcess]
    let ports: [UInt16]

    /// Starts `count` replicas on `store` side by side; each has printed its ready line when this returns.
    static func start(_ count: Int, store: TestStore, extraArguments: [String] = []) async throws -> ReplicaSet {
        let daemon = try Integration.ExecutablesTests.require("aftersaled")
        let started = Collected<(index: Int, server: ChildProcess, port: UInt16)>()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask {
                        let (server, port) = try await ChildProcess.startDaemon(daemon, store: store, extraArguments: extraArguments)
                        started.append((index, server, port))
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            for replica in started.all {
                replica.server.signal(SIGKILL)
                _ = await replica.server.waitForExit(timeout: .seconds(2))
            }
            throw error
        }
        let sorted = started.all.sorted { $0.index < $1.index }
        return ReplicaSet(servers: sorted.map(\.server), ports: sorted.map(\.port))
    }

    /// "127.0.0.1:P1,127.0.0.1:P2,…": every replica.
    var target: String { ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    /// A client of every replica (round robin, failover for calls that are safe to repeat).
    func client() throws -> RPCClient { try RPCClient(target: target) }

    /// `count` clients of every replica, as that many processes would hold them.
    func clients(_ count: Int) throws -> [RPCClient] { try (0..<count).map { _ in try client() } }

    /// A client of replica `index` alone.
    func client(_ index: Int) throws -> RPCClient { try RPCClient(target: "127.0.0.1:\(ports[index])") }

    /// Sends SIGKILL to every replica still running.
    func killAll() {
        for server in servers where server.process.isRunning { server.signal(SIGKILL) }
    }

    /// Stops every replica with SIGTERM; their exit statuses (nil for one that had to be killed).
    func stop(timeout: Duration = .seconds(10)) async -> [Int32?] {
        for server in servers where server.process.isRunning { server.signal(SIGTERM) }
        var statuses: [Int32?] = []
        for server in servers { statuses.append(await server.waitForExit(timeout: timeout)) }
        return statuses
    }
}

/// Polls Health/Check on `client` (every 100 ms, each check bounded by 1 s) until it answers
/// `status`; whether it did within `timeout`.
func awaitHealth(_ client: RPCClient, _ status: AfterSaleProto.ServingStatus, timeout: Duration) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: timeout)
    repeat {
        if let answer = try? await client.health.check(healthRequest(), options: CallOptions(timeout: .seconds(1))), answer.status == status {
            return true
        }
        try? await Task.sleep(for: .milliseconds(100))
    } while clock.now < end
    return false
}

/// Every refund order matching `request`, all pages (bounded to 100 pages).
func allRefunds(_ bridge: RefundBridgeClient, _ request: ListRefundsRequest = Requests.listRefunds(pageSize: 200),
                options: CallOptions = Callers.platform()) async throws -> [AfterSaleProto.RefundOrder] {
    var all: [AfterSaleProto.RefundOrder] = []
    var r = request
    for _ in 0..<100 {
        let page = try await bridge.listRefunds(r, options: options)
        all += page.refunds
        if page.nextPageToken.isEmpty { return all }
        r.pageToken = page.nextPageToken
    }
    Issue.record("ListRefunds did not finish paging within 100 pages")
    return all
}
