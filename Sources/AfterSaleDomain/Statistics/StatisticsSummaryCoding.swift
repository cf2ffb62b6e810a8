/// The stored form of a statistics block's sums (``StatisticsBlock/body``): compact, and merged
/// without building intermediate summaries.
///
/// Layout (version 1), integers as LEB128 varints, signed ones zigzag-encoded:
///
///     0x01
///     counters:   count, then per counter: name length, name (UTF-8), value (signed)
///     histograms: count, then per histogram: name length, name (UTF-8),
///                 bucket count, then per bucket: bucket, samples (signed)
///
/// Zero values are left out; counters and histograms are written in name order, buckets in
/// bucket order, so equal summaries encode to equal bytes.
extension StatisticsSummary {
    /// The encoding's first byte.
    static let encodingVersion: UInt8 = 1

    /// True when every counter and bucket is zero.
    public var isEmpty: Bool {
        counters.values.allSatisfy { $0 == 0 } && histograms.values.allSatisfy { $0.values.allSatisfy { $0 == 0 } }
    }

    /// The summary encoded (see the type's documentation).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.encodingVersion]
        let counters = counters.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        Self.put(UInt64(counters.count), into: &out)
        for (name, value) in counters {
            Self.put(name, into: &out)
            Self.put(signed: value, into: &out)
        }
        let histograms = histograms.compactMap { histogram, buckets -> (String, [(Int, Int64)])? in
            let used = buckets.filter { $0.value != 0 }.sorted { $0.key < $1.key }
            return used.isEmpty ? nil : (histogram.rawValue, used.map { ($0.key, $0.value) })
        }.sorted { $0.0 < $1.0 }
        Self.put(UInt64(histograms.count), into: &out)
        for (name, buckets) in histograms {
            Self.put(name, into: &out)
            Self.put(UInt64(buckets.count), into: &out)
            for (bucket, samples) in buckets {
                Self.put(UInt64(bucket), into: &out)
                Self.put(signed: samples, into: &out)
            }
        }
        return out
    }

    /// The summary `body` encodes.
    /// - Throws: ``RepositoryError/storageFailure(_:)`` when `body` is not an encoded summary.
    public init(encoded body: [UInt8]) throws(RepositoryError) {
        self.init()
        try add(encoded: body)
    }

    /// Adds the sums `body` encodes (a stored block) to these.
    /// - Throws: ``RepositoryError/storageFailure(_:)`` when `body` is not an encoded summary;
    ///   nothing is added then.
    public mutating func add(encoded body: [UInt8]) throws(RepositoryError) {
        // Read whole first, then added in place: a corrupt body changes nothing, and a good one
        // costs no copy of the sums so far (merging thousands of blocks stays linear).
        var counters: [(String, Int64)] = []
        var buckets: [(StatisticsHistogram, Int, Int64)] = []
        buckets.reserveCapacity(body.count / 2)
        try Self.walk(body) { counters.append(($0, $1)) } histogram: { buckets.append(($0, $1, $2)) }
        for (name, value) in counters { addCounter(name, value) }
        var start = 0
        while start < buckets.count {
            // One histogram's buckets are consecutive: add them to its dictionary taken out of
            // `histograms` (so it is not shared, and not copied).
            let histogram = buckets[start].0
            var end = start
            while end < buckets.count, buckets[end].0 == histogram { end += 1 }
            addBuckets(histogram, buckets[start..<end].lazy.map { ($0.1, $0.2) })
            start = end
        }
    }

    /// Reads `body` front to back, calling `counter` for each counter and `histogram` for each
    /// bucket; throws at the first thing out of place.
    static func walk(_ body: [UInt8], counter: (String, Int64) -> Void,
                     histogram: (StatisticsHistogram, Int, Int64) -> Void) throws(RepositoryError) {
        var reader = Reader(bytes: body)
        guard reader.byte() == Self.encodingVersion else { throw Self.corrupt("unknown version") }
        let counterCount = try reader.count()
        for _ in 0..<counterCount {
            let name = try reader.text()
            counter(name, try reader.signed())
        }
        let histogramCount = try reader.count()
        for _ in 0..<histogramCount {
            let name = try reader.text()
            guard let kind = StatisticsHistogram(rawValue: name) else { throw Self.corrupt("unknown histogram \(name)") }
            let bucketCount = try reader.count()
            for _ in 0..<bucketCount {
                let bucket = try reader.count()
                guard bucket <= DurationHistogram.maximumBucket else { throw Self.corrupt("bucket \(bucket) out of range") }
                histogram(kind, bucket, try reader.signed())
            }
        }
        guard reader.atEnd else { throw Self.corrupt("trailing bytes") }
    }

    static func corrupt(_ why: String) -> RepositoryError {
        .storageFailure("a stored statistics block is corrupt: \(why)")
    }

    static func put(_ value: UInt64, into out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    static func put(signed value: Int64, into out: inout [UInt8]) {
        put(UInt64(bitPattern: (value << 1) ^ (value >> 63)), into: &out)
    }

    static func put(_ text: String, into out: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        put(UInt64(utf8.count), into: &out)
        out.append(contentsOf: utf8)
    }

    /// Reads the encoding front to back; every read checks the bounds.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws(RepositoryError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = byte() {
                guard shift < 64 else { break }
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            throw StatisticsSummary.corrupt("a truncated or overlong number")
        }

        /// A count or index: small and non-negative.
        mutating func count() throws(RepositoryError) -> Int {
            let value = try varint()
            guard value <= UInt64(bytes.count) * 8 + UInt64(DurationHistogram.maximumBucket) else {
                throw StatisticsSummary.corrupt("a count of \(value)")
            }
            return Int(value)
        }

        mutating func signed() throws(RepositoryError) -> Int64 {
            let raw = try varint()
            return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
        }

        mutating func text() throws(RepositoryError) -> String {
            let length = try count()
            guard length <= bytes.count - offset else { throw StatisticsSummary.corrupt("a truncated name") }
            defer { offset += length }
            return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
        }
    }
}

