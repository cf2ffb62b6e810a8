import AfterSaleProto
import Foundation
import Glibc
import RPCClient
import RPCServer
import RPCTransport
import RPCWire
import Testing

/// Answers with the URI SANs of the client certificate the server verified, comma-separated
/// ("" when the client presented none).
private let peerIdentity = RPCMethod<HealthCheckRequest, HealthCheckRequest>(service: "test.v1.Echo", name: "PeerIdentity", kind: .unary)

extension Integration {
    @Suite("TLS: TLS 1.3 and mutual TLS on the listener")
    struct TLS {
        /// The test methods plus one that reports the peer certificate.
        static func router() -> Router {
            var router = TestRoutes.router(probe: Probe())
            router.add([
                Route(unary: peerIdentity) { _, context in
                    var response = HealthCheckRequest()
                    response.service = context[PeerCertificateKey.self]?.uris.joined(separator: ",") ?? ""
                    return response
                },
            ])
            return router
        }

        /// A TLS server (mutual when `clientCA` is true).
        static func server(mutual: Bool = false, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
            let certificates = try TestCertificates.shared()
            let context = try TLSContext.server(certificateFile: certificates.serverCertificateFile, keyFile: certificates.serverKeyFile,
                                                clientCAFile: mutual ? certificates.caFile : nil)
            return try await TestServer.start(router: router()) { configuration in
                configuration.tls = context
                configure(&configuration)
            }
        }

        /// A client trusting `trust` (the test CA by default), presenting `identity` if any.
        static func client(of server: TestServer, trust: String? = nil, identity: (certificate: String, key: String)? = nil,
                           serverName: String? = nil) throws -> RPCClient {
            let certificates = try TestCertificates.shared()
            let tls = try ClientTLS(trustRootsFile: trust ?? certificates.caFile, certificateFile: identity?.certificate,
                                    keyFile: identity?.key, serverName: serverName)
            return try server.client { $0.tls = tls }
        }

        static func expectEcho(_ client: RPCClient, _ text: String) async throws {
            let request = healthRequest(text)
            let response = try await client.unary(TestMethods.echo, request, options: .init(timeout: .seconds(5)))
            #expect(response == request)
        }

        /// The error a call fails with (nil when it succeeds).
        static func failure(of client: RPCClient) async -> RPCError? {
            do {
                _ = try await client.unary(TestMethods.echo, healthRequest("x"), options: .init(timeout: .seconds(5)))
                return nil
            } catch {
                return error
            }
        }

