import Foundation
import ProtoGen
import Testing

/// The generated code is committed, so a `.proto` edit without `scripts/generate.sh` would build
/// and pass with yesterday's messages. These tests run the generators exactly as the script does
/// and compare their output with what is committed.
///
/// They need `protoc`, `protoc-c` and the well-known `google/protobuf/descriptor.proto` and
/// `wrappers.proto` (apt: protobuf-compiler, protobuf-c-compiler, libprotobuf-dev), which CI
/// installs: a missing tool fails the test rather than skipping it, so the check cannot silently
/// stop running.
@Suite("Committed generated code is up to date")
struct GeneratedCodeFreshnessTests {
    @Test("the Swift messages, service code and C descriptor index match what the generator makes from proto/")
    func swiftAndIndexAreFresh() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let schemaFile = try Protoc.descriptorSet(of: Project.protoFiles(), includeDir: Project.protoDir, in: tmp)
        let schema = try SchemaDecoder.decode(Array(try Data(contentsOf: schemaFile)))
        let generated = try Generator().generate(schema)
        #expect(generated.count > 10, "the generator produced only \(generated.count) files")
        #expect(generated["Sources/AfterSaleProto/Generated/google_protobuf_wrappers.pb.swift"] != nil,
                "the imported well-known wrappers get Swift types")

        for (path, expected) in generated.sorted(by: { $0.key < $1.key }) {
            let committed = Project.root.appendingPathComponent(path)
            guard let text = try? String(contentsOf: committed, encoding: .utf8) else {
                Issue.record("\(path) is missing: run scripts/generate.sh")
                continue
            }
            if text != expected {
                Issue.record("\(path) is stale: run scripts/generate.sh\n\(Project.firstDifference(text, expected))")
            }
        }

        // A file the generator no longer makes (a deleted .proto, a renamed service) must go too.
        let generatedFolders = Set(generated.keys.filter { $0.contains("/Generated/") }.map { ($0 as NSString).deletingLastPathComponent })
        #expect(generatedFolders.isSuperset(of: [
            "Sources/AfterSaleProto/Generated", "Sources/AfterSaleServices/Generated", "clients/AfterSaleClient/Generated",
        ]))
        for folder in generatedFolders.sorted() {
            for name in try FileManager.default.contentsOfDirectory(atPath: Project.root.appendingPathComponent(folder).path)
            where name.hasSuffix(".swift") && generated["\(folder)/\(name)"] == nil {
                Issue.record("\(folder)/\(name) is not produced by the generator: delete it or run scripts/generate.sh")
            }
        }
    }

    @Test("the protoc-c C code matches what protoc-c makes from proto/")
    func protocCOutputIsFresh() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let out = tmp.url.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        // The contracts and the well-known files they import (the wrappers), as scripts/generate.sh runs it.
        let includeDir = try Project.wellKnownIncludeDir()
        try Tool.run("protoc-c", ["-I\(Project.protoDir.path)", "-I\(includeDir.path)", "--c_out=\(out.path)"]
                     + Project.protoFiles() + Project.wellKnownFiles,
                     in: Project.protoDir)

        var produced = Set<String>()
        for file in try Project.files(under: out) {
            // The envelope's C code lives in the runtime's own target; the contracts' in the product's.
            let cTarget = file.hasPrefix("aftersale/v1/rpc.pb-c") ? "Sources/CRPCEnvelope" : "Sources/CAfterSaleProto"
            let committedPath: String
            if file.hasSuffix(".pb-c.c") {
                committedPath = "\(cTarget)/\(file)"
            } else if file.hasSuffix(".pb-c.h") {
                committedPath = "\(cTarget)/include/\(file)"
            } else {
                Issue.record("protoc-c produced an unexpected file \(file)")
                continue
            }
            produced.insert(committedPath)
            let expected = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
            guard let committed = try? String(contentsOf: Project.root.appendingPathComponent(committedPath), encoding: .utf8) else {
                Issue.record("\(committedPath) is missing: run scripts/generate.sh")
                continue
            }
            if committed != expected {
                Issue.record("\(committedPath) is stale: run scripts/generate.sh\n\(Project.firstDifference(committed, expected))")
            }
        }
        #expect(try produced.count == 2 * (Project.protoFiles().count + Project.wellKnownFiles.count), "one .pb-c.c and one .pb-c.h per .proto")
        for file in Project.wellKnownFiles {
            let stem = file.dropLast(".proto".count)
            #expect(produced.isSuperset(of: ["Sources/CAfterSaleProto/\(stem).pb-c.c", "Sources/CAfterSaleProto/include/\(stem).pb-c.h"]),
                    "\(file) is compiled into CAfterSaleProto")
        }

        // protoc-c output left behind by a .proto that no longer exists.
        for cTarget in ["Sources/CRPCEnvelope", "Sources/CAfterSaleProto"] {
            for folder in ["\(cTarget)/aftersale", "\(cTarget)/include/aftersale", "\(cTarget)/google", "\(cTarget)/include/google"] {
            for file in try Project.files(under: Project.root.appendingPathComponent(folder))
            where (file.hasSuffix(".pb-c.c") || file.hasSuffix(".pb-c.h")) && !produced.contains("\(folder)/\(file)") {
                Issue.record("\(folder)/\(file) is not produced by protoc-c from proto/: delete it or run scripts/generate.sh")
            }
            }
        }
    }

    @Test("the descriptor.proto C code the generator decodes schemas with matches protoc-c's")
    func descriptorCodeIsFresh() throws {
        // scripts/generate.sh step 2: google/protobuf/descriptor.proto from the system's include folder.
        let includeDir = try Project.wellKnownIncludeDir().path
        let tmp = try Scratch()
        defer { tmp.remove() }
        try Tool.run("protoc-c", ["-I\(includeDir)", "--c_out=\(tmp.url.path)", "google/protobuf/descriptor.proto"],
                     in: URL(fileURLWithPath: includeDir))
        for (made, committed) in [
            ("google/protobuf/descriptor.pb-c.c", "Sources/CProtoDescriptor/google/protobuf/descriptor.pb-c.c"),
            ("google/protobuf/descriptor.pb-c.h", "Sources/CProtoDescriptor/include/google/protobuf/descriptor.pb-c.h"),
        ] {
            let expected = try String(contentsOf: tmp.url.appendingPathComponent(made), encoding: .utf8)
            let text = try String(contentsOf: Project.root.appendingPathComponent(committed), encoding: .utf8)
            #expect(text == expected, "\(committed) is stale: run scripts/generate.sh")
        }
    }

    @Test("every generated file says so in its first line")
    func generatedFilesSaySo() throws {
        let tmp = try Scratch()
        defer { tmp.remove() }
        let schemaFile = try Protoc.descriptorSet(of: Project.protoFiles(), includeDir: Project.protoDir, in: tmp)
        let generated = try Generator().generate(try SchemaDecoder.decode(Array(try Data(contentsOf: schemaFile))))
        for (path, text) in generated.sorted(by: { $0.key < $1.key }) {
            let first = text.prefix { $0 != "\n" }
            #expect(first.contains("Generated by aftersale-protogen") && first.contains("Do not edit"), "\(path) starts with: \(first)")
        }
        var protocC = 0
        for folder in ["aftersale", "include/aftersale", "google", "include/google"] {
            let base = "Sources/CAfterSaleProto/\(folder)"
            for file in try Project.files(under: Project.root.appendingPathComponent(base)) {
                let text = try String(contentsOf: Project.root.appendingPathComponent("\(base)/\(file)"), encoding: .utf8)
                #expect(text.prefix { $0 != "\n" }.contains("Generated by the protocol buffer compiler"), "\(base)/\(file)")
                protocC += 1
            }
        }
        #expect(try protocC == 2 * (Project.protoFiles().count - 1 + Project.wellKnownFiles.count), "every protoc-c file but the envelope's")
    }
}

