/// Several row changes of one write sent as **one statement**: each change renders its SQL into a
/// shared ``StatementBuilder`` (so placeholders never collide), and they run as data-modifying
/// common table expressions, `WITH w1 AS (INSERT …), w2 AS (UPDATE … RETURNING 1), … SELECT …`.
///
/// One round trip instead of one per table: on a small machine, where every round trip is two
/// context switches between this process and a PostgreSQL backend, that is most of a write's cost.
/// The parts see one snapshot and run in one transaction with the caller's other statements; a
/// part that counts (`UPDATE … RETURNING 1`, for compare-and-set) is read back with ``count(_:)``.
struct CombinedWrite {
    private var sql = StatementBuilder()
    private var parts: [(text: String, counted: Bool)] = []

    /// True when nothing was added.
    var isEmpty: Bool { parts.isEmpty }

    /// Adds rows to insert into `target` (`table (column, …)`), each value cast to its column's type.
    /// - Parameters:
    ///   - onlyIf: a counted part: the rows go in only if that part changed a row (a compare-and-set
    ///     that matched nothing then inserts nothing, so it cannot trip a key the winner now holds).
    ///   - suffix: what follows the rows, e.g. `ON CONFLICT DO NOTHING`.
    /// - Returns: the part's index.
    @discardableResult
    mutating func insert(_ target: String, rows: [[PostgresValue]], types: [String], onlyIf part: Int? = nil,
                         suffix: String = "") -> Int {
        add { sql in
            let values = sql.values(rows, types: types)
            let source = part.map { "SELECT * FROM (VALUES \(values)) AS v WHERE EXISTS (SELECT 1 FROM w\($0))" } ?? "VALUES \(values)"
            return "INSERT INTO \(target) \(source)\(suffix.isEmpty ? "" : " " + suffix)"
        }
    }

    /// Adds a change: `render` returns its SQL (an INSERT, or an UPDATE / DELETE; a counted part
    /// must end in `RETURNING 1`), taking its parameters from the shared builder.
    /// - Returns: the part's index, for ``Counts/rows(of:)``.
    @discardableResult
    mutating func add(counted: Bool = false, _ render: (inout StatementBuilder) -> String) -> Int {
        parts.append((render(&sql), counted))
        return parts.count - 1
    }

    /// How many rows each counted part changed.
    struct Counts {
        fileprivate let byPart: [Int: Int]
        /// The rows part `index` changed (0 for a part that was not counted).
        func rows(of index: Int) -> Int { byPart[index] ?? 0 }
    }

    /// Runs every part in one statement.
    /// - Throws: the statement's error (a unique violation of any part, …).
    @discardableResult
    func run(on connection: PostgresConnection) throws(PostgresError) -> Counts {
        guard !parts.isEmpty else { return Counts(byPart: [:]) }
        let counted = parts.indices.filter { parts[$0].counted }
        if parts.count == 1 {
            let changed = try connection.execute(parts[0].text, parameters: sql.parameters)
            return Counts(byPart: counted.isEmpty ? [:] : [0: changed])
        }
        let ctes = parts.enumerated().map { "w\($0.offset) AS (\($0.element.text))" }.joined(separator: ",\n")
        let select = counted.isEmpty ? "1" : counted.map { "(SELECT count(*) FROM w\($0))" }.joined(separator: ", ")
        let result = try connection.query("WITH \(ctes)\nSELECT \(select)", parameters: sql.parameters)
        guard !counted.isEmpty, let row = result.first else { return Counts(byPart: [:]) }
        var byPart: [Int: Int] = [:]
        for (column, part) in counted.enumerated() { byPart[part] = try row.int(column) }
        return Counts(byPart: byPart)
    }

    /// Runs every part in one statement, throwing `conflict` instead of a unique violation (what a
    /// duplicate key means in the domain's terms).
    @discardableResult
    func run(on connection: PostgresConnection, onUniqueViolation conflict: @autoclosure () -> any Error) throws -> Counts {
        // Result rather than do/catch with a typed pattern: that form crashes the Swift 6.3 compiler.
        switch Result(catching: { () throws(PostgresError) -> Counts in try run(on: connection) }) {
        case .success(let counts): return counts
        case .failure(let error) where error.kind == .uniqueViolation: throw conflict()
        case .failure(let error): throw error
        }
    }
}
