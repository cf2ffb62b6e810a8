/// A fixed log-scale histogram of durations: what the statistics rollups store per row, so that
/// medians and p90s over any date range come from merging rows, never from reading every case.
///
/// Bucket 0 holds durations under one second; bucket `b ≥ 1` holds
/// `[2^((b−1)/8), 2^(b/8))` seconds (eight buckets per doubling), up to ``maximumBucket``
/// (about 2^40 s; longer durations land in the last bucket). A percentile is reported as the
/// geometric middle of the bucket the rank falls in, so it is within ``relativeError`` (4.4 %) of
/// the exact nearest-rank value for any duration of at least one second; under a second it is
/// reported as 500 ms.
public enum DurationHistogram {
    /// Buckets per doubling of the duration.
    public static let bucketsPerDoubling = 8
    /// The last bucket (durations of 2^40 s and longer land here too).
    public static let maximumBucket = 40 * bucketsPerDoubling
    /// The largest relative error of a reported percentile for durations of a second or more:
    /// half a bucket's width on the log scale, 2^(1/16) − 1.
    public static let relativeError = halfStep - 1

    /// 2^(1/8): the ratio of one bucket's bounds.
    static let step = 1.0905077326652577
    /// 2^(1/16): from a bucket's lower bound to its geometric middle.
    static let halfStep = 1.0442737824274138
    /// The lower bound of every bucket in milliseconds (index = bucket): 1000 · 2^k · 2^(j/8) for
    /// bucket 1 + 8k + j, so every doubling starts on an exact power of two.
    static let lowerBounds: [Double] = {
        var fractions: [Double] = [1]
        while fractions.count < bucketsPerDoubling { fractions.append(fractions[fractions.count - 1] * step) }
        var bounds: [Double] = [0]
        var power = 1_000.0
        while bounds.count <= maximumBucket + 1 {
            for fraction in fractions where bounds.count <= maximumBucket + 1 { bounds.append(power * fraction) }
            power *= 2
        }
        return bounds
    }()

    /// The bucket a duration of `milliseconds` falls in (negative durations count as zero).
    public static func bucket(milliseconds: Int64) -> Int {
        guard milliseconds >= 1_000 else { return 0 }
        let value = Double(milliseconds)
        // The last bucket whose lower bound is at most the value (binary search).
        var low = 1
        var high = maximumBucket
        while low < high {
            let middle = (low + high + 1) / 2
            if lowerBounds[middle] <= value { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The smallest duration of bucket `b`, in milliseconds.
    public static func lowerBoundMilliseconds(_ b: Int) -> Double {
        lowerBounds[min(max(b, 0), maximumBucket + 1)]
    }

    /// The duration reported for bucket `b`: the geometric middle of its bounds (500 ms for bucket 0).
    public static func representativeMilliseconds(_ b: Int) -> Int64 {
        guard b > 0 else { return 500 }
        return Int64((lowerBoundMilliseconds(b) * halfStep).rounded())
    }

    /// The nearest-rank `fraction` percentile (0 < fraction ≤ 1) of the merged `counts` (bucket →
    /// samples), as the bucket's representative duration; nil when there are no samples.
    /// Negative counts (a re-solved ticket's earlier sample taken back) cancel their positive ones.
    public static func percentile(_ fraction: Double, of counts: [Int: Int64]) -> Int64? {
        let buckets = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        let total = buckets.reduce(Int64(0)) { $0 + $1.value }
        guard total > 0 else { return nil }
        let rank = max(1, Int64((fraction * Double(total)).rounded(.up)))
        var seen: Int64 = 0
        for (bucket, count) in buckets {
            seen += count
            if seen >= rank { return representativeMilliseconds(bucket) }
        }
        return buckets.last.map { representativeMilliseconds($0.key) }
    }

    /// The number of samples in `counts`.
    public static func count(_ counts: [Int: Int64]) -> Int64 {
        counts.values.reduce(0) { $0 + max(0, $1) }
    }
}
