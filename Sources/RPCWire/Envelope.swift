import CRPCEnvelope
import CProtobufC
import ProtoRuntime

/// What a frame is for (`aftersale.v1.FrameKind`).
public enum FrameKind: Int32, Sendable {
    case request = 1
    case response = 2
    case streamMessage = 3
    case cancel = 4
    case ping = 5
    case pong = 6
    case goAway = 7
}

/// The status a call ends with: OK, or an error code with a message and details.
public struct RPCStatus: Sendable, Equatable {
    public var code: StatusCode
    public var message: String
    public var details: [StatusDetail]

    public init(code: StatusCode, message: String = "", details: [StatusDetail] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    public static let ok = RPCStatus(code: .ok)

    public init(_ error: RPCError) {
        self.init(code: error.code, message: error.message, details: error.details)
    }

    /// The error this status stands for; nil when it is OK.
    public var error: RPCError? {
        code == .ok ? nil : RPCError(code, message, details: details)
    }
}

/// One frame's content (`aftersale.v1.Envelope`), mapped by hand because it is on every call's path.
public struct Envelope: Sendable, Equatable {
    /// The kind as sent; nil when the number is not a kind this protocol defines.
    public var kind: FrameKind?
    public var callID: UInt64
    public var method: String
    public var metadata: Metadata
    /// 0 means no deadline.
    public var timeoutMicros: UInt64
    public var payload: [UInt8]
    public var status: RPCStatus?

    public init(kind: FrameKind?, callID: UInt64, method: String = "", metadata: Metadata = Metadata(),
                timeoutMicros: UInt64 = 0, payload: [UInt8] = [], status: RPCStatus? = nil) {
        self.kind = kind
        self.callID = callID
        self.method = method
        self.metadata = metadata
        self.timeoutMicros = timeoutMicros
        self.payload = payload
        self.status = status
    }

    /// A request frame.
    public static func request(_ callID: UInt64, method: String, metadata: Metadata = Metadata(),
                               timeoutMicros: UInt64 = 0, payload: [UInt8]) -> Envelope {
        Envelope(kind: .request, callID: callID, method: method, metadata: metadata, timeoutMicros: timeoutMicros, payload: payload)
    }

    /// The final frame of a call; `metadata` travels with the status (e.g. `retry-after-ms`).
    public static func response(_ callID: UInt64, status: RPCStatus, payload: [UInt8] = [], metadata: Metadata = Metadata()) -> Envelope {
        Envelope(kind: .response, callID: callID, metadata: metadata, payload: payload, status: status)
    }

    /// The error a RESPONSE ends its call with, carrying the frame's metadata; nil when it is OK
    /// (or the frame has no status).
    public var error: RPCError? {
        guard var error = status?.error else { return nil }
        error.metadata = metadata
        return error
    }
}

extension Envelope {
    /// Decodes an envelope from exactly `bytes`; nil when they are not a valid Envelope.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard let raw = ProtoPacking.unpack(rpc_envelope_descriptor(), bytes) else { return nil }
        defer { protobuf_c_message_free_unpacked(raw, nil) }
        self.init(unpacked: UnsafeRawPointer(raw))
    }

