import AfterSaleDomain
import Testing

@Suite("Who may do what")
struct PermissionTests {
    let pending = try! Fixture.open(.returnAndRefund, [("l-1", 1)]).afterSale

    @Test("a buyer cannot act on another buyer's case")
    func otherBuyer() {
        let error = #expect(throws: DomainError.self) {
            try decide(pending, .withdraw(note: ""), by: Fixture.otherBuyer, at: Fixture.now)
        }
        #expect(error == .permissionDenied(.notCaseBuyer(buyerID: "b-2", caseNumber: pending.number)))
        #expect(error?.message == "permission denied: buyer b-2 does not own case \(pending.number)")
    }

    @Test("a merchant cannot act on another shop's case")
    func otherShop() {
        let error = #expect(throws: DomainError.self) {
            try decide(pending, Fixture.approve(), by: Fixture.otherMerchant, at: Fixture.now)
        }
        #expect(error?.message == "permission denied: merchant m-2 does not own shop s-1")
    }

    @Test("a merchant whose id is its shop id acts on that shop's cases")
    func shopAsMerchant() throws {
        let approved = try decide(pending, Fixture.approve(), by: .merchant("s-1"), at: Fixture.now)
        #expect(approved.afterSale.status == .awaitingReturn)
    }

    @Test("system-only actions are refused to every other role", arguments: [ActionKind.autoApprove, .recordTracking, .refundSucceeded, .refundFailed])
    func systemOnly(action: ActionKind) {
        for principal in [Fixture.buyer, Fixture.merchant, Fixture.agent, Fixture.platform] {
            let afterSale = Fixture.forcing(pending, into: Transitions.startStatuses(of: action, kind: .returnAndRefund).first!)
            let error = #expect(throws: DomainError.self) {
                try decide(afterSale, Fixture.sample(action).action, by: principal, at: Fixture.now)
            }
            guard case .permissionDenied(.roleNotAllowed(let who, _, let allowed)) = error else {
                Issue.record("expected roleNotAllowed for \(principal), got \(String(describing: error))")
                continue
            }
            #expect(who == principal)
            #expect(allowed == [.system])
        }
    }

    @Test("each action admits exactly its roles", arguments: ActionKind.allCases)
    func rolesPerAction(action: ActionKind) {
        let startStatus = Transitions.startStatuses(of: action, kind: .repair).first!
        let afterSale = Fixture.forcing(try! Fixture.open(.repair, [("l-1", 1)]).afterSale, into: startStatus)
        let principals: [ActorRole: Principal] = [.buyer: Fixture.buyer, .merchant: Fixture.merchant, .agent: Fixture.agent,
                                                  .platform: Fixture.platform, .system: .system("timer")]
        for role in ActorRole.allCases {
            let outcome = Result { () throws(DomainError) in
                try decide(afterSale, Fixture.sample(action).action, by: principals[role]!, at: Fixture.now)
            }
            if action.allowedRoles.contains(role) {
                #expect(throws: Never.self, "\(role) may \(action)") { try outcome.get() }
            } else {
                guard case .failure(.permissionDenied) = outcome else {
                    Issue.record("\(role) should not \(action): \(outcome)")
                    continue
                }
            }
        }
    }

    @Test("agents and the platform act on any shop's and any buyer's case")
    func supportActsAnywhere() throws {
        var order = Fixture.order(id: "o-9")
        order.buyerID = "b-9"
        order.shop = ShopInfo(id: "s-9")
        let other = try AfterSaleCase.open(Fixture.application(.returnAndRefund, [("l-1", 1)], orderID: "o-9"), number: Fixture.number(9),
                                           order: order, existingCases: [], catalog: .standard, by: Fixture.agent, at: Fixture.now).afterSale
        #expect(other.buyerID == "b-9" && other.shop.id == "s-9")
        #expect(try decide(other, .forceRefund(amount: nil, ruling: "ruling"), by: Fixture.agent, at: Fixture.now).afterSale.status == .pendingRefund)
        #expect(try decide(other, .close(reason: "duplicate"), by: Fixture.platform, at: Fixture.now).afterSale.status == .closed)
    }

    @Test("permission is checked before the status: a stranger learns nothing about the case's state")
    func permissionFirst() {
        let completed = Fixture.forcing(pending, into: .completed)
        #expect(throws: DomainError.permissionDenied(.notShopOwner(merchantID: "m-2", shopID: "s-1"))) {
            try decide(completed, Fixture.approve(), by: Fixture.otherMerchant, at: Fixture.now)
        }
    }

    @Test("a malformed principal is refused as an invalid argument")
    func malformedPrincipal() {
        #expect(throws: DomainError.invalidArgument(field: "principal.id", message: "must be 1 to 128 bytes, got 0")) {
            try decide(pending, .withdraw(note: ""), by: .buyer(""), at: Fixture.now)
        }
    }

    @Test("only the order's buyer, or support on their behalf, may apply")
    func applicants() throws {
        let order = Fixture.order()
        let application = Fixture.application(.returnAndRefund, [("l-1", 1)])
        #expect(throws: DomainError.permissionDenied(.notOrderBuyer(buyerID: "b-2", orderID: "o-1"))) {
            try AfterSaleCase.open(application, number: Fixture.number(1), order: order, existingCases: [], catalog: .standard,
                                   by: Fixture.otherBuyer, at: Fixture.now)
        }
        #expect(throws: DomainError.self) {
            try AfterSaleCase.open(application, number: Fixture.number(1), order: order, existingCases: [], catalog: .standard,
                                   by: Fixture.merchant, at: Fixture.now)
        }
        let byAgent = try AfterSaleCase.open(application, number: Fixture.number(1), order: order, existingCases: [],
                                             catalog: .standard, by: Fixture.agent, at: Fixture.now)
        #expect(byAgent.afterSale.buyerID == "b-1")
    }

    @Test("viewing follows ownership")
    func viewing() {
        #expect(Permissions.canView(Fixture.buyer, pending))
        #expect(!Permissions.canView(Fixture.otherBuyer, pending))
        #expect(Permissions.canView(Fixture.merchant, pending))
        #expect(!Permissions.canView(Fixture.otherMerchant, pending))
        #expect(Permissions.canView(Fixture.agent, pending))
    }

    @Test("a stale version is refused and names both versions")
    func staleVersion() throws {
        let error = #expect(throws: DomainError.self) {
            try decide(pending, Fixture.approve(), by: Fixture.merchant, at: Fixture.now, expectedVersion: 0)
        }
        #expect(error == .versionConflict(expected: 0, actual: 1))
        let approved = try decide(pending, Fixture.approve(), by: Fixture.merchant, at: Fixture.now, expectedVersion: 1)
        #expect(approved.afterSale.version == 2)
        // A second merchant who also saw version 1 loses.
        #expect(throws: DomainError.versionConflict(expected: 1, actual: 2)) {
            try decide(approved.afterSale, .reject(reason: "no"), by: Fixture.merchant, at: Fixture.now, expectedVersion: 1)
        }
    }

    @Test("a refusal can be traced without changing the case")
    func refusedTrace() {
        let error = DomainError.illegalTransition(action: .shipReturn, caseNumber: pending.number, from: .pendingReview)
        let trace = TraceRecord.refused(pending, .shipReturn(carrier: "SF", trackingNumber: "1"), by: Fixture.buyer, at: Fixture.now, error: error)
        #expect(trace.outcome == .rejected)
        #expect(trace.from == .pendingReview && trace.to == .pendingReview)
        #expect(trace.details == "cannot ship return: case \(pending.number) is pending_review")
    }
}
