import CKernels
import Foundation
import Synchronization

/// The instruction sets the kernels use, best first. Each level keeps the ones below it as fallbacks for what it
/// does not cover.
public enum KernelLevel: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    /// Swift loops for every row product, OpenBLAS's sgemm for batches.
    case portable
    /// The AVX2 row kernels of CKernels for quantized types (decoding and short batches).
    case avx2
    /// As avx2, with batches of quantized weights multiplied on AVX-512 VNNI with int8 activations in blocks of
    /// 32 (as decoding and llama.cpp's prompts do). F32/F16/BF16 weights stay F32 sgemm: bf16 would round them
    /// (and F16 has three more bits) for about 1.3x on this class of CPU, where VDPBF16PS does as many
    /// multiply-adds as F32 FMAs (`GLIMPSE_BF16=1` uses it anyway, for comparison).
    case avx512
    /// As avx512, with batches of every weight type on AMX bf16 tiles (TDPBF16PS): 16 times F32's multiply-adds,
    /// weights and activations rounded to bf16, sums in F32.
    case amx

    public var description: String { name }
    public var name: String { ["portable", "avx2", "avx512", "amx"][rawValue] }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }
}

/// The kernel level chosen for this process: the best the CPU and OS support (AMX on request), or `GLIMPSE_KERNELS`.
public enum Kernels {
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// CPU features as CKernels reads them (CPUID, XCR0).
    public static let features = Int(glimpse_cpu_features())
    static func has(_ flag: Int) -> Bool { features & flag == flag }

    /// The best level this machine supports, and why each level above it is out of reach.
    public static let support: (best: KernelLevel, reasons: [KernelLevel: String]) = detect()

    public static var best: KernelLevel { support.best }

    /// The level in use. Starts at `GLIMPSE_KERNELS` when set and supported, else `defaultLevel`.
    public static var level: KernelLevel { KernelLevel(rawValue: current.load(ordering: .relaxed))! }

    /// Why the level is what it is, for `glimpse info --cpu` and `bench`.
    public static var choice: String {
        level == start.level ? start.why : "\(level.name), set by the program (best here: \(best.name))"
    }

    /// Whether batches of F32/F16/BF16 weights go to the bf16 kernels (AMX, or AVX-512 BF16 when asked) rather
    /// than F32 sgemm.
    public static var bf16Batches: Bool {
        level == .amx || (level == .avx512 && bf16OnAVX512 && has(GLIMPSE_CPU_AVX512_BF16))
    }

    /// `GLIMPSE_BF16=1`: float weights in bf16 on AVX-512 BF16 too (the same operands as AMX's, so tests of it
    /// check the packing AMX reads on machines without tiles).
    public static var bf16OnAVX512: Bool {
        get { bf16Flag.load(ordering: .relaxed) }
        set { bf16Flag.store(newValue, ordering: .relaxed) }
    }
    public static var hasAVX512BF16: Bool { has(GLIMPSE_CPU_AVX512_BF16) }
    private static let bf16Flag = Atomic<Bool>(ProcessInfo.processInfo.environment["GLIMPSE_BF16"] == "1")

    private static let start: (level: KernelLevel, why: String) = startLevel()
    private static let current = Atomic<Int>(start.level.rawValue)

    /// A refusal when `GLIMPSE_KERNELS` names an unknown level or one this machine lacks; nil when unset or good.
    public static let environmentProblem: String? = {
        guard let value = ProcessInfo.processInfo.environment["GLIMPSE_KERNELS"], !value.isEmpty else { return nil }
        do { _ = try resolve(value); return nil } catch { return "\(error)" }
    }()

    /// Uses `level` from now on; refused where the machine lacks it.
    public static func use(_ level: KernelLevel) throws {
        if level > best { throw Refusal(description: refusal(level)) }
        current.store(level.rawValue, ordering: .relaxed)
    }

    /// Uses the lower of `level` and the best supported one (tests that need F32-exact products ask for avx512).
    @discardableResult
    public static func useAtMost(_ level: KernelLevel) -> KernelLevel {
        let chosen = min(level, best)
        current.store(chosen.rawValue, ordering: .relaxed)
        return chosen
    }