        @Test("unary calls round-trip over TLS: small, concurrent, and a 1 MiB answer")
        func unaryOverTLS() async throws {
            let server = try await Self.server()
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server)
            defer { client.close() }
            try await Self.expectEcho(client, "over tls")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask { try await Self.expectEcho(client, "call-\(i)") }
                }
                try await group.waitForAll()
            }
            var blob = HealthCheckRequest()
            blob.service = String(1 << 20)
            let response = try await client.unary(TestMethods.blob, blob, options: .init(timeout: .seconds(10)))
            #expect(response.service.utf8.count == 1 << 20)
            #expect(server.server.connectionCount == 1)
            let identity = try await client.unary(peerIdentity, HealthCheckRequest(), options: .init(timeout: .seconds(5)))
            #expect(identity.service == "", "without mutual TLS there is no peer certificate")
        }

        @Test("a server-streaming call round-trips over TLS, also a burst the connection must pace")
        func streamingOverTLS() async throws {
            let server = try await Self.server()
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server)
            defer { client.close() }
            var seen: [String] = []
            for try await message in client.serverStreaming(TestMethods.ticks, healthRequest("5"), options: .init(timeout: .seconds(5))) {
                seen.append(message.service)
            }
            #expect(seen == ["0", "1", "2", "3", "4"])
            var count = 0
            for try await _ in client.serverStreaming(TestMethods.ticks, healthRequest("burst:400#tls"), options: .init(timeout: .seconds(20))) {
                count += 1
            }
            #expect(count == 400)
        }

        @Test("the server name is checked: localhost matches the certificate, another name fails")
        func serverNameIsVerified() async throws {
            let server = try await Self.server()
            defer { Task { await server.shutdown() } }
            let good = try Self.client(of: server, serverName: "localhost")
            defer { good.close() }
            try await Self.expectEcho(good, "by name")
            let wrong = try Self.client(of: server, serverName: "payments.internal")
            defer { wrong.close() }
            let error = await Self.failure(of: wrong)
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("certificate verification failed") == true, "\(String(describing: error))")
        }

        @Test("a client that does not trust the server's CA fails with a clear error")
        func untrustedServerFails() async throws {
            let certificates = try TestCertificates.shared()
            let server = try await Self.server()
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server, trust: certificates.otherCAFile)
            defer { client.close() }
            let error = await Self.failure(of: client)
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("TLS handshake failed") == true, "\(String(describing: error))")
            #expect(error?.message.contains("certificate verification failed") == true, "\(String(describing: error))")
            // The server was not disturbed.
            let trusting = try Self.client(of: server)
            defer { trusting.close() }
            try await Self.expectEcho(trusting, "still serving")
        }

        @Test("a plain-TCP client of a TLS server fails cleanly and the server keeps serving")
        func plainClientFails() async throws {
            let server = try await Self.server()
            defer { Task { await server.shutdown() } }
            let plain = try server.client()
            defer { plain.close() }
            let error = await Self.failure(of: plain)
            #expect(error?.code == .unavailable, "\(String(describing: error))")

            // A raw peer writing a plaintext frame is closed on.
            let peer = try RawPeer(port: server.port)
            defer { peer.close() }
            #expect(await peer.send(RawPeer.request(1, TestMethods.echo.path, healthRequest("plain").serializedBytes())))
            #expect(await peer.waitForClose(timeout: .seconds(5)))

            let client = try Self.client(of: server)
            defer { client.close() }
            try await Self.expectEcho(client, "after the plain ones")
        }

        @Test("a TLS client of a plain server fails instead of hanging")
        func tlsClientOfPlainServerFails() async throws {
            let server = try await TestServer.start(router: Self.router()) { $0.idleTimeout = .seconds(2) }
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server)
            defer { client.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let error = await Self.failure(of: client)
            #expect(error?.code == .unavailable || error?.code == .deadlineExceeded, "\(String(describing: error))")
            #expect(clock.now - start < .seconds(6))
        }

        @Test("a client whose server never answers the handshake gives up after its connect timeout")
        func silentServerTimesOut() async throws {
            let certificates = try TestCertificates.shared()
            // A listening socket nobody accepts on: the kernel completes the TCP handshake, nothing more.
            let (fd, port) = try Socket.listen(SocketAddress(host: "127.0.0.1", port: 0))
            defer { close(fd) }
            var configuration = ClientConfiguration()
            configuration.connectTimeout = .seconds(1)
            configuration.tls = try ClientTLS(trustRootsFile: certificates.caFile)
            let client = try RPCClient(target: "127.0.0.1:\(port)", configuration: configuration)
            defer { client.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let error = await rpcError { try await client.unary(TestMethods.echo, healthRequest("x")) }
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            #expect(error?.message.contains("did not complete within") == true, "\(String(describing: error))")
            #expect(clock.now - start < .seconds(5))
        }

        @Test("a peer that connects and never completes the handshake is closed by the incomplete-frame timeout")
        func silentPeerIsClosed() async throws {
            let server = try await Self.server { $0.incompleteFrameTimeout = .seconds(1) }
            defer { Task { await server.shutdown() } }
            let silent = try RawPeer(port: server.port)
            defer { silent.close() }
            // Half a TLS record header: the handshake can never complete.
            #expect(await silent.send([0x16, 0x03]))
            let clock = ContinuousClock()
            let start = clock.now
            #expect(await silent.waitForClose(timeout: .seconds(6)))
            #expect(clock.now - start >= .milliseconds(900))
            let client = try Self.client(of: server)
            defer { client.close() }
            try await Self.expectEcho(client, "others are served")
        }

        @Test("mutual TLS: a client without a certificate is refused")
        func mutualWithoutCertificate() async throws {
            let server = try await Self.server(mutual: true)
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server)
            defer { client.close() }
            let error = await Self.failure(of: client)
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            #expect(error?.message.contains("certificate required") == true, "\(String(describing: error))")
        }

        @Test("mutual TLS: a certificate from another CA is refused")
        func mutualWithStrangerCertificate() async throws {
            let certificates = try TestCertificates.shared()
            let server = try await Self.server(mutual: true)
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server, identity: (certificates.strangerCertificateFile, certificates.strangerKeyFile))
            defer { client.close() }
            let error = await Self.failure(of: client)
            #expect(error?.code == .unavailable, "\(String(describing: error))")
            #expect(error?.message.contains("unknown ca") == true, "\(String(describing: error))")
        }

        @Test("mutual TLS: with the right certificate the URI SAN reaches the handler, on every call")
        func mutualIdentityReachesHandler() async throws {
            let certificates = try TestCertificates.shared()
            let server = try await Self.server(mutual: true)
            defer { Task { await server.shutdown() } }
            let client = try Self.client(of: server, identity: (certificates.clientCertificateFile, certificates.clientKeyFile))
            defer { client.close() }
            for _ in 0..<3 {
                let response = try await client.unary(peerIdentity, HealthCheckRequest(), options: .init(timeout: .seconds(5)))
                #expect(response.service == TestCertificates.clientURI)
            }
            try await Self.expectEcho(client, "mutual")
        }

        @Test("configuration errors name the file at fault")
        func configurationErrors() throws {
            let certificates = try TestCertificates.shared()
            #expect(throws: TLSError.self) { try TLSContext.server(certificateFile: "/nonexistent.pem", keyFile: certificates.serverKeyFile) }
            do {
                _ = try TLSContext.server(certificateFile: certificates.serverCertificateFile, keyFile: certificates.clientKeyFile)
                Issue.record("a key that does not match the certificate was accepted")
            } catch {
                #expect(error.code == .invalidConfiguration)
                #expect(error.message.contains("the key in \(certificates.clientKeyFile) does not match"), "\(error)")
            }
            do {
                _ = try ClientTLS(trustRootsFile: certificates.caFile, certificateFile: certificates.clientCertificateFile, keyFile: nil)
                Issue.record("a certificate without its key was accepted")
            } catch {
                #expect(error.code == .invalidConfiguration)
            }
        }
    }
}

