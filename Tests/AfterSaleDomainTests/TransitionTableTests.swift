import AfterSaleDomain
import Testing

/// The state machine written out by hand, independently of `Transitions`: (action, kind, from) → to.
private let expectedTable: [ActionKind: [AfterSaleKind: [CaseStatus: CaseStatus]]] = {
    let goodsKinds: [AfterSaleKind] = [.returnAndRefund, .exchange, .repair]
    let openBeforeMoney: [AfterSaleKind: [CaseStatus]] = [
        .refundOnly: [.pendingReview],   // held by abuse control for a person
        .returnAndRefund: [.pendingReview, .awaitingReturn, .returnShipped, .awaitingReceipt],
        .exchange: [.pendingReview, .awaitingReturn, .returnShipped, .awaitingReceipt, .awaitingExchange, .exchanging],
        .repair: [.pendingReview, .awaitingReturn, .returnShipped, .awaitingReceipt, .repairing, .repairedShipped],
    ]
    var table: [ActionKind: [AfterSaleKind: [CaseStatus: CaseStatus]]] = [:]
    func add(_ action: ActionKind, _ kinds: [AfterSaleKind], _ moves: [CaseStatus: CaseStatus]) {
        for kind in kinds { table[action, default: [:]][kind, default: [:]].merge(moves) { $1 } }
    }
    add(.autoApprove, goodsKinds, [.pendingReview: .awaitingReturn])
    add(.approve, goodsKinds, [.pendingReview: .awaitingReturn])
    add(.reject, AfterSaleKind.allCases, [.pendingReview: .rejected])   // refund-only: when abuse control held it
    add(.shipReturn, goodsKinds, [.awaitingReturn: .returnShipped])
    add(.bookPickup, goodsKinds, [.awaitingReturn: .returnShipped])
    add(.recordTracking, goodsKinds, [.returnShipped: .returnShipped, .awaitingReceipt: .awaitingReceipt])
    add(.recordTracking, [.exchange], [.exchanging: .exchanging])
    add(.recordTracking, [.repair], [.repairedShipped: .repairedShipped])
    add(.confirmReturnReceived, [.returnAndRefund], [.returnShipped: .pendingRefund, .awaitingReceipt: .pendingRefund])
    add(.confirmReturnReceived, [.exchange], [.returnShipped: .awaitingExchange, .awaitingReceipt: .awaitingExchange])
    add(.confirmReturnReceived, [.repair], [.returnShipped: .repairing, .awaitingReceipt: .repairing])
    add(.shipReplacement, [.exchange], [.awaitingExchange: .exchanging])
    add(.shipReplacement, [.repair], [.repairing: .repairedShipped])
    add(.confirmReplacementReceived, [.exchange], [.exchanging: .completed])
    add(.confirmReplacementReceived, [.repair], [.repairedShipped: .completed])
    add(.refundSucceeded, AfterSaleKind.allCases, [.pendingRefund: .completed])
    add(.refundFailed, AfterSaleKind.allCases, [.pendingRefund: .pendingRefund])
    for (kind, statuses) in openBeforeMoney {
        add(.withdraw, [kind], Dictionary(uniqueKeysWithValues: statuses.map { ($0, .withdrawn) }))
        add(.close, [kind], Dictionary(uniqueKeysWithValues: statuses.map { ($0, .closed) }))
        add(.forceRefund, [kind], Dictionary(uniqueKeysWithValues: statuses.map { ($0, .pendingRefund) }))
        add(.arbitrationRefund, [kind], Dictionary(uniqueKeysWithValues: statuses.map { ($0, .pendingRefund) }))
    }
    // Arbitration may reopen a rejection, and a completed exchange or repair (goods the buyer kept).
    add(.arbitrationRefund, AfterSaleKind.allCases, [.rejected: .pendingRefund])
    add(.arbitrationRefund, [.exchange, .repair], [.completed: .pendingRefund])
    return table
}()

