import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import Foundation
import ProtoRuntime
import RPCWire
import Testing

// Issue 9, §2: every cell of the method × role table PROTOCOL.md shows (generated from
// MethodAccess.table), driven through the real server: a role the table allows is never refused
// for its role (the call may still fail for its content or the case's state), and every other role
// gets PERMISSION_DENIED. Each role acts as the owner where ownership applies (buyer b-1, shop s-1).

extension Integration {
    @Suite("Who may call what: every method × role cell through the real server")
    struct AccessMatrixTests {
        static let identities: [AfterSaleDomain.ActorRole: String] = [
            .buyer: "b-1", .merchant: "s-1", .agent: "agent-1", .platform: "platform-1", .system: "system-1",
        ]

        @Test("every method of the contracts is in the access table, and nothing else is")
        func tableCoversContracts() {
            let declared = Set((ServiceHost.businessMethods + Health.methods + Reflection.methods).map(\.path))
            #expect(Set(MethodAccess.table.keys) == declared)
        }

        @Test("each role is refused exactly where the table says")
        func everyCell() async throws {
            try await IntegrationFixture.run { f in
                try await f.upsert(TestOrder(id: "o-acl", status: .delivered))
                let returnCase = try await f.create(Requests.create(order: "o-acl", kind: .returnAndRefund,
                                                                    reason: "no_reason_7_days", lines: [("l-3", 1)]),
                                                    key: "acl-return")
                try await f.upsert(TestOrder.single("o-acl-refund", buyer: "b-1"))
                let refunded = try await f.create(Requests.create(order: "o-acl-refund", kind: .refundOnly,
                                                                  reason: "no_longer_wanted", lines: [("l-1", 1)]),
                                                  key: "acl-refund")
                let refundID = try #require(refunded.refund).refundId
                var paidOrders = 0
                for (path, access) in MethodAccess.table.sorted(by: { $0.key < $1.key }) {
                    guard let allowed = access.allowedRoles else { continue }
                    for role in AfterSaleDomain.ActorRole.allCases {
                        guard let id = Self.identities[role] else { continue }
                        var options = Callers.make(role.rawValue, id, key: "acl-\(path)-\(role.rawValue)")
                        options.timeout = .seconds(5)
                        let payload: [UInt8]
                        if path == AfterSaleService.createAfterSale.path {
                            paidOrders += 1
                            let order = "o-acl-paid-\(paidOrders)"
                            try await f.upsert(TestOrder.single(order, buyer: "b-1"))
                            payload = Requests.create(order: order, kind: .refundOnly, reason: "no_longer_wanted",
                                                      lines: [("l-1", 1)]).serializedBytes()
                        } else if path == AfterSaleService.reviewAfterSale.path, role == .agent || role == .platform {
                            // Agents and the platform only refuse a held refund-only case (§13.17): a REJECT of
                            // the refund-only case, which is not held (FAILED_PRECONDITION, not PERMISSION_DENIED).
                            payload = try Self.encode(path, #"{"caseNumber": "\#(refunded.caseNumber)", "decision": "REVIEW_DECISION_REJECT", "rejectionReason": "abuse"}"#)
                        } else {
                            payload = try Self.request(path, caseNumber: returnCase.caseNumber, orderID: "o-acl", refundID: refundID)
                        }
                        let code = await Self.call(f.client, path, payload, options)
                        if allowed.contains(role) {
                            #expect(code != .permissionDenied && code != .unauthenticated, "\(path) as \(role): \(code)")
                        } else {
                            #expect(code == .permissionDenied, "\(path) as \(role): \(code)")
                        }
                    }
                }
            }
        }

        static func call(_ client: RPCClient, _ path: String, _ payload: [UInt8], _ options: CallOptions) async -> StatusCode {
            if path == AfterSaleService.subscribe.path {
                do {
                    for try await _ in client.callStream(path: path, payload: payload, options: options) {}
                    return .ok
                } catch {
                    return (error as? RPCError)?.code ?? .unknown
                }
            }
            do {
                _ = try await client.call(path: path, payload: payload, options: options)
                return .ok
            } catch {
                return error.code
            }
        }

        /// A request to `path` that is valid for a role allowed to call it.
        static func request(_ path: String, caseNumber: String, orderID: String, refundID: String) throws -> [UInt8] {
            let json: String
            switch path {
            case AfterSaleService.getAfterSale.path, AfterSaleService.listMessages.path:
                json = #"{"caseNumber": "\#(caseNumber)"}"#
            case AfterSaleService.withdrawAfterSale.path:
                json = #"{"caseNumber": "\#(caseNumber)", "note": "changed my mind"}"#
            case AfterSaleService.reviewAfterSale.path:
                json = #"{"caseNumber": "\#(caseNumber)", "decision": "REVIEW_DECISION_APPROVE", "returnAddress": {"contactName": "Returns", "phone": "400", "street": "1 Warehouse Road"}}"#
            case AfterSaleService.submitReturnShipment.path:
                json = #"{"caseNumber": "\#(caseNumber)", "carrier": "SF", "trackingNumber": "SF-ACL-1"}"#
            case AfterSaleService.confirmReturnReceived.path:
                json = #"{"caseNumber": "\#(caseNumber)", "condition": "GOODS_CONDITION_INTACT"}"#
            case AfterSaleService.shipReplacement.path:
                json = #"{"caseNumber": "\#(caseNumber)", "carrier": "YTO", "trackingNumber": "YT-ACL-1"}"#
            case AfterSaleService.confirmReplacementReceived.path:
                json = #"{"caseNumber": "\#(caseNumber)"}"#
            case AfterSaleService.forceRefund.path:
                json = #"{"caseNumber": "\#(caseNumber)", "ruling": "platform ruling"}"#
            case AfterSaleService.addMessage.path:
                json = #"{"caseNumber": "\#(caseNumber)", "text": "hello"}"#
            case AfterSaleService.upsertReason.path:
                json = #"{"reason": {"code": "acl_reason", "label": "ACL", "kinds": ["AFTER_SALE_KIND_RETURN_AND_REFUND"], "basis": "REASON_BASIS_OTHER", "active": true}}"#
            case AfterSaleService.ingestTrackingEvent.path:
                json = #"{"caseNumber": "\#(caseNumber)", "carrier": "SF", "trackingNumber": "SF-ACL-1", "status": "TRACKING_STATUS_IN_TRANSIT", "occurredAtUnixMs": "1795219200000"}"#
            case AfterSaleService.subscribe.path:
                json = #"{"consumerName": "acl", "stopAtHead": true}"#
            case AfterSaleService.revealPersonalData.path:
                json = #"{"caseNumber": "\#(caseNumber)", "reason": "access matrix"}"#
            case AfterSaleService.acknowledgeEvents.path:
                json = #"{"consumerName": "acl", "cursor": "0"}"#
            case OrderBridge.getOrderAfterSaleState.path:
                json = #"{"orderId": "\#(orderID)"}"#
            case OrderBridge.upsertOrder.path:
                return try TestOrder(id: "o-acl", status: .delivered, version: 1).upsertRequest().serializedBytes()
            case RefundBridge.reportRefundResult.path:
                json = #"{"refundId": "\#(refundID)", "leaseToken": "not-the-lease", "outcome": "REFUND_OUTCOME_FAILED", "failureCode": "x"}"#
            case RefundBridge.requeueRefund.path:
                json = #"{"refundId": "\#(refundID)"}"#
            default:
                json = "{}"
            }
            return try encode(path, json)
        }

        /// `json` as the bytes of `path`'s request message.
        static func encode(_ path: String, _ json: String) throws -> [UInt8] {
            guard let method = ServiceHost.businessMethods.first(where: { $0.path == path }),
                  let descriptor = DescriptorIndex.message(named: method.requestType) else {
                throw TimedOut(what: "the request type of \(path)")
            }
            return try ProtoJSON.encode(json: json, as: descriptor)
        }
    }
}
