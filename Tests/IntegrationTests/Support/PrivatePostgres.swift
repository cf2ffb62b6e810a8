import Foundation
import Glibc
import Testing

/// A PostgreSQL server of one test's own, for stories that stop and start the database server.
///
/// The run's server (`scripts/with-postgres.sh`) is shared with test targets that may run in
/// parallel in the same `swift test` process (AfterSalePostgresTests, StorageConformanceTests), so
/// it must stay up. This one is set up the way that script sets up the shared one: `initdb` into a
/// temporary directory, a private Unix-socket directory and no TCP port, every server tool run as
/// `AFTERSALE_PG_RUNAS` when it is set (initdb and postgres refuse to run as root), with the
/// binaries of `AFTERSALE_PG_BINDIR`. Without those variables there is no PostgreSQL to test with,
/// and ``with(_:_:)`` throws (the test fails, it is not skipped).
///
/// Every wait is bounded; ``with(_:_:)`` always stops the server and deletes its files.
final class PrivatePostgres: Sendable {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// The server binaries (initdb, pg_ctl).
    let binDirectory: String
    /// The user the server tools run as; empty when the current user runs them.
    let runAs: String
    /// The temporary directory holding the data directory, the socket directory and the log.
    let base: String
    let port = 5432

    var dataDirectory: String { base + "/data" }
    var socketDirectory: String { base + "/socket" }
    var logFile: String { base + "/server.log" }

    /// The options the server is started with (again on every ``start()``).
    var options: String {
        var options = "-c listen_addresses='' -k \(socketDirectory) -p \(port) -c max_connections=60 -c shared_buffers=16MB"
        if ProcessInfo.processInfo.environment["AFTERSALE_PG_FSYNC"] == "off" { options += " -c fsync=off" }
        return options
    }

    /// The server's URL (its `postgres` database), for ``TestStore/with(_:backend:server:_:)``.
    var url: String { "postgresql:///postgres?host=\(socketDirectory)&port=\(port)&user=postgres" }

    private init(binDirectory: String, runAs: String, base: String) {
        self.binDirectory = binDirectory
        self.runAs = runAs
        self.base = base
    }

    /// Runs `body` with a new server, started; then stops it and deletes its files (also when `body` throws).
    static func with<T>(_ label: String, _ body: (PrivatePostgres) async throws -> T) async throws -> T {
        let server = try await create(label)
        do {
            try await server.start()
            let value = try await body(server)
            await server.destroy()
            return value
        } catch {
            await server.destroy()
            throw error
        }
    }

    /// A new data directory (initdb), not started yet.
    private static func create(_ label: String) async throws -> PrivatePostgres {
        let environment = ProcessInfo.processInfo.environment
        guard let binDirectory = environment["AFTERSALE_PG_BINDIR"], !binDirectory.isEmpty else {
            throw Failed(description: "no PostgreSQL binaries: AFTERSALE_PG_BINDIR is not set; run through scripts/test.sh or "
                             + "`scripts/with-postgres.sh swift test --filter IntegrationTests`")
        }
        let temporary = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let base = "\(temporary)/aftersale-pg-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let server = PrivatePostgres(binDirectory: binDirectory, runAs: environment["AFTERSALE_PG_RUNAS"] ?? "", base: base)
        do {
            for directory in [base, server.dataDirectory, server.socketDirectory] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false,
                                                        attributes: [.posixPermissions: 0o700])
                try server.handOver(directory)
            }
            let initdb = try await server.run("initdb", ["-D", server.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                                         "--locale=C", "--no-sync", "--no-instructions"], timeout: .seconds(60))
            guard initdb.status == 0 else {
                throw Failed(description: "initdb failed (status \(String(describing: initdb.status))): \(initdb.output.suffix(2_000))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: base)
            throw error
        }
        return server
    }

    /// Starts the server and waits (bounded) until it accepts connections.
    func start() async throws {
        let result = try await run("pg_ctl", ["-D", dataDirectory, "-l", logFile, "-o", options, "-w", "-t", "30", "start"],
                                   timeout: .seconds(40))
        guard result.status == 0 else {
            throw Failed(description: "pg_ctl start failed (status \(String(describing: result.status))): \(result.output.suffix(1_000)); "
                             + "log: \(logTail())")
        }
    }

    /// Stops the server (`-m fast`: sessions are ended, the server checkpoints) and waits, bounded, until it is down.
    func stop() async throws {
        let result = try await run("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "30", "stop"], timeout: .seconds(40))
        guard result.status == 0 else {
            throw Failed(description: "pg_ctl stop failed (status \(String(describing: result.status))): \(result.output.suffix(1_000))")
        }
    }

    /// Stops the server at once, whatever state it is in, and deletes every file of it.
    func destroy() async {
        if FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") {
            _ = try? await run("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"], timeout: .seconds(40))
        }
        try? FileManager.default.removeItem(atPath: base)
    }

    /// The end of the server's log, for failure messages.
    func logTail(_ characters: Int = 2_000) -> String {
        ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").suffix(characters).description
    }

    /// Gives `path` to the user the server runs as.
    private func handOver(_ path: String) throws {
        guard !runAs.isEmpty else { return }
        guard let user = getpwnam(runAs) else { throw Failed(description: "no user \(runAs) to run PostgreSQL as") }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw Failed(description: "chown \(path) to \(runAs): errno \(errno)")
        }
    }

    /// Runs server tool `tool` as the server's user; its status (nil when it had to be killed) and output.
    ///
    /// Not through Foundation's `Process` (``ChildProcess``): `pg_ctl start` leaves the server
    /// running, and the server would inherit the descriptor by which `Process` learns that its
    /// child ended, so `Process` would wait for the server as well. The tool gets no descriptor
    /// but stdin (/dev/null) and stdout and stderr (a file), and is reaped here with `waitpid`.
    private func run(_ tool: String, _ arguments: [String], timeout: Duration) async throws -> (status: Int32?, output: String) {
        let executable = binDirectory + "/" + tool
        var argv = [executable] + arguments
        if !runAs.isEmpty {
            guard let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw Failed(description: "runuser not found: cannot run \(tool) as \(runAs)")
            }
            argv = [runuser, "-u", runAs, "--"] + argv
        }
        let outputFile = "\(base)/\(tool)-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { try? FileManager.default.removeItem(atPath: outputFile) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        Self.closeInheritedDescriptors(&actions)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw Failed(description: "cannot start \(argv[0]): errno \(spawned)") }

        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        var status: Int32 = 0
        var exited = false
        while clock.now < end {
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                break
            }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                usleep(20_000)  // cancelled: keep waiting for the tool, without spinning
            }
        }
        if !exited {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
        }
        let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS, which Swift does not import.
        let exitStatus: Int32? = exited && (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
        return (exitStatus, output)
    }

    /// Adds "close every descriptor from 3 up" to `actions`: glibc's `posix_spawn_file_actions_addclosefrom_np`
    /// (2.34 and later; Swift does not import it), else a close for each descriptor open now.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }
}
