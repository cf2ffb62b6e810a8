import Foundation
import FuzzTargets
import Testing

/// The committed fuzz corpus and every crasher ever found, replayed: each input runs and keeps its
/// invariants. A few thousand seeded random inputs per target join them, so the targets run even
/// where nobody ran libFuzzer.
@Suite("Fuzz targets: the corpus and past crashers replayed")
struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    static func inputs(_ folder: URL) -> [(String, [UInt8])] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name in
            (try? Data(contentsOf: folder.appendingPathComponent(name))).map { (name, Array($0)) }
        }
    }

    @Test("every committed input keeps its target's invariants", arguments: FuzzTarget.allCases)
    func corpus(_ target: FuzzTarget) {
        let seeds = Self.inputs(Self.corpus.appendingPathComponent(target.rawValue))
        #expect(seeds.count >= 4, "the \(target) corpus is missing at \(Self.corpus.path)")
        for (name, bytes) in seeds + Self.inputs(Self.corpus.appendingPathComponent("crashers/\(target.rawValue)")) {
            #expect(FuzzTargets.run(target, bytes).isEmpty, "\(target)/\(name)")
        }
    }

    @Test("seeded random inputs, and mutations of the corpus, keep the invariants", arguments: FuzzTarget.allCases)
    func random(_ target: FuzzTarget) {
        var seed = UInt64(target.rawValue.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let seeds = Self.inputs(Self.corpus.appendingPathComponent(target.rawValue)).map(\.1)
        for round in 0..<1_500 {
            var bytes: [UInt8]
            if !seeds.isEmpty, round % 2 == 0 {
                bytes = seeds[Int(next() % UInt64(seeds.count))]
                for _ in 0..<(1 + Int(next() % 4)) where !bytes.isEmpty {
                    bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
                }
            } else {
                bytes = (0..<Int(next() % 96)).map { _ in UInt8(truncatingIfNeeded: next()) }
            }
            let broken = FuzzTargets.run(target, bytes)
            #expect(broken.isEmpty, "\(target) round \(round): \(broken) for \(bytes)")
        }
    }
}
