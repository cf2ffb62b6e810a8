import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCWire
import Testing

// Section 6 of the security issue through the real aftersaled: per-principal and per-address GCRA
// limits, RESOURCE_EXHAUSTED with a retry-after hint in the response metadata, and an address
// locked out after repeated failed authentications.

extension Integration {
    @Suite("Rate limits against the real aftersaled")
    struct RateLimitTests {
        static func withDaemon(_ arguments: [String], _ body: (RPCClient) async throws -> Void) async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("limits") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store, extraArguments: arguments)
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }
                try await body(client)
                server.signal(SIGTERM)
                #expect(await server.waitForExit(timeout: .seconds(5)) == 0, "\(server.stderr)")
            }
        }

        static func list(_ client: RPCClient, _ options: CallOptions) async -> RPCError? {
            await rpcError { try await client.afterSale.listAfterSales(ListAfterSalesRequest(), options: options) }
        }

        @Test("a caller past its rate gets RESOURCE_EXHAUSTED with retry-after-ms in the response metadata, and succeeds after waiting it")
        func perPrincipal() async throws {
            try await Self.withDaemon(["--rate-limit-principal", "2:2"]) { client in
                #expect(await Self.list(client, Callers.agent("a-1")) == nil)
                #expect(await Self.list(client, Callers.agent("a-1")) == nil)
                let refused = try #require(await Self.list(client, Callers.agent("a-1")))
                #expect(refused.code == .resourceExhausted, "\(refused)")
                let wait = try #require(refused.metadata[CallLimits.retryAfterKey].flatMap { Int($0) }, "\(refused.metadata)")
                #expect(wait > 0 && wait <= 500, "\(wait)")
                #expect(await Self.list(client, Callers.agent("a-2")) == nil, "another caller is not limited")
                #expect(try await client.health.check(healthRequest(), options: CallOptions(timeout: .seconds(2))).status == .serving,
                        "health is never limited")
                try await Task.sleep(for: .milliseconds(wait + 20))
                #expect(await Self.list(client, Callers.agent("a-1")) == nil)
            }
        }

        @Test("an address past its rate is refused whoever calls")
        func perAddress() async throws {
            try await Self.withDaemon(["--rate-limit-address", "1:3"]) { client in
                for i in 0..<3 { #expect(await Self.list(client, Callers.buyer("b-\(i)")) == nil) }
                let refused = await Self.list(client, Callers.platform())
                #expect(refused?.code == .resourceExhausted)
                #expect(refused?.metadata[CallLimits.retryAfterKey] != nil)
            }
        }

        @Test("after repeated failed authentications the address is refused even with a valid token")
        func authenticationFailures() async throws {
            try await Self.withDaemon(["--auth-failure-limit", "3:60"]) { client in
                #expect(await Self.list(client, Callers.platform()) == nil)
                for _ in 0..<3 {
                    let failed = await Self.list(client, CallOptions(timeout: .seconds(5), metadata: [CallerMetadata.authorization: "Bearer v4.public.bad"]))
                    #expect(failed?.code == .unauthenticated)
                }
                let locked = await Self.list(client, Callers.platform())
                #expect(locked?.code == .resourceExhausted, "\(String(describing: locked))")
                #expect(locked?.message.contains("too many failed authentications") == true)
                #expect(Int(locked?.metadata[CallLimits.retryAfterKey] ?? "") ?? 0 > 50_000)
            }
        }

        @Test("bad limit settings stop aftersaled with a message naming the flag", arguments: [
            ["--rate-limit-principal", "fast"], ["--rate-limit-address", "5:0"], ["--auth-failure-limit", "3:-1"],
        ])
        func badSettings(_ arguments: [String]) async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            let run = try await ChildProcess.run(daemon, arguments + ["--listen", "127.0.0.1:0"])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.contains(arguments[0]), "\(run.stderr)")
        }
    }
}
