import AfterSaleDomain
import Testing

@Suite("Timers on cases nobody moves (超时自动处理)")
struct TimerTests {
    static let book = TimerBook(platform: TimerPolicy(durations: [
        .merchantReview: 1_000, .returnShipment: 2_000, .receiptConfirmation: 3_000, .replacementConfirmation: 4_000,
    ], reminderLeadMs: 400))

    /// Fires the case's timer (armed under `book`) at its due time; returns the next transition and its timer change.
    static func fire(_ transition: Transition, armed timer: CaseTimer) throws -> (Transition, TimerChange) {
        #expect(timer.isCurrent(for: transition.afterSale))
        var fired = try transition.then(timer.rule.action, by: TimerRule.actor, at: timer.dueAt(pauses: []))
        fired.recordFiring(of: timer)
        return (fired, CaseTimer.arm(after: fired, previousRule: timer.rule, book: book))
    }

    static func armed(_ change: TimerChange) throws -> CaseTimer {
        guard case .set(let timer) = change else {
            Issue.record("expected a new timer, got \(change)")
            throw DomainError.invalidArgument(field: "timer", message: "none armed")
        }
        return timer
    }

    @Test("the merchant's silence approves every kind automatically; then each kind's next wait is armed")
    func merchantReview() throws {
        let expected: [AfterSaleKind: (CaseStatus, TimerRule?)] = [
            .refundOnly: (.pendingRefund, nil), .returnAndRefund: (.awaitingReturn, .returnShipment),
            .exchange: (.awaitingReturn, .returnShipment), .repair: (.awaitingReturn, .returnShipment),
        ]
        for kind in AfterSaleKind.allCases {
            let opened = try Fixture.open(kind, [("l-1", 1)])
            guard opened.afterSale.status == .pendingReview else {
                // Refund only before shipment is approved on the spot: nothing waits on anyone.
                #expect(kind == .refundOnly)
                #expect(CaseTimer.arm(after: opened, previousRule: nil, book: Self.book) == .keep)
                continue
            }
            let timer = try Self.armed(CaseTimer.arm(after: opened, previousRule: nil, book: Self.book))
            #expect(timer.rule == .merchantReview)
            #expect(timer.dueAt(pauses: []) == Fixture.now.adding(milliseconds: 1_000))
            let (approved, next) = try Self.fire(opened, armed: timer)
            #expect(approved.afterSale.status == expected[kind]?.0, "\(kind)")
            #expect(approved.trace.actor == TimerRule.actor)
            #expect(approved.trace.details.contains("timer merchant_review, policy platform"))
            #expect(approved.afterSale.timeline.last?.note.contains("timer merchant_review") == true)
            #expect(approved.entries.last == approved.afterSale.timeline.last)
            if let rule = expected[kind]?.1 {
                #expect(try Self.armed(next).rule == rule)
            } else {
                #expect(next == .clear)
            }
        }
    }

    @Test("a return never shipped closes the case")
    func returnShipment() throws {
        let opened = try Fixture.open(.returnAndRefund, [("l-1", 1)])
        let approved = try opened.then(Fixture.approve(), by: Fixture.merchant)
        let timer = try Self.armed(CaseTimer.arm(after: approved, previousRule: .merchantReview, book: Self.book))
        #expect(timer.durationMs == 2_000)
        let (closed, next) = try Self.fire(approved, armed: timer)
        #expect(closed.afterSale.status == .closed)
        #expect(next == .clear)
    }

    @Test("a shipped return the merchant never confirms is received and refunded (refund kinds) or goes on to the exchange")
    func receiptConfirmation() throws {
        let outcomes: [AfterSaleKind: CaseStatus] = [.returnAndRefund: .pendingRefund, .exchange: .awaitingExchange, .repair: .repairing]
        for (kind, status) in outcomes {
            let approved = try Fixture.open(kind, [("l-1", 1)]).then(Fixture.approve(), by: Fixture.merchant)
            let shipped = try approved.then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            let timer = try Self.armed(CaseTimer.arm(after: shipped, previousRule: .returnShipment, book: Self.book))
            #expect(timer.rule == .receiptConfirmation)
            // Delivered: the same wait goes on counting.
            let delivered = try shipped.then(.recordTracking(TrackingEvent(status: .delivered, occurredAt: Fixture.now), trackingNumber: nil), by: .system("logistics"))
            if delivered.afterSale.status == .awaitingReceipt {
                #expect(CaseTimer.arm(after: delivered, previousRule: .receiptConfirmation, book: Self.book) == .keep)
            }
            let (received, next) = try Self.fire(shipped, armed: timer)
            #expect(received.afterSale.status == status, "\(kind)")
            #expect(next == .clear)
        }
    }