@Suite("Every action from every status")
struct TransitionTableTests {
    static let baseCases: [AfterSaleKind: AfterSaleCase] = {
        var cases: [AfterSaleKind: AfterSaleCase] = [:]
        for kind in AfterSaleKind.allCases {
            cases[kind] = try! Fixture.open(kind, [("l-1", 1)]).afterSale
        }
        return cases
    }()

    @Test("exactly the allowed (action, kind, status) triples succeed, and lead where the table says",
          arguments: ActionKind.allCases)
    func table(action: ActionKind) throws {
        let sample = Fixture.sample(action)
        for kind in AfterSaleKind.allCases {
            for status in CaseStatus.allCases {
                let afterSale = Fixture.forcing(Self.baseCases[kind]!, into: status)
                let expected = expectedTable[action]?[kind]?[status]
                #expect(Transitions.target(of: action, kind: kind, from: status) == expected,
                        "\(action) on \(kind) from \(status)")
                do {
                    let result = try decide(afterSale, sample.action, by: sample.principal, at: Fixture.now, expectedVersion: afterSale.version)
                    #expect(result.afterSale.status == expected, "\(action) on \(kind) from \(status)")
                    #expect(expected != nil, "\(action) on \(kind) from \(status) should have been refused")
                } catch {
                    #expect(expected == nil, "\(action) on \(kind) from \(status) refused: \(error)")
                    #expect(error == .illegalTransition(action: action, caseNumber: afterSale.number, from: status))
                }
            }
        }
    }

    @Test("terminal statuses never change again, whoever asks, except by arbitration's refund of a rejection or a completed exchange or repair")
    func terminalIsFinal() {
        for kind in AfterSaleKind.allCases {
            for status in CaseStatus.allCases where status.isTerminal {
                let reopenable = status == .rejected || (status == .completed && (kind == .exchange || kind == .repair))
                #expect(Transitions.availableActions(kind: kind, status: status) == (reopenable ? [.arbitrationRefund] : []), "\(kind) \(status)")
                let afterSale = Fixture.forcing(Self.baseCases[kind]!, into: status)
                for action in ActionKind.allCases where !(reopenable && action == .arbitrationRefund) {
                    let sample = Fixture.sample(action)
                    #expect(throws: DomainError.self) { try decide(afterSale, sample.action, by: sample.principal, at: Fixture.now) }
                }
            }
        }
    }

    @Test("a refused transition says which action and which status, in words")
    func illegalMessage() throws {
        let pending = try Fixture.open(.returnAndRefund, [("l-1", 1)]).afterSale
        let error = #expect(throws: DomainError.self) {
            try decide(pending, .shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer, at: Fixture.now)
        }
        #expect(error?.message == "cannot ship return: case \(pending.number) is pending_review")
    }

    @Test("a tracking event reporting delivery moves a shipped return to awaiting receipt, and only a return")
    func deliveredTracking() throws {
        let delivered = Action.recordTracking(TrackingEvent(status: .delivered, occurredAt: Fixture.now), trackingNumber: nil)
        let shipped = Fixture.forcing(Self.baseCases[.returnAndRefund]!, into: .returnShipped)
        #expect(try decide(shipped, delivered, by: .system("logistics"), at: Fixture.now).afterSale.status == .awaitingReceipt)
        let exchanging = Fixture.forcing(Self.baseCases[.exchange]!, into: .exchanging)
        #expect(try decide(exchanging, delivered, by: .system("logistics"), at: Fixture.now).afterSale.status == .exchanging)
    }

    @Test("start statuses and available actions agree with the table")
    func introspection() {
        for action in ActionKind.allCases {
            for kind in AfterSaleKind.allCases {
                #expect(Transitions.startStatuses(of: action, kind: kind) == Set((expectedTable[action]?[kind] ?? [:]).keys))
                #expect(Transitions.startStatuses(of: action, kind: kind).isSubset(of: kind.reachableStatuses))
            }
        }
    }
}