extension Integration {
    @Suite("TLS: aftersaled with --tls-cert, --tls-key and --tls-client-ca")
    struct DaemonTLS {
        @Test("aftersaled serves mutual TLS: the typed client with a token round-trips; no certificate, no call; aftersalectl too")
        func daemonServesMutualTLS() async throws {
            let certificates = try TestCertificates.shared()
            let daemon = try ExecutablesTests.require("aftersaled")
            let ctl = try ExecutablesTests.require("aftersalectl")
            try await TestStore.with("tls") { store in
                let (server, port) = try await ChildProcess.startDaemon(daemon, store: store, extraArguments: [
                    "--tls-cert", certificates.serverCertificateFile, "--tls-key", certificates.serverKeyFile,
                    "--tls-client-ca", certificates.caFile,
                ])
                defer { if server.process.isRunning { server.signal(SIGKILL) } }
                let target = "127.0.0.1:\(port)"

                var configuration = ClientConfiguration()
                configuration.tls = try ClientTLS(trustRootsFile: certificates.caFile, certificateFile: certificates.clientCertificateFile,
                                                  keyFile: certificates.clientKeyFile)
                let client = try RPCClient(target: target, configuration: configuration)
                defer { client.close() }
                let order = TestOrder.single("o-tls-1", buyer: "b-1")
                let upserted = try await client.orderBridge.upsertOrder(try order.upsertRequest(), options: Callers.orderSystem)
                #expect(upserted.outcome == .applied, "\(upserted)")
                var read = GetOrderAfterSaleStateRequest()
                read.orderId = "o-tls-1"
                let state = try await client.orderBridge.getOrderAfterSaleState(read, options: Callers.orderSystem)
                #expect(state.state?.orderId == "o-tls-1")
                // TLS does not replace the token: a call without one is still refused.
                let anonymous = await rpcError { try await client.orderBridge.getOrderAfterSaleState(read, options: Callers.anonymous) }
                #expect(anonymous?.code == .unauthenticated, "\(String(describing: anonymous))")

                // Trusting the CA but presenting no certificate: refused by the server.
                var noCertificate = ClientConfiguration()
                noCertificate.tls = try ClientTLS(trustRootsFile: certificates.caFile)
                let refused = try RPCClient(target: target, configuration: noCertificate)
                defer { refused.close() }
                let error = await rpcError { try await refused.health.check(healthRequest(), options: .init(timeout: .seconds(5))) }
                #expect(error?.code == .unavailable, "\(String(describing: error))")

                // The CLI: flags, then the environment.
                let tlsFlags = ["--tls-ca", certificates.caFile, "--tls-cert", certificates.clientCertificateFile,
                                "--tls-key", certificates.clientKeyFile]
                let check = try await ChildProcess.run(ctl, ["--server", target] + tlsFlags + ["call", "aftersale.v1.Health/Check", "{}"])
                #expect(check.status == 0, "\(check.stderr)")
                #expect(check.stdout.contains("SERVING_STATUS_SERVING"), "\(check.stdout)")
                let viaEnvironment = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.Health/Check", "{}"], environment: [
                    "AFTERSALE_TLS_CA": certificates.caFile, "AFTERSALE_TLS_CLIENT_CERT": certificates.clientCertificateFile,
                    "AFTERSALE_TLS_CLIENT_KEY": certificates.clientKeyFile,
                ])
                #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
                let plain = try await ChildProcess.run(ctl, ["--server", target, "call", "aftersale.v1.Health/Check", "{}"])
                #expect(plain.status == 3, "\(plain)")
                let untrusting = try await ChildProcess.run(ctl, ["--server", target, "--tls-ca", certificates.otherCAFile,
                                                                  "call", "aftersale.v1.Health/Check", "{}"])
                #expect(untrusting.status == 3, "\(untrusting)")
                #expect(untrusting.stderr.contains("certificate verification failed"), "\(untrusting.stderr)")

                server.signal(SIGTERM)
                #expect(await server.waitForExit(timeout: .seconds(10)) == 0)
            }
        }

        @Test("aftersaled refuses to start with a key that does not match, or half a TLS configuration")
        func daemonRefusesBadTLSSettings() async throws {
            let certificates = try TestCertificates.shared()
            let daemon = try ExecutablesTests.require("aftersaled")
            let mismatched = try await ChildProcess.run(daemon, ["--listen", "127.0.0.1:0", "--data-dir", certificates.path("unused-data"),
                                                                 "--tls-cert", certificates.serverCertificateFile,
                                                                 "--tls-key", certificates.clientKeyFile])
            #expect(mismatched.status != 0 && mismatched.status != nil, "\(mismatched)")
            #expect(mismatched.stderr.contains("does not match"), "\(mismatched.stderr)")
            let half = try await ChildProcess.run(daemon, ["--listen", "127.0.0.1:0", "--data-dir", certificates.path("unused-data"),
                                                           "--tls-cert", certificates.serverCertificateFile])
            #expect(half.status != 0 && half.status != nil, "\(half)")
            #expect(half.stderr.contains("--tls-cert and --tls-key go together"), "\(half.stderr)")
        }
    }
}