    @Test("replacement or repaired goods the buyer never confirms complete the case")
    func replacementConfirmation() throws {
        for kind in [AfterSaleKind.exchange, .repair] {
            let shipped = try Fixture.open(kind, [("l-1", 1)]).then(Fixture.approve(), by: Fixture.merchant)
                .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
                .then(.confirmReturnReceived(condition: nil, note: "", evidence: []), by: Fixture.merchant)
                .then(.shipReplacement(carrier: "SF", trackingNumber: "SF2", note: ""), by: Fixture.merchant)
            let timer = try Self.armed(CaseTimer.arm(after: shipped, previousRule: nil, book: Self.book))
            #expect(timer.rule == .replacementConfirmation)
            let (completed, next) = try Self.fire(shipped, armed: timer)
            #expect(completed.afterSale.status == .completed, "\(kind)")
            #expect(next == .clear)
        }
    }

    @Test("a timer belongs to its case only while the case waits on its rule")
    func obsolete() throws {
        let opened = try Fixture.open(.returnAndRefund, [("l-1", 1)])
        let timer = try Self.armed(CaseTimer.arm(after: opened, previousRule: nil, book: Self.book))
        let rejected = try opened.then(.reject(reason: "used goods"), by: Fixture.merchant)
        #expect(!timer.isCurrent(for: rejected.afterSale))
        #expect(CaseTimer.arm(after: rejected, previousRule: .merchantReview, book: Self.book) == .clear)
        #expect(CaseTimer.arm(after: rejected, previousRule: nil, book: Self.book) == .keep)
    }

    @Test("countdowns stand still during pauses of every shop or of the case's shop")
    func pauses() {
        let t0 = Timestamp(millisecondsSinceEpoch: 1_000_000)
        func pause(_ from: Int64, _ to: Int64, shops: [String] = []) -> TimerPause {
            TimerPause(id: "p\(from)", startsAt: t0.adding(milliseconds: from), endsAt: t0.adding(milliseconds: to), shopIDs: shops,
                       reason: "r", version: 1, setBy: Fixture.platform, setAt: t0)
        }
        func due(_ pauses: [TimerPause], shop: String = "s-1") -> Int64 {
            PausableClock.instant(after: 1_000, from: t0, pauses: pauses, shopID: shop).millisecondsSinceEpoch - t0.millisecondsSinceEpoch
        }
        #expect(due([]) == 1_000)
        #expect(due([pause(200, 700)]) == 1_500)
        #expect(due([pause(-500, 300)]) == 1_300)                   // began before the wait
        #expect(due([pause(200, 700), pause(500, 900)]) == 1_700)   // overlapping pauses count once
        #expect(due([pause(200, 700), pause(1_400, 1_600)]) == 1_700)
        #expect(due([pause(1_000, 5_000)]) == 1_000)                // begins when the wait is over
        #expect(due([pause(200, 700, shops: ["s-2"])]) == 1_000)    // another shop's
        #expect(due([pause(200, 700, shops: ["s-2", "s-1"])]) == 1_500)
        #expect(due([pause(300, 300)]) == 1_000)                    // ended before it began

        let timer = CaseTimer(caseNumber: Fixture.number(1), shopID: "s-1", rule: .merchantReview, startedAt: t0, durationMs: 1_000,
                              reminderLeadMs: 400, policyVersion: "platform")
        #expect(timer.nextAt == t0.adding(milliseconds: 600))
        #expect(timer.nextStep(pauses: [pause(100, 300)]) == (.remind, t0.adding(milliseconds: 800)))
        var reminded = timer
        reminded.remindedAt = t0.adding(milliseconds: 800)
        #expect(reminded.unpausedNextAt == t0.adding(milliseconds: 1_000))
        #expect(reminded.nextStep(pauses: [pause(100, 300)]) == (.fire, t0.adding(milliseconds: 1_200)))
    }

