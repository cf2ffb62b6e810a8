import AfterSaleClient
import AfterSaleDomain
import AfterSaleProto
import AfterSaleServices
import Foundation
import RPCWire
import Testing

// GetStatistics through the client stub, over the fixture's backend (SQLite, or PostgreSQL when
// AFTERSALE_TEST_BACKEND=postgres), after the projector caught up with the feed.

extension Integration {
    @Suite("Statistics: GetStatistics through the client, on rollups the projector built from the feed")
    struct StatisticsTests {
        static func request(groupBy: StatisticsGroupBy = .day) -> GetStatisticsRequest {
            // Yesterday to tomorrow in the business calendar's offset (China time): today's cases are inside.
            let today = StatisticsRecorder.day(of: Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)),
                                               in: SLAPolicy.standard.calendar)
            var request = GetStatisticsRequest()
            request.fromDate = StatisticsDays.text(today - 1)
            request.toDate = StatisticsDays.text(today + 1)
            request.groupBy = groupBy
            return request
        }

        @Test("applied, rejected and withdrawn cases show for the platform and the shop; buyers are refused")
        func throughTheClient() async throws {
            try await IntegrationFixture.run { f in
                for order in ["o-s1", "o-s2", "o-s3"] {
                    try await f.upsert(TestOrder(id: order, status: .delivered))
                }
                let first = try await f.create(Requests.create(order: "o-s1", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]))
                let second = try await f.create(Requests.create(order: "o-s2", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]))
                _ = try await f.create(Requests.create(order: "o-s3", kind: .returnAndRefund, reason: "no_reason_7_days", lines: [("l-3", 1)]))
                _ = try await f.afterSale.reviewAfterSale(Requests.reject(first, reason: "worn"), options: Callers.merchant())
                _ = try await f.afterSale.withdrawAfterSale(Requests.withdraw(second, note: "changed my mind"), options: Callers.buyer())
                let cursor = try await StatisticsProjector(store: f.repository, sla: .standard).catchUp()
                #expect(cursor > 0)

                let platform = try await f.client.statistics.getStatistics(Self.request(), options: Callers.platform())
                #expect(platform.groups.count == 3)
                #expect(platform.projectedThrough == cursor)
                let cases = try #require(platform.total?.cases)
                #expect([cases.applied, cases.rejected, cases.withdrawn, cases.completed] == [3, 1, 1, 0])
                #expect(cases.resolutionRate.map { [$0.numerator, $0.denominator] } == [0, 2])
                #expect(cases.merchantOverdueRate.map { [$0.numerator, $0.denominator] } == [0, 1])
                #expect(cases.disputeRate.map { [$0.numerator, $0.denominator] } == [0, 3])

                let byKind = try await f.client.statistics.getStatistics(Self.request(groupBy: .kind), options: Callers.merchant())
                #expect(byKind.scope == "shop:s-1")
                #expect(byKind.groups.map(\.key) == ["return_and_refund"])
                #expect(byKind.total?.cases?.applied == 3)

                await #expect(throws: RPCError.self) {
                    _ = try await f.client.statistics.getStatistics(Self.request(), options: Callers.buyer())
                }
            }
        }
    }
}
