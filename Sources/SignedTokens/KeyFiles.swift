#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a key file or key-set file could not be read, parsed or written.
public struct KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file concerned, when there is one.
    public let path: String?
    /// What went wrong, in words that say what to change.
    public let reason: String

    /// Makes an error about `path`.
    public init(path: String?, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "path: reason".
    public var description: String { path.map { "\($0): \(reason)" } ?? reason }
}

/// Small, bounded, POSIX file helpers: keys are tiny, and private keys must be created with
/// mode 0600 from the first byte (no window in which another user could open them).
enum KeyFiles {
    static func errorText() -> String { String(cString: strerror(errno)) }

    /// Reads a whole file of at most `limit` bytes.
    static func readFile(_ path: String, limit: Int = 1 << 20) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KeyFileError(path: path, reason: "cannot open: \(errorText())") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw KeyFileError(path: path, reason: "cannot read: \(errorText())")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            if bytes.count > limit { throw KeyFileError(path: path, reason: "larger than \(limit) bytes") }
        }
        return bytes
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Writes `bytes` to `path` through a temporary file in the same directory, so readers see
    /// the old file or the new one, never half of one. The file gets `mode` from its creation on.
    /// - Parameter replacing: when false, an existing file at `path` is left alone (the new one is
    ///   published with `link`, which refuses to overwrite, so two racing creators cannot both win).
    /// - Returns: whether `bytes` were published (false only when `replacing` is false and `path` exists).
    @discardableResult
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t, replacing: Bool = true) throws(KeyFileError) -> Bool {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw KeyFileError(path: temporary, reason: "cannot create: \(errorText())") }
        defer { unlink(temporary) }
        var ok = fchmod(fd, mode) == 0
        var written = 0
        while ok && written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { ok = false } else { written += count }
        }
        if ok { ok = fsync(fd) == 0 }
        let writeFailure = errorText()
        close(fd)
        guard ok else { throw KeyFileError(path: path, reason: "cannot write: \(writeFailure)") }
        if replacing {
            guard rename(temporary, path) == 0 else { throw KeyFileError(path: path, reason: "cannot write: \(errorText())") }
            return true
        }
        if link(temporary, path) == 0 { return true }
        if errno == EEXIST { return false }
        throw KeyFileError(path: path, reason: "cannot write: \(errorText())")
    }

    /// Creates `path` as a directory (and its parents) when missing.
    static func makeDirectory(_ path: String) throws(KeyFileError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw KeyFileError(path: current, reason: "cannot create directory: \(errorText())")
            }
        }
    }
}

extension Ed25519PrivateKey {
    /// Reads an unencrypted PKCS#8 PEM private key file.
    /// - Throws: `KeyFileError` when the file cannot be read or does not hold an Ed25519 key.
    public static func read(pemFile path: String) throws(KeyFileError) -> Ed25519PrivateKey {
        let bytes = try KeyFiles.readFile(path, limit: 64 * 1024)
        do {
            return try Ed25519PrivateKey(pemRepresentation: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw KeyFileError(path: path, reason: error.reason)
        }
    }

    /// Writes the key as an unencrypted PKCS#8 PEM file readable by its owner only (mode 0600).
    /// - Parameter replacing: whether to replace an existing file (atomically); when false and the
    ///   file exists, nothing is written.
    /// - Returns: whether the key was written.
    /// - Throws: `KeyFileError` when the file cannot be written.
    @discardableResult
    public func write(pemFile path: String, replacing: Bool = true) throws(KeyFileError) -> Bool {
        let pem: String
        do { pem = try pemRepresentation() } catch { throw KeyFileError(path: path, reason: error.reason) }
        return try KeyFiles.writeAtomically(Array(pem.utf8), to: path, mode: 0o600, replacing: replacing)
    }
}
