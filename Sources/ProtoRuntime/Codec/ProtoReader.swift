import CProtobufC

/// Reads the fields of an unpacked C message by field index (the position in the descriptor's
/// `fields` array, which libprotobuf-c sorts by field number).
///
/// Generated `init(protoReader:)` bodies are a list of calls to these accessors; the offsets come
/// from the descriptor, so no Swift code depends on the C struct's member names.
public struct ProtoReader {
    @usableFromInline let base: UnsafeRawPointer
    /// Null for a message without fields, whose generated code never reads or writes a field.
    @usableFromInline let fieldsOrNull: UnsafePointer<ProtobufCFieldDescriptor>?
    @usableFromInline var fields: UnsafePointer<ProtobufCFieldDescriptor> { fieldsOrNull.unsafelyUnwrapped }

    @inlinable
    public init(_ base: UnsafeRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) {
        self.base = base
        self.fieldsOrNull = descriptor.pointee.fields
    }

    @inlinable func value<T>(_ index: Int, _: T.Type) -> T {
        base.loadUnaligned(fromByteOffset: Int(fields[index].offset), as: T.self)
    }

    @inlinable func count(_ index: Int) -> Int {
        base.loadUnaligned(fromByteOffset: Int(fields[index].quantifier_offset), as: Int.self)
    }

    @inlinable func array<T>(_ index: Int, _: T.Type) -> [T] {
        let n = count(index)
        guard n > 0, let items = value(index, UnsafePointer<T>?.self) else { return [] }
        return Array(UnsafeBufferPointer(start: items, count: n))
    }

    @inlinable public func int32(_ index: Int) -> Int32 { value(index, Int32.self) }
    @inlinable public func int64(_ index: Int) -> Int64 { value(index, Int64.self) }
    @inlinable public func uint32(_ index: Int) -> UInt32 { value(index, UInt32.self) }
    @inlinable public func uint64(_ index: Int) -> UInt64 { value(index, UInt64.self) }
    @inlinable public func float(_ index: Int) -> Float { value(index, Float.self) }
    @inlinable public func double(_ index: Int) -> Double { value(index, Double.self) }
    @inlinable public func bool(_ index: Int) -> Bool { value(index, Int32.self) != 0 }
    /// An enum field's number; generated code wraps it in the enum's Swift type.
    @inlinable public func enumValue(_ index: Int) -> Int32 { value(index, Int32.self) }

    @inlinable public func string(_ index: Int) -> String {
        guard let chars = value(index, UnsafePointer<CChar>?.self) else { return "" }
        return String(cString: chars)
    }

    @inlinable public func bytes(_ index: Int) -> [UInt8] {
        Self.bytes(value(index, ProtobufCBinaryData.self))
    }

    /// Inlinable, like ``messages(_:_:)``, so each message type gets a specialised copy instead of
    /// looking up generic metadata at run time.
    @inlinable
    public func message<M: ProtoMessage>(_ index: Int, _: M.Type = M.self) -> M? {
        guard let child = value(index, UnsafeRawPointer?.self) else { return nil }
        return M(protoReader: ProtoReader(child, M.protoDescriptor))
    }

    /// A field of a wrapper message type (`google.protobuf.Int64Value`, ...) as the value it wraps;
    /// nil when the field is absent.
    @inlinable
    public func wrapped<M: ProtoWrapperMessage>(_ index: Int, _: M.Type = M.self) -> M.Wrapped? {
        message(index, M.self)?.value
    }

    @inlinable public func int32s(_ index: Int) -> [Int32] { array(index, Int32.self) }
    @inlinable public func int64s(_ index: Int) -> [Int64] { array(index, Int64.self) }
    @inlinable public func uint32s(_ index: Int) -> [UInt32] { array(index, UInt32.self) }
    @inlinable public func uint64s(_ index: Int) -> [UInt64] { array(index, UInt64.self) }
    @inlinable public func floats(_ index: Int) -> [Float] { array(index, Float.self) }
    @inlinable public func doubles(_ index: Int) -> [Double] { array(index, Double.self) }
    @inlinable public func bools(_ index: Int) -> [Bool] { array(index, Int32.self).map { $0 != 0 } }
    @inlinable public func enumValues(_ index: Int) -> [Int32] { array(index, Int32.self) }

    public func strings(_ index: Int) -> [String] {
        array(index, UnsafePointer<CChar>?.self).map { $0.map { String(cString: $0) } ?? "" }
    }

    public func bytesList(_ index: Int) -> [[UInt8]] {
        array(index, ProtobufCBinaryData.self).map(Self.bytes)
    }

    @inlinable
    public func messages<M: ProtoMessage>(_ index: Int, _: M.Type = M.self) -> [M] {
        let n = count(index)
        guard n > 0, let children = value(index, UnsafePointer<UnsafeRawPointer?>?.self) else { return [] }
        var result: [M] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            if let child = children[i] { result.append(M(protoReader: ProtoReader(child, M.protoDescriptor))) }
        }
        return result
    }

    @usableFromInline static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let start = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: data.len))
    }
}
