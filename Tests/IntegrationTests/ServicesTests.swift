import AfterSaleClient
import AfterSaleProto
import AfterSaleServices
import RPCServer
import RPCWire
import Testing

extension Integration {
    @Suite("Health, routing and reflection through the typed stubs")
    struct Services {
        @Test("a health check through the stub answers SERVING for the server and for every hosted service")
        func healthCheckServing() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            let whole = try await client.health.check(healthRequest(), options: .init(timeout: .seconds(2)))
            #expect(whole.status == .serving)
            for service in [Health.name, Reflection.name, AfterSaleService.name, OrderBridge.name, RefundBridge.name, Timers.name, ServiceDesk.name, Audit.name, Feedback.name, Knowledge.name, Statistics.name, Disputes.name] {
                let response = try await client.health.check(healthRequest(service), options: .init(timeout: .seconds(2)))
                #expect(response.status == .serving, "\(service)")
            }
            await server.shutdown()
        }

        @Test("a health check for a service the server does not host answers NOT_FOUND")
        func healthCheckUnknownService() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            let error = await rpcError { try await client.health.check(healthRequest("no.such.Service")) }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("no.such.Service") == true)
            // The connection is fine afterwards.
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("a method nobody declared answers UNIMPLEMENTED 'unknown method'")
        func unknownMethod() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            let error = await rpcError { try await client.call(path: "/aftersale.v1.Nope/Nothing", payload: []) }
            #expect(error?.code == .unimplemented)
            #expect(error?.message.contains("unknown method") == true)
            #expect(error?.message.contains("/aftersale.v1.Nope/Nothing") == true)

            // A known service with an unknown method is just as unknown.
            let error2 = await rpcError { try await client.call(path: "/aftersale.v1.Health/Nothing", payload: []) }
            #expect(error2?.code == .unimplemented)
            #expect(error2?.message.contains("unknown method") == true)
            await server.shutdown()
        }

        @Test("a declared business method that is not built yet answers UNIMPLEMENTED 'not implemented yet'")
        func declaredButNotImplemented() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            var get = GetAfterSaleRequest()
            get.caseNumber = "AS-1"
            let error = await rpcError { try await client.afterSale.getAfterSale(get, options: .init(timeout: .seconds(2))) }
            #expect(error?.code == .unimplemented)
            #expect(error?.message.contains("not implemented yet") == true)
            #expect(error?.message.contains("/aftersale.v1.AfterSaleService/GetAfterSale") == true)

            let create = await rpcError { try await client.afterSale.createAfterSale(CreateAfterSaleRequest()) }
            #expect(create?.code == .unimplemented)
            #expect(create?.message.contains("not implemented yet") == true)

            let refunds = await rpcError { try await client.refundBridge.claimRefunds(ClaimRefundsRequest()) }
            #expect(refunds?.code == .unimplemented)
            let order = await rpcError { try await client.orderBridge.upsertOrder(UpsertOrderRequest()) }
            #expect(order?.code == .unimplemented)
            await server.shutdown()
        }

        @Test("a payload that is not the method's request type answers INVALID_ARGUMENT and the connection goes on")
        func wrongPayloadType() async throws {
            let probe = Probe()
            let server = try await TestServer.start(router: TestRoutes.router(probe: probe))
            let client = try server.client()
            defer { client.close() }

            // Health/Check is answered on the I/O thread, Echo on the task pool: both decode first.
            for path in [Health.check.path, TestMethods.echo.path, TestMethods.sleep.path] {
                let error = await rpcError { try await client.call(path: path, payload: [0xff, 0xff]) }
                #expect(error?.code == .invalidArgument, "\(path)")
                #expect(error?.message.contains("HealthCheckRequest") == true, "\(path): \(error?.message ?? "")")
            }
            #expect(probe.count(.started) == 0, "no handler ran for an undecodable request")
            #expect(try await client.health.check(healthRequest()).status == .serving)
            await server.shutdown()
        }

        @Test("reflection lists every hosted service, sorted, with the business methods marked unimplemented")
        func reflectionListsServices() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            let services = try await client.reflection.listServices(ListServicesRequest(), options: .init(timeout: .seconds(2))).services
            let names = services.map(\.name)
            #expect(names == [AfterSaleService.name, Audit.name, Disputes.name, Feedback.name, Health.name, Knowledge.name, OrderBridge.name, Reflection.name, RefundBridge.name,
                              ServiceDesk.name, Statistics.name, Timers.name])

            let health = try #require(services.first { $0.name == Health.name })
            #expect(health.methods.map(\.name) == ["Check", "Watch"])
            #expect(health.methods.allSatisfy { !$0.unimplemented })
            let watch = try #require(health.methods.first { $0.name == "Watch" })
            #expect(watch.serverStreaming)
            #expect(watch.path == "/aftersale.v1.Health/Watch")
            #expect(watch.requestType == "aftersale.v1.HealthCheckRequest")
            #expect(watch.responseType == "aftersale.v1.HealthCheckResponse")

            let reflection = try #require(services.first { $0.name == Reflection.name })
            #expect(reflection.methods.map(\.name) == ["ListServices", "DescribeMessage"])
            #expect(reflection.methods.allSatisfy { !$0.unimplemented })

            let business = try #require(services.first { $0.name == AfterSaleService.name })
            #expect(business.methods.map(\.path) == AfterSaleService.methods.map(\.path), "declaration order")
            #expect(business.methods.allSatisfy { $0.unimplemented })
            #expect(business.methods.first { $0.name == "Subscribe" }?.serverStreaming == true)
            #expect(business.methods.first { $0.name == "CreateAfterSale" }?.requestType == "aftersale.v1.CreateAfterSaleRequest")

            for name in [OrderBridge.name, RefundBridge.name, Timers.name, ServiceDesk.name, Audit.name, Feedback.name, Knowledge.name, Statistics.name, Disputes.name] {
                let service = try #require(services.first { $0.name == name })
                #expect(!service.methods.isEmpty)
                #expect(service.methods.allSatisfy { $0.unimplemented }, "\(name)")
            }
            await server.shutdown()
        }

        @Test("reflection describes HealthCheckRequest with its field 'service', and an unknown message is NOT_FOUND")
        func reflectionDescribesMessages() async throws {
            let server = try await TestServer.start(router: ServiceHost().router)
            let client = try server.client()
            defer { client.close() }

            var request = DescribeMessageRequest()
            request.name = "aftersale.v1.HealthCheckRequest"
            let described = try await client.reflection.describeMessage(request, options: .init(timeout: .seconds(2)))
            #expect(described.name == "aftersale.v1.HealthCheckRequest")
            let field = try #require(described.fields.first)
            #expect(described.fields.count == 1)
            #expect(field.name == "service")
            #expect(field.jsonName == "service")
            #expect(field.number == 1)
            #expect(field.type == "string")
            #expect(!field.repeated)

            request.name = "aftersale.v1.HealthCheckResponse"
            let response = try await client.reflection.describeMessage(request)
            let status = try #require(response.fields.first { $0.name == "status" })
            #expect(status.type == "enum")
            #expect(status.typeName.contains("ServingStatus"))

            request.name = "aftersale.v1.NoSuchMessage"
            let error = await rpcError { try await client.reflection.describeMessage(request) }
            #expect(error?.code == .notFound)
            await server.shutdown()
        }

        @Test("a handler's own error status reaches the caller unchanged")
        func handlerErrorsPassThrough() async throws {
            let failing = RPCMethod<HealthCheckRequest, HealthCheckResponse>(service: "test.v1.Fail", name: "Fail", kind: .unary)
            var router = Router()
            router.add([
                Route(unary: failing) { request, _ in
                    if request.service == "precondition" {
                        throw RPCError(.failedPrecondition, "case is closed",
                                       details: [StatusDetail(type: "test.v1.Why", value: [1, 2, 3])])
                    }
                    struct Oops: Error {}
                    throw Oops()
                },
            ])
            let server = try await TestServer.start(router: router)
            let client = try server.client()
            defer { client.close() }

            let error = await rpcError { try await client.unary(failing, healthRequest("precondition")) }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message == "case is closed")
            #expect(error?.details == [StatusDetail(type: "test.v1.Why", value: [1, 2, 3])])

            let plain = await rpcError { try await client.unary(failing, healthRequest("other")) }
            #expect(plain?.code == .internal, "an error without a status code becomes INTERNAL")
            await server.shutdown()
        }

        @Test("call metadata reaches the handler: per-call and the client's defaults, keys lower-cased, order kept")
        func metadataReachesHandler() async throws {
            let server = try await TestServer.start(router: TestRoutes.router(probe: Probe()))
            let client = try server.client { $0.defaultMetadata = ["x-caller-role": "system", "x-caller-id": "svc-a"] }
            defer { client.close() }

            var perCall = Metadata()
            perCall.add("X-Trace-ID", "t-1")
            perCall.add("idempotency-key", "k-1")
            let typed = try await client.unary(TestMethods.metadata, healthRequest(), options: .init(metadata: perCall))
            #expect(typed.service == "x-caller-role=system;x-caller-id=svc-a;x-trace-id=t-1;idempotency-key=k-1")

            // The untyped calls the CLI and the load generator make send the defaults too, and so do streams.
            let raw = try await client.call(path: TestMethods.metadata.path, payload: [], options: .init(metadata: perCall))
            let rawEcho = try HealthCheckRequest(serializedBytes: raw).service
            #expect(rawEcho == typed.service)
            var streamed: [String] = []
            for try await bytes in client.callStream(path: TestMethods.ticks.path, payload: healthRequest("metadata").serializedBytes(),
                                                     options: .init(metadata: perCall)) {
                streamed.append(try HealthCheckRequest(serializedBytes: bytes).service)
            }
            #expect(streamed == [typed.service])
            var typedStream: [String] = []
            for try await m in client.serverStreaming(TestMethods.ticks, healthRequest("metadata"), options: .init(metadata: perCall)) {
                typedStream.append(m.service)
            }
            #expect(typedStream == [typed.service])

            // A peer that sends upper-case keys: the server lower-cases them (PROTOCOL.md §9).
            let peer = try RawPeer(port: server.port)
            func field(_ tag: UInt8, _ bytes: [UInt8]) -> [UInt8] { [tag, UInt8(bytes.count)] + bytes }
            let entry = field(0x0a, Array("X-Caller-ID".utf8)) + field(0x12, Array("Svc-B".utf8))
            let envelope: [UInt8] = [0x08, 0x01, 0x10, 0x05] + field(0x1a, Array(TestMethods.metadata.path.utf8)) + field(0x22, entry)
            #expect(await peer.send([0, 0, 0, UInt8(envelope.count)] + envelope))
            let answer = try #require(await peer.read().envelope)
            #expect(answer.callID == 5 && answer.status?.code == .ok)
            #expect(try HealthCheckRequest(serializedBytes: answer.payload).service == "x-caller-id=Svc-B")
            peer.close()
            await server.shutdown()
        }
    }
}
