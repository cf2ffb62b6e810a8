import AfterSaleDomain

/// How a backend claims refunds inside one write transaction: walk the claimable rows (pending,
/// retry due, lease expired; by availability) in growing windows, skip rows on other payment
/// channels without taking them, and lease each chosen one with the next fresh token.
public enum RefundClaimWindow {
    /// Claims for `claim`, reading candidates with `candidates(limit)` (the claimable rows by
    /// availability, at most `limit`) and storing each claimed refund with `store(next, prior)`.
    /// Both run in the caller's transaction.
    public static func claim(_ claim: RefundClaim, candidates: (Int) throws -> [RefundOrder],
                             store: (_ next: RefundOrder, _ prior: RefundOrder) throws -> Void) throws -> [RefundOrder] {
        let limit = min(claim.limit, claim.tokens.count, StorageContract.maximumClaim)
        guard limit > 0 else { return [] }
        var claimed: [RefundOrder] = []
        var tokens = claim.tokens.makeIterator()
        var window = limit * 4
        while claimed.count < limit {
            let rows = try candidates(window)
            var progressed = false
            for refund in rows where claimed.count < limit && !claimed.contains(where: { $0.id == refund.id }) {
                guard refund.isClaimable(at: claim.at),
                      claim.channels.isEmpty || claim.channels.contains(refund.paymentChannel),
                      let token = tokens.next() else { continue }
                let next = refund.claimed(by: claim.owner, token: token, leaseMs: claim.leaseMs, at: claim.at)
                try store(next, refund)
                claimed.append(next)
                progressed = true
            }
            // Claimed rows move past `now` in the availability order, so a second pass sees the
            // next ones; stop when a pass found nothing new or the rows ran out.
            if !progressed || rows.count < window { break }
            window *= 2
        }
        return claimed
    }
}
