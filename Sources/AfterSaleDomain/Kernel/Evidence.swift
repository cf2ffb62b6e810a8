/// Where a piece of evidence lives: the service stores references, never bytes.
public enum EvidenceLocation: Sendable, Hashable {
    /// A URL the file can be fetched from (http or https).
    case url(String)
    /// A key in the platform's object storage.
    case objectKey(String)
}

/// A reference to a photo or video the buyer (or merchant) attached (凭证).
public struct EvidenceRef: Sendable, Hashable {
    /// Where the file is.
    public var location: EvidenceLocation
    /// The MIME type, e.g. `image/jpeg`.
    public var contentType: String
    /// The size in bytes.
    public var sizeBytes: Int64

    /// Creates a reference; ``EvidencePolicy/validate(_:field:)`` checks it.
    public init(location: EvidenceLocation, contentType: String, sizeBytes: Int64) {
        self.location = location
        self.contentType = contentType
        self.sizeBytes = sizeBytes
    }

    /// True for `image/*` content.
    public var isImage: Bool { contentType.lowercased().hasPrefix("image/") }
    /// True for `video/*` content.
    public var isVideo: Bool { contentType.lowercased().hasPrefix("video/") }
}

/// Limits on evidence references: how many, what types, how large.
public struct EvidencePolicy: Sendable, Hashable {
    /// At most this many references per case or message.
    public var maximumCount: Int
    /// Largest image accepted, in bytes.
    public var maximumImageBytes: Int64
    /// Largest video accepted, in bytes.
    public var maximumVideoBytes: Int64
    /// Longest URL or object key accepted, in bytes.
    public var maximumLocationBytes: Int

    /// Creates evidence limits.
    public init(maximumCount: Int = 9, maximumImageBytes: Int64 = 20 << 20, maximumVideoBytes: Int64 = 200 << 20,
                maximumLocationBytes: Int = 2048) {
        self.maximumCount = maximumCount
        self.maximumImageBytes = maximumImageBytes
        self.maximumVideoBytes = maximumVideoBytes
        self.maximumLocationBytes = maximumLocationBytes
    }

    /// Nine photos of up to 20 MiB, or videos of up to 200 MiB.
    public static let standard = EvidencePolicy()

    /// Checks a list of references: count, then each one.
    /// - Throws: ``DomainError/invalidArgument(field:message:)`` naming e.g. `evidence[2].size_bytes`.
    public func validate(_ evidence: [EvidenceRef], field: String = "evidence") throws(DomainError) {
        guard evidence.count <= maximumCount else {
            throw .invalidArgument(field: field, message: "at most \(maximumCount) files, got \(evidence.count)")
        }
        for (index, item) in evidence.enumerated() { try validate(item, field: "\(field)[\(index)]") }
    }

    /// Checks one reference: a non-empty location (an http(s) URL or an object key without spaces),
    /// an `image/*` or `video/*` content type, and a size within the limit for that type.
    public func validate(_ item: EvidenceRef, field: String) throws(DomainError) {
        switch item.location {
        case .url(let url):
            let lower = url.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), url.utf8.count > 8 else {
                throw .invalidArgument(field: "\(field).url", message: "must be an http or https URL, got \"\(url)\"")
            }
            try checkLocation(url, field: "\(field).url")
        case .objectKey(let key):
            guard !key.isEmpty else { throw .invalidArgument(field: "\(field).object_key", message: "must not be empty") }
            try checkLocation(key, field: "\(field).object_key")
        }
        let parts = item.contentType.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "image" || parts[0] == "video", !parts[1].isEmpty else {
            throw .invalidArgument(field: "\(field).content_type", message: "must be image/* or video/*, got \"\(item.contentType)\"")
        }
        let limit = parts[0] == "image" ? maximumImageBytes : maximumVideoBytes
        guard item.sizeBytes > 0, item.sizeBytes <= limit else {
            throw .invalidArgument(field: "\(field).size_bytes", message: "must be between 1 and \(limit) bytes for \(parts[0]) files, got \(item.sizeBytes)")
        }
    }

    private func checkLocation(_ text: String, field: String) throws(DomainError) {
        guard text.utf8.count <= maximumLocationBytes else {
            throw .invalidArgument(field: field, message: "must be at most \(maximumLocationBytes) bytes, got \(text.utf8.count)")
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw .invalidArgument(field: field, message: "must not contain spaces or control characters")
        }
    }
}
