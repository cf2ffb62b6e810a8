/// Working hours per weekday and holidays, in one UTC offset: what business-hour targets count.
public struct BusinessCalendar: Sendable, Hashable {
    /// The calendar's local time: minutes east of UTC (China: 480).
    public var utcOffsetMinutes: Int
    /// Working minutes of the day per weekday (1 Monday … 7 Sunday): start and end minute after
    /// local midnight; a missing weekday is a day off.
    public var hours: [Int: WorkingHours]
    /// Days off, as local `yyyy-MM-dd`.
    public var holidays: Set<String>

    /// One day's working window.
    public struct WorkingHours: Sendable, Hashable {
        /// Minutes after local midnight the work starts.
        public var start: Int
        /// Minutes after local midnight it ends (after `start`, at most 1440).
        public var end: Int

        /// Creates a window.
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    /// Creates a calendar.
    public init(utcOffsetMinutes: Int, hours: [Int: WorkingHours], holidays: Set<String> = []) {
        self.utcOffsetMinutes = utcOffsetMinutes
        self.hours = hours
        self.holidays = holidays
    }

    /// Monday to Friday, 09:00–18:00 China time, no holidays.
    public static let chinaOfficeHours = BusinessCalendar(
        utcOffsetMinutes: 480, hours: Dictionary(uniqueKeysWithValues: (1...5).map { ($0, WorkingHours(start: 540, end: 1_080)) }))

    /// Every minute of every day.
    public static let always = BusinessCalendar(
        utcOffsetMinutes: 0, hours: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, WorkingHours(start: 0, end: 1_440)) }))

    /// Checks the windows and holidays.
    /// - Throws: ``DomainError/invalidArgument(field:message:)``.
    public func validate() throws(DomainError) {
        guard (-720...840).contains(utcOffsetMinutes) else {
            throw .invalidArgument(field: "utc_offset_minutes", message: "between -720 and 840")
        }
        for (day, window) in hours {
            guard (1...7).contains(day), 0 <= window.start, window.start < window.end, window.end <= 1_440 else {
                throw .invalidArgument(field: "hours", message: "weekday \(day): a window inside the day, start before end")
            }
        }
        for holiday in holidays where Self.dayNumber(of: holiday) == nil {
            throw .invalidArgument(field: "holidays", message: "'\(holiday)' is not a yyyy-MM-dd date")
        }
    }

    private static let dayMs: Int64 = 86_400_000
    /// The longest stretch searched for working time (10 years of days).
    private static let horizonDays = 3_660

    /// The instant at which `businessMs` of working time, outside `pauses`, has passed since
    /// `start`; nil when that never happens within ten years (an open pause, no working hours).
    public func instant(after businessMs: Int64, from start: Timestamp, pauses: [PausePeriod] = []) -> Timestamp? {
        var remaining = max(0, businessMs)
        var result: Timestamp?
        walk(from: start, pauses: pauses) { from, to in
            let length = to - from
            if remaining <= length {
                result = Timestamp(millisecondsSinceEpoch: from + remaining)
                return false
            }
            remaining -= length
            return true
        }
        return result
    }

    /// The working time, outside `pauses`, between `from` and `to`.
    public func elapsed(from: Timestamp, to: Timestamp, pauses: [PausePeriod] = []) -> Int64 {
        guard to > from else { return 0 }
        var total: Int64 = 0
        walk(from: from, pauses: pauses) { a, b in
            if a >= to.millisecondsSinceEpoch { return false }
            total += min(b, to.millisecondsSinceEpoch) - a
            return b < to.millisecondsSinceEpoch
        }
        return total
    }

    /// Calls `visit` with each stretch of working time outside the pauses from `start` on, in
    /// order, until it returns false or the horizon is reached.
    private func walk(from start: Timestamp, pauses: [PausePeriod], _ visit: (Int64, Int64) -> Bool) {
        let offset = Int64(utcOffsetMinutes) * 60_000
        let begin = start.millisecondsSinceEpoch
        let firstDay = Self.floorDiv(begin + offset, Self.dayMs)
        let closed = PausePeriod.merged(pauses)
        for day in firstDay..<(firstDay + Int64(Self.horizonDays)) {
            let weekday = Int(((day % 7) + 7 + 3) % 7) + 1
            guard let window = hours[weekday], !holidays.contains(Self.dateText(day)) else { continue }
            let dayStart = day * Self.dayMs - offset
            var from = max(begin, dayStart + Int64(window.start) * 60_000)
            let to = dayStart + Int64(window.end) * 60_000
            guard from < to else { continue }
            for pause in closed {
                let pauseEnd = pause.to?.millisecondsSinceEpoch ?? Int64.max
                let pauseStart = pause.from.millisecondsSinceEpoch
                if pauseEnd <= from || pauseStart >= to { continue }
                if pauseStart > from, !visit(from, pauseStart) { return }
                if pause.to == nil { return }
                from = max(from, pauseEnd)
                if from >= to { break }
            }
            if from < to, !visit(from, to) { return }
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// `yyyy-MM-dd` of day number `day` (days since 1970-01-01).
    static func dateText(_ day: Int64) -> String {
        // Civil from days (Howard Hinnant's algorithm).
        let z = day + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))"
    }

    /// The day number of `yyyy-MM-dd`, nil when it is not a date.
    static func dayNumber(of text: String) -> Int64? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]), (1...12).contains(m), (1...31).contains(d) else {
            return nil
        }
        let yy = m <= 2 ? y - 1 : y
        let era = floorDiv(yy, 400)
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let day = era * 146_097 + doe - 719_468
        return dateText(day) == text ? day : nil
    }
}

/// A span in which a clock stands still; an open one (no end) still runs.
public struct PausePeriod: Sendable, Hashable {
    /// When it began.
    public var from: Timestamp
    /// When it ended; nil while it lasts.
    public var to: Timestamp?

    /// Creates a period.
    public init(from: Timestamp, to: Timestamp?) {
        self.from = from
        self.to = to
    }

    /// Sorted, non-overlapping periods covering the same instants.
    static func merged(_ periods: [PausePeriod]) -> [PausePeriod] {
        var result: [PausePeriod] = []
        for period in periods.sorted(by: { $0.from < $1.from }) {
            if let to = period.to, to <= period.from { continue }
            if let last = result.last, last.to.map({ period.from <= $0 }) ?? true {
                if let lastEnd = last.to, let end = period.to {
                    result[result.count - 1].to = max(lastEnd, end)
                } else {
                    result[result.count - 1].to = nil
                }
            } else {
                result.append(period)
            }
        }
        return result
    }
}
