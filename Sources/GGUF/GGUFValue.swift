/// Metadata value type ids of the GGUF container (formats.md §1.2).
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// Encoded size of one scalar of this type; nil for strings and arrays.
    var scalarSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }
}

/// One metadata value. Arrays are kept typed so a 262k-entry vocabulary costs one Swift array, not 262k enums.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    case array(GGUFArray)

    public var typeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        case .array(let a): return "\(a.elementTypeName)[\(a.count)]"
        }
    }

    /// Any integer value as Int (nil for non-integers or values that do not fit).
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var array: GGUFArray? { if case .array(let a) = self { return a } else { return nil } }

    /// A short human-readable rendering (long arrays and strings are elided).
    public var summary: String {
        switch self {
        case .string(let s):
            let oneLine = s.debugEscapedNewlines
            return oneLine.count > 80 ? "\"\(oneLine.prefix(77))...\"" : "\"\(oneLine)\""
        case .array(let a): return a.summary
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        default: return int.map { "\($0)" } ?? "?"
        }
    }
}

public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case float32([Float]), bool([Bool]), string([String]), uint64([UInt64]), int64([Int64]), float64([Double])

    public var count: Int {
        switch self {
        case .uint8(let a): return a.count
        case .int8(let a): return a.count
        case .uint16(let a): return a.count
        case .int16(let a): return a.count
        case .uint32(let a): return a.count
        case .int32(let a): return a.count
        case .float32(let a): return a.count
        case .bool(let a): return a.count
        case .string(let a): return a.count
        case .uint64(let a): return a.count
        case .int64(let a): return a.count
        case .float64(let a): return a.count
        }
    }

    public var elementTypeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }

    /// Integer elements as Ints (nil for non-integer arrays or out-of-range values).
    public var ints: [Int]? {
        switch self {
        case .uint8(let a): return a.map(Int.init)
        case .int8(let a): return a.map(Int.init)
        case .uint16(let a): return a.map(Int.init)
        case .int16(let a): return a.map(Int.init)
        case .uint32(let a): return a.map(Int.init)
        case .int32(let a): return a.map(Int.init)
        case .uint64(let a): return a.allSatisfy { $0 <= UInt64(Int.max) } ? a.map { Int($0) } : nil
        case .int64(let a): return a.map { Int($0) }
        default: return nil
        }
    }

    public var floats: [Float]? {
        switch self {
        case .float32(let a): return a
        case .float64(let a): return a.map(Float.init)
        default: return ints?.map(Float.init)
        }
    }

    public var strings: [String]? { if case .string(let a) = self { return a } else { return nil } }

    var summary: String {
        let n = count
        let head: [String]
        switch self {
        case .string(let a): head = a.prefix(3).map { "\"\($0.debugEscapedNewlines)\"" }
        case .float32(let a): head = a.prefix(3).map { "\($0)" }
        case .float64(let a): head = a.prefix(3).map { "\($0)" }
        case .bool(let a): head = a.prefix(3).map { "\($0)" }
        default: head = (ints ?? []).prefix(3).map { "\($0)" }
        }
        return "[" + head.joined(separator: ", ") + (n > 3 ? ", ... (\(n) items)]" : "]")
    }
}

extension String {
    /// The string on one line: newlines shown as `\n`.
    var debugEscapedNewlines: String {
        var out = ""
        for c in unicodeScalars { if c == "\n" { out += "\\n" } else { out.unicodeScalars.append(c) } }
        return out
    }
}