// MARK: - Helpers shared by the ProtoGen tests

/// Paths in the project, found from this file's location.
enum Project {
    /// Tests/ProtoGenTests/GeneratedCodeFreshnessTests.swift → the project root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let protoDir = root.appendingPathComponent("proto")

    /// The well-known files the contracts import, compiled like them (scripts/generate.sh: `wellknown`).
    static let wellKnownFiles = ["google/protobuf/wrappers.proto"]

    /// The system's include folder holding google/protobuf/*.proto, as scripts/generate.sh finds it.
    static func wellKnownIncludeDir() throws -> URL {
        let candidates = ["/usr/include", "/usr/local/include"]
        let found = try #require(
            candidates.first { dir in
                (["google/protobuf/descriptor.proto"] + wellKnownFiles).allSatisfy { FileManager.default.fileExists(atPath: "\(dir)/\($0)") }
            },
            "google/protobuf/descriptor.proto and wrappers.proto are not installed (apt: libprotobuf-dev); the freshness test needs them")
        return URL(fileURLWithPath: found)
    }

    /// Every .proto under proto/, relative to it and sorted as `LC_ALL=C sort` does, like scripts/generate.sh.
    static func protoFiles() throws -> [String] {
        let files = try self.files(under: protoDir).filter { $0.hasSuffix(".proto") }
        #expect(!files.isEmpty, "no .proto files under \(protoDir.path)")
        return files.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Regular files under `folder`, as paths relative to it; none when the folder does not exist.
    static func files(under folder: URL) throws -> [String] {
        // Resolved first: the enumerator does not descend into a folder given as a symbolic link.
        let folder = folder.resolvingSymlinksInPath()
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var out: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(relative).path, isDirectory: &isDirectory),
               !isDirectory.boolValue {
                out.append(relative)
            }
        }
        return out.sorted()
    }

    /// Where two texts first differ, for the failure message.
    static func firstDifference(_ committed: String, _ expected: String) -> String {
        let a = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) {
            let left = i < a.count ? String(a[i]) : "<end of file>"
            let right = i < b.count ? String(b[i]) : "<end of file>"
            if left != right { return "first difference at line \(i + 1):\n  committed: \(left)\n  generated: \(right)" }
        }
        return "the texts differ"
    }
}

