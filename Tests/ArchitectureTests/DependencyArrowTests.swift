import Foundation
import Testing

/// The module arrows ARCHITECTURE.md draws, checked against Package.swift and the imports in
/// Sources: the domain depends on nothing, services on no storage engine, and the runtime on
/// nothing of after-sales.
@Suite("The dependency arrows of the house")
struct DependencyArrowTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each target of Package.swift with the targets it names as dependencies.
    static func targets() throws -> [String: [String]] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: [String]] = [:]
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget|systemLibrary)\(name: "([^"]+)"(?:,\s*(?:pkgConfig: "[^"]*",\s*)?dependencies: \[([^\]]*)\])?"#)
        let range = NSRange(manifest.startIndex..., in: manifest)
        for match in pattern.matches(in: manifest, range: range) {
            guard let name = Range(match.range(at: 1), in: manifest).map({ String(manifest[$0]) }) else { continue }
            let list = Range(match.range(at: 2), in: manifest).map { String(manifest[$0]) } ?? ""
            result[name] = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                .filter { !$0.isEmpty }
        }
        return result
    }

    /// Everything `target` depends on, directly or not.
    static func closure(of target: String, in graph: [String: [String]]) -> Set<String> {
        var seen = Set<String>()
        var stack = graph[target] ?? []
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += graph[next] ?? []
        }
        return seen
    }

    static let runtime = ["ProtoRuntime", "RPCWire", "RPCTransport", "RPCServer", "RPCClient", "ServiceKit", "SignedTokens"]
    static let engines: Set<String> = ["AfterSaleSQLite", "AfterSalePostgres", "CSQLite", "CLibpq"]

    @Test("Package.swift declares the modules the house is made of")
    func manifestReads() throws {
        let graph = try Self.targets()
        for name in Self.runtime + ["AfterSaleDomain", "AfterSaleStorage", "AfterSaleSQLite", "StorageConformance", "AfterSaleServices", "aftersaled"] {
            #expect(graph[name] != nil, "\(name) is not a target")
        }
    }

    @Test("the domain depends on nothing")
    func domainIsPure() throws {
        #expect(try Self.targets()["AfterSaleDomain"] == [])
    }

    @Test("the services depend on no storage engine, directly or not")
    func servicesNeedNoEngine() throws {
        let reached = Self.closure(of: "AfterSaleServices", in: try Self.targets())
        #expect(reached.isDisjoint(with: Self.engines), "AfterSaleServices reaches \(reached.intersection(Self.engines).sorted())")
        #expect(!reached.contains("AfterSaleStorage"), "services use the domain's ports, not the storage module")
    }

    @Test("the runtime modules name nothing of after-sales, in Package.swift or in their imports", arguments: runtime)
    func runtimeIsGeneric(_ module: String) throws {
        let reached = Self.closure(of: module, in: try Self.targets())
        let product = reached.filter { $0.hasPrefix("AfterSale") || $0 == "CAfterSaleProto" || $0 == "StorageConformance" }
        #expect(product.isEmpty, "\(module) depends on \(product.sorted())")
        let folder = Self.root.appendingPathComponent("Sources/\(module)")
        let files = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@testable import ") {
                #expect(!line.contains("AfterSale"), "\(module)/\(file): \(line)")
            }
        }
    }

    @Test("only aftersaled and the tools name a storage engine")
    func oneCompositionRoot() throws {
        let graph = try Self.targets()
        let allowed: Set<String> = ["aftersaled", "aftersale-seed", "aftersale-copy", "StoreCopy", "StoreBackends"]
        for (name, dependencies) in graph where !name.hasSuffix("Tests") && !allowed.contains(name) && !Self.engines.contains(name) {
            let engines = Set(dependencies).intersection(Self.engines.subtracting(["CSQLite", "CLibpq"]))
            #expect(engines.isEmpty, "\(name) depends on \(engines.sorted())")
        }
    }
}
