import RPCWire
import Testing

/// Status codes are gRPC's: the same numbers, the same names. Clients in other languages map
/// them with their own gRPC tables, so a wrong number here is a wrong answer there.
@Suite("StatusCode and RPCError: gRPC's codes and how errors become them")
struct StatusCodeTests {
    /// gRPC's table (grpc/doc/statuscodes.md), written out independently of the code under test.
    static let grpc: [(number: Int32, name: String, code: StatusCode)] = [
        (0, "OK", .ok),
        (1, "CANCELLED", .cancelled),
        (2, "UNKNOWN", .unknown),
        (3, "INVALID_ARGUMENT", .invalidArgument),
        (4, "DEADLINE_EXCEEDED", .deadlineExceeded),
        (5, "NOT_FOUND", .notFound),
        (6, "ALREADY_EXISTS", .alreadyExists),
        (7, "PERMISSION_DENIED", .permissionDenied),
        (8, "RESOURCE_EXHAUSTED", .resourceExhausted),
        (9, "FAILED_PRECONDITION", .failedPrecondition),
        (10, "ABORTED", .aborted),
        (11, "OUT_OF_RANGE", .outOfRange),
        (12, "UNIMPLEMENTED", .unimplemented),
        (13, "INTERNAL", .internal),
        (14, "UNAVAILABLE", .unavailable),
        (15, "DATA_LOSS", .dataLoss),
        (16, "UNAUTHENTICATED", .unauthenticated),
    ]

    @Test("each of gRPC's 17 codes has gRPC's number and name", arguments: grpc.map(\.name))
    func numberAndName(_ name: String) throws {
        let expected = try #require(Self.grpc.first { $0.name == name })
        #expect(expected.code.rawValue == expected.number)
        #expect(expected.code.name == expected.name)
        #expect(expected.code.description == expected.name)
        #expect(StatusCode(rawValue: expected.number) == expected.code)
    }

    @Test("StatusCode.all lists the 17 codes in order, each once")
    func allCodes() {
        #expect(StatusCode.all == Self.grpc.map(\.code))
        #expect(Set(StatusCode.all).count == 17)
    }

    @Test("a code outside gRPC's table keeps its number and gets a name that shows it", arguments: [17, 99, -1, Int32.max])
    func unknownCode(_ number: Int32) {
        let code = StatusCode(rawValue: number)
        #expect(code.rawValue == number)
        #expect(code.name == "CODE_\(number)")
        #expect(!StatusCode.all.contains(code))
    }

    // MARK: RPCError

    @Test("an RPCError reads as 'CODE: message', or just the code when there is no message")
    func errorDescription() {
        #expect(RPCError(.invalidArgument, "order_id: must not be empty").description == "INVALID_ARGUMENT: order_id: must not be empty")
        #expect(RPCError(.unavailable, "").description == "UNAVAILABLE")
    }

    @Test("wrapping an RPCError keeps it exactly, details included")
    func wrappingAnRPCError() {
        let original = RPCError(.aborted, "stale version 3", details: [StatusDetail(type: "aftersale.v1.Version", value: [0x08, 0x04])])
        #expect(RPCError(wrapping: original) == original)
    }

    @Test("wrapping a CancellationError gives CANCELLED")
    func wrappingCancellation() {
        let error = RPCError(wrapping: CancellationError())
        #expect(error.code == .cancelled)
        #expect(!error.message.isEmpty)
    }

    struct DiskOnFire: Error {}

    @Test("wrapping any other error gives INTERNAL, naming the type but not its contents")
    func wrappingAnArbitraryError() {
        let error = RPCError(wrapping: DiskOnFire())
        #expect(error.code == .internal)
        #expect(error.message.contains("DiskOnFire"))
        #expect(error.details.isEmpty)
    }

    struct CaseNotFound: RPCErrorConvertible {
        var rpcError: RPCError { RPCError(.notFound, "case AS1 not found") }
    }

    @Test("wrapping an error that knows its status uses that status")
    func wrappingAConvertibleError() {
        #expect(RPCError(wrapping: CaseNotFound()) == RPCError(.notFound, "case AS1 not found"))
    }

    // MARK: RPCStatus

    @Test("a status is OK or stands for an error, and converts both ways")
    func statusAndError() {
        #expect(RPCStatus.ok.error == nil)
        #expect(RPCStatus(code: .ok, message: "ignored").error == nil)

        let error = RPCError(.permissionDenied, "buyers cannot review", details: [StatusDetail(type: "t", value: [1])])
        let status = RPCStatus(error)
        #expect(status.code == .permissionDenied)
        #expect(status.message == "buyers cannot review")
        #expect(status.error == error)
    }

    // MARK: Frame errors

    @Test("frame errors become the statuses the protocol document promises")
    func frameErrorStatuses() {
        let tooLarge = FrameError.frameTooLarge(length: 5_000_000, limit: 4_194_304).rpcError
        #expect(tooLarge.code == .resourceExhausted)
        #expect(tooLarge.message.contains("5000000") && tooLarge.message.contains("4194304"))

        let malformed = FrameError.malformedEnvelope(length: 5).rpcError
        #expect(malformed.code == .invalidArgument)
        #expect(malformed.message.contains("aftersale.v1.Envelope"))
    }
}
