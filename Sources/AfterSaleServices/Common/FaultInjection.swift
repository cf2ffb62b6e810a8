import Glibc

/// Test-only fault injection: lets an integration test kill the server between the commit of a
/// change and its answer, the one moment a client cannot tell success from failure. Off unless
/// `aftersaled` is started with `AFTERSALE_FAULT_CRASH_AFTER_COMMIT=<Method>[,<Method>…]`; never set
/// it in production.
public struct FaultInjection: Sendable {
    /// Method names (`ReviewAfterSale`) whose first committed change kills the process before it answers.
    public let crashAfterCommit: Set<String>

    /// No faults.
    public static let none = FaultInjection(crashAfterCommit: [])

    /// Faults for the given method names.
    public init(crashAfterCommit: Set<String>) {
        self.crashAfterCommit = crashAfterCommit
    }

    /// The faults an environment asks for.
    public init(environment: [String: String]) {
        let names = environment["AFTERSALE_FAULT_CRASH_AFTER_COMMIT"]?.split(separator: ",").map(String.init) ?? []
        self.init(crashAfterCommit: Set(names))
    }

    /// Called after a change of `method` committed, before the answer leaves.
    func committed(_ method: String) {
        guard crashAfterCommit.contains(method) else { return }
        kill(getpid(), SIGKILL)
    }
}
