import AfterSaleDomain
import Glibc
import Synchronization

/// An exclusive lock on a data directory (`flock` on its `aftersale.lock` file), held while a
/// repository has the directory open: a second process (a second `aftersaled`, `aftersale-copy`
/// during a copy, `aftersale-seed`) is refused instead of sharing the store. Each process keeps
/// state of the store in memory (the case-number counters, the feed's head), so two on one store
/// would hand out one case number twice. The kernel releases the lock when the process dies, so a
/// `kill -9` leaves nothing to clean up.
final class DataDirectoryLock: Sendable {
    static let fileName = "aftersale.lock"
    private let descriptor: Atomic<Int32>

    /// Takes the lock on `directory`.
    /// - Throws: ``AfterSaleDomain/RepositoryError/storageFailure(_:)`` when another process holds it
    ///   or the lock file cannot be opened.
    init(directory: String) throws {
        let path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RepositoryError.storageFailure("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another process has this data directory open" : String(cString: strerror(errno))
            close(fd)
            throw RepositoryError.storageFailure("cannot lock \(path): \(reason)")
        }
        descriptor = Atomic(fd)
    }

    /// Releases the lock (safe to call twice).
    func release() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { close(fd) }
    }

    deinit { release() }
}
