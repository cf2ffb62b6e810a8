import AfterSaleDomain

/// The stored form of a rating.
public enum RatingDocument {
    /// The layout number the document starts with.
    public static let format: UInt8 = 1

    public static func encode(_ r: Rating) -> [UInt8] {
        var w = DocumentWriter(format: format)
        w.string(r.subject.description)
        w.string(r.buyerID)
        w.integer(r.stars)
        w.list(r.tags) { $0.string($1) }
        w.string(r.comment)
        w.string(r.shopID)
        w.optional(r.agentID) { $0.string($1) }
        w.string(r.resolution)
        w.optional(r.refunded) { $0.money($1) }
        w.timestamp(r.ratedAt)
        w.optional(r.editedAt) { $0.timestamp($1) }
        w.integer(r.version)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> Rating {
        var r = try DocumentReader(bytes, format: format, kind: "rating")
        let subjectText = try r.string()
        let rating = Rating(subject: try decoding { try RatingSubject(parsing: subjectText) }, buyerID: try r.string(), stars: try r.int(),
                            tags: try r.list { try $0.string() }, comment: try r.string(), shopID: try r.string(),
                            agentID: try r.optional { try $0.string() }, resolution: try r.string(),
                            refunded: try r.optional { try $0.money() }, ratedAt: try r.timestamp(),
                            editedAt: try r.optional { try $0.timestamp() }, version: try r.integer())
        try r.finish()
        return rating
    }
}
