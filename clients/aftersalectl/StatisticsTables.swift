import AfterSaleProto
import Foundation

/// GetStatistics answers as text tables (one per area: cases, tickets, satisfaction, timers,
/// agents) or as CSV (one row per group, then the total, every metric a column).
enum StatisticsTables {
    /// One column: its header and how a group's value is written.
    struct Column: Sendable {
        let header: String
        let value: @Sendable (StatisticsGroup) -> String
    }

    static func hours(_ ms: Int64) -> String { String(format: "%.2f", Double(ms) / 3_600_000) }
    static func rate(_ r: StatisticsRate?) -> String {
        guard let r else { return "0/0" }
        return "\(r.numerator)/\(r.denominator) (\(String(format: "%.1f", r.value * 100))%)"
    }
    static func money(_ list: [Money]) -> String {
        list.isEmpty ? "0" : list.map { "\(String(format: "%.2f", Double($0.amountMinor) / 100)) \($0.currency)" }.joined(separator: " + ")
    }
    static func duration(_ name: String, _ get: @escaping @Sendable (StatisticsGroup) -> DurationStatistics?) -> [Column] {
        [Column(header: "\(name) median h") { hours(get($0)?.medianMs ?? 0) },
         Column(header: "\(name) p90 h") { hours(get($0)?.p90Ms ?? 0) }]
    }

    static let cases: [Column] = [
        Column(header: "applied") { "\($0.cases?.applied ?? 0)" },
        Column(header: "completed") { "\($0.cases?.completed ?? 0)" },
        Column(header: "rejected") { "\($0.cases?.rejected ?? 0)" },
        Column(header: "withdrawn") { "\($0.cases?.withdrawn ?? 0)" },
        Column(header: "closed") { "\($0.cases?.closed ?? 0)" },
        Column(header: "refunds") { "\($0.cases?.refunds ?? 0)" },
        Column(header: "refunded") { money($0.cases?.refunded ?? []) },
    ] + duration("processing", { $0.cases?.processingCalendar }) + duration("processing business", { $0.cases?.processingBusiness }) + [
        Column(header: "resolution rate") { rate($0.cases?.resolutionRate) },
        Column(header: "merchant overdue") { rate($0.cases?.merchantOverdueRate) },
        Column(header: "dispute rate") { rate($0.cases?.disputeRate) },
        Column(header: "buyer win") { rate($0.cases?.buyerWinRate) },
    ]

    static let tickets: [Column] = [
        Column(header: "received") { "\($0.tickets?.received ?? 0)" },
        Column(header: "resolved") { "\($0.tickets?.resolved ?? 0)" },
    ] + duration("first reply", { $0.tickets?.firstReplyCalendar }) + duration("first reply business", { $0.tickets?.firstReplyBusiness })
        + duration("resolution", { $0.tickets?.resolutionCalendar }) + duration("resolution business", { $0.tickets?.resolutionBusiness }) + [
        Column(header: "SLA attained") { rate($0.tickets?.slaAttainment) },
        Column(header: "one-touch") { rate($0.tickets?.oneTouchRate) },
        Column(header: "reopened") { rate($0.tickets?.reopenRate) },
    ]

    static let satisfaction: [Column] = [
        Column(header: "ratings") { "\($0.satisfaction?.ratings ?? 0)" },
        Column(header: "average") { String(format: "%.2f", $0.satisfaction?.averageStars ?? 0) },
    ] + (1...5).map { stars in
        Column(header: "\(stars)★") { group in
            let distribution = group.satisfaction?.distribution ?? []
            return "\(distribution.count >= stars ? distribution[stars - 1] : 0)"
        }
    }

    static func render(_ response: GetStatisticsResponse, csv: Bool) -> String {
        let groups = response.groups + [response.total ?? StatisticsGroup()]
        func key(_ index: Int) -> String { index == groups.count - 1 ? "total" : (groups[index].key.isEmpty ? "(none)" : groups[index].key) }
        if csv {
            let columns = cases + tickets + satisfaction
            var lines = [(["group"] + columns.map(\.header)).map(field).joined(separator: ",")]
            for (index, group) in groups.enumerated() {
                lines.append(([key(index)] + columns.map { $0.value(group) }).map(field).joined(separator: ","))
            }
            return lines.joined(separator: "\n") + "\n"
        }
        var out = "scope: \(response.scope.isEmpty ? "platform" : response.scope)  groups: \(response.groupBy)  "
            + "projected through \(response.projectedThrough) of \(response.feedHead)  "
            + "percentiles within \(String(format: "%.1f", response.histogramRelativeError * 100))%\n"
        for (title, columns) in [("Cases", cases), ("Tickets", tickets), ("Satisfaction", satisfaction)] {
            let rows = groups.indices.map { index in [key(index)] + columns.map { $0.value(groups[index]) } }
            out += "\n\(title)\n" + table(header: ["group"] + columns.map(\.header), rows: rows)
        }
        let timers = response.total?.cases?.timerActions ?? []
        out += "\nTimer actions\n" + table(header: ["rule", "count"], rows: timers.map { [$0.rule, "\($0.count)"] })
        if !response.agents.isEmpty {
            out += "\nAgents\n" + table(header: ["agent", "assigned", "replies", "solved", "load", "capacity"], rows: response.agents.map {
                [$0.agentId, "\($0.assigned)", "\($0.replies)", "\($0.solved)", "\($0.load)", "\($0.capacity)"]
            })
        }
        return out
    }

    /// A CSV field, quoted when it must be.
    static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// Columns padded to their widest cell.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n") + "\n"
    }
}
