import FuzzTargets
import Foundation

// The libFuzzer entry point. Not linked into anything SwiftPM builds: scripts/fuzz.sh compiles the
// package with -sanitize=fuzzer,address and links this module's objects with libFuzzer's main.
// AFTERSALE_FUZZ_TARGET names the target (frame, envelope, request, json, token).

/// The target of this run, read once.
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["AFTERSALE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("AFTERSALE_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    return target
}()

/// Runs one input; a broken invariant aborts, so libFuzzer keeps the input as a crasher.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let broken = FuzzTargets.run(fuzzTarget, bytes)
    if !broken.isEmpty {
        FileHandle.standardError.write(Data("broken invariant: \(broken.joined(separator: "; "))\n".utf8))
        abort()
    }
    return 0
}
