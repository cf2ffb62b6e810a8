import AfterSaleDomain
import Foundation
import ServiceKit

/// The service desk's SLA file (`--desk-sla-file`): targets per priority and the business calendar.
///
/// ```json
/// {
///   "utc_offset_minutes": 480,
///   "hours": { "mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
///              "fri": "09:00-18:00", "sat": "10:00-16:00" },
///   "holidays": ["2027-02-05", "2027-02-06"],
///   "warning_lead": "30m",
///   "targets": {
///     "urgent": { "first_response": "30m", "next_response": "1h", "resolution": "4h" },
///     "high":   { "first_response": "1h",  "next_response": "2h", "resolution": "8h" },
///     "normal": { "first_response": "4h",  "next_response": "8h", "resolution": "24h" },
///     "low":    { "first_response": "8h",  "next_response": "24h", "resolution": "72h" }
///   }
/// }
/// ```
/// Every key is required except `holidays`; a weekday left out is a day off. Targets count business
/// time; the warning lead is wall-clock time before a breach.
enum SLAFile {
    /// What is wrong with a file.
    struct Invalid: Error {
        let message: String
    }

    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static func read(_ path: String) throws -> SLAPolicy {
        guard let data = FileManager.default.contents(atPath: path) else { throw Invalid(message: "cannot read the file") }
        return try parse(data)
    }

    static func parse(_ data: Data) throws -> SLAPolicy {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Invalid(message: "not a JSON object") }
        guard let offset = root["utc_offset_minutes"] as? Int else { throw Invalid(message: "utc_offset_minutes: an integer is required") }
        guard let hoursObject = root["hours"] as? [String: String] else { throw Invalid(message: "hours: an object of weekday: \"HH:MM-HH:MM\"") }
        var hours: [Int: BusinessCalendar.WorkingHours] = [:]
        for (key, text) in hoursObject {
            guard let index = weekdays.firstIndex(of: key) else { throw Invalid(message: "hours: '\(key)' is not one of \(weekdays.joined(separator: ", "))") }
            let parts = text.split(separator: "-").map(String.init)
            guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]) else {
                throw Invalid(message: "hours.\(key): '\(text)' is not HH:MM-HH:MM")
            }
            hours[index + 1] = BusinessCalendar.WorkingHours(start: start, end: end)
        }
        let holidays = Set(root["holidays"] as? [String] ?? [])
        let calendar = BusinessCalendar(utcOffsetMinutes: offset, hours: hours, holidays: holidays)
        do { try calendar.validate() } catch { throw Invalid(message: error.message) }
        guard let leadText = root["warning_lead"] as? String, let lead = DurationText.parse(leadText) else {
            throw Invalid(message: "warning_lead: a duration such as 30m is required")
        }
        guard let targetsObject = root["targets"] as? [String: [String: String]] else { throw Invalid(message: "targets: an object per priority") }
        var targets: [TicketPriority: SLATargets] = [:]
        for priority in TicketPriority.allCases {
            guard let entry = targetsObject[priority.rawValue] else { throw Invalid(message: "targets.\(priority.rawValue) is required") }
            func duration(_ key: String) throws -> Int64 {
                guard let text = entry[key], let d = DurationText.parse(text), d > .zero else {
                    throw Invalid(message: "targets.\(priority.rawValue).\(key): a positive duration is required")
                }
                return ms(d)
            }
            targets[priority] = SLATargets(firstResponseMs: try duration("first_response"), nextResponseMs: try duration("next_response"),
                                           resolutionMs: try duration("resolution"))
        }
        return SLAPolicy(targets: targets, calendar: calendar, warningLeadMs: ms(lead))
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0...59).contains(m),
              h * 60 + m <= 1_440 else { return nil }
        return h * 60 + m
    }

    static func ms(_ d: Duration) -> Int64 { d.components.seconds * 1_000 + d.components.attoseconds / 1_000_000_000_000_000 }
}