    @Test("waits come from the shop's override, else the longest category override, else the platform; reminders at most halfway")
    func book() throws {
        let p = Fixture.platform
        let book = TimerBook(platform: TimerPolicy(durations: [.merchantReview: 48 * 3_600_000], reminderLeadMs: 12 * 3_600_000), overrides: [
            TimerOverride(scope: .shop("s-1"), durations: [.merchantReview: 3_600_000], version: 3, setBy: p, setAt: Fixture.now),
            TimerOverride(scope: .category("fresh"), durations: [.receiptConfirmation: 86_400_000], version: 1, setBy: p, setAt: Fixture.now),
            TimerOverride(scope: .category("bulky"), durations: [.receiptConfirmation: 30 * 86_400_000], version: 2, setBy: p, setAt: Fixture.now),
        ])
        let shop = book.wait(.merchantReview, shopID: "s-1", categories: ["fresh"])
        #expect(shop == ResolvedWait(durationMs: 3_600_000, reminderLeadMs: 1_800_000, policyVersion: "shop:s-1@v3"))
        #expect(book.wait(.merchantReview, shopID: "s-2", categories: []).policyVersion == "platform")
        #expect(book.wait(.merchantReview, shopID: "s-2", categories: []).reminderLeadMs == 12 * 3_600_000)
        let category = book.wait(.receiptConfirmation, shopID: "s-1", categories: ["fresh", "bulky"])
        #expect(category.durationMs == 30 * 86_400_000)
        #expect(category.policyVersion == "category:bulky@v2")
        #expect(book.wait(.returnShipment, shopID: "s-1", categories: ["fresh"]).durationMs == 7 * 86_400_000)
        #expect(TimerPolicy.marketplaceDefaults.duration(.receiptConfirmation) == 10 * 86_400_000)
    }

    @Test("scopes, overrides and pauses are checked before they are stored")
    func validation() throws {
        #expect(try TimerScope(parsing: "shop:s-1") == .shop("s-1"))
        #expect(try TimerScope(parsing: "category:生鲜") == .category("生鲜"))
        for bad in ["shop:", "shop", "brand:x", "category:a b", ""] {
            #expect(throws: DomainError.self) { try TimerScope(parsing: bad) }
        }
        let p = Fixture.platform
        #expect(throws: DomainError.self) {
            try TimerOverride(scope: .shop("s"), durations: [.merchantReview: 0], version: 1, setBy: p, setAt: Fixture.now).validate()
        }
        let now = Fixture.now
        func pause(_ from: Int64, _ to: Int64, reason: String = "春节") -> TimerPause {
            TimerPause(id: "x", startsAt: now.adding(milliseconds: from), endsAt: now.adding(milliseconds: to), shopIDs: [],
                       reason: reason, version: 1, setBy: p, setAt: now)
        }
        try pause(0, 1_000).validate(at: now)
        #expect(throws: DomainError.self) { try pause(-1, 1_000).validate(at: now) }
        #expect(throws: DomainError.self) { try pause(10, 10).validate(at: now) }
        #expect(throws: DomainError.self) { try pause(0, 61 * 86_400_000).validate(at: now) }
        #expect(throws: DomainError.self) { try pause(0, 1_000, reason: "").validate(at: now) }
    }

    @Test("a reminder goes to the party the wait is on, with the rule's template")
    func reminder() throws {
        let opened = try Fixture.open(.returnAndRefund, [("l-1", 1)])
        let timer = try Self.armed(CaseTimer.arm(after: opened, previousRule: nil, book: Self.book))
        let event = TimerReminder.event(for: timer, on: opened.afterSale, dueAt: Fixture.now.adding(milliseconds: 1_000), at: Fixture.now)
        #expect(event.type == .timerReminder)
        #expect(event.notifications.map(\.recipientID) == ["s-1"])
        #expect(event.notifications.first?.templateKey == "aftersale.timer.merchant_review.reminder.merchant")
        #expect(event.notifications.first?.params["due_at_unix_ms"] == String(Fixture.now.adding(milliseconds: 1_000).millisecondsSinceEpoch))
    }
}

