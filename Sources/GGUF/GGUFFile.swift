#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A GGUF file, memory-mapped read-only. Metadata is parsed eagerly; tensor data stays in the map
/// and is handed out as zero-copy pointers. Every offset and size was checked against the file at open,
/// so no later access can read past the map.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let alignment: Int
    /// Metadata in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let fileSize: Int
    /// Absolute file offset of the data section.
    public let dataOffset: Int

    private let tensorIndex: [String: Int]
    private let mapping: UnsafeRawBufferPointer

    public static let defaultAlignment = 32
    static let maxDimensions = 4
    static let maxNameLength = 64

    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GGUFError(path: path, fault: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw GGUFError(path: path, fault: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw GGUFError(path: path, fault: "not a regular file") }
        let size = Int(st.st_size)
        guard size >= 24 else {
            throw GGUFError(path: path, fault: "not a GGUF file: \(size) bytes is shorter than a GGUF header")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw GGUFError(path: path, fault: "cannot map: \(String(cString: strerror(errno)))")
        }
        let buffer = UnsafeRawBufferPointer(start: base, count: size)
        do {
            try self.init(path: path, mapping: buffer)
        } catch {
            munmap(base, size)
            throw error
        }
    }

    private init(path: String, mapping: UnsafeRawBufferPointer) throws {
        self.path = path
        self.mapping = mapping
        self.fileSize = mapping.count
        let header: Parsed
        do {
            header = try Self.parse(mapping)
        } catch let fault as ByteReader.Fault {
            throw GGUFError(path: path, fault: fault.message)
        }
        version = header.version
        alignment = header.alignment
        metadataKeys = header.keys
        metadata = header.metadata
        tensors = header.tensors
        dataOffset = header.dataOffset
        tensorIndex = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
    }

    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The bytes of a tensor, inside the map (valid as long as this file object lives).
    public func data(of info: GGUFTensorInfo) -> UnsafeRawPointer {
        mapping.baseAddress! + dataOffset + info.offset
    }

    /// Advise the kernel that the whole mapping will be read (weights are streamed every token).
    public func adviseWillNeed() {
        madvise(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count, Int32(MADV_WILLNEED))
    }

    public subscript(key: String) -> GGUFValue? { metadata[key] }

    // MARK: Parsing

    private struct Parsed {
        var version: UInt32
        var alignment: Int
        var keys: [String]
        var metadata: [String: GGUFValue]
        var tensors: [GGUFTensorInfo]
        var dataOffset: Int
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Parsed {
        typealias Fault = ByteReader.Fault
        var r = ByteReader(bytes)
        let magic = try r.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {
            let shown = withUnsafeBytes(of: magic.littleEndian) { String(decoding: $0, as: UTF8.self) }
            throw Fault(message: "not a GGUF file: magic is \(shown.debugDescription), expected \"GGUF\"")
        }
        let version = try r.read(UInt32.self, "version")
        if version & 0xFFFF == 0 && version != 0 {
            throw Fault(message: "version \(version) looks byte-swapped: big-endian GGUF files are not supported")
        }
        guard version == 2 || version == 3 else {
            throw Fault(message: version == 1 ? "GGUF version 1 is no longer supported (versions 2 and 3 are)"
                : "unsupported GGUF version \(version) (versions 2 and 3 are supported)")
        }
        // A tensor entry needs at least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes, a KV pair 8 + 4 + 1.
        let tensorCount = try r.readCount("tensor count", minItemBytes: 24)
        let kvCount = try r.readCount("metadata count", minItemBytes: 13)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        keys.reserveCapacity(kvCount)
        for i in 0 ..< kvCount {
            let at = r.offset
            let key = try r.readString("key of metadata entry \(i)")
            guard !key.isEmpty else { throw Fault(message: "metadata entry \(i) at byte \(at) has an empty key") }
            guard metadata[key] == nil else { throw Fault(message: "duplicate metadata key '\(key)'") }
            let rawType = try r.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw Fault(message: "metadata '\(key)' has unknown value type \(rawType)")
            }
            metadata[key] = try readValue(&r, type: type, key: key)
            keys.append(key)
        }

        var alignment = defaultAlignment
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                throw Fault(message: "general.alignment must be a u32 power of two, got \(value.typeName) \(value.summary)")
            }
            alignment = Int(a)
        }

        var infos: [(name: String, shape: [Int], type: GGMLType, offset: Int)] = []
        infos.reserveCapacity(tensorCount)
        var seen = Set<String>()
        for i in 0 ..< tensorCount {
            let name = try r.readString("name of tensor \(i)")
            guard !name.isEmpty, name.utf8.count < maxNameLength else {
                throw Fault(message: "tensor \(i) has an invalid name (\(name.utf8.count) bytes; 1 to \(maxNameLength - 1) allowed)")
            }
            guard seen.insert(name).inserted else { throw Fault(message: "duplicate tensor name '\(name)'") }
            let dims = try r.read(UInt32.self, "dimension count of '\(name)'")
            guard dims >= 1, dims <= UInt32(maxDimensions) else {
                throw Fault(message: "tensor '\(name)' has \(dims) dimensions (1 to \(maxDimensions) allowed)")
            }
            var shape: [Int] = []
            var elements = 1
            for d in 0 ..< Int(dims) {
                let n = try r.read(UInt64.self, "dimension \(d) of '\(name)'")
                guard n <= UInt64(Int32.max) else {
                    throw Fault(message: "tensor '\(name)' dimension \(d) is \(n), too large")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(n))
                guard !overflow, product <= (1 << 46) else {
                    throw Fault(message: "tensor '\(name)' has too many elements (shape overflows)")
                }
                elements = product
                shape.append(Int(n))
            }
            let rawType = try r.read(UInt32.self, "type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                let known = GGMLType.knownName(ofUnsupported: rawType).map { " (\($0))" } ?? ""
                throw Fault(message: "tensor '\(name)' has unsupported tensor type \(rawType)\(known)")
            }
            guard shape[0] % type.blockSize == 0 else {
                throw Fault(message: "tensor '\(name)' row length \(shape[0]) is not a multiple of \(type)'s block size \(type.blockSize)")
            }
            let offset = try r.read(UInt64.self, "offset of '\(name)'")
            guard offset < 1 << 50 else { throw Fault(message: "tensor '\(name)' offset \(offset) is past any file's end") }
            guard Int(offset) % alignment == 0 else {
                throw Fault(message: "tensor '\(name)' offset \(offset) is not aligned to \(alignment)")
            }
            infos.append((name, shape, type, Int(offset)))
        }

        let dataOffset = tensorCount > 0 ? (r.offset + alignment - 1) / alignment * alignment : r.offset
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            let rows = info.shape.dropFirst().reduce(1, *)
            tensors.append(GGUFTensorInfo(name: info.name, shape: info.shape, type: info.type,
                                          offset: info.offset, byteCount: type(info.type, rowBytes: info.shape[0]) * rows))
        }
        // A file cut short (an interrupted download or copy) is the usual reason tensors reach past the end: say so
        // with the sizes, rather than naming whichever tensor was checked first.
        let needed = dataOffset + (tensors.map { $0.offset + $0.byteCount }.max() ?? 0)
        guard needed <= bytes.count else {
            throw Fault(message: "the file is truncated: it has \(bytes.count) bytes, its tensors need \(needed) (an incomplete download or copy?)")
        }
        return Parsed(version: version, alignment: alignment, keys: keys, metadata: metadata,
                      tensors: tensors, dataOffset: dataOffset)
    }

    private static func type(_ t: GGMLType, rowBytes n: Int) -> Int { t.rowBytes(n)! }

    private static func readValue(_ r: inout ByteReader, type: GGUFValueType, key: String) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try r.read(UInt8.self, key))
        case .int8: return .int8(try r.read(Int8.self, key))
        case .uint16: return .uint16(try r.read(UInt16.self, key))
        case .int16: return .int16(try r.read(Int16.self, key))
        case .uint32: return .uint32(try r.read(UInt32.self, key))
        case .int32: return .int32(try r.read(Int32.self, key))
        case .float32: return .float32(try r.readFloat(key))
        case .uint64: return .uint64(try r.read(UInt64.self, key))
        case .int64: return .int64(try r.read(Int64.self, key))
        case .float64: return .float64(try r.readDouble(key))
        case .bool:
            let b = try r.read(UInt8.self, key)
            guard b <= 1 else { throw ByteReader.Fault(message: "metadata '\(key)' has invalid bool byte \(b)") }
            return .bool(b == 1)
        case .string: return .string(try r.readString("value of '\(key)'"))
        case .array:
            let rawElement = try r.read(UInt32.self, "element type of '\(key)'")
            guard let element = GGUFValueType(rawValue: rawElement), element != .array else {
                throw ByteReader.Fault(message: "metadata array '\(key)' has invalid element type \(rawElement)")
            }
            let count = try r.readCount("element count of '\(key)'", minItemBytes: element.scalarSize ?? 8)
            return .array(try readArray(&r, element: element, count: count, key: key))
        }
    }

    private static func readArray(_ r: inout ByteReader, element: GGUFValueType, count: Int, key: String) throws -> GGUFArray {
        switch element {
        case .uint8: return .uint8(try r.readArray(UInt8.self, count: count, key))
        case .int8: return .int8(try r.readArray(Int8.self, count: count, key))
        case .uint16: return .uint16(try r.readArray(UInt16.self, count: count, key))
        case .int16: return .int16(try r.readArray(Int16.self, count: count, key))
        case .uint32: return .uint32(try r.readArray(UInt32.self, count: count, key))
        case .int32: return .int32(try r.readArray(Int32.self, count: count, key))
        case .uint64: return .uint64(try r.readArray(UInt64.self, count: count, key))
        case .int64: return .int64(try r.readArray(Int64.self, count: count, key))
        case .float32: return .float32(try r.readArray(UInt32.self, count: count, key).map(Float.init(bitPattern:)))
        case .float64: return .float64(try r.readArray(UInt64.self, count: count, key).map(Double.init(bitPattern:)))
        case .bool:
            let raw = try r.readArray(UInt8.self, count: count, key)
            guard raw.allSatisfy({ $0 <= 1 }) else {
                throw ByteReader.Fault(message: "metadata array '\(key)' has an invalid bool byte")
            }
            return .bool(raw.map { $0 == 1 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(count)
            for i in 0 ..< count { strings.append(try r.readString("element \(i) of '\(key)'")) }
            return .string(strings)
        case .array:
            throw ByteReader.Fault(message: "metadata array '\(key)' nests arrays")
        }
    }
}
