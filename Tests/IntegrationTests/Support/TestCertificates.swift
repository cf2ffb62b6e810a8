import Foundation

/// Throwaway certificates for the TLS tests, made once per test process by the `openssl` CLI
/// (scripts/install-deps.sh installs it) in a temporary directory:
/// - a CA and a server certificate it signed for 127.0.0.1 and localhost;
/// - a client certificate it signed with the URI SAN `spiffe://platform/payments`;
/// - another CA and a client certificate from it (the same URI), which the server must refuse.
struct TestCertificates: Sendable {
    let directory: String
    var caFile: String { path("ca.pem") }
    var serverCertificateFile: String { path("server.pem") }
    var serverKeyFile: String { path("server.key") }
    var clientCertificateFile: String { path("client.pem") }
    var clientKeyFile: String { path("client.key") }
    var otherCAFile: String { path("other-ca.pem") }
    var strangerCertificateFile: String { path("stranger.pem") }
    var strangerKeyFile: String { path("stranger.key") }

    static let clientURI = "spiffe://platform/payments"

    func path(_ name: String) -> String { directory + "/" + name }

    struct GenerationError: Error, CustomStringConvertible {
        let description: String
    }

    /// The certificates of this test process (made on first use).
    static func shared() throws -> TestCertificates { try cached.get() }

    private static let cached: Result<TestCertificates, GenerationError> = Result { () throws(GenerationError) in try generate() }

    private static func generate() throws(GenerationError) -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("aftersale-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
            try "subjectAltName=URI:\(clientURI)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
                .write(toFile: directory + "/client.ext", atomically: true, encoding: .utf8)
        } catch {
            throw GenerationError(description: "cannot prepare \(directory): \(error)")
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        func ca(_ name: String) -> [String] {
            ["req", "-x509"] + key + ["-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj", "/CN=\(name)",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        }
        func request(_ name: String) -> [String] {
            ["req"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"]
        }
        func sign(_ name: String, by issuer: String, extensions: String, serial: Int) -> [String] {
            ["x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).pem", "-CAkey", "\(issuer).key", "-set_serial", String(serial),
             "-out", "\(name).pem", "-days", "2", "-extfile", extensions]
        }
        let steps: [[String]] = [
            ca("ca"), ca("other-ca"),
            request("server"), sign("server", by: "ca", extensions: "server.ext", serial: 2),
            request("client"), sign("client", by: "ca", extensions: "client.ext", serial: 3),
            request("stranger"), sign("stranger", by: "other-ca", extensions: "client.ext", serial: 4),
        ]
        for arguments in steps { try run(arguments, in: directory) }
        return TestCertificates(directory: directory)
    }

    private static func run(_ arguments: [String], in directory: String) throws(GenerationError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw GenerationError(description: "cannot run openssl (scripts/install-deps.sh installs it): \(error)")
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GenerationError(description: "openssl \(arguments.joined(separator: " ")) failed: \(String(decoding: output, as: UTF8.self))")
        }
    }
}
