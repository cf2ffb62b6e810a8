import AfterSaleDomain
import Testing

@Suite("Eligibility: each rule refuses with its name")
struct EligibilityTests {
    /// Opens `application` against `order` and returns the rule that refused it, if any.
    func refusal(_ application: Application, order: OrderSnapshot?, existing: [AfterSaleCase] = [],
                 at now: Timestamp = Fixture.now, policy: PolicyConfig = .standard,
                 catalog: ReasonCatalog = .standard) -> EligibilityRule? {
        do {
            _ = try AfterSaleCase.open(application, number: Fixture.number(9), order: order, existingCases: existing,
                                       catalog: catalog, policy: policy, by: Fixture.buyer, at: now)
            return nil
        } catch {
            guard case .notEligible(let rule, let message) = error else {
                Issue.record("expected a rule, got \(error)")
                return nil
            }
            #expect(!message.isEmpty)
            return rule
        }
    }

    @Test("an unknown order is refused")
    func unknownOrder() {
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)]), order: nil) == .orderUnknown)
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)], orderID: "o-404"), order: Fixture.order()) == .orderUnknown)
    }

    @Test("refund only needs a paid order that has not shipped", arguments: [OrderStatus.created, .shipped, .delivered, .completed, .cancelled])
    func refundOnlyStatus(status: OrderStatus) {
        #expect(refusal(Fixture.application(.refundOnly, [("l-1", 1)]), order: Fixture.order(status: status)) == .refundOnlyNeedsUnshippedOrder)
    }

    @Test("return and refund needs a shipped order", arguments: [OrderStatus.created, .paid, .cancelled])
    func returnStatus(status: OrderStatus) {
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)]), order: Fixture.order(status: status)) == .returnNeedsShippedOrder)
    }

    @Test("return and refund is open on shipped, delivered and completed orders", arguments: [OrderStatus.shipped, .delivered, .completed])
    func returnAllowed(status: OrderStatus) {
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)]), order: Fixture.order(status: status)) == nil)
    }

    @Test("exchange and repair need a delivered order", arguments: [AfterSaleKind.exchange, .repair])
    func exchangeStatus(kind: AfterSaleKind) {
        for status in [OrderStatus.paid, .shipped, .cancelled] {
            #expect(refusal(Fixture.application(kind, [("l-1", 1)]), order: Fixture.order(status: status)) == .exchangeOrRepairNeedsDelivery)
        }
        #expect(refusal(Fixture.application(kind, [("l-1", 1)]), order: Fixture.order(status: .delivered)) == nil)
    }

    @Test("reasons must exist, be active and fit the kind")
    func reasons() {
        let order = Fixture.order()
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)], reason: "because"), order: order) == .reasonUnknown)
        #expect(refusal(Fixture.application(.repair, [("l-1", 1)], reason: "no_reason_7_days"), order: order) == .reasonNotForKind)
        var catalog = ReasonCatalog.standard
        var retired = catalog.reason("no_reason_7_days")!
        retired.isActive = false
        try! catalog.upsert(retired)
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)]), order: order, catalog: catalog) == .reasonRetired)
        #expect(catalog.reasons(for: .returnAndRefund).allSatisfy { $0.isActive })
        #expect(catalog.reasons(for: .returnAndRefund, includeInactive: true).contains(retired))
    }

    @Test("return and exchange always need photos; other kinds when the reason says so")
    func evidence() {
        let order = Fixture.order()
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-1", 1)], evidence: []), order: order) == .evidenceRequired)
        #expect(refusal(Fixture.application(.exchange, [("l-1", 1)], evidence: []), order: order) == .evidenceRequired)
        #expect(refusal(Fixture.application(.repair, [("l-1", 1)], reason: "quality_fault", evidence: []), order: order) == .evidenceRequired)
        #expect(refusal(Fixture.application(.refundOnly, [("l-1", 1)], evidence: []), order: Fixture.order(status: .paid)) == nil)
    }

    @Test("no-reason returns end seven days after delivery, counted inclusively")
    func noReasonWindow() {
        let application = Fixture.application(.returnAndRefund, [("l-3", 1)])
        let lastMoment = Fixture.deliveredAt.adding(days: 7)
        #expect(refusal(application, order: Fixture.order(), at: lastMoment) == nil)
        #expect(refusal(application, order: Fixture.order(), at: lastMoment.adding(milliseconds: 1)) == .noReasonWindowExpired)
        // Not delivered yet: the window has not started.
        #expect(refusal(application, order: Fixture.order(status: .shipped), at: lastMoment.adding(days: 30)) == nil)
    }

    @Test("excluded categories and items bought as excluded cannot be returned without reason")
    func noReasonExclusions() {
        let application = Fixture.application(.returnAndRefund, [("l-3", 1)])
        var fresh = Fixture.order()
        fresh.lines[2].category = "fresh"
        #expect(refusal(application, order: fresh) == .noReasonCategoryExcluded)
        #expect(refusal(application, order: Fixture.order(), policy: PolicyConfig.standard.excludingFromNoReasonReturns(["apparel"])) == .noReasonCategoryExcluded)
        var flagged = Fixture.order()
        flagged.lines[2].excludedFromNoReasonReturn = true
        #expect(refusal(application, order: flagged) == .noReasonExcludedAtPurchase)
        // A quality reason is still open for an excluded category.
        #expect(refusal(Fixture.application(.returnAndRefund, [("l-3", 1)], reason: "quality_fault"), order: fresh) == nil)
    }

    @Test("三包: return within 7 days, exchange within 15, repair within the warranty")
    func threeGuarantees() {
        let order = Fixture.order()
        let returnFault = Fixture.application(.returnAndRefund, [("l-1", 1)], reason: "quality_fault")
        let exchangeFault = Fixture.application(.exchange, [("l-1", 1)], reason: "quality_fault")
        let repairFault = Fixture.application(.repair, [("l-1", 1)], reason: "quality_fault")
        let day8 = Fixture.deliveredAt.adding(days: 8)
        let day16 = Fixture.deliveredAt.adding(days: 16)
        let day366 = Fixture.deliveredAt.adding(days: 366)
        #expect(refusal(returnFault, order: order, at: day8) == .qualityReturnWindowExpired)
        #expect(refusal(exchangeFault, order: order, at: day8) == nil)
        #expect(refusal(exchangeFault, order: order, at: day16) == .qualityExchangeWindowExpired)
        #expect(refusal(repairFault, order: order, at: day16) == nil)
        #expect(refusal(repairFault, order: order, at: day366) == .warrantyExpired)
        let longWarranty = PolicyConfig(categories: ["phones": CategoryPolicy(threeGuarantees: ThreeGuaranteesWindows(warrantyDays: 730))])
        #expect(refusal(repairFault, order: order, at: day366, policy: longWarranty) == nil)
    }

    @Test("a performance fault needs delivered goods")
    func faultBeforeDelivery() {
        let returnFault = Fixture.application(.returnAndRefund, [("l-1", 1)], reason: "quality_fault")
        #expect(refusal(returnFault, order: Fixture.order(status: .shipped)) == .qualityNeedsDelivery)
    }

    @Test("seller-fault reasons end with the category's after-sale window")
    func afterSaleWindow() {
        let application = Fixture.application(.returnAndRefund, [("l-1", 1)], reason: "wrong_item")
        #expect(refusal(application, order: Fixture.order(), at: Fixture.deliveredAt.adding(days: 15)) == nil)
        #expect(refusal(application, order: Fixture.order(), at: Fixture.deliveredAt.adding(days: 16)) == .afterSaleWindowExpired)
    }

    @Test("every rule has a distinct, stable code and a summary")
    func codes() {
        let codes = EligibilityRule.allCases.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(EligibilityRule.noReasonWindowExpired.code == "policy.no_reason.window_expired")
        #expect(EligibilityRule.allCases.allSatisfy { !$0.summary.isEmpty })
    }
}

