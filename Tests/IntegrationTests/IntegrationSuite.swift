import Testing

/// Every integration test starts its own server on an ephemeral loopback port. They run one at a
/// time: several measure latency or timing, and the machine has few cores.
@Suite("Integration: the real server on 127.0.0.1, driven through the client", .serialized, .timeLimit(.minutes(1)))
struct Integration {}
