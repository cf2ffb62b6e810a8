import AfterSaleDomain
import ServiceKit

/// The manual-review ticket of a refund-only case that abuse control (风控) held for a person
/// (``AbuseDecision``): its fixed id, its content, and opening it once. CreateAfterSale opens it
/// after the case's save; the dispute worker's repair pass opens it for a held case whose opening
/// was lost (a crash, the desk's store briefly unavailable), so no held case waits unseen.
enum ManualReview {
    /// The ticket id of case `number`'s manual review: fixed, so it is opened at most once.
    static func ticketID(of number: AfterSaleDomain.CaseNumber) -> String {
        "TKAB" + number.rawValue.filter(\.isNumber)
    }

    /// True when `afterSale` waits for a person because abuse control held it.
    static func isHeld(_ afterSale: AfterSaleDomain.AfterSaleCase) -> Bool {
        afterSale.kind == .refundOnly && afterSale.status == .pendingReview
            && afterSale.timeline.first?.note.hasPrefix(AbuseDecision.heldNotePrefix) == true
    }

    /// Opens the manual-review ticket of `afterSale`, held under `rule` (`details`: the figures).
    /// - Returns: false when it was open already.
    static func open(_ afterSale: AfterSaleDomain.AfterSaleCase, rule: String, details: String, desk: Desk,
                     at now: Timestamp) async throws -> Bool {
        let ticket = try AfterSaleDomain.Ticket.open(AfterSaleDomain.Ticket.Opening(
            id: ticketID(of: afterSale.number), origin: .platformReview,
            subject: "Refund-only case \(afterSale.number) held for manual review (\(rule))", text: details,
            caseNumber: afterSale.number, orderID: afterSale.orderID, requester: AfterSaleDomain.Ticket.desk, buyerID: afterSale.buyerID,
            shopID: afterSale.shop.id, priority: .high, requirement: SkillRequirement.derived(from: afterSale), at: now))
        do {
            try await desk.core.open(ticket)
        } catch DomainError.duplicate {
            return false
        }
        await desk.loop.request()
        return true
    }

    /// Opens the missing manual-review tickets of held cases, looking at up to `limit` cases
    /// pending review (refund-only). Idempotent: each ticket's id is fixed.
    /// - Returns: the tickets opened.
    static func repair(store: any AfterSaleRepository, desk: Desk, now: Timestamp, logger: Logger, limit: Int = 1_000) async throws -> Int {
        var opened = 0
        var seen = 0
        var query = CaseQuery(kind: .refundOnly, statuses: [.pendingReview], pageSize: 100)
        while seen < limit {
            let page = try await store.listCases(query)
            for row in page.rows {
                do {
                    guard try await store.ticket(ticketID(of: row.number)) == nil, let afterSale = try await store.afterSale(row.number),
                          isHeld(afterSale) else { continue }
                    let rule = String(afterSale.timeline.first?.note.dropFirst(AbuseDecision.heldNotePrefix.count) ?? "")
                    if try await open(afterSale, rule: rule, details: "opened by the repair pass: the ticket's opening after the case's save was lost",
                                      desk: desk, at: now) {
                        opened += 1
                    }
                } catch {
                    logger.log(.warning, "could not open a held case's manual-review ticket",
                               ["case": row.number.rawValue, "error": String(describing: error)])
                }
            }
            seen += page.rows.count
            guard let next = page.next else { break }
            query.after = next
        }
        return opened
    }
}