@Suite("Quantities available to a new case")
struct QuantityTests {
    @Test("a line cannot be asked for beyond what open and completed cases leave")
    func exceeding() throws {
        let first = try Fixture.open(.returnAndRefund, [("l-3", 2)]).afterSale
        #expect(throws: DomainError.quantityExceedsRefundable(lineID: "l-3", requested: 2, available: 1)) {
            try Fixture.open(.returnAndRefund, [("l-3", 2)], existing: [first], sequence: 2)
        }
        let second = try Fixture.open(.returnAndRefund, [("l-3", 1)], existing: [first], sequence: 2).afterSale
        #expect(second.lines[0].claimAmount == .cny(991))
    }

    @Test("withdrawn, rejected and closed cases give their quantity back")
    func released() throws {
        let first = try Fixture.open(.returnAndRefund, [("l-3", 3)]).afterSale
        for action in [Action.withdraw(note: ""), .reject(reason: "no"), .close(reason: "stalled")] {
            let principal: Principal = switch action.kind {
            case .withdraw: Fixture.buyer
            case .reject: Fixture.merchant
            default: .system("timer")
            }
            let ended = try decide(first, action, by: principal, at: Fixture.now).afterSale
            let again = try Fixture.open(.returnAndRefund, [("l-3", 3)], existing: [ended], sequence: 2).afterSale
            #expect(again.amounts.computed == .cny(2_971))
        }
    }

    @Test("malformed requests name the field")
    func malformed() {
        let order = Fixture.order()
        let cases: [(Application, String)] = [
            (Fixture.application(.returnAndRefund, []), "lines"),
            (Fixture.application(.returnAndRefund, [("l-1", 0)]), "lines[0].quantity"),
            (Fixture.application(.returnAndRefund, [("l-1", 1), ("l-1", 1)]), "lines[1].order_line_id"),
            (Fixture.application(.returnAndRefund, [("l-7", 1)]), "lines[0].order_line_id"),
            (Fixture.application(.returnAndRefund, [("l-1", 1)], reason: ""), "reason_code"),
        ]
        for (application, field) in cases {
            let error = #expect(throws: DomainError.self) {
                try AfterSaleCase.open(application, number: Fixture.number(1), order: order, existingCases: [],
                                       catalog: .standard, by: Fixture.buyer, at: Fixture.now)
            }
            guard case .invalidArgument(let named, _) = error else {
                Issue.record("expected invalidArgument(\(field)), got \(String(describing: error))")
                continue
            }
            #expect(named == field)
        }
    }
}
