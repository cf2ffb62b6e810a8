import AfterSaleProto
import CProtobufC
import Foundation
import ProtoRuntime
import RPCWire
import SignedTokens

/// What a fuzz input is fed to.
public enum FuzzTarget: String, Sendable, CaseIterable {
    /// The frame decoder: bytes as they arrive on a connection, in two reads.
    case frame
    /// The envelope decoder, and a re-encoding of what it accepts.
    case envelope
    /// Every request and response type of the contracts: the first byte picks the type, the rest is
    /// its protobuf encoding; what decodes must re-encode canonically.
    case request
    /// The JSON mapping: the first byte picks the type, the rest is JSON text; what maps must map
    /// back and forth to the same bytes.
    case json
    /// The token verifier: the input as a `v4.public` token (none verifies: no key signed it).
    case token
}

/// The fuzz targets, shared by the libFuzzer harness (`scripts/fuzz.sh`) and the tests that replay
/// the committed corpus (`Tests/FuzzCorpus`): each runs one input and returns the invariants it broke
/// (empty when it held; a crash is the other way to fail).
public enum FuzzTargets {
    /// The largest input looked at (libFuzzer's own limit is set lower by the script).
    public static let maximumInput = 65_536

    /// Runs `data` through `target`.
    /// - Returns: the broken invariants, empty when none.
    public static func run(_ target: FuzzTarget, _ data: [UInt8]) -> [String] {
        let data = Array(data.prefix(maximumInput))
        switch target {
        case .frame: return frame(data)
        case .envelope: return envelope(data)
        case .request: return request(data)
        case .json: return json(data)
        case .token: return token(data)
        }
    }

    static func frame(_ data: [UInt8]) -> [String] {
        var decoder = FrameDecoder(limits: WireLimits(maxFrameBytes: 16_384, maxMetadataBytes: 4_096))
        let split = data.isEmpty ? 0 : Int(data[0]) % (data.count + 1)
        decoder.append(Array(data[..<split]))
        var frames = 0
        do {
            while try decoder.next() != nil {
                frames += 1
                if frames > data.count { return ["the decoder produced more frames (\(frames)) than there are bytes"] }
            }
            decoder.append(Array(data[split...]))
            while try decoder.next() != nil {
                frames += 1
                if frames > data.count { return ["the decoder produced more frames (\(frames)) than there are bytes"] }
            }
        } catch {
            return []   // a refused frame is an answer
        }
        return []
    }

    static func envelope(_ data: [UInt8]) -> [String] {
        guard let decoded = data.withUnsafeBytes({ Envelope(decoding: $0) }) else { return [] }
        let arena = ProtoArena()
        defer { arena.release() }
        var once: [UInt8] = []
        decoded.encode(into: &once, arena: arena)
        guard let again = once.withUnsafeBytes({ Envelope(decoding: $0) }) else {
            return ["an accepted envelope re-encodes to bytes the decoder refuses"]
        }
        var twice: [UInt8] = []
        again.encode(into: &twice, arena: arena)
        return once == twice ? [] : ["an envelope's encoding is not stable across a round trip"]
    }

    static func messageType(_ selector: UInt8) -> any ProtoMessage.Type {
        MessageRegistry.all[Int(selector) % MessageRegistry.all.count]
    }

    static func request(_ data: [UInt8]) -> [String] {
        guard let selector = data.first else { return [] }
        let type = messageType(selector)
        return roundTrip(type, Array(data.dropFirst()))
    }

    static func roundTrip<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> [String] {
        guard let decoded = try? M(serializedBytes: bytes) else { return [] }
        let once = decoded.serializedBytes()
        guard let again = try? M(serializedBytes: once) else { return ["\(M.protoName): an accepted message re-encodes to refused bytes"] }
        return again.serializedBytes() == once ? [] : ["\(M.protoName): the encoding is not stable across a round trip"]
    }

    static func json(_ data: [UInt8]) -> [String] {
        guard let selector = data.first else { return [] }
        let descriptor = messageType(selector).protoDescriptor
        let text = String(decoding: data.dropFirst(), as: UTF8.self)
        guard let once = try? ProtoJSON.encode(json: text, as: descriptor) else { return [] }
        guard let rendered = try? ProtoJSON.decode(once, as: descriptor) else {
            return ["\(messageType(selector).protoName): JSON that maps to bytes does not map back"]
        }
        guard let twice = try? ProtoJSON.encode(json: rendered, as: descriptor) else {
            return ["\(messageType(selector).protoName): the JSON the mapping writes is refused by the mapping"]
        }
        return once == twice ? [] : ["\(messageType(selector).protoName): JSON → bytes → JSON → bytes changed the bytes"]
    }

    /// A verifier of a key nobody else has: no fuzz input can carry its signature.
    static let verifier: TokenVerifier? = {
        guard let key = try? Ed25519PrivateKey.generate(),
              let keys = try? KeySet(keys: [KeySet.Key(keyID: "fuzz", issuer: "fuzz", publicKey: key.publicKey, roles: ["*"])]) else {
            return nil
        }
        return TokenVerifier(keySet: keys, audience: "aftersale")
    }()

    static func token(_ data: [UInt8]) -> [String] {
        guard let verifier else { return ["no verifier: OpenSSL made no key"] }
        let text = String(decoding: data, as: UTF8.self)
        do {
            _ = try verifier.verify(text)
            return ["a token no key signed was verified"]
        } catch {
            return []
        }
    }
}