    private init(unpacked raw: UnsafeRawPointer) {
        let c = raw.assumingMemoryBound(to: Aftersale__V1__Envelope.self).pointee
        kind = FrameKind(rawValue: Int32(bitPattern: c.kind.rawValue))
        callID = c.call_id
        method = c.method.map { String(cString: $0) } ?? ""
        metadata = Metadata()
        if c.n_metadata > 0, let entries = c.metadata {
            for i in 0..<c.n_metadata {
                guard let e = entries[i]?.pointee else { continue }
                metadata.add(e.key.map { String(cString: $0) } ?? "", e.value.map { String(cString: $0) } ?? "")
            }
        }
        timeoutMicros = c.timeout_micros
        payload = c.payload.len > 0 && c.payload.data != nil
            ? Array(UnsafeBufferPointer(start: c.payload.data, count: c.payload.len)) : []
        if let s = c.status?.pointee {
            var details: [StatusDetail] = []
            if s.n_details > 0, let list = s.details {
                for i in 0..<s.n_details {
                    guard let d = list[i]?.pointee else { continue }
                    let value = d.value.len > 0 && d.value.data != nil
                        ? Array(UnsafeBufferPointer(start: d.value.data, count: d.value.len)) : []
                    details.append(StatusDetail(type: d.type.map { String(cString: $0) } ?? "", value: value))
                }
            }
            status = RPCStatus(code: StatusCode(rawValue: s.code), message: s.message.map { String(cString: $0) } ?? "", details: details)
        } else {
            status = nil
        }
    }

    /// Appends the protobuf encoding of this envelope to `buffer`, using `arena` for scratch space.
    public func encode(into buffer: inout [UInt8], arena: ProtoArena) {
        var c = Aftersale__V1__Envelope()
        aftersale__v1__envelope__init(&c)
        c.kind = Aftersale__V1__FrameKind(rawValue: UInt32(bitPattern: kind?.rawValue ?? 0))
        c.call_id = callID
        if !method.isEmpty { c.method = arena.cString(method) }
        if !metadata.isEmpty {
            let list = arena.allocate(MemoryLayout<UnsafeMutablePointer<Aftersale__V1__MetadataEntry>?>.stride * metadata.count)
                .bindMemory(to: UnsafeMutablePointer<Aftersale__V1__MetadataEntry>?.self, capacity: metadata.count)
            for (i, entry) in metadata.entries.enumerated() {
                let e = arena.allocate(MemoryLayout<Aftersale__V1__MetadataEntry>.stride)
                    .bindMemory(to: Aftersale__V1__MetadataEntry.self, capacity: 1)
                aftersale__v1__metadata_entry__init(e)
                e.pointee.key = arena.cString(entry.key)
                e.pointee.value = arena.cString(entry.value)
                (list + i).initialize(to: e)
            }
            c.n_metadata = metadata.count
            c.metadata = list
        }
        c.timeout_micros = timeoutMicros
        var cStatus = Aftersale__V1__Status()
        if let status {
            aftersale__v1__status__init(&cStatus)
            cStatus.code = status.code.rawValue
            if !status.message.isEmpty { cStatus.message = arena.cString(status.message) }
            if !status.details.isEmpty {
                let list = arena.allocate(MemoryLayout<UnsafeMutablePointer<Aftersale__V1__StatusDetail>?>.stride * status.details.count)
                    .bindMemory(to: UnsafeMutablePointer<Aftersale__V1__StatusDetail>?.self, capacity: status.details.count)
                for (i, detail) in status.details.enumerated() {
                    let d = arena.allocate(MemoryLayout<Aftersale__V1__StatusDetail>.stride)
                        .bindMemory(to: Aftersale__V1__StatusDetail.self, capacity: 1)
                    aftersale__v1__status_detail__init(d)
                    d.pointee.type = arena.cString(detail.type)
                    if !detail.value.isEmpty { d.pointee.value = ProtobufCBinaryData(len: detail.value.count, data: arena.copy(detail.value)) }
                    (list + i).initialize(to: d)
                }
                cStatus.n_details = status.details.count
                cStatus.details = list
            }
        }
        payload.withUnsafeBufferPointer { p in
            if let base = p.baseAddress, p.count > 0 {
                c.payload = ProtobufCBinaryData(len: p.count, data: UnsafeMutablePointer(mutating: base))
            }
            withUnsafeMutablePointer(to: &cStatus) { statusPointer in
                if status != nil { c.status = statusPointer }
                withUnsafePointer(to: &c.base) { message in
                    ProtoPacking.append(message: message, to: &buffer)
                }
            }
        }
    }
}
