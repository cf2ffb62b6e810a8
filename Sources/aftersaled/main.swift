import Foundation
import Glibc
import AfterSaleServices
import ServiceKit
import SignedTokens

// aftersaled: settings, then the parts Bootstrap wires, run as one service group until SIGTERM or SIGINT.

let configuration: Configuration
do {
    configuration = try Configuration.read(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    error.exit(program: "aftersaled")
}

let logger = Logger(level: configuration.server.logLevel)
logger.log(.debug, "settings", KeyValuePairs(dictionaryLiteral: ("given", configuration.summary.map { "\($0.flag)=\($0.value)" }
    .joined(separator: " "))))

let group: ServiceGroup
do {
    let parts = try await Bootstrap(configuration: configuration, logger: logger).services { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
    group = ServiceGroup(services: parts, logger: logger)
} catch let error as TokenKeysError {
    FileHandle.standardError.write(Data("aftersaled: \(error)\n".utf8))
    exit(1)
} catch let error as KeyFileError {
    FileHandle.standardError.write(Data("aftersaled: master key (--master-key-file): \(error)\n".utf8))
    exit(1)
} catch let error as PersonalDataVaultError {
    FileHandle.standardError.write(Data("aftersaled: \(error)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("aftersaled: cannot open the \(configuration.store.name) store at \(configuration.store.location): \(error)\n".utf8))
    exit(1)
}

do {
    try await group.run(stoppingOn: [SIGTERM, SIGINT])
} catch {
    FileHandle.standardError.write(Data("aftersaled: cannot start: \(error)\n".utf8))
    logger.flush()
    exit(1)
}
logger.log(.info, "stopped")
logger.flush()
exit(0)
