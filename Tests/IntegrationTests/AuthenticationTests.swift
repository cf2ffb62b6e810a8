import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import Foundation
import Glibc
import RPCWire
import SignedTokens
import Testing

// Section 1 of the security issue through the real aftersaled process: bearer tokens verified
// against a key-set file, each refusal with its code, rotation on SIGHUP, and the stated identity
// accepted only with --insecure-dev-principals.

extension Integration {
    @Suite("Authentication: signed tokens against the real aftersaled")
    struct AuthenticationTests {
        /// Signing keys as the platform's gateway and merchant portal hold them.
        struct Keys {
            let previous = try? Ed25519PrivateKey.generate()
            let current = try? Ed25519PrivateKey.generate()
            let next = try? Ed25519PrivateKey.generate()
            let portal = try? Ed25519PrivateKey.generate()
            let stranger = try? Ed25519PrivateKey.generate()

            func key(_ key: Ed25519PrivateKey?) throws -> Ed25519PrivateKey { try #require(key, "OpenSSL made no key") }

            /// A key-set file entry.
            func entry(_ id: String, _ key: Ed25519PrivateKey?, issuer: String = "gateway", roles: Set<String> = ["*"],
                       notBefore: Date? = nil) throws -> KeySet.Key {
                KeySet.Key(keyID: id, issuer: issuer, publicKey: try self.key(key).publicKey, roles: roles, notBefore: notBefore)
            }

            func minter(_ id: String, _ key: Ed25519PrivateKey?, issuer: String = "gateway", audience: String = "aftersale") throws -> TokenMinter {
                TokenMinter(keyID: id, issuer: issuer, privateKey: try self.key(key), audience: audience)
            }
        }

        static func write(_ keys: [KeySet.Key], to path: String) throws {
            try Data(try KeySet(keys: keys).jsonBytes()).write(to: URL(fileURLWithPath: path), options: .atomic)
        }

