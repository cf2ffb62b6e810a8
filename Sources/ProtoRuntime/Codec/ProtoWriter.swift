import CProtobufC

/// Writes the fields of a C message under construction by field index, allocating what the
/// fields point to (strings, arrays, sub-messages) from a `ProtoArena`.
///
/// Default values are left untouched, which is what proto3 encodes as "absent".
public struct ProtoWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    /// Null for a message without fields, whose generated code never reads or writes a field.
    @usableFromInline let fieldsOrNull: UnsafePointer<ProtobufCFieldDescriptor>?
    @usableFromInline var fields: UnsafePointer<ProtobufCFieldDescriptor> { fieldsOrNull.unsafelyUnwrapped }
    @usableFromInline let arena: ProtoArena

    @usableFromInline
    init(_ base: UnsafeMutableRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, _ arena: ProtoArena) {
        self.base = base
        self.fieldsOrNull = descriptor.pointee.fields
        self.arena = arena
    }

    /// Allocates and initialises the C message for `value` and fills it in. Inlinable, like the
    /// other generic entry points, so each message type gets a specialised copy instead of
    /// looking up generic metadata at run time.
    @inlinable
    public static func build<M: ProtoMessage>(_: M.Type, value: M, arena: ProtoArena) -> UnsafeMutablePointer<ProtobufCMessage> {
        let raw = allocateMessage(M.protoDescriptor, arena: arena)
        var writer = ProtoWriter(raw, M.protoDescriptor, arena)
        value.write(to: &writer)
        return raw.assumingMemoryBound(to: ProtobufCMessage.self)
    }

    /// Zeroed memory for one C message of the given type, with its defaults set by `message_init`.
    public static func allocateMessage(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, arena: ProtoArena) -> UnsafeMutableRawPointer {
        let raw = arena.allocate(descriptor.pointee.sizeof_message)
        protobuf_c_message_init(descriptor, raw)
        return raw
    }

    /// A writer for a dynamically built message (the JSON mapping), sharing this writer's arena.
    public static func dynamic(_ base: UnsafeMutableRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, _ arena: ProtoArena) -> ProtoWriter {
        ProtoWriter(base, descriptor, arena)
    }

    @inlinable func store<T>(_ index: Int, _ value: T) {
        base.storeBytes(of: value, toByteOffset: Int(fields[index].offset), as: T.self)
    }

    @inlinable func storeArray<T>(_ index: Int, _ values: [T]) {
        guard !values.isEmpty else { return }
        let raw = arena.allocate(MemoryLayout<T>.stride * values.count)
        let typed = raw.bindMemory(to: T.self, capacity: values.count)
        for (i, v) in values.enumerated() { (typed + i).initialize(to: v) }
        base.storeBytes(of: values.count, toByteOffset: Int(fields[index].quantifier_offset), as: Int.self)
        store(index, UnsafeMutablePointer<T>?(typed))
    }

    @inlinable public mutating func setInt32(_ index: Int, _ v: Int32) { if v != 0 { store(index, v) } }
    @inlinable public mutating func setInt64(_ index: Int, _ v: Int64) { if v != 0 { store(index, v) } }
    @inlinable public mutating func setUInt32(_ index: Int, _ v: UInt32) { if v != 0 { store(index, v) } }
    @inlinable public mutating func setUInt64(_ index: Int, _ v: UInt64) { if v != 0 { store(index, v) } }
    @inlinable public mutating func setFloat(_ index: Int, _ v: Float) { if v != 0 { store(index, v) } }
    @inlinable public mutating func setDouble(_ index: Int, _ v: Double) { if v != 0 { store(index, v) } }
    @inlinable public mutating func setBool(_ index: Int, _ v: Bool) { if v { store(index, Int32(1)) } }
    @inlinable public mutating func setEnum(_ index: Int, _ v: Int32) { if v != 0 { store(index, v) } }

    /// Strings become C strings: a value must not contain U+0000 (decoding refuses such bytes, so
    /// none arrives from the network; the value would end at the NUL).
    public mutating func setString(_ index: Int, _ v: String) {
        guard !v.isEmpty else { return }
        store(index, UnsafeMutablePointer<CChar>?(arena.cString(v)))
    }

    public mutating func setBytes(_ index: Int, _ v: [UInt8]) {
        guard !v.isEmpty else { return }
        store(index, ProtobufCBinaryData(len: v.count, data: arena.copy(v)))
    }

    @inlinable
    public mutating func setMessage<M: ProtoMessage>(_ index: Int, _ v: M?) {
        guard let v else { return }
        store(index, UnsafeMutableRawPointer?(child(v)))
    }

    /// Sets a field of a wrapper message type (`google.protobuf.Int64Value`, ...) from the value it
    /// wraps; nil leaves it absent. A present zero is still written (as an empty wrapper message).
    @inlinable
    public mutating func setWrapped<M: ProtoWrapperMessage>(_ index: Int, _: M.Type, _ v: M.Wrapped?) {
        guard let v else { return }
        store(index, UnsafeMutableRawPointer?(child(M(value: v))))
    }

    public mutating func setInt32s(_ index: Int, _ v: [Int32]) { storeArray(index, v) }
    public mutating func setInt64s(_ index: Int, _ v: [Int64]) { storeArray(index, v) }
    public mutating func setUInt32s(_ index: Int, _ v: [UInt32]) { storeArray(index, v) }
    public mutating func setUInt64s(_ index: Int, _ v: [UInt64]) { storeArray(index, v) }
    public mutating func setFloats(_ index: Int, _ v: [Float]) { storeArray(index, v) }
    public mutating func setDoubles(_ index: Int, _ v: [Double]) { storeArray(index, v) }
    public mutating func setBools(_ index: Int, _ v: [Bool]) { storeArray(index, v.map { Int32($0 ? 1 : 0) }) }
    public mutating func setEnums(_ index: Int, _ v: [Int32]) { storeArray(index, v) }
    public mutating func setStrings(_ index: Int, _ v: [String]) {
        storeArray(index, v.map { UnsafeMutablePointer<CChar>?(arena.cString($0)) })
    }
    public mutating func setBytesList(_ index: Int, _ v: [[UInt8]]) {
        storeArray(index, v.map { ProtobufCBinaryData(len: $0.count, data: $0.isEmpty ? nil : arena.copy($0)) })
    }
    @inlinable
    public mutating func setMessages<M: ProtoMessage>(_ index: Int, _ v: [M]) {
        guard !v.isEmpty else { return }
        // Straight into the arena: no intermediate Swift array of pointers.
        let raw = arena.allocate(MemoryLayout<UnsafeMutableRawPointer?>.stride * v.count)
        let typed = raw.bindMemory(to: UnsafeMutableRawPointer?.self, capacity: v.count)
        for (i, message) in v.enumerated() { (typed + i).initialize(to: child(message)) }
        base.storeBytes(of: v.count, toByteOffset: Int(fields[index].quantifier_offset), as: Int.self)
        store(index, UnsafeMutablePointer<UnsafeMutableRawPointer?>?(typed))
    }

    @inlinable
    func child<M: ProtoMessage>(_ v: M) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(ProtoWriter.build(M.self, value: v, arena: arena))
    }
}