/// A temporary folder; `remove()` it when done (`defer`).
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("aftersale-protogen-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// External programs, found on PATH.
enum Tool {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The executable called `name` on PATH.
    static func find(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw Failure(description: "\(name) is not on PATH (\(path)); install it (apt: protobuf-compiler, protobuf-c-compiler) — CI does")
    }

    /// Runs `name` with `arguments` in `folder`; throws with its standard error when it fails.
    static func run(_ name: String, _ arguments: [String], in folder: URL) throws {
        let process = Process()
        process.executableURL = try find(name)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(name) \(arguments.joined(separator: " ")) failed with status \(process.terminationStatus):\n"
                + String(decoding: message, as: UTF8.self))
        }
    }
}

enum Protoc {
    /// `protoc -I <includeDir> -I <system include> --include_imports --include_source_info
    /// --descriptor_set_out=...` on `files` (relative to `includeDir`), the way scripts/generate.sh
    /// runs it: the well-known files they import are in the set too. Returns the descriptor set file.
    static func descriptorSet(of files: [String], includeDir: URL, in scratch: Scratch) throws -> URL {
        let out = scratch.url.appendingPathComponent("schema-\(UUID().uuidString).pb")
        try Tool.run("protoc", ["-I\(includeDir.path)", "-I\(try Project.wellKnownIncludeDir().path)", "--include_imports",
                                "--include_source_info", "--descriptor_set_out=\(out.path)"] + files,
                     in: includeDir)
        return out
    }

    /// Writes `files` (path → contents) into a fresh folder and returns the schema protoc makes of them.
    static func schema(_ files: [String: String], in scratch: Scratch) throws -> ProtoSchema {
        let dir = scratch.url.appendingPathComponent("proto-\(UUID().uuidString)")
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let set = try descriptorSet(of: files.keys.sorted(), includeDir: dir, in: scratch)
        return try SchemaDecoder.decode(Array(try Data(contentsOf: set)))
    }
}
