/// Decodes a `Decodable` hyperparameter struct straight from GGUF metadata keys.
///
///     struct Params: Decodable { let embeddingLength: Int
///         enum CodingKeys: String, CodingKey { case embeddingLength = "embedding_length" } }
///     let p = try file.decode(Params.self, prefix: "llama.")   // reads "llama.embedding_length"
///
/// Integers of any width convert to each other; numbers convert to Float/Double; arrays decode to Swift arrays.
public struct GGUFMetadataDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from metadata: [String: GGUFValue], prefix: String = "",
                                     path: String = "") throws -> T {
        try T(from: MetadataDecoding(metadata: metadata, prefix: prefix, path: path))
    }
}

extension GGUFFile {
    /// Decodes hyperparameters; a missing or mistyped key becomes one line naming this file and the key.
    public func decode<T: Decodable>(_ type: T.Type, prefix: String = "") throws -> T {
        try GGUFMetadataDecoder().decode(type, from: metadata, prefix: prefix, path: path)
    }
}

private struct MetadataDecoding: Decoder {
    let metadata: [String: GGUFValue]
    let prefix: String
    let path: String
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(MetadataContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw GGUFError(path: path, fault: "metadata under '\(prefix)' cannot be read as a list")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw GGUFError(path: path, fault: "metadata under '\(prefix)' cannot be read as a single value")
    }
}

private struct MetadataContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: MetadataDecoding
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { [] }

    private func fullKey(_ key: Key) -> String { decoder.prefix + key.stringValue }

    func contains(_ key: Key) -> Bool { decoder.metadata[fullKey(key)] != nil }

    func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }

    private func value(_ key: Key) throws -> GGUFValue {
        guard let v = decoder.metadata[fullKey(key)] else {
            throw GGUFError(path: decoder.path, fault: "missing required metadata key '\(fullKey(key))'")
        }
        return v
    }

    private func mistyped(_ key: Key, _ v: GGUFValue, _ expected: String) -> GGUFError {
        GGUFError(path: decoder.path, fault: "metadata '\(fullKey(key))' is \(v.typeName) \(v.summary), expected \(expected)")
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let v = try value(key)
        switch type {
        case is Int.Type:
            guard let i = v.int else { throw mistyped(key, v, "an integer") }
            return i as! T
        case is UInt32.Type:
            guard let i = v.int, let u = UInt32(exactly: i) else { throw mistyped(key, v, "a u32") }
            return u as! T
        case is Int32.Type:
            guard let i = v.int, let u = Int32(exactly: i) else { throw mistyped(key, v, "an i32") }
            return u as! T
        case is Float.Type:
            guard let d = v.double else { throw mistyped(key, v, "a number") }
            return Float(d) as! T
        case is Double.Type:
            guard let d = v.double else { throw mistyped(key, v, "a number") }
            return d as! T
        case is Bool.Type:
            guard let b = v.bool else { throw mistyped(key, v, "a bool") }
            return b as! T
        case is String.Type:
            guard let s = v.string else { throw mistyped(key, v, "a string") }
            return s as! T
        case is [Int].Type:
            guard let a = v.array?.ints else { throw mistyped(key, v, "an integer array") }
            return a as! T
        case is [Float].Type:
            guard let a = v.array?.floats else { throw mistyped(key, v, "a number array") }
            return a as! T
        case is [String].Type:
            guard let a = v.array?.strings else { throw mistyped(key, v, "a string array") }
            return a as! T
        default:
            // Nested structs read a sub-prefix: a key "rope." holds "rope.freq_base" and so on.
            return try T(from: MetadataDecoding(metadata: decoder.metadata, prefix: fullKey(key), path: decoder.path))
        }
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(Bool.self as Bool.Type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeGeneric(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeGeneric(key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeGeneric(key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeGeneric(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeGeneric(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeGeneric(key) }

    private func decode(_ type: Bool.Type, _ key: Key) throws -> Bool { try decodeGeneric(key) }
    private func decodeGeneric<T: Decodable>(_ key: Key) throws -> T { try decode(T.self, forKey: key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(MetadataContainer<NestedKey>(
            decoder: MetadataDecoding(metadata: decoder.metadata, prefix: fullKey(key), path: decoder.path)))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw GGUFError(path: decoder.path, fault: "metadata '\(fullKey(key))' cannot be read as a list")
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
}
