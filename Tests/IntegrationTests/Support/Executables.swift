import Foundation
import Glibc
import Testing

/// Finds the built executables (`aftersaled`, `aftersalectl`): they are products of the same build
/// as this test bundle. Tried in order: `$AFTERSALE_BIN_DIR`, the directory of the running test
/// binary (`/proc/self/exe`, then `CommandLine.arguments[0]`), then `<package root>/.build/debug`.
enum Executables {
    static func candidateDirectories(filePath: String = #filePath) -> [URL] {
        var dirs: [URL] = []
        if let env = ProcessInfo.processInfo.environment["AFTERSALE_BIN_DIR"], !env.isEmpty {
            dirs.append(URL(fileURLWithPath: env, isDirectory: true))
        }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let first = CommandLine.arguments.first, !first.isEmpty {
            let url = URL(fileURLWithPath: first, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            dirs.append(url.standardizedFileURL.deletingLastPathComponent())
            dirs.append(url.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        // <root>/Tests/IntegrationTests/Support/Executables.swift
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        dirs.append(root.appendingPathComponent(".build/debug", isDirectory: true))
        return dirs
    }

    /// The executable `name`, or nil when no candidate directory has it.
    static func locate(_ name: String) -> URL? {
        for dir in candidateDirectories() {
            let url = dir.appendingPathComponent(name)
            if access(url.path, X_OK) == 0 { return url }
        }
        return nil
    }
}

/// A child process with its output collected off the calling thread; every wait is bounded.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    /// The two reader threads, until each has read to the end of its pipe.
    private let readers = DispatchGroup()

    init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Plain blocking reads on threads of their own, until end of file (the child exited):
        // Foundation's readabilityHandler watches the descriptor with a dispatch source, and a pipe
        // closed while that source is still registered can crash the dispatch manager thread.
        for (pipe, isError) in [(stdoutPipe, false), (stderrPipe, true)] {
            readers.enter()
            let handle = pipe.fileHandleForReading
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    lock.lock()
                    if isError { err.append(contentsOf: buffer[0..<count]) } else { out.append(contentsOf: buffer[0..<count]) }
                    lock.unlock()
                }
                readers.leave()
            }
            thread.start()
        }
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

    /// Waits until stdout has a line that contains `marker`; the line, or nil after `timeout`.
    func waitForLine(containing marker: String, timeout: Duration) async -> String? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while clock.now < end {
            if let line = stdout.split(separator: "\n").first(where: { $0.contains(marker) }) { return String(line) }
            if !process.isRunning { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return stdout.split(separator: "\n").first { $0.contains(marker) }.map(String.init)
    }

    /// Waits for the process to exit; its status, or nil after `timeout` (the process is then killed).
    func waitForExit(timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while process.isRunning && clock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            finishOutput()
            return nil
        }
        process.waitUntilExit()
        finishOutput()
        return process.terminationStatus
    }

    var exitedBySignal: Bool { process.terminationReason == .uncaughtSignal }

    /// Waits (at most 5 s) until the readers have read everything the exited child wrote.
    private func finishOutput() {
        _ = readers.wait(timeout: .now() + 5)
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Runs to completion: (status, stdout, stderr); status nil when it had to be killed.
    /// - Parameter environment: added to this process's environment.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(10)) async throws
        -> (status: Int32?, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment.isEmpty ? nil
                                     : ProcessInfo.processInfo.environment.merging(environment) { _, given in given })
        let status = await child.waitForExit(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }
}

extension ChildProcess {
    /// Starts `aftersaled` on `store` and an ephemeral loopback port (plus `extraArguments`);
    /// the process and its port, once it printed its ready line.
    static func startDaemon(_ daemon: URL, store: TestStore, extraArguments: [String] = []) async throws -> (ChildProcess, UInt16) {
        let server = try ChildProcess(daemon, ["--listen", "127.0.0.1:0", "--log-level", "warning"] + store.daemonArguments
                                      + extraArguments)
        guard let ready = await server.waitForLine(containing: "aftersaled ready", timeout: .seconds(10)),
              let port = Integration.ExecutablesTests.port(fromReadyLine: ready), port != 0 else {
            if server.process.isRunning { server.signal(SIGKILL) }
            _ = await server.waitForExit(timeout: .seconds(2))
            Issue.record("aftersaled did not get ready; stdout: \(server.stdout) stderr: \(server.stderr)")
            throw TimedOut(what: "aftersaled ready line")
        }
        return (server, port)
    }
}
