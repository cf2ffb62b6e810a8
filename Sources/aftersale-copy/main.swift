import AfterSalePostgres
import Foundation
import ServiceKit
import StoreCopy

// aftersale-copy: copies a SQLite store (server stopped) into an empty PostgreSQL database.
// The last line is machine-readable: copied orders=N cases=N ... feed_head=N seconds=T

enum CopySettings {
    static let dataDir = Setting("--data-dir", env: "AFTERSALE_DATA_DIR", default: "./data", value: "PATH",
                                 help: "the SQLite store to copy (aftersaled's --data-dir; stop aftersaled first)")
    static let database = Setting("--database", env: "AFTERSALE_DATABASE", default: nil, value: "URL",
                                  help: "the empty PostgreSQL database to copy into (postgresql://USER:PASSWORD@HOST:PORT/DB)",
                                  redaction: .urlPassword)
    static let batchRows = Setting("--batch-rows", env: "AFTERSALE_COPY_BATCH_ROWS", default: "500", value: "N",
                                   help: "rows per INSERT")
    static let table = SettingsTable(program: "aftersale-copy", settings: [dataDir, database, batchRows])
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("aftersale-copy: \(message)\n".utf8))
    exit(status)
}

let values: SettingValues
let batchRows: Int
do {
    values = try CopySettings.table.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
    batchRows = try values.int(CopySettings.batchRows, in: 1...10_000) ?? 500
} catch {
    error.exit(program: "aftersale-copy")
}
guard let database = values.string(CopySettings.database) else {
    fail("--database (or AFTERSALE_DATABASE) is required: the PostgreSQL database to copy into", status: 2)
}
let dataDirectory = values.string(CopySettings.dataDir) ?? "./data"

do {
    let report = try StoreCopy.copy(dataDirectory: dataDirectory,
                                    to: PostgresConfiguration(database, applicationName: "aftersale-copy",
                                                              statementTimeoutMilliseconds: 0, lockTimeoutMilliseconds: 0,
                                                              idleInTransactionTimeoutMilliseconds: 0),
                                    batchRows: batchRows) { line in
        print(line)
        fflush(nil)
    }
    print(report.description)
} catch {
    fail("\(error); no rows were copied into \(CopySettings.database.shown(database))", status: 1)
}