    public static func resolve(_ name: String) throws -> KernelLevel {
        guard let level = KernelLevel(name: name) else {
            throw Refusal(description: "GLIMPSE_KERNELS=\(name) is not a kernel level (amx, avx512, avx2 or portable)")
        }
        if level > best { throw Refusal(description: "GLIMPSE_KERNELS=\(name): " + refusal(level)) }
        return level
    }

    static func refusal(_ level: KernelLevel) -> String {
        "this machine cannot run the \(level.name) kernels (\(support.reasons[level] ?? "unsupported")); the best it has is \(best.name)"
    }

    /// The level used unless GLIMPSE_KERNELS says otherwise: the best one, except that AMX is opt-in. Its tile
    /// kernels are tested (MatMulTests) wherever the CPU has tiles, but the machines this project was developed on
    /// so far had none, so no run of them has been seen yet; until one has, a user asks for them by name.
    public static var defaultLevel: KernelLevel { min(best, .avx512) }

    /// Back to the level the process started with (tests that forced one).
    public static func useDefault() { current.store(start.level.rawValue, ordering: .relaxed) }

    private static func startLevel() -> (KernelLevel, String) {
        if let value = ProcessInfo.processInfo.environment["GLIMPSE_KERNELS"], !value.isEmpty {
            if let level = try? resolve(value) { return (level, "\(level.name), forced by GLIMPSE_KERNELS (best here: \(best.name))") }
            return (defaultLevel, "\(defaultLevel.name): GLIMPSE_KERNELS=\(value) refused")
        }
        if best == .amx { return (defaultLevel, "\(defaultLevel.name); amx is available and opt-in: GLIMPSE_KERNELS=amx") }
        return (best, "\(best.name), the best this machine supports")
    }

    private static func detect() -> (KernelLevel, [KernelLevel: String]) {
        var reasons: [KernelLevel: String] = [:]
        if !has(GLIMPSE_CPU_X86) {
            for level in KernelLevel.allCases.dropFirst() { reasons[level] = "not an x86-64 CPU" }
            return (.portable, reasons)
        }
        if !has(GLIMPSE_CPU_AVX2) {
            reasons[.avx2] = "no AVX2/FMA/F16C, or the OS does not save ymm state"
        } else if glimpse_row_kernels_available() == 0 {
            reasons[.avx2] = "this build's CKernels has no AVX2 kernels"
        }
        if !has(GLIMPSE_CPU_AVX512) || !has(GLIMPSE_CPU_AVX512_VNNI) {
            reasons[.avx512] = "no AVX-512 F/BW/VL/DQ with VNNI, or the OS does not save zmm state"
        }
        if !has(GLIMPSE_CPU_AVX512_BF16) { reasons[.amx] = "no AVX-512 BF16 to convert operands" }
        if !has(GLIMPSE_CPU_AMX_TILE) || !has(GLIMPSE_CPU_AMX_BF16) {
            reasons[.amx] = "no AMX bf16 tiles (CPUID 7.0 EDX bits 22, 24), or the OS does not enable their state (XCR0 bits 17, 18)"
        } else if reasons[.amx] == nil {
            let status = glimpse_request_amx_permission()
            if status != 0 { reasons[.amx] = "Linux refused tile data to this process (arch_prctl: \(String(cString: strerror(status))))" }
        }
        // A level needs every level below it.
        var best = KernelLevel.portable
        for level in KernelLevel.allCases.dropFirst() {
            if reasons[level] != nil { break }
            best = level
        }
        for level in KernelLevel.allCases where level > best && reasons[level] == nil {
            reasons[level] = "needs \(KernelLevel(rawValue: level.rawValue - 1)!.name) first"
        }
        return (best, reasons)
    }

    /// One line per feature, for `glimpse info --cpu`.
    public static var featureLines: [String] {
        let flags: [(String, Int)] = [
            ("AVX2+FMA+F16C", GLIMPSE_CPU_AVX2), ("AVX-512 F/BW/VL/DQ", GLIMPSE_CPU_AVX512),
            ("AVX-512 VNNI", GLIMPSE_CPU_AVX512_VNNI), ("AVX-512 BF16", GLIMPSE_CPU_AVX512_BF16),
            ("AMX tiles", GLIMPSE_CPU_AMX_TILE), ("AMX int8", GLIMPSE_CPU_AMX_INT8),
            ("AMX bf16", GLIMPSE_CPU_AMX_BF16),
        ]
        return flags.map { "\($0.0): \(has($0.1) ? "yes" : "no")" }
    }
}
