import Foundation
import ProtoGen

// aftersale-protogen --descriptor-set FILE --out ROOT
// Reads a FileDescriptorSet made by `protoc --include_imports --include_source_info` and writes every generated
// Swift file and the C descriptor index under ROOT. scripts/generate.sh is the usual way in.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("aftersale-protogen: " + message + "\n").utf8))
    exit(1)
}

var descriptorSet: String?
var root = "."
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--descriptor-set": descriptorSet = args.popFirst()
    case "--out": root = args.popFirst() ?? root
    default: fail("unknown argument \(arg); usage: aftersale-protogen --descriptor-set FILE --out ROOT")
    }
}
guard let descriptorSet, let data = FileManager.default.contents(atPath: descriptorSet) else {
    fail("usage: aftersale-protogen --descriptor-set FILE --out ROOT (cannot read the descriptor set)")
}
do {
    let schema = try SchemaDecoder.decode([UInt8](data))
    let files = try Generator().generate(schema)
    for (path, text) in files.sorted(by: { $0.key < $1.key }) {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
    print("aftersale-protogen: wrote \(files.count) files")
} catch {
    fail("\(error)")
}
