import AfterSaleDomain
import AfterSaleProto
import RPCWire
import ServiceKit

/// The tables of docs/PROTOCOL.md that are generated from the code's own tables (the domain's
/// transitions, roles and timers, the method access table, the error mapping and the policy's
/// defaults), so the document cannot drift: `swift run aftersale-docs` rewrites them, and a test
/// fails when the committed document differs from what the code says.
///
/// A generated section sits between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`.
public enum ProtocolTables {
    /// Every generated section, by name.
    public static var sections: [String: String] {
        var sections: [String: String] = [
            "method-roles": methodRoles(),
            "refusal-codes": refusalCodes(),
            "refund-defaults": refundDefaults(),
        ]
        for kind in AfterSaleDomain.AfterSaleKind.allCases { sections["state-machine-\(kind.rawValue)"] = stateMachine(kind) }
        return sections
    }

    /// `document` with every generated section replaced by what the code says now.
    /// - Returns: the new text and the names of sections the document lacks.
    public static func apply(to document: String) -> (text: String, missing: [String]) {
        var text = document
        var missing: [String] = []
        for (name, body) in sections.sorted(by: { $0.key < $1.key }) {
            let begin = "<!-- BEGIN GENERATED: \(name) -->", end = "<!-- END GENERATED: \(name) -->"
            guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
                missing.append(name)
                continue
            }
            text.replaceSubrange(start.upperBound..<stop.lowerBound, with: "\n" + body + "\n")
        }
        return (text, missing)
    }

    // MARK: - State machines

    /// The RPC (or the timer, or the payment report) that takes each action.
    static func entryPoint(_ action: ActionKind) -> String {
        switch action {
        case .autoApprove: "review timer (merchant silent)"
        case .approve: "`ReviewAfterSale` APPROVE"
        case .reject: "`ReviewAfterSale` REJECT"
        case .withdraw: "`WithdrawAfterSale`"
        case .shipReturn: "`SubmitReturnShipment` SELF_SHIP"
        case .bookPickup: "`SubmitReturnShipment` PICKUP"
        case .recordTracking: "`IngestTrackingEvent`"
        case .confirmReturnReceived: "`ConfirmReturnReceived` (or the receipt timer)"
        case .shipReplacement: "`ShipReplacement`"
        case .confirmReplacementReceived: "`ConfirmReplacementReceived` (or the confirmation timer)"
        case .forceRefund: "`ForceRefund`"
        case .arbitrationRefund: "`Disputes.RuleDispute` FOR_BUYER or MEDIATED"
        case .refundSucceeded: "`ReportRefundResult` SUCCEEDED"
        case .refundFailed: "`ReportRefundResult` FAILED"
        case .close: "return-shipment timer (no RPC closes a case)"
        }
    }

    static func wire(_ status: AfterSaleDomain.CaseStatus) -> String {
        "`" + ProtoMapping.status(status).protoName.replacingOccurrences(of: "CASE_STATUS_", with: "") + "`"
    }

    static func roles(_ roles: Set<AfterSaleDomain.ActorRole>) -> String {
        AfterSaleDomain.ActorRole.allCases.filter(roles.contains).map(\.rawValue).joined(separator: ", ")
    }

    /// Every action a case of `kind` can take: who may, from which statuses, to which.
    static func stateMachine(_ kind: AfterSaleDomain.AfterSaleKind) -> String {
        var rows = ["| action | taken by | roles | from | to |", "|---|---|---|---|---|"]
        if kind == .refundOnly {
            rows.append("| create | `CreateAfterSale` | \(roles(Operation.apply.allowedRoles)) | (new) | \(wire(.pendingRefund)) (approved at once); \(wire(.pendingReview)) when abuse control holds it for a person (§13.17) |")
        } else {
            rows.append("| create | `CreateAfterSale` | \(roles(Operation.apply.allowedRoles)) | (new) | \(wire(.pendingReview)) |")
        }
        for action in ActionKind.allCases {
            var byTarget: [(AfterSaleDomain.CaseStatus, [AfterSaleDomain.CaseStatus])] = []
            for status in AfterSaleDomain.CaseStatus.allCases {
                guard let target = Transitions.target(of: action, kind: kind, from: status) else { continue }
                if let index = byTarget.firstIndex(where: { $0.0 == target }) {
                    byTarget[index].1.append(status)
                } else {
                    byTarget.append((target, [status]))
                }
            }
            for (target, from) in byTarget {
                var to = wire(target)
                if action == .recordTracking && from.contains(target) { to = "unchanged" }
                if action == .recordTracking, kind.returnsGoods, from.contains(.returnShipped) {
                    to += "; a delivered return moves to \(wire(.awaitingReceipt)) (`--tracking-advance-returns`)"
                }
                rows.append("| \(action.rawValue) | \(entryPoint(action)) | \(roles(action.allowedRoles(on: kind))) | "
                            + from.map(wire).joined(separator: ", ") + " | \(to) |")
            }
        }
        let timed = AfterSaleDomain.CaseStatus.allCases.compactMap { status -> String? in
            // A refund-only case held for review waits for the platform: no timer (CaseTimer.arm).
            guard kind.allows(status), let rule = TimerRule(waitingIn: status), !(kind == .refundOnly && rule == .merchantReview) else { return nil }
            let wait = DurationText.format(.milliseconds(TimerPolicy.marketplaceDefaults.duration(rule)))
            return "\(wire(status)): `\(rule.rawValue)`, \(rule.action.kind.rawValue) after \(wait)"
        }
        rows.append("")
        rows.append("Timers (`next_automatic_step`, counted from entering the wait, platform defaults): "
                    + (timed.isEmpty ? "none." : timed.joined(separator: "; ") + "."))
        return rows.joined(separator: "\n")
    }

    /// A case of `kind` in `status` since the epoch, to ask the domain about.
    static func probeCase(kind: AfterSaleDomain.AfterSaleKind, status: AfterSaleDomain.CaseStatus) -> AfterSaleDomain.AfterSaleCase? {
        guard let number = CaseNumber.example else { return nil }
        let zero = Money(minorUnits: 0, currency: .cny)
        let epoch = Timestamp(millisecondsSinceEpoch: 0)
        return AfterSaleDomain.AfterSaleCase(
            number: number, orderID: "o", buyerID: "b", shop: AfterSaleDomain.ShopInfo(id: "s", name: "s"), kind: kind,
            reasonCode: "r", reasonTitle: "r", buyerNote: "", evidence: [], lines: [], coversWholeOrder: false,
            amounts: CaseAmounts(goods: zero, shipping: zero, computed: zero, refunded: zero), status: status,
            timeline: [], version: 1, createdAt: epoch, updatedAt: epoch)
    }

    // MARK: - Methods × roles

    /// Every method with the roles that may call it and what each sees.
    static func methodRoles() -> String {
        let roles: [AfterSaleDomain.ActorRole] = AfterSaleDomain.ActorRole.allCases
        let header: String = "| method | " + roles.map(\.rawValue).joined(separator: " | ") + " | scope |"
        let rule: String = "|---|" + String(repeating: "---|", count: roles.count) + "---|"
        var rows: [String] = [header, rule]
        for method in ServiceHost.businessMethods + Health.methods + Reflection.methods {
            do {
                guard let access = MethodAccess.table[method.path] else { continue }
                let cells: [String] = roles.map { role -> String in
                    guard let allowed = access.allowedRoles else { return "any" }
                    return allowed.contains(role) ? "✓" : "–"
                }
                let scope: String = access.allowedRoles == nil ? "no identity needed" : (MethodAccess.scope[method.path] ?? "")
                let service = method.service.split(separator: ".").last.map(String.init) ?? ""
                rows.append("| `\(service)/\(method.name)` | \(cells.joined(separator: " | ")) | \(scope) |")
            }
        }
        return rows.joined(separator: "\n")
    }

    // MARK: - Refusal codes

    /// Business-rule refusals with the status code each gets, computed through the same mapping
    /// the services use.
    static func refusalCodes() -> String {
        guard let caseNumber = CaseNumber.example else { return "" }
        let cny = CurrencyCode.cny
        let refusals: [(String, RPCError)] = [
            ("a field is missing or malformed (the message names it)", DomainError.invalidArgument(field: "lines[0].quantity", message: "must be positive").rpcError),
            ("the action may not start from the case's status", DomainError.illegalTransition(action: .shipReturn, caseNumber: caseNumber, from: .pendingReview).rpcError),
            ("an eligibility rule refuses (the message names the rule code), e.g. photos required for this reason",
             DomainError.notEligible(rule: .evidenceRequired, message: "reason needs photos").rpcError),
            ("more quantity than remains on a line", DomainError.quantityExceedsRefundable(lineID: "l-1", requested: 2, available: 1).rpcError),
            ("a service fee outside 0…computed refund", DomainError.serviceFeeOutOfRange(fee: Money(minorUnits: -1, currency: cny), computed: Money(minorUnits: 100, currency: cny)).rpcError),
            ("a forced refund above what the case may still refund", DomainError.refundExceedsRefundable(requested: Money(minorUnits: 200, currency: cny), refundable: Money(minorUnits: 100, currency: cny)).rpcError),
            ("amounts in another currency than the order's", DomainError.currencyMismatch(expected: cny, actual: cny).rpcError),
            ("an amount computation would overflow 64 bits", DomainError.arithmeticOverflow(operation: "sum").rpcError),
            ("the role may not do this, or the caller does not own the case", DomainError.permissionDenied(.notCaseBuyer(buyerID: "b-2", caseNumber: caseNumber)).rpcError),
            ("a stale `expected_version`", DomainError.versionConflict(expected: 1, actual: 2).rpcError),
            ("the same carrier event reported twice (IngestTrackingEvent answers `duplicate` instead)", DomainError.duplicate(message: "tracking event").rpcError),
            ("a first success report with another amount than the refund's", report(worker: "w-1", token: "t-1", paid: 99)),
            ("a report from a worker that does not hold the lease (another worker, or a stale token)",
             report(worker: "w-2", token: "t-2", paid: 100)),
            ("an `idempotency-key` reused for another request or method", RepositoryError.idempotencyKeyReused(key: "k").rpcError),
            ("a missing `idempotency-key` on CreateAfterSale", RPCError(.invalidArgument, "idempotency-key metadata is required")),
            ("no such case, order or refund (or not visible to the caller)", RepositoryError.caseNotFound(caseNumber).rpcError),
            ("the order or its cases kept changing while the change was decided", RepositoryError.eligibilityChanged(orderID: "o").rpcError),
            ("storage failed; nothing was written", RepositoryError.storageFailure("detail").rpcError),
            ("the database cannot be reached, a lock or statement timed out, or the connection broke; the message says "
             + "whether nothing was written or the outcome is unknown (retry with the same `idempotency-key`)",
             RepositoryError.unavailable("detail").rpcError),
        ]
        var rows = ["| refusal | code |", "|---|---|"]
        for (what, error) in refusals { rows.append("| \(what) | `\(error.code.name)` |") }
        return rows.joined(separator: "\n")
    }

    /// What `RefundOrder.reporting` refuses a success report with, on a refund of 100 leased to
    /// worker `w-1` under token `t-1`.
    static func report(worker: String, token: String, paid: Int64) -> RPCError {
        guard let probe = probeCase(kind: .refundOnly, status: .pendingRefund) else { return RPCError(.internal, "no probe case") }
        let now = Timestamp(millisecondsSinceEpoch: 1_000)
        let refund = AfterSaleDomain.RefundOrder.requested(
            RefundRequest(for: probe, amount: Money(minorUnits: 100, currency: .cny), trigger: .refundOnlyCreated),
            order: nil, policy: RefundPolicy(), at: now).claimed(by: "w-1", token: "t-1", leaseMs: 60_000, at: now)
        let report = RefundReport(worker: worker, leaseToken: token, outcome: .succeeded(
            channelTransactionID: "ch-1", amount: Money(minorUnits: paid, currency: .cny), paidAt: now))
        do {
            _ = try refund.reporting(report, at: now, policy: RefundPolicy())
            return RPCError(.ok, "accepted")
        } catch {
            return error.rpcError
        }
    }

    // MARK: - Defaults

    /// The refund policy's defaults a client sees (leases, retries).
    static func refundDefaults() -> String {
        let policy = RefundPolicy()
        return [
            "| setting | default | flag |", "|---|---|---|",
            "| lease when the worker asks for none | \(policy.defaultLeaseMs) ms | `--refund-default-lease-ms` |",
            "| shortest lease (a shorter request is raised to it) | \(policy.minimumLeaseMs) ms | — |",
            "| longest lease (a longer request is cut to it) | \(policy.maximumLeaseMs) ms | `--refund-max-lease-ms` |",
            "| wait after the first failed attempt (doubles per failure) | \(policy.initialBackoffMs) ms | `--refund-initial-backoff-ms` |",
            "| longest wait between attempts | \(policy.maximumBackoffMs) ms | `--refund-max-backoff-ms` |",
            "| attempts before NEEDS_ATTENTION | \(policy.maxAttempts) | `--refund-max-attempts` |",
            "| refunds per ClaimRefunds when `max_refunds` is 0 / at most | \(RefundBridgeProvider.claimPaging.defaultSize) / \(RefundBridgeProvider.claimPaging.maximumSize) | — |",
            "| rows per ListRefunds page when `page_size` is 0 / at most | \(RefundBridgeProvider.refundPaging.defaultSize) / \(RefundBridgeProvider.refundPaging.maximumSize) | — |",
            "| rows per ListAfterSales page when `page_size` is 0 / at most | \(AfterSaleServiceProvider.casePaging.defaultSize) / \(AfterSaleServiceProvider.casePaging.maximumSize) | — |",
            "| messages per ListMessages page when `page_size` is 0 / at most | \(AfterSaleServiceProvider.messagePaging.defaultSize) / \(AfterSaleServiceProvider.messagePaging.maximumSize) | — |",
        ].joined(separator: "\n")
    }
}

extension CaseNumber {
    /// A well-formed number for the document's examples.
    static let example = try? CaseNumber(parsing: "AS20261121000001")
}