@Suite("Feedback surveys (评价)")
struct SurveyTests {
    @Test("a case a timer completed without the buyer acting offers no survey; one the buyer confirmed does")
    func timerCompleted() throws {
        let shipped = try Fixture.open(.exchange, [("l-1", 1)]).then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            .then(.confirmReturnReceived(condition: nil, note: "", evidence: []), by: Fixture.merchant)
            .then(.shipReplacement(carrier: "SF", trackingNumber: "SF2", note: ""), by: Fixture.merchant)
        let byTimer = try shipped.then(TimerRule.replacementConfirmation.action, by: TimerRule.actor)
        #expect(byTimer.afterSale.status == .completed)
        // The buyer shipped the return themselves: they took part, so the survey is offered.
        #expect(Rating.survey(of: byTimer.afterSale) != nil)
        let byBuyer = try shipped.then(.confirmReplacementReceived(note: "ok"), by: Fixture.buyer)
        #expect(Rating.survey(of: byBuyer.afterSale)?.resolution == "completed")
        let open = try Fixture.open(.exchange, [("l-1", 1)])
        #expect(Rating.survey(of: open.afterSale) == nil)
        // A return the buyer never shipped, closed by its timer: no survey.
        let approved = try Fixture.open(.returnAndRefund, [("l-1", 1)]).then(Fixture.approve(), by: Fixture.merchant)
        let closed = try approved.then(TimerRule.returnShipment.action, by: TimerRule.actor)
        #expect(closed.afterSale.status == .closed)
        #expect(Rating.survey(of: closed.afterSale) == nil)
    }

    @Test("a rating takes 1 to 5 stars from the survey's buyer only, within the window, and one edit")
    func rating() throws {
        let shipped = try Fixture.open(.exchange, [("l-1", 1)]).then(Fixture.approve(), by: Fixture.merchant)
            .then(.shipReturn(carrier: "SF", trackingNumber: "SF1"), by: Fixture.buyer)
            .then(.confirmReturnReceived(condition: nil, note: "", evidence: []), by: Fixture.merchant)
            .then(.shipReplacement(carrier: "SF", trackingNumber: "SF2", note: ""), by: Fixture.merchant)
            .then(.confirmReplacementReceived(note: "ok"), by: Fixture.buyer)
        let survey = try #require(Rating.survey(of: shipped.afterSale))
        let now = survey.endedAt.adding(milliseconds: 1_000)
        #expect(throws: DomainError.self) { try Rating.rate(survey, stars: 6, tags: [], comment: "", by: Fixture.buyer, at: now, windowMs: 10_000) }
        #expect(throws: DomainError.self) { try Rating.rate(survey, stars: 5, tags: [], comment: "", by: Fixture.otherBuyer, at: now, windowMs: 10_000) }
        #expect(throws: DomainError.self) {
            try Rating.rate(survey, stars: 5, tags: [], comment: "", by: Fixture.buyer, at: now.adding(milliseconds: 10_000), windowMs: 10_000)
        }
        let rating = try Rating.rate(survey, stars: 5, tags: ["fast"], comment: "好", by: Fixture.buyer, at: now, windowMs: 10_000)
        #expect(rating.shopID == "s-1" && rating.resolution == "completed" && rating.refunded == nil)
        let edited = try rating.edited(stars: 2, tags: [], comment: "", by: Fixture.buyer, at: now, endedAt: survey.endedAt, windowMs: 10_000)
        #expect(edited.version == 2 && edited.stars == 2 && edited.ratedAt == rating.ratedAt)
        #expect(throws: DomainError.self) {
            try edited.edited(stars: 3, tags: [], comment: "", by: Fixture.buyer, at: now, endedAt: survey.endedAt, windowMs: 10_000)
        }
    }
}