        /// Runs `body` with an aftersaled trusting the key-set file `keySetPath` (written before).
        static func withDaemon(keySetPath: String, extraArguments: [String] = [],
                               _ body: (ChildProcess, RPCClient) async throws -> Void) async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("auth") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store,
                                                                        extraArguments: ["--token-keys", keySetPath] + extraArguments)
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }
                try await body(server, client)
                server.signal(SIGTERM)
                #expect(await server.waitForExit(timeout: .seconds(5)) == 0, "\(server.stderr)")
            }
        }

        static func temporaryDirectory() throws -> URL {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-auth-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        /// The status of ListAfterSales sent with `metadata` (OK included).
        static func status(_ client: RPCClient, _ metadata: Metadata) async -> (StatusCode, String) {
            do {
                _ = try await client.afterSale.listAfterSales(ListAfterSalesRequest(), options: CallOptions(timeout: .seconds(5), metadata: metadata))
                return (.ok, "")
            } catch {
                return (error.code, error.message)
            }
        }

        static func bearer(_ token: String) -> Metadata { [CallerMetadata.authorization: BearerAuthorization.value(token)] }

        @Test("each kind of bad token is refused with its code: unknown key, bad signature, expired, not yet valid, wrong audience, malformed → UNAUTHENTICATED; a role the issuer may not assert → PERMISSION_DENIED")
        func refusals() async throws {
            let keys = Keys()
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("keys.json").path
            try Self.write([
                try keys.entry("gw-2026-10", keys.previous), try keys.entry("gw-2026-11", keys.current),
                try keys.entry("gw-2026-12", keys.next, notBefore: Date().addingTimeInterval(86_400)),
                try keys.entry("portal-1", keys.portal, issuer: "merchant-portal", roles: ["merchant"]),
            ], to: path)
            let now = Date()
            let current = try keys.minter("gw-2026-11", keys.current)
            let cases: [(String, String, StatusCode, String)] = [
                ("current key", try current.mint(subject: "a-1", role: "agent", team: "team-a"), .ok, ""),
                ("previous key, still listed", try keys.minter("gw-2026-10", keys.previous).mint(subject: "b-1", role: "buyer"), .ok, ""),
                ("merchant portal for a merchant", try keys.minter("portal-1", keys.portal, issuer: "merchant-portal")
                    .mint(subject: "s-1", role: "merchant", shop: "s-1"), .ok, ""),
                ("unknown key id", try keys.minter("gw-2099", keys.current).mint(subject: "b-1", role: "buyer"),
                 .unauthenticated, #"unknown or retired signing key "gw-2099""#),
                ("next key before its window", try keys.minter("gw-2026-12", keys.next).mint(subject: "b-1", role: "buyer"),
                 .unauthenticated, #"unknown or retired signing key "gw-2026-12""#),
                ("bad signature", try keys.minter("gw-2026-11", keys.stranger).mint(subject: "p-1", role: "platform"),
                 .unauthenticated, "the token's signature does not verify"),
                ("expired", try current.mint(subject: "b-1", role: "buyer", lifetime: 600, now: now.addingTimeInterval(-3_600)),
                 .unauthenticated, "the token has expired"),
                ("not yet valid", try current.mint(subject: "b-1", role: "buyer", now: now.addingTimeInterval(3_600)),
                 .unauthenticated, "the token is not valid yet"),
                ("wrong audience", try keys.minter("gw-2026-11", keys.current, audience: "billing").mint(subject: "b-1", role: "buyer"),
                 .unauthenticated, #"the token is for audience "billing""#),
                ("malformed", "v4.public.bm90IGEgdG9rZW4", .unauthenticated, "malformed token"),
                ("role the issuer may not assert", try keys.minter("portal-1", keys.portal, issuer: "merchant-portal")
                    .mint(subject: "p-1", role: "platform"), .permissionDenied, #"issuer "merchant-portal" may not assert role "platform""#),
            ]
            try await Self.withDaemon(keySetPath: path) { _, client in
                for (label, token, code, message) in cases {
                    let (got, text) = await Self.status(client, Self.bearer(token))
                    #expect(got == code, "\(label): \(got) \(text)")
                    #expect(text.hasPrefix(message), "\(label): \(text)")
                }
                let stated = await Self.status(client, Callers.stated("platform", "p-1").metadata)
                #expect(stated.0 == .unauthenticated && stated.1.contains("--insecure-dev-principals"), "\(stated)")
                let none = await Self.status(client, Metadata())
                #expect(none.0 == .unauthenticated && none.1.contains("authorization"), "\(none)")
            }
        }

        @Test("a key limited to some methods: the payment workers' key calls RefundBridge and nothing else")
        func methodsOfAKey() async throws {
            let keys = Keys()
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("keys.json").path
            let payments = KeySet.Key(keyID: "pay-1", issuer: "payments", publicKey: try keys.key(keys.next).publicKey, roles: ["system"],
                                      methods: ["aftersale.v1.RefundBridge/*"])
            try Self.write([payments, try keys.entry("gw-2026-11", keys.current)], to: path)
            let worker = try keys.minter("pay-1", keys.next, issuer: "payments").mint(subject: "pay-worker-1", role: "system")
            let gateway = try keys.minter("gw-2026-11", keys.current).mint(subject: "orders", role: "system")
            try await Self.withDaemon(keySetPath: path) { _, client in
                let claim = try await client.refundBridge.claimRefunds(ClaimRefundsRequest(), options: CallOptions(timeout: .seconds(5),
                                                                                                                 metadata: Self.bearer(worker)))
                #expect(claim.leases.isEmpty)
                do {
                    _ = try await client.orderBridge.upsertOrder(try TestOrder(id: "o-pay").upsertRequest(),
                                                                 options: CallOptions(timeout: .seconds(5), metadata: Self.bearer(worker)))
                    Issue.record("the payment workers' key upserted an order")
                } catch let error as RPCError {
                    #expect(error.code == .permissionDenied)
                    #expect(error.message.contains("do not allow /aftersale.v1.OrderBridge/UpsertOrder"), "\(error.message)")
                }
                // Another system key without a method list may.
                _ = try await client.orderBridge.upsertOrder(try TestOrder(id: "o-pay").upsertRequest(),
                                                             options: CallOptions(timeout: .seconds(5), metadata: Self.bearer(gateway)))
            }
            #expect(try KeySet.load(path: path).keys["pay-1"]?.methods == ["aftersale.v1.RefundBridge/*"])
        }

        @Test("SIGHUP puts a rotated key set in force: the next key verifies, the retired one is refused, and a broken file changes nothing")
        func rotation() async throws {
            let keys = Keys()
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("keys.json").path
            try Self.write([try keys.entry("k-prev", keys.previous), try keys.entry("k-cur", keys.current)], to: path)
            let previous = Self.bearer(try keys.minter("k-prev", keys.previous).mint(subject: "b-1", role: "buyer"))
            let current = Self.bearer(try keys.minter("k-cur", keys.current).mint(subject: "b-1", role: "buyer"))
            let next = Self.bearer(try keys.minter("k-next", keys.next).mint(subject: "b-1", role: "buyer"))
            try await Self.withDaemon(keySetPath: path) { server, client in
                #expect(await Self.status(client, previous).0 == .ok)
                #expect(await Self.status(client, current).0 == .ok)
                #expect(await Self.status(client, next).0 == .unauthenticated)

                // Rotate: the previous key retires, the next one is listed ahead of its use.
                try Self.write([try keys.entry("k-cur", keys.current), try keys.entry("k-next", keys.next)], to: path)
                server.signal(SIGHUP)
                var nextAccepted = false
                for _ in 0..<50 where !nextAccepted {
                    nextAccepted = await Self.status(client, next).0 == .ok
                    if !nextAccepted { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(nextAccepted, "the next key was not accepted after SIGHUP")
                // The previous key's token was cached as verified; the reload emptied the cache.
                #expect(await Self.status(client, previous).0 == .unauthenticated)
                #expect(await Self.status(client, current).0 == .ok)

                // A broken edit is refused on reload; the keys in force stay.
                try Data("{ not json".utf8).write(to: URL(fileURLWithPath: path))
                server.signal(SIGHUP)
                try await Task.sleep(for: .milliseconds(300))
                #expect(server.process.isRunning)
                #expect(await Self.status(client, next).0 == .ok)
                #expect(await Self.status(client, current).0 == .ok)
            }
        }

        @Test("with --insecure-dev-principals the stated x-caller-role / x-caller-id are accepted, beside tokens")
        func insecureDevPrincipals() async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("auth-dev") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store, extraArguments: ["--insecure-dev-principals"])
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let client = try RPCClient(target: "127.0.0.1:\(port)")
                defer { client.close() }
                _ = try await client.orderBridge.upsertOrder(try TestOrder.single("o-dev", buyer: "b-1").upsertRequest(),
                                                             options: Callers.stated("system", "order-system"))
                var request = GetOrderAfterSaleStateRequest()
                request.orderId = "o-dev"
                let byToken = try await client.orderBridge.getOrderAfterSaleState(request, options: Callers.buyer("b-1"))
                #expect(byToken.state?.orderId == "o-dev")
                let stranger = await rpcError { try await client.orderBridge.getOrderAfterSaleState(request, options: Callers.stated("buyer", "b-2")) }
                #expect(stranger?.code == .notFound || stranger?.code == .permissionDenied, "\(String(describing: stranger))")
                let malformed = await rpcError { try await client.orderBridge.getOrderAfterSaleState(request, options: Callers.stated("emperor", "e-1")) }
                #expect(malformed?.code == .unauthenticated)
                server.signal(SIGTERM)
                #expect(await server.waitForExit(timeout: .seconds(5)) == 0)
            }
        }

        @Test("a client with a token provider sends its token on every call, unary and streaming")
        func tokenProvider() async throws {
            let daemon = try ExecutablesTests.require("aftersaled")
            try await TestStore.with("auth-provider") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store)
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let asked = Collected<Int>()
                var configuration = ClientConfiguration()
                configuration.tokenProvider = TokenClosure {
                    asked.append(1)
                    return TestTokens.token(CallerIdentity(role: "system", id: "feed-reader"))
                }
                let client = try RPCClient(target: "127.0.0.1:\(port)", configuration: configuration)
                defer { client.close() }
                _ = try await client.afterSale.listAfterSales(ListAfterSalesRequest(), options: CallOptions(timeout: .seconds(5)))
                var subscribe = SubscribeRequest()
                subscribe.consumerName = "provider"
                subscribe.fromCursor = 0
                subscribe.stopAtHead = true
                for try await _ in client.afterSale.subscribe(subscribe, options: CallOptions(timeout: .seconds(5))) {}
                #expect(asked.count == 2)
                // A call's own authorization wins over the provider's.
                let own = await rpcError {
                    try await client.afterSale.listAfterSales(ListAfterSalesRequest(),
                                                              options: CallOptions(timeout: .seconds(5), metadata: Self.bearer("v4.public.x")))
                }
                #expect(own?.code == .unauthenticated)
                #expect(asked.count == 2)
                server.signal(SIGTERM)
                _ = await server.waitForExit(timeout: .seconds(5))
            }
        }
    }
}

