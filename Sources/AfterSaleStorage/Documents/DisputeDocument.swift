import AfterSaleDomain

/// The stored form of a dispute.
public enum DisputeDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    /// The document of `d`.
    public static func encode(_ d: Dispute) -> [UInt8] {
        var w = DocumentWriter(format: format)
        w.string(d.id)
        w.string(d.caseNumber.rawValue)
        w.string(d.orderID)
        w.string(d.buyerID)
        w.string(d.shopID)
        w.name(d.grounds)
        w.name(d.status)
        w.name(d.caseStatusAtOpening)
        w.list(d.entries) { w, e in
            w.timestamp(e.at)
            w.principal(e.actor)
            w.name(e.step)
            w.string(e.text)
            w.list(e.evidence) { $0.evidence($1) }
            w.optional(e.from) { $0.name($1) }
            w.name(e.to)
        }
        w.optional(d.merchantResponseDueAt) { $0.timestamp($1) }
        w.list(d.evidenceRequests) { w, r in
            w.name(r.party)
            w.string(r.note)
            w.timestamp(r.dueAt)
            w.name(r.state)
        }
        w.optional(d.ruling) { $0.ruling($1) }
        w.optional(d.appealDueAt) { $0.timestamp($1) }
        w.optional(d.appealedAt) { $0.timestamp($1) }
        w.optional(d.appealRuling) { $0.ruling($1) }
        w.optional(d.ticketID) { $0.string($1) }
        w.timestamp(d.openedAt)
        w.timestamp(d.updatedAt)
        w.optional(d.finishedAt) { $0.timestamp($1) }
        w.integer(d.version)
        return w.bytes
    }

    /// The dispute `bytes` hold.
    /// - Throws: ``CorruptDocument``.
    public static func decode(_ bytes: [UInt8]) throws -> Dispute {
        var r = try DocumentReader(bytes, format: format, kind: "dispute")
        let id = try r.string()
        let numberText = try r.string()
        let number = try decoding { try CaseNumber(parsing: numberText) }
        let dispute = Dispute(
            id: id, caseNumber: number, orderID: try r.string(), buyerID: try r.string(), shopID: try r.string(),
            grounds: try r.name(DisputeGrounds.self), status: try r.name(DisputeStatus.self), caseStatusAtOpening: try r.name(CaseStatus.self),
            entries: try r.list { r in
                DisputeEntry(at: try r.timestamp(), actor: try r.principal(), step: try r.name(DisputeStep.self), text: try r.string(),
                             evidence: try r.list { try $0.evidence() }, from: try r.optional { try $0.name(DisputeStatus.self) },
                             to: try r.name(DisputeStatus.self))
            },
            merchantResponseDueAt: try r.optional { try $0.timestamp() },
            evidenceRequests: try r.list { r in
                EvidenceRequest(party: try r.name(ActorRole.self), note: try r.string(), dueAt: try r.timestamp(),
                                state: try r.name(EvidenceRequest.State.self))
            },
            ruling: try r.optional { try $0.ruling() }, appealDueAt: try r.optional { try $0.timestamp() },
            appealedAt: try r.optional { try $0.timestamp() }, appealRuling: try r.optional { try $0.ruling() },
            ticketID: try r.optional { try $0.string() }, openedAt: try r.timestamp(), updatedAt: try r.timestamp(),
            finishedAt: try r.optional { try $0.timestamp() }, version: try r.integer())
        try r.finish()
        return dispute
    }
}

extension DocumentWriter {
    mutating func ruling(_ value: DisputeRuling) {
        name(value.outcome)
        optional(value.amount) { $0.money($1) }
        string(value.reason)
        principal(value.ruledBy)
        timestamp(value.at)
        optional(value.refundID) { $0.string($1) }
    }
}

extension DocumentReader {
    mutating func ruling() throws -> DisputeRuling {
        DisputeRuling(outcome: try name(DisputeOutcome.self), amount: try optional { try $0.money() }, reason: try string(),
                      ruledBy: try principal(), at: try timestamp(), refundID: try optional { try $0.string() })
    }
}
