/// A wrapper message of google/protobuf/wrappers.proto (`google.protobuf.Int64Value`,
/// `StringValue`, `BoolValue`, ...): one field `value = 1`, there to give a scalar presence.
///
/// Generated messages never expose a wrapper as a field: a field of a wrapper type is an optional
/// Swift scalar (`expectedVersion: Int64?`), nil when absent, and the wrapper message on the wire.
/// ``ProtoReader/wrapped(_:_:)`` and ``ProtoWriter/setWrapped(_:_:_:)`` do the translation.
public protocol ProtoWrapperMessage: ProtoMessage {
    /// The Swift type of `value`: Int64, UInt64, Int32, UInt32, Bool, String, [UInt8], Double or Float.
    associatedtype Wrapped: Sendable & Equatable
    /// The wrapped value.
    var value: Wrapped { get }
    /// The wrapper holding `value`.
    init(value: Wrapped)
}