/// Sums of many stored blocks being merged into one group's summary (GetStatistics' hot path):
/// the histograms as dense arrays of buckets, so adding a block costs no hashing per bucket.
struct StatisticsAccumulator {
    var counters: [String: Int64] = [:]
    /// Per histogram (``StatisticsHistogram/allCases`` order): empty until used, then every bucket.
    var buckets: [[Int64]] = Array(repeating: [], count: StatisticsHistogram.allCases.count)

    /// Adds the sums `body` encodes. A corrupt body throws (the answer fails; it may have added
    /// part of that body, so the accumulator is not used after a throw).
    mutating func add(encoded body: [UInt8]) throws(RepositoryError) {
        try StatisticsSummary.walk(body) { name, value in
            counters[name, default: 0] &+= value
        } histogram: { histogram, bucket, samples in
            let index = histogram.index
            if buckets[index].isEmpty { buckets[index] = Array(repeating: 0, count: DurationHistogram.maximumBucket + 1) }
            buckets[index][bucket] &+= samples
        }
    }

    /// The merged sums as a summary (zero buckets left out).
    var summary: StatisticsSummary {
        var histograms: [StatisticsHistogram: [Int: Int64]] = [:]
        for (index, histogram) in StatisticsHistogram.allCases.enumerated() where !buckets[index].isEmpty {
            var counts: [Int: Int64] = [:]
            for (bucket, samples) in buckets[index].enumerated() where samples != 0 { counts[bucket] = samples }
            histograms[histogram] = counts
        }
        return StatisticsSummary(counters: counters, histograms: histograms)
    }
}

extension StatisticsHistogram {
    /// The position in ``allCases``.
    var index: Int {
        switch self {
        case .processingCalendar: 0
        case .processingBusiness: 1
        case .firstReplyCalendar: 2
        case .firstReplyBusiness: 3
        case .resolutionCalendar: 4
        case .resolutionBusiness: 5
        }
    }
}