@Suite("The client's credentials: --as identities and minted tokens")
struct ClientCredentialsTests {
    @Test("ROLE:ID and ROLE:ID@TEAM parse; a merchant acts for its own shop", arguments: [
        ("buyer:b-1", CallerIdentity(role: "buyer", id: "b-1")),
        ("merchant:s-1", CallerIdentity(role: "merchant", id: "s-1", shop: "s-1")),
        ("agent:a-1@team-x", CallerIdentity(role: "agent", id: "a-1", team: "team-x")),
        ("system:order-system", CallerIdentity(role: "system", id: "order-system")),
    ])
    func parses(_ text: String, _ expected: CallerIdentity) {
        #expect(CallerIdentity(parsing: text) == expected)
        #expect(CallerIdentity(parsing: text)?.description == text)
    }

    @Test("anything else is refused", arguments: ["buyer", "buyer:", "emperor:e-1", ":b-1", "agent:a-1@", "Buyer:b-1"])
    func refuses(_ text: String) {
        #expect(CallerIdentity(parsing: text) == nil)
    }

    @Test("a minting provider reuses its token for most of its lifetime, then mints a fresh one that verifies")
    func minting() throws {
        let key = try Ed25519PrivateKey.generate()
        let minter = TokenMinter(keyID: "k", issuer: "dev", privateKey: key, audience: "aftersale")
        let provider = MintingTokenProvider(minter: minter, identity: CallerIdentity(role: "agent", id: "a-1", team: "t"), lifetime: 100)
        let start = Date()
        let first = try provider.token(now: start)
        #expect(try provider.token(now: start.addingTimeInterval(70)) == first)
        let renewed = try provider.token(now: start.addingTimeInterval(85))
        #expect(renewed != first)
        let verifier = TokenVerifier(keySet: try KeySet(keys: [KeySet.Key(keyID: "k", issuer: "dev", publicKey: key.publicKey, roles: ["*"])]),
                                     audience: "aftersale")
        let claims = try verifier.verify(renewed, now: start.addingTimeInterval(86))
        #expect(claims.subject == "a-1" && claims.role == "agent" && claims.team == "t")
        #expect(claims.expiresAt == TokenClaims.wholeSecondsForTests(start.addingTimeInterval(185)))
    }
}

extension TokenClaims {
    /// `date` cut to whole seconds, as token times travel.
    static func wholeSecondsForTests(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }
}
